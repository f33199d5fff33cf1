"""Memory constraints: memory-type, memory-capacity (slots and maxima), memory-ecc."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dlrig.rules import limits as L

if TYPE_CHECKING:
    from dlrig.optimize.planmodel import PlanModel


def add_memory(pm: PlanModel) -> None:
    """Add the memory constraint groups (type, capacity, slots, ECC/RDIMM)."""
    m, c = pm.m, pm.cand
    if pm.on("memory-type"):
        # sorted: the constraints' order must not change with Python's string hashing
        for t in sorted({k.type for k, _ in c.memory} | {b.memory_type for b in c.board}, key=str):
            kits = sum(v for (k, _), v in zip(c.memory, pm.use_memory, strict=True) if k.type == t)
            m.add(
                kits
                == sum(v for b, v in zip(c.board, pm.use_board, strict=True) if b.memory_type == t)
            )
            m.add(
                kits
                <= sum(v for p, v in zip(c.cpu, pm.use_cpu, strict=True) if t in p.memory_types)
            )
    gb = pm.memory_gb
    if pm.on("memory-capacity"):
        mods = sum(k.modules * n * v for (k, n), v in zip(c.memory, pm.use_memory, strict=True))
        m.add(mods <= sum(b.memory_slots * v for b, v in zip(c.board, pm.use_board, strict=True)))
        m.add(
            gb
            <= sum(
                (b.max_memory_gb or 10**7) * v for b, v in zip(c.board, pm.use_board, strict=True)
            )
        )
        m.add(
            gb
            <= sum((p.max_memory_gb or 10**7) * v for p, v in zip(c.cpu, pm.use_cpu, strict=True))
        )
    if pm.on("memory-ecc"):
        reg = sum(v for (k, _), v in zip(c.memory, pm.use_memory, strict=True) if k.registered)
        m.add(
            reg
            <= sum(v for b, v in zip(c.board, pm.use_board, strict=True) if b.rdimm is not False)
        )
        board_rdimm = sum(v for b, v in zip(c.board, pm.use_board, strict=True) if b.rdimm)
        cpu_no = sum(v for p, v in zip(c.cpu, pm.use_cpu, strict=True) if p.rdimm is False)
        m.add(reg + board_rdimm + cpu_no <= 2)
        only = sum(
            v
            for b, v in zip(c.board, pm.use_board, strict=True)
            if b.socket in L.RDIMM_ONLY_SOCKETS
        )
        m.add(only <= reg)
