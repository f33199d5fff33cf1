"""Case fit constraints: case-form-factor, cooler-height, radiator-mount, psu-fit, drive-bays
(with board SATA ports) and fast-storage."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from dlrig.optimize.constraints import chosen_sum, lin, total
from dlrig.parts import Case
from dlrig.rules import limits as L

if TYPE_CHECKING:
    from dlrig.optimize.planmodel import PlanModel

# a limit the catalog lacks: larger than any part
NO_LIMIT_MM = 10_000


def add_fit(pm: PlanModel) -> None:
    """Add the case-fit constraint groups."""
    m, c = pm.m, pm.cand
    cases = c.case
    strict_verify = "case-form-factor" in pm.q.avoid
    if pm.on("case-form-factor"):
        bff = classes(c.board, lambda b: b.form_factor)
        cff = classes(cases, lambda k: tuple(k.motherboard_form_factors))
        for ff, bi in bff.items():
            for listed, ci in cff.items():
                verdict, _ = L.board_fits_case(ff, listed)
                bad = verdict == "no" or (
                    verdict == "verify" and strict_verify and "case-form-factor" not in pm.relax
                )
                if bad:
                    m.add(
                        total(pm.use_board[i] for i in bi) + total(pm.use_case[i] for i in ci) <= 1
                    )
    # a size the catalog lacks counts as fitting (the rule reports it unchecked)
    if pm.on("cooler-height"):
        m.add(
            chosen_sum(
                c.cooler, pm.use_cooler, lambda k: k.height_mm or 0, lambda k: k.kind == "air"
            )
            <= chosen_sum(cases, pm.use_case, lambda k: k.max_cooler_height_mm or NO_LIMIT_MM)
        )
    if pm.on("radiator-mount"):
        m.add(
            chosen_sum(
                c.cooler, pm.use_cooler, lambda k: k.radiator_mm or 0, lambda k: k.kind == "aio"
            )
            <= chosen_sum(
                cases,
                pm.use_case,
                lambda k: max((r.max_mm for r in k.radiator_mounts), default=NO_LIMIT_MM),
            )
        )
    if pm.on("psu-fit"):
        pff = classes(c.psu, lambda p: p.form_factor)
        cpf = classes(cases, lambda k: tuple(k.psu_form_factors))
        for ff, pi in pff.items():
            for listed, ci in cpf.items():
                if L.psu_form_fit(ff, listed) == "no":
                    m.add(total(pm.use_psu[i] for i in pi) + total(pm.use_case[i] for i in ci) <= 1)
        # the rule checks the length only when both lengths are known
        for k, v in zip(cases, pm.use_case, strict=True):
            if k.max_psu_length_mm is None:
                continue
            long_ = [
                pm.use_psu[i]
                for i, p in enumerate(c.psu)
                if p.length_mm is not None and p.length_mm > k.max_psu_length_mm
            ]
            if long_:
                m.add(total(long_) + v <= 1)
    drives = list(zip(c.storage, pm.use_drive, strict=True))
    if pm.on("drive-bays"):
        big = lin((n, v) for (s, n), v in drives if s.form_factor == "3.5in")
        small = lin((n, v) for (s, n), v in drives if s.form_factor == "2.5in")
        m.add(
            big
            <= lin(
                (k.bays_3_5 if k.bays_3_5 is not None else 99, v)
                for k, v in zip(cases, pm.use_case, strict=True)
            )
        )
        # the rule: 2.5-inch drives use 2.5-inch bays plus the 3.5-inch bays left free
        m.add(
            big + small <= lin((_small_room(k), v) for k, v in zip(cases, pm.use_case, strict=True))
        )
        sata = lin((n, v) for (s, n), v in drives if s.interface.upper().startswith("SATA"))
        m.add(
            sata
            <= lin(
                (b.sata_ports if b.sata_ports is not None else 99, v)
                for b, v in zip(c.board, pm.use_board, strict=True)
            )
        )
    if pm.avoid("fast-storage"):
        for (s, _), v in drives:
            if s.kind == "hdd":
                m.add(v == 0)


def _small_room(k: Case) -> int:
    if k.bays_3_5 is None or (k.bays_2_5 is None and k.bays_3_5 == 0):
        return 99  # unchecked
    return (k.bays_2_5 or 0) + k.bays_3_5


def classes(parts: Sequence[Any], key: Any) -> dict[Any, list[int]]:
    """Indexes of ``parts`` grouped by ``key(part)`` (one constraint per class pair, not per pair
    of parts)."""
    out: dict[Any, list[int]] = defaultdict(list)
    for i, p in enumerate(parts):
        out[key(p)].append(i)
    return out
