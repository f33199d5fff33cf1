"""Fit rules: does everything physically fit in the case?"""

from __future__ import annotations

from collections.abc import Iterator

from dlrig.build import Build
from dlrig.parts import Case, Psu
from dlrig.rules import limits as L
from dlrig.rules.base import (
    Hit,
    NotPlanned,
    RuleContext,
    Severity,
    Unchecked,
    by_positions,
    distinct,
    each_checked,
    error,
    estimated_note,
    info,
    need,
    rule,
    warning,
)


def _case_limit(case: Case, limit: int | None, what: str) -> int | None:
    """A case's size limit (``what``): None for an open frame that states none (no enclosure to
    hit); Unchecked when an enclosed case's limit is unknown."""
    if limit is None and case.kind != "open-frame":
        raise Unchecked(f"{what} of {case.name} is unknown")
    return limit


@rule("F001", "case-form-factor", Severity.ERROR, "fit", planner="case-form-factor")
def case_form_factor(build: Build, ctx: RuleContext) -> Iterator[Hit]:
    """The motherboard's form factor must fit the case, knowing which share mounting holes.

    Why: a board larger than the case's tray does not fit. But form factors share mounting
    holes: an SSI CEB board (305 × 267 mm) uses ATX holes and fits a case that takes E-ATX even
    when the case does not list SSI CEB — parts sites wrongly call that incompatible. Where the
    case merely does not list the board's form factor we say "verify", not "incompatible".
    Bad: an E-ATX board in a Micro-ATX case.
    Good: the ASUS WS X299 SAGE (SSI CEB) in a Corsair Carbide Air 540 (takes E-ATX): fits.
    """
    case = need(build.case, "case")
    board = need(build.motherboard, "motherboard")
    if not case.motherboard_form_factors:
        raise Unchecked(f"board form factors {case.name} takes are unknown")
    verdict, via = L.board_fits_case(board.form_factor, case.motherboard_form_factors)
    listed = ", ".join(case.motherboard_form_factors) or "nothing"
    if verdict == "fits":
        return
    if verdict == "likely":
        yield info(
            f"{board.name} is {board.form_factor}; {case.name} does not list it but takes "
            f"{via}, whose tray has the same ATX mounting holes: it fits.",
            f"Verify the standoff positions in the {case.name} manual before ordering.",
            board,
            case,
        )
    elif verdict == "verify":
        yield warning(
            f"{board.name} is {board.form_factor}; {case.name} lists {listed}. The mounting holes "
            f"match {via} but the board is larger: verify that it fits.",
            f"Check the case's maximum board size, or choose a case that lists "
            f"{board.form_factor}.",
            board,
            case,
        )
    else:
        yield error(
            f"{board.name} is {board.form_factor} but {case.name} takes only {listed}.",
            f"Choose a case that takes {board.form_factor} boards, or a smaller board.",
            board,
            case,
        )


@rule("F002", "gpu-length", Severity.ERROR, "fit", planner="gpu-length")
def gpu_length(build: Build, ctx: RuleContext) -> Iterator[Hit]:
    """Each GPU must be no longer than the case's maximum GPU length.

    Why: a card longer than the case allows hits the drive cage or front fans. An open frame
    without a stated limit has no enclosure to hit.
    Bad: a 357 mm RTX 4090 in a case with 330 mm GPU clearance.
    Good: a 268 mm RTX 2080 Ti blower in a case with 320 mm clearance.
    """
    if not build.gpus:
        return
    case = need(build.case, "case")
    limit = _case_limit(case, case.max_gpu_length_mm, "maximum GPU length")
    if limit is None:
        return  # no enclosure: the card may overhang the frame
    unknown = None
    for g in distinct(build.gpus):
        if g.length_mm is None:
            unknown = g
            continue
        if g.length_mm > limit:
            yield error(
                f"{g.name} is {g.length_mm} mm long; {case.name} fits GPUs up to {limit} mm.",
                f"Choose a case with at least {g.length_mm} mm GPU clearance, or a shorter card.",
                g,
                case,
            )
    if unknown is not None:
        raise Unchecked(f"length of {unknown.name} is unknown")


@rule("F003", "case-expansion-slots", Severity.ERROR, "fit", planner="case-expansion-slots")
def case_expansion_slots(build: Build, ctx: RuleContext) -> Iterator[Hit]:
    """The lowest GPU's slot plus its thickness must fit the case's expansion slots.

    Why: a 2-slot card in a board's 7th slot needs an 8th slot opening in the case; ATX cases
    have seven, so four double-width GPUs on a 7-slot board need an 8-slot case. Cards on riser
    cables use no case slot; an open frame is checked against its GPU mounting positions.
    Bad: four 2-slot GPUs in slots 1, 3, 5, 7 in a 7-slot ATX mid tower.
    Good: the same build in a Corsair Carbide Air 540 (8 expansion slots).
    """
    if not build.gpus:
        return
    case = need(build.case, "case")
    if case.kind == "open-frame":
        yield from _frame_positions(build, case)
        return
    board = need(build.motherboard, "motherboard")
    if case.expansion_slots is None:
        raise Unchecked(f"expansion slots of {case.name} are unknown")
    if not board.pcie_slots or not board.slot_layout_known:
        raise Unchecked(f"slot positions of {board.name} are unknown")
    place = ctx.placement
    if place.placed and place.bottom > case.expansion_slots:
        gpu, slot = place.placed[-1]
        width = gpu.slots_occupied or L.DEFAULT_SLOT_WIDTH
        yield by_positions(board)(
            f"{gpu.name} ({width}-slot) in slot {slot.position} of {board.name} reaches expansion "
            f"slot {place.bottom}; {case.name} has {case.expansion_slots}." + estimated_note(board),
            f"Choose a case with at least {place.bottom} expansion slots, or one GPU fewer.",
            gpu,
            board,
            case,
        )
    if place.assumed_width:
        raise Unchecked(f"thickness of {place.assumed_width[0].name} is unknown")


def _frame_positions(build: Build, case: Case) -> Iterator[Hit]:
    """An open frame holds as many GPUs as it has mounting positions."""
    if case.gpu_positions is None:
        raise Unchecked(f"GPU mounting positions of {case.name} are unknown")
    if build.gpu_count > case.gpu_positions:
        yield error(
            f"{build.gpu_count} GPUs but {case.name} has {case.gpu_positions} GPU positions.",
            f"Use at most {case.gpu_positions} GPUs, or a larger frame.",
            case,
            *build.gpus,
        )


@rule("F004", "cooler-height", Severity.ERROR, "fit", planner="cooler-height")
def cooler_height(build: Build, ctx: RuleContext) -> Iterator[Hit]:
    """An air cooler must be no taller than the case's CPU cooler clearance.

    Why: a tower cooler taller than the case is wide stops the side panel closing.
    Bad: a 165 mm Noctua NH-D15 in a case with 160 mm clearance.
    Good: a 165 mm cooler in a case with 170 mm clearance, or an AIO (no height limit).
    """
    cooler = need(build.cooler, "cooler")
    if cooler.kind != "air":
        return
    case = need(build.case, "case")
    if cooler.height_mm is None:
        raise Unchecked(f"height of {cooler.name} is unknown")
    limit = _case_limit(case, case.max_cooler_height_mm, "CPU cooler clearance")
    if limit is None:
        return  # no side panel to close
    if cooler.height_mm > limit:
        yield error(
            f"{cooler.name} is {cooler.height_mm} mm tall; {case.name} fits coolers up to "
            f"{limit} mm.",
            "Choose a lower cooler, an AIO liquid cooler, or a wider case.",
            cooler,
            case,
        )


@rule("F005", "radiator-mount", Severity.ERROR, "fit", planner="radiator-mount")
def radiator_mount(build: Build, ctx: RuleContext) -> Iterator[Hit]:
    """An AIO's radiator must fit one of the case's radiator mounts.

    Why: a 360 mm radiator needs a 360 mm mount (three 120 mm fans in a row).
    Bad: a 420 mm AIO in a case whose largest mount is 360 mm.
    Good: a 280 mm Corsair H115i PRO in a Corsair Carbide Air 540 (front mount up to 360 mm).
    """
    cooler = need(build.cooler, "cooler")
    if cooler.kind != "aio":
        return
    case = need(build.case, "case")
    if cooler.radiator_mm is None:
        raise Unchecked(f"radiator size of {cooler.name} is unknown")
    if not case.radiator_mounts:
        raise Unchecked(f"radiator mounts of {case.name} are unknown")
    if not any(m.max_mm >= cooler.radiator_mm for m in case.radiator_mounts):
        biggest = max(m.max_mm for m in case.radiator_mounts)
        yield error(
            f"{cooler.name} has a {cooler.radiator_mm} mm radiator; {case.name}'s largest "
            f"radiator mount takes {biggest} mm.",
            f"Choose an AIO of {biggest} mm or less, or a case with a {cooler.radiator_mm} mm "
            "mount.",
            cooler,
            case,
        )


@rule("F006", "psu-fit", Severity.ERROR, "fit", planner="psu-fit")
def psu_fit(build: Build, ctx: RuleContext) -> Iterator[Hit]:
    """The PSU's form factor and length must fit the case.

    Why: high-wattage ATX PSUs (1,600 W) are often 200 mm+ long and collide with drive cages;
    an ATX PSU does not fit an SFX-only case; a build with two PSUs needs a case or frame that
    holds two.
    Bad: a 210 mm 1,600 W PSU in a case that takes PSUs up to 180 mm.
    Good: a 200 mm PSU in a case with 225 mm PSU clearance.
    """
    psus = build.psus
    if not psus:
        raise Unchecked("no PSU in the build")
    case = need(build.case, "case")
    if len(psus) > 1:
        if case.psu_bays is None:
            raise Unchecked(f"whether {case.name} holds {len(psus)} PSUs is unknown")
        if len(psus) > case.psu_bays:
            yield error(
                f"{len(psus)} PSUs but {case.name} holds {case.psu_bays}.",
                "Choose a case or frame with room for every PSU, or one larger PSU.",
                case,
                *psus,
            )
    yield from each_checked(distinct(psus), lambda psu: _psu_in_case(psu, case))


def _psu_in_case(psu: Psu, case: Case) -> Iterator[Hit]:
    fit = L.psu_form_fit(psu.form_factor, case.psu_form_factors)
    if fit == "bracket":
        yield info(
            f"{psu.name} is {psu.form_factor}; {case.name} takes ATX PSUs.",
            "Use an SFX-to-ATX bracket (often included with the PSU).",
            psu,
            case,
        )
    elif fit == "no":
        yield error(
            f"{psu.name} is {psu.form_factor}; {case.name} takes "
            f"{', '.join(case.psu_form_factors)} PSUs.",
            f"Choose a {case.psu_form_factors[0]} PSU or a case that takes {psu.form_factor}.",
            psu,
            case,
        )
    if case.max_psu_length_mm is None and case.kind == "open-frame":
        return  # a frame's PSU mount does not limit the length
    if case.max_psu_length_mm is None or psu.length_mm is None:
        what = case.name if case.max_psu_length_mm is None else psu.name
        raise Unchecked(f"PSU length limit or length unknown ({what})")
    if psu.length_mm > case.max_psu_length_mm:
        yield error(
            f"{psu.name} is {psu.length_mm} mm long; {case.name} fits PSUs up to "
            f"{case.max_psu_length_mm} mm.",
            "Choose a shorter PSU, or remove the drive cage if the case allows it.",
            psu,
            case,
        )


@rule("F007", "drive-bays", Severity.ERROR, "fit", planner="drive-bays")
def drive_bays(build: Build, ctx: RuleContext) -> Iterator[Hit]:
    """3.5-inch and 2.5-inch drives need case bays, and SATA drives need board SATA ports.

    Why: a dataset array of hard disks needs a bay and a SATA port per disk (2.5-inch drives also
    fit 3.5-inch bays).
    Bad: six 3.5-inch hard disks in a case with two 3.5-inch bays.
    Good: one 3.5-inch Seagate Exos 8TB in a Corsair Carbide Air 540 (two 3.5-inch bays).
    """
    drives = build.drives
    big = [d for d in drives if d.form_factor == "3.5in"]
    small = [d for d in drives if d.form_factor == "2.5in"]
    if big or small:
        case = need(build.case, "case")
        if case.bays_3_5 is None or (small and case.bays_2_5 is None and case.bays_3_5 == 0):
            raise Unchecked(f"drive bays of {case.name} are unknown")
        if len(big) > case.bays_3_5:
            yield error(
                f"{len(big)} 3.5-inch drives but {case.name} has {case.bays_3_5} 3.5-inch bays.",
                "Use fewer, larger disks, a case with more bays, or a NAS for datasets.",
                case,
                *big,
            )
        else:
            room = (case.bays_2_5 or 0) + (case.bays_3_5 - len(big))
            if len(small) > room:
                yield error(
                    f"{len(small)} 2.5-inch drives but {case.name} has room for {room} "
                    "(2.5-inch bays plus free 3.5-inch bays).",
                    "Use M.2 NVMe drives instead, or a case with more bays.",
                    case,
                    *small,
                )
    sata = [d for d in drives if d.interface.upper().startswith("SATA")]
    board = build.motherboard
    if sata and board is not None:
        if board.sata_ports is None:
            raise Unchecked(f"SATA ports of {board.name} are unknown")
        if len(sata) > board.sata_ports:
            yield error(
                f"{len(sata)} SATA drives but {board.name} has {board.sata_ports} SATA ports.",
                "Use fewer SATA drives, M.2 NVMe drives, or a SATA/HBA add-in card.",
                board,
                *sata,
            )


@rule(
    "F008",
    "riser-mounting",
    Severity.WARNING,
    "fit",
    planner=NotPlanned(
        "plans put cards on risers only in an open frame (its GPU positions bound the count), "
        "which the rule accepts"
    ),
)
def riser_mounting(build: Build, ctx: RuleContext) -> Iterator[Hit]:
    """Cards on risers need a place off the board: an open frame, a GPU chassis, a vertical mount.

    Why: a card on a riser cable (or an M.2 or bifurcation adapter) sits away from the board, so
    the checker does not hold it to the board's slot spacing, the case's expansion slots or the
    stacking of open-air cards. That is true on an open frame or in a GPU chassis with mounting
    positions; in a tower the only place is a vertical GPU bracket, which takes one card in most
    cases and two in a few. More riser cards than the case can mount have nowhere to go, and
    the spacing the checker skipped is then real.
    Bad: four RTX 3090 on risers in a mid tower without a vertical GPU mount.
    Good: the same cards on risers in an open frame with six GPU positions.
    """
    on_risers = [u for u in build.gpu_units if u.riser is not None]
    if not on_risers:
        return
    case = need(build.case, "case")
    n = len(on_risers)
    cards = distinct(u.gpu for u in on_risers)
    if case.kind == "open-frame":
        return  # the frame's GPU positions are case-expansion-slots' check
    if case.kind == "rackmount":
        if case.gpu_positions is None:  # a server chassis: its GPU positions, not a tower's bracket
            yield warning(
                f"{n} GPU(s) on risers in {case.name} (rackmount), whose GPU positions are not "
                "in the catalog.",
                f"Check that the chassis mounts {n} card(s) off the board, or give it its "
                "positions: {part: ..., with: {gpu_positions: N}}.",
                case,
                *cards,
            )
        elif n > case.gpu_positions:
            yield warning(
                f"{n} GPU(s) on risers but {case.name} has {case.gpu_positions} GPU positions.",
                f"Use at most {case.gpu_positions} cards on risers, or an open frame.",
                case,
                *cards,
            )
        return
    mounts = case.vertical_gpu_mounts
    what = f"{n} GPU(s) on risers in {case.name} ({case.kind or 'kind unknown'})"
    fix = (
        "Use an open frame (a case of kind open-frame) or a GPU chassis, or put the cards in the "
        "board's slots (slot spacing and the case's slots then apply)"
    )
    if mounts is None:
        yield warning(
            f"{what}: off the board a tower holds a card only in a vertical GPU mount, and "
            "whether this case has one, and for how many cards, is not in the catalog. The "
            "checker counts these cards as off the board (no slot spacing, case slots or "
            "stacking checked for them).",
            f"Check that the case mounts {n} card(s) vertically (most take one); {fix}; or give "
            "the case its mounts: {part: ..., with: {vertical_gpu_mounts: N}}.",
            case,
            *cards,
        )
    elif n > mounts:
        yield warning(
            f"{what}: it mounts {mounts} card(s) on a riser (vertical GPU mount); "
            f"{n - mounts} have nowhere to sit.",
            f"Put at most {mounts} card(s) on risers; {fix}.",
            case,
            *cards,
        )
