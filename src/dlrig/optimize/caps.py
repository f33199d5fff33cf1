"""GPU power limits as a planner decision: a card capped at a measured limit is one more GPU
option (lower power for psu-headroom and wall-circuit, lower throughput by the chip's measured
power-limit curve, the same price), so CP-SAT chooses the cap like any other part.

The option is a copy of the catalog card with the cap as its board power and an id of its own
(``<card id>+pl<W>``); :func:`build_item` turns it back into the catalog card with
``power_limit_w`` for the build the checker judges and ``plan -o`` writes.
"""

from __future__ import annotations

from dlrig import gpu_power
from dlrig.parts import Gpu, Riser


def capped_id(gpu: Gpu, cap_w: int) -> str:
    """The planner option id of ``gpu`` capped at ``cap_w`` W (``<card id>+pl<W>``)."""
    return f"{gpu.id}+pl{cap_w}"


def variants(gpu: Gpu) -> list[tuple[Gpu, int, float]]:
    """(capped option, cap W, throughput kept) for each cap the planner may set on ``gpu``."""
    return [
        (gpu.model_copy(update={"id": capped_id(gpu, cap), "tdp_w": cap}), cap, kept)
        for cap, kept in gpu_power.cap_options(gpu)
    ]


def build_item(
    part: Gpu, count: int, caps: dict[str, tuple[Gpu, int, float]], riser: Riser | None = None
) -> object:
    """What the build gets for a GPU option: the catalog card and its limit (and the riser
    each card sits on in an open frame), or the card."""
    from dlrig.build import BuildItem

    if part.id in caps:
        base, cap, _ = caps[part.id]
        return BuildItem(base, count, power_limit_w=cap, riser=riser)
    if riser is not None:
        return BuildItem(part, count, riser=riser)
    return (part, count)
