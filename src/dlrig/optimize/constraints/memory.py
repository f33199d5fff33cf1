"""Memory constraints: memory-type, memory-capacity (slots and maxima), memory-ecc."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dlrig.optimize.constraints import lin, total
from dlrig.rules import limits as L

if TYPE_CHECKING:
    from dlrig.optimize.planmodel import PlanModel


def add_memory(pm: PlanModel) -> None:
    """Add the memory constraint groups (type, capacity, slots, ECC/RDIMM)."""
    m, c = pm.m, pm.cand
    if pm.on("memory-type"):
        # sorted: the constraints' order must not change with Python's string hashing
        for t in sorted({k.type for k, _ in c.memory} | {b.memory_type for b in c.board}, key=str):
            kits = total(
                v for (k, _), v in zip(c.memory, pm.use_memory, strict=True) if k.type == t
            )
            m.add(
                kits
                == total(
                    v for b, v in zip(c.board, pm.use_board, strict=True) if b.memory_type == t
                )
            )
            m.add(
                kits
                <= total(v for p, v in zip(c.cpu, pm.use_cpu, strict=True) if t in p.memory_types)
            )
    gb = pm.memory_gb
    if pm.on("memory-capacity"):
        mods = lin((k.modules * n, v) for (k, n), v in zip(c.memory, pm.use_memory, strict=True))
        m.add(mods <= lin((b.memory_slots, v) for b, v in zip(c.board, pm.use_board, strict=True)))
        m.add(
            gb
            <= lin(
                (b.max_memory_gb or 10**7, v) for b, v in zip(c.board, pm.use_board, strict=True)
            )
        )
        m.add(
            gb <= lin((p.max_memory_gb or 10**7, v) for p, v in zip(c.cpu, pm.use_cpu, strict=True))
        )
    if pm.on("memory-ecc"):
        reg = total(v for (k, _), v in zip(c.memory, pm.use_memory, strict=True) if k.registered)
        m.add(
            reg
            <= total(v for b, v in zip(c.board, pm.use_board, strict=True) if b.rdimm is not False)
        )
        board_rdimm = total(v for b, v in zip(c.board, pm.use_board, strict=True) if b.rdimm)
        cpu_no = total(v for p, v in zip(c.cpu, pm.use_cpu, strict=True) if p.rdimm is False)
        m.add(reg + board_rdimm + cpu_no <= 2)
        only = total(
            v
            for b, v in zip(c.board, pm.use_board, strict=True)
            if b.socket in L.RDIMM_ONLY_SOCKETS
        )
        m.add(only <= reg)
