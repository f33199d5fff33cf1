"""CPU, board and cooler constraints: cpu-socket (with chipset families), cooler-socket,
cooler-capacity."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dlrig.optimize.constraints import lin, total
from dlrig.rules import limits as L

if TYPE_CHECKING:
    from dlrig.optimize.planmodel import PlanModel


def add_platform(pm: PlanModel) -> None:
    """Add the platform constraint groups (CPU socket and chipset)."""
    m, c = pm.m, pm.cand
    if pm.on("cpu-socket"):
        # sorted: a set's order changes with Python's string hashing, and the order of the
        # constraints steers CP-SAT's search (ties between equal builds, the binding analysis)
        sockets = sorted({p.socket for p in c.cpu} | {b.socket for b in c.board}, key=str)
        for s in sockets:
            m.add(
                total(v for p, v in zip(c.cpu, pm.use_cpu, strict=True) if p.socket == s)
                == total(v for b, v in zip(c.board, pm.use_board, strict=True) if b.socket == s)
            )
        # chipsets that take only part of their socket's CPUs (L.CHIPSET_CPU_FAMILY): a few
        # boards, so the excluded pairs are listed directly
        for b, yb in zip(c.board, pm.use_board, strict=True):
            if b.chipset.upper() not in L.CHIPSET_CPU_FAMILY:
                continue
            for p, xc in zip(c.cpu, pm.use_cpu, strict=True):
                if p.socket == b.socket and not L.cpu_supported_by_chipset(p.name, b.chipset):
                    m.add(yb + xc <= 1)
    if pm.on("cooler-socket"):
        for s in sorted({p.socket for p in c.cpu}, key=str):
            ok = [
                v
                for k, v in zip(c.cooler, pm.use_cooler, strict=True)
                if not k.sockets or s in k.sockets
            ]
            m.add(
                total(ok)
                >= total(v for p, v in zip(c.cpu, pm.use_cpu, strict=True) if p.socket == s)
            )
    if pm.avoid("cooler-capacity"):
        m.add(
            lin(
                (k.rated_tdp_w if k.rated_tdp_w is not None else 10_000, v)
                for k, v in zip(c.cooler, pm.use_cooler, strict=True)
            )
            >= lin((p.tdp_w, v) for p, v in zip(c.cpu, pm.use_cpu, strict=True))
        )
