"""Cooling rules: CPU cooler socket and capacity, multi-GPU airflow."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise

from dlrig.build import Build
from dlrig.parts import Cooler
from dlrig.rules import limits as L
from dlrig.rules.base import Hit, RuleContext, Severity, Unchecked, error, need, rule, warning


@rule("C001", "cooler-socket", Severity.ERROR, "cooling", planner="cooler-socket")
def cooler_socket(build: Build, ctx: RuleContext) -> Iterator[Hit]:
    """The CPU cooler must have a mounting kit for the CPU's socket.

    Why: coolers mount with socket-specific brackets; without one the cooler cannot be fitted.
    Bad: a cooler listing AM4/AM5/LGA1700 on an LGA2066 CPU.
    Good: a Corsair H115i PRO (LGA2066 bracket included) on an Intel Core i9-10920X.
    """
    cooler, cpu = need(build.cooler, "cooler"), need(build.cpu, "CPU")
    if not cooler.sockets:
        raise Unchecked(f"sockets of {cooler.name} are unknown")
    if cpu.socket not in cooler.sockets:
        yield error(
            f"{cooler.name} mounts on {', '.join(cooler.sockets)}, not {cpu.name}'s {cpu.socket}.",
            f"Choose a cooler with an {cpu.socket} mounting kit (or buy the maker's bracket).",
            cooler,
            cpu,
        )


@rule("C002", "cooler-capacity", Severity.WARNING, "cooling", planner="cooler-capacity")
def cooler_capacity(build: Build, ctx: RuleContext) -> Iterator[Hit]:
    """The cooler's rated heat capacity should cover the CPU's TDP.

    Why: an undersized cooler lets the CPU throttle under sustained load, slowing data loading
    and preprocessing for every GPU. Capacity is the catalog's rated_tdp_w with its basis: the
    maker's TDP rating, the maker's statement that the cooler handles a named CPU (that CPU's
    TDP), or the sustained CPU power a review measured it holding. Noctua, ARCTIC and Corsair
    publish no TDP ratings, so without such a statement or measurement the rule is unchecked.
    Bad: a 150 W-rated cooler on a 253 W CPU.
    Good: a 250 W-rated AIO on a 165 W CPU.
    """
    cooler, cpu = need(build.cooler, "cooler"), need(build.cpu, "CPU")
    if cooler.rated_tdp_w is None:
        raise Unchecked(f"rated capacity of {cooler.name} is unknown")
    if cooler.rated_tdp_w < cpu.tdp_w:
        yield warning(
            f"{cooler.name} {_capacity(cooler)}; {cpu.name} has a {cpu.tdp_w} W "
            "TDP and will throttle under sustained load.",
            f"Choose a cooler rated for at least {cpu.tdp_w} W (a 280/360 mm AIO or large tower).",
            cooler,
            cpu,
        )


# How the capacity figure was arrived at (Cooler.rated_tdp_basis), said in the finding so a
# user can weigh a review's measurement differently from a maker's rating.
_BASIS = {
    "maker-tdp": "is rated for {w} W by its maker",
    "maker-cpu-support": "is stated by its maker to handle a {w} W CPU",
    "review-measured": "held {w} W of sustained CPU power in a review's test",
}


def _capacity(cooler: Cooler) -> str:
    text = _BASIS.get(cooler.rated_tdp_basis or "", "is rated for {w} W")
    return text.format(w=cooler.rated_tdp_w)


@rule("C003", "multi-gpu-airflow", Severity.WARNING, "cooling", planner="multi-gpu-airflow")
def multi_gpu_airflow(build: Build, ctx: RuleContext) -> Iterator[Hit]:
    """Open-air GPUs in adjacent slots of a multi-GPU build throttle; use blower or liquid cards.

    Why: an open-air cooler blows hot air into the case and needs free space under its fans; with
    the next card right below it starves and throttles (Tim Dettmers' guide: blower cards for
    multi-GPU). Blower cards exhaust out of the back; liquid cards move the heat to a radiator.
    Passive (data-center) cards need server airflow.
    Bad: four open-air 3-slot cards stacked with no gap.
    Good: four blower RTX 2080 Ti in slots 1, 3, 5, 7.
    """
    if build.gpu_count < 2:
        return
    board = need(build.motherboard, "motherboard")
    passive = [g for g in build.gpus if g.cooling == "passive"]
    if passive:
        yield warning(
            f"{passive[0].name} is passively cooled; it needs a server chassis pushing air "
            "through it and overheats in a desktop case.",
            "Choose actively cooled (blower) cards for a desktop build.",
            *passive,
        )
    if not board.slot_layout_known:
        raise Unchecked(f"slot positions of {board.name} are unknown")
    placed = ctx.placement.placed
    # cards on riser cables are mounted away from the board (open frames): no stacking there
    risers = ctx.placement.on_riser or (False,) * len(placed)
    choked: list[tuple[str, int, int]] = []
    parts = []
    unknown = None
    for ((upper, s1), (lower, s2)), (r1, r2) in zip(
        pairwise(placed), pairwise(risers), strict=True
    ):
        if r1 or r2:
            continue
        if upper.cooling is None:
            unknown = upper
            continue
        if upper.cooling != "open-air":
            continue
        gap = s2.position - (s1.position + (upper.slots_occupied or L.DEFAULT_SLOT_WIDTH))
        if gap <= 0:
            choked.append((upper.name, s1.position, s2.position))
            parts += [upper, lower]
    if choked:
        name, a, b = choked[0]
        pairs = ", ".join(f"{a}/{b}" for _, a, b in choked)
        yield warning(
            f"Open-air {name} in slot {a} has no gap to the card in slot {b} "
            f"(slot pairs {pairs}); the upper card(s) will starve for air and throttle.",
            "Use blower or liquid-cooled cards, leave a free slot between cards, or mount cards "
            "on risers.",
            *parts,
        )
    if unknown is not None:
        raise Unchecked(f"cooler type of {unknown.name} is unknown")
