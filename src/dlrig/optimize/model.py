"""The CP-SAT model: one-hot part choices and linear constraints derived from the checker's rules.

Variables (all boolean, one-hot per category):

* ``x[c]`` CPU, ``y[b]`` motherboard, ``p[i]`` PSU, ``o[i]`` cooler, ``a[i]`` case;
* ``z[(kit, m)]`` m copies of a memory kit, ``w[(gpu, n)]`` n copies of one GPU model,
  ``v[(drive, q)]`` q copies of one drive model (products "part × count" are linearised by
  giving each (part, count) pair its own boolean);
* ``u[(layout, card class, n)]`` the slot layout of the chosen board together with the chosen
  GPU thickness/cooling and count; its placement facts come from the checker's own
  ``place_gpus``/``assign_m2`` (see :mod:`dlrig.optimize.prep`).

Each constraint belongs to a *group* named after the rule it encodes (``psu-headroom``,
``case-expansion-slots``, ...) or the request (``budget``, ``workload-vram``, ...), so a group can
be relaxed to find the binding constraints and to explain an infeasible request. Coefficients are
integers: prices in cents, watts ×10, TFLOPS ×1000.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from dlrig.optimize.prep import MAX_DRIVES, Layout, Prep, ceil_int, place_facts
from dlrig.parts import Case, Cooler, Cpu, Gpu, Memory, Motherboard, Part, Psu, Storage
from dlrig.rules import limits as L

if TYPE_CHECKING:
    from dlrig.build import Site
    from dlrig.workload import Workload

WATT_SCALE = 10  # watts ×10 keeps the transient factor 1.5 integral
TFLOPS_SCALE = 1000
CENTS = 100

# Warning rules the planner can hold as constraints (all of them by default).
AVOIDABLE_WARNINGS = (
    "psu-headroom",  # transient spikes of RTX 3090-class cards on a non-ATX 3 PSU
    "wall-circuit",
    "pcie-lanes",
    "case-form-factor",
    "ram-vs-vram",
    "cpu-threads-per-gpu",
    "tensor-cores",
    "cuda-support",
    "fast-storage",
    "multi-gpu-airflow",
    "cooler-capacity",
)
# Rules whose "unchecked" (missing data) a multi-GPU plan does not accept with known_fit=True.
FIT_RULES = ("gpu-slots", "slot-spacing", "pcie-lanes", "case-expansion-slots", "multi-gpu-airflow")


@dataclass
class Query:
    """A normalised plan request (see :func:`dlrig.optimize.plan`)."""

    budget_cents: int | None
    objective: str = "throughput"
    precision: str = "bf16"
    workload: Workload | None = None
    gpus: int | None = None
    max_gpus: int = 8
    upgrade_to: int | None = None
    min_vram_gib: float | None = None
    min_tflops: float | None = None
    site: Site | None = None
    avoid: frozenset[str] = frozenset(AVOIDABLE_WARNINGS)
    known_fit: bool = True
    include_ids: tuple[str, ...] = ()
    include_brands: tuple[str, ...] = ()


@dataclass
class Candidates:
    """The options the model chooses from, after filters and pruning."""

    cpu: list[Cpu]
    board: list[Motherboard]
    memory: list[tuple[Memory, int]]
    gpu: list[tuple[Gpu, int]]
    storage: list[tuple[Storage, int]]
    psu: list[Psu]
    cooler: list[Cooler]
    case: list[Case]
    tflops: dict[tuple[str, int], int]  # (gpu id, n) → TFLOPS ×1000 for the query's precision
    ram_need_gib: dict[tuple[str, int], int] = field(default_factory=dict)
    threads_need: dict[int, int] = field(default_factory=dict)
    storage_need_gb: int = 0

    def options(self) -> dict[str, Sequence[tuple[Part, int]]]:
        """Every category's options as (part, count) pairs, in the model's variable order."""
        return {
            "cpu": [(p, 1) for p in self.cpu],
            "motherboard": [(p, 1) for p in self.board],
            "memory": self.memory,
            "gpu": self.gpu,
            "storage": self.storage,
            "psu": [(p, 1) for p in self.psu],
            "cooler": [(p, 1) for p in self.cooler],
            "case": [(p, 1) for p in self.case],
        }

    def sizes(self) -> dict[str, int]:
        return {
            "cpu": len(self.cpu),
            "motherboard": len(self.board),
            "memory": len(self.memory),
            "gpu": len(self.gpu),
            "storage": len(self.storage),
            "psu": len(self.psu),
            "cooler": len(self.cooler),
            "case": len(self.case),
        }


@dataclass
class Selection:
    """One build as the model sees it: a part (and count) per category."""

    cpu: Cpu
    board: Motherboard
    memory: tuple[Memory, int]
    gpu: tuple[Gpu, int]
    storage: tuple[Storage, int]
    psu: Psu
    cooler: Cooler
    case: Case

    def key(self) -> tuple[Any, ...]:
        return (
            self.cpu.id,
            self.board.id,
            (self.memory[0].id, self.memory[1]),
            (self.gpu[0].id, self.gpu[1]),
            (self.storage[0].id, self.storage[1]),
            self.psu.id,
            self.cooler.id,
            self.case.id,
        )

    def price_cents(self) -> int:
        return (
            cents(self.cpu)
            + cents(self.board)
            + cents(self.memory[0]) * self.memory[1]
            + cents(self.gpu[0]) * self.gpu[1]
            + cents(self.storage[0]) * self.storage[1]
            + cents(self.psu)
            + cents(self.cooler)
            + cents(self.case)
        )


def cents(p: Part) -> int:
    return round((p.price_usd or 0.0) * CENTS)


def card_class(g: Gpu) -> tuple[int | None, bool]:
    """What placement facts depend on: thickness in whole slots, and open-air cooling."""
    return (g.slots_occupied, g.cooling == "open-air")


def m2_config(s: Storage, q: int) -> tuple[bool, int]:
    """(SATA M.2?, M.2 drive count) of q drives of ``s``; (False, 0) for non-M.2 drives."""
    if not L.is_m2(s):
        return (False, 0)
    return (s.kind != "nvme", q)


def connectors_fail(demand: L.ConnectorDemand, have8: int, havehp: int) -> bool:
    """The gpu-power-connectors rule's error condition (rules/power.py, P002)."""
    return L.check_plugs(demand, have8, havehp).verdict.startswith("short")


HEADROOM_MILLI = round(L.PSU_HEADROOM * 1000)  # psu-headroom: capacity ≥ HEADROOM_MILLI × load10


def psu_capacity(p: Psu) -> int:
    """The PSU's wattage on the scale of ``HEADROOM_MILLI × load ×10`` (psu-headroom)."""
    return 1000 * WATT_SCALE * p.wattage_w


def psu_plugs(p: Psu) -> tuple[int | None, int]:
    """(PCIe 8-pin, 12VHPWR) plugs as the gpu-power-connectors rule reads them."""
    return (p.pcie_8pin, p.pcie_12vhpwr or 0)


def gpu_load10(g: Gpu, n: int, transient: bool = False) -> int:
    """The load term ×10 of n cards of ``g`` (``transient``: at TRANSIENT_FACTOR × board power)."""
    tdp: float = g.tdp_w * L.TRANSIENT_FACTOR if transient else g.tdp_w
    return round(WATT_SCALE * tdp * n)


@dataclass
class LoadTerms:
    """Load terms ×10 of every non-GPU option (aligned with the Candidates lists) and the base."""

    cpu: list[int]
    memory: list[int]
    storage: list[int]
    cooler: list[int]
    base: int

    @classmethod
    def of(cls, c: Candidates) -> LoadTerms:
        from dlrig.build import system_allowance_w

        base = system_allowance_w(0, 0, 0, None)
        per_module = system_allowance_w(1, 0, 0, None) - base
        per_ssd = system_allowance_w(0, 1, 0, None) - base
        per_hdd = system_allowance_w(0, 0, 1, None) - base
        cooler = {
            kind: round(WATT_SCALE * (system_allowance_w(0, 0, 0, kind) - base))
            for kind in {k.kind for k in c.cooler}
        }
        return cls(
            cpu=[WATT_SCALE * p.tdp_w for p in c.cpu],
            memory=[round(WATT_SCALE * per_module * k.modules * n) for k, n in c.memory],
            storage=[
                round(WATT_SCALE * (per_hdd if s.kind == "hdd" else per_ssd) * n)
                for s, n in c.storage
            ],
            cooler=[cooler[k.kind] for k in c.cooler],
            base=round(WATT_SCALE * base),
        )

    def rest_min(self) -> int:
        """The least load ×10 of everything but the GPUs."""
        return self.base + sum(
            min(xs, default=0) for xs in (self.cpu, self.memory, self.storage, self.cooler)
        )


def wall_cap10(p: Psu, site: Site) -> int:
    """Most DC load ×10 the wall circuit allows through ``p`` (the wall-circuit rule)."""
    return int(WATT_SCALE * site.continuous_limit_w * L.psu_efficiency(p.efficiency)[0])


def reduce_candidates(cand: Candidates, q: Query, relax: Iterable[str] = ()) -> Candidates:
    """Drop the options no solution of the model (with ``relax`` left out) can choose.

    Every test is a necessary condition of a constraint the model holds, evaluated with the
    most favourable choice in every other category (cheapest parts for the budget, the biggest
    PSU for the headroom, ...), so the optimum never changes; parts the request pins
    (``--include``) always stay. The model is then smaller to build and to presolve. When a
    category would be emptied the candidates are returned unchanged (CP-SAT proves it).
    """
    relax = frozenset(relax)

    def on(group: str) -> bool:
        return group not in relax

    def avoid(slug: str) -> bool:
        return slug in q.avoid and slug not in relax

    if not all(cand.sizes().values()):
        return cand
    pins = set(q.include_ids)
    terms = LoadTerms.of(cand)
    rest10 = terms.rest_min()
    max_watts = max(psu_capacity(p) for p in cand.psu)
    cap = None
    if avoid("wall-circuit") and q.site is not None:
        site = q.site
        cap = max(wall_cap10(p, site) for p in cand.psu)
    max_len = max(k.max_gpu_length_mm or 10_000 for k in cand.case)
    max_threads = max(p.threads for p in cand.cpu)
    max_mem_gb = max(k.capacity_gb * n for k, n in cand.memory)
    psu_conn = {psu_plugs(p) for p in cand.psu}
    conn = [(h8, hp) for h8, hp in psu_conn if h8 is not None]
    any_conn = len(conn) < len(psu_conn)  # a PSU without known connectors: unchecked
    min_vram = ceil_int(q.min_vram_gib * 100) if q.min_vram_gib and on("min-vram") else None
    min_tf = ceil_int(q.min_tflops * TFLOPS_SCALE) if q.min_tflops and on("min-tflops") else None

    def gpu_ok(g: Gpu, n: int) -> bool:
        if g.id in pins:
            return True
        load = rest10 + gpu_load10(g, n)
        if on("psu-headroom") and max_watts < HEADROOM_MILLI * load:
            return False
        if cap is not None and load > cap:
            return False
        if on("gpu-length") and (g.length_mm or 0) > max_len:
            return False
        if avoid("cpu-threads-per-gpu") and L.MIN_THREADS_PER_GPU * n > max_threads:
            return False
        if on("gpu-power-connectors") and not any_conn:
            d = L.gpu_connector_demand([g] * n)
            if d is not None and all(connectors_fail(d, h8, hp) for h8, hp in conn):
                return False
        if avoid("ram-vs-vram") and 100 * max_mem_gb < round(
            100 * L.RAM_TO_VRAM_RATIO * g.vram_gib * n
        ):
            return False
        need = cand.ram_need_gib.get((g.id, n))
        if need is not None and on("workload-ram") and max_mem_gb < need:
            return False
        threads = cand.threads_need.get(n)
        if threads is not None and on("workload-threads") and max_threads < threads:
            return False
        if min_vram is not None and round(g.vram_gib * 100) * n < min_vram:
            return False
        return not (min_tf is not None and cand.tflops[(g.id, n)] < min_tf)

    gpu = [(g, n) for g, n in cand.gpu if gpu_ok(g, n)]
    if not gpu:
        return cand
    out = budget_reduce(replace(cand, gpu=gpu), q, relax)
    return out if all(out.sizes().values()) else cand


def budget_reduce(c: Candidates, q: Query, relax: Iterable[str] = ()) -> Candidates:
    """Options whose price plus the cheapest choice of every other category fits the budget
    (all of them when the budget is relaxed or absent; pinned parts always stay)."""
    if q.budget_cents is None or "budget" in relax or not all(c.sizes().values()):
        return c
    budget = q.budget_cents
    pins = set(q.include_ids)
    single = c.options()
    lows = {k: min(cents(p) * n for p, n in opts) for k, opts in single.items()}
    total = sum(lows.values())
    keep: dict[str, list[Any]] = {}
    for k, opts in single.items():
        room = budget - (total - lows[k])
        keep[k] = [(p, n) for p, n in opts if p.id in pins or cents(p) * n <= room]
    return replace(
        c,
        cpu=[p for p, _ in keep["cpu"]],
        board=[p for p, _ in keep["motherboard"]],
        memory=keep["memory"],
        gpu=keep["gpu"],
        storage=keep["storage"],
        psu=[p for p, _ in keep["psu"]],
        cooler=[p for p, _ in keep["cooler"]],
        case=[p for p, _ in keep["case"]],
    )


class PlanModel:
    """The CP-SAT model of one query; ``relax`` names constraint groups left out."""

    def __init__(
        self,
        prep: Prep,
        cand: Candidates,
        query: Query,
        relax: Iterable[str] = (),
        workers: int = 1,
    ) -> None:
        from ortools.sat.python import cp_model

        self.cp = cp_model
        self.prep = prep
        self.cand = cand
        self.q = query
        self.relax = frozenset(relax)
        self.workers = workers
        self.m = cp_model.CpModel()
        self.groups: set[str] = set()
        m = self.m
        self.x = [m.new_bool_var(f"cpu{i}") for i in range(len(cand.cpu))]
        self.y = [m.new_bool_var(f"board{i}") for i in range(len(cand.board))]
        self.z = [m.new_bool_var(f"mem{i}") for i in range(len(cand.memory))]
        self.w = [m.new_bool_var(f"gpu{i}") for i in range(len(cand.gpu))]
        self.v = [m.new_bool_var(f"drive{i}") for i in range(len(cand.storage))]
        self.p = [m.new_bool_var(f"psu{i}") for i in range(len(cand.psu))]
        self.o = [m.new_bool_var(f"cooler{i}") for i in range(len(cand.cooler))]
        self.a = [m.new_bool_var(f"case{i}") for i in range(len(cand.case))]
        # one list of booleans per category, in the order of Candidates.options()
        self.choices = [self.x, self.y, self.z, self.w, self.v, self.p, self.o, self.a]
        for vs in self.choices:
            m.add_exactly_one(vs)
        lsum = cp_model.LinearExpr.weighted_sum
        self.price: Any = lsum(
            [v for vs in self.choices for v in vs],
            [cents(p) * n for opts in cand.options().values() for p, n in opts],
        )
        self.tflops = lsum(self.w, [cand.tflops[(g.id, n)] for g, n in cand.gpu])
        self.vram = lsum(self.w, [round(g.vram_gib * 100) * n for g, n in cand.gpu])
        self.terms = LoadTerms.of(cand)
        self.max_price = self._max_price()
        self._platform()
        self._memory()
        self._fit()
        gsel: dict[str, list[Any]] = defaultdict(list)
        for (g, _), v in zip(cand.gpu, self.w, strict=True):
            gsel[g.id].append(v)
        now = [(v, g, n) for (g, n), v in zip(cand.gpu, self.w, strict=True)]
        self._gpus(now, "now")
        if query.upgrade_to:
            by_id = {g.id: g for g, _ in cand.gpu}
            future = []
            for gid, lits in gsel.items():
                sel = m.new_bool_var(f"sel-{gid}")
                m.add(sel == sum(lits))
                future.append((sel, by_id[gid], query.upgrade_to))
            self._gpus(future, "future")
        self._request()

    # --- helpers ---------------------------------------------------------------------------
    def _on(self, group: str) -> bool:
        self.groups.add(group)
        return group not in self.relax

    def _avoid(self, slug: str) -> bool:
        return slug in self.q.avoid and self._on(slug)

    def _max_price(self) -> int:
        return sum(
            max((cents(p) * n for p, n in opts), default=0) for opts in self.cand.options().values()
        )

    @staticmethod
    def _classes(parts: Sequence[Any], key: Any) -> dict[Any, list[int]]:
        out: dict[Any, list[int]] = defaultdict(list)
        for i, p in enumerate(parts):
            out[key(p)].append(i)
        return out

    # --- CPU, board, cooler ----------------------------------------------------------------
    def _platform(self) -> None:
        m, c = self.m, self.cand
        if self._on("cpu-socket"):
            sockets = {p.socket for p in c.cpu} | {b.socket for b in c.board}
            for s in sockets:
                m.add(
                    sum(v for p, v in zip(c.cpu, self.x, strict=True) if p.socket == s)
                    == sum(v for b, v in zip(c.board, self.y, strict=True) if b.socket == s)
                )
            # chipsets that take only part of their socket's CPUs (L.CHIPSET_CPU_FAMILY): a few
            # boards, so the excluded pairs are listed directly
            for b, yb in zip(c.board, self.y, strict=True):
                if b.chipset.upper() not in L.CHIPSET_CPU_FAMILY:
                    continue
                for p, xc in zip(c.cpu, self.x, strict=True):
                    if p.socket == b.socket and not L.cpu_supported_by_chipset(p.name, b.chipset):
                        m.add(yb + xc <= 1)
        if self._on("cooler-socket"):
            for s in {p.socket for p in c.cpu}:
                ok = [
                    v
                    for k, v in zip(c.cooler, self.o, strict=True)
                    if not k.sockets or s in k.sockets
                ]
                m.add(
                    sum(ok) >= sum(v for p, v in zip(c.cpu, self.x, strict=True) if p.socket == s)
                )
        if self._avoid("cooler-capacity"):
            m.add(
                sum(
                    (k.rated_tdp_w if k.rated_tdp_w is not None else 10_000) * v
                    for k, v in zip(c.cooler, self.o, strict=True)
                )
                >= sum(p.tdp_w * v for p, v in zip(c.cpu, self.x, strict=True))
            )

    # --- memory ----------------------------------------------------------------------------
    def _memory(self) -> None:
        m, c = self.m, self.cand
        if self._on("memory-type"):
            for t in {k.type for k, _ in c.memory} | {b.memory_type for b in c.board}:
                kits = sum(v for (k, _), v in zip(c.memory, self.z, strict=True) if k.type == t)
                m.add(
                    kits
                    == sum(v for b, v in zip(c.board, self.y, strict=True) if b.memory_type == t)
                )
                m.add(
                    kits
                    <= sum(v for p, v in zip(c.cpu, self.x, strict=True) if t in p.memory_types)
                )
        gb = sum(k.capacity_gb * n * v for (k, n), v in zip(c.memory, self.z, strict=True))
        self.memory_gb = gb
        if self._on("memory-capacity"):
            mods = sum(k.modules * n * v for (k, n), v in zip(c.memory, self.z, strict=True))
            m.add(mods <= sum(b.memory_slots * v for b, v in zip(c.board, self.y, strict=True)))
            m.add(
                gb
                <= sum((b.max_memory_gb or 10**7) * v for b, v in zip(c.board, self.y, strict=True))
            )
            m.add(
                gb
                <= sum((p.max_memory_gb or 10**7) * v for p, v in zip(c.cpu, self.x, strict=True))
            )
        if self._on("memory-ecc"):
            reg = sum(v for (k, _), v in zip(c.memory, self.z, strict=True) if k.registered)
            m.add(
                reg <= sum(v for b, v in zip(c.board, self.y, strict=True) if b.rdimm is not False)
            )
            board_rdimm = sum(v for b, v in zip(c.board, self.y, strict=True) if b.rdimm)
            cpu_no = sum(v for p, v in zip(c.cpu, self.x, strict=True) if p.rdimm is False)
            m.add(reg + board_rdimm + cpu_no <= 2)
            only = sum(
                v for b, v in zip(c.board, self.y, strict=True) if b.socket in L.RDIMM_ONLY_SOCKETS
            )
            m.add(only <= reg)

    # --- case fit, cooler fit, PSU fit, drives ---------------------------------------------
    def _fit(self) -> None:
        m, c = self.m, self.cand
        cases = c.case
        strict_verify = "case-form-factor" in self.q.avoid
        if self._on("case-form-factor"):
            bff = self._classes(c.board, lambda b: b.form_factor)
            cff = self._classes(cases, lambda k: tuple(k.motherboard_form_factors))
            for ff, bi in bff.items():
                for listed, ci in cff.items():
                    verdict, _ = L.board_fits_case(ff, listed)
                    bad = verdict == "no" or (
                        verdict == "verify"
                        and strict_verify
                        and "case-form-factor" not in self.relax
                    )
                    if bad:
                        m.add(sum(self.y[i] for i in bi) + sum(self.a[i] for i in ci) <= 1)
        if self._on("cooler-height"):
            m.add(
                sum(
                    (k.height_mm or 0) * v
                    for k, v in zip(c.cooler, self.o, strict=True)
                    if k.kind == "air"
                )
                <= sum(
                    (k.max_cooler_height_mm or 10_000) * v
                    for k, v in zip(cases, self.a, strict=True)
                )
            )
        if self._on("radiator-mount"):
            m.add(
                sum(
                    (k.radiator_mm or 0) * v
                    for k, v in zip(c.cooler, self.o, strict=True)
                    if k.kind == "aio"
                )
                <= sum(
                    (max((r.max_mm for r in k.radiator_mounts), default=10_000)) * v
                    for k, v in zip(cases, self.a, strict=True)
                )
            )
        if self._on("psu-fit"):
            pff = self._classes(c.psu, lambda p: p.form_factor)
            cpf = self._classes(cases, lambda k: tuple(k.psu_form_factors))
            for ff, pi in pff.items():
                for listed, ci in cpf.items():
                    if L.psu_form_fit(ff, listed) == "no":
                        m.add(sum(self.p[i] for i in pi) + sum(self.a[i] for i in ci) <= 1)
            # the rule checks the length only when both lengths are known
            for k, v in zip(cases, self.a, strict=True):
                if k.max_psu_length_mm is None:
                    continue
                long_ = [
                    self.p[i]
                    for i, p in enumerate(c.psu)
                    if p.length_mm is not None and p.length_mm > k.max_psu_length_mm
                ]
                if long_:
                    m.add(sum(long_) + v <= 1)
        drives = list(zip(c.storage, self.v, strict=True))
        if self._on("drive-bays"):
            big = sum(n * v for (s, n), v in drives if s.form_factor == "3.5in")
            small = sum(n * v for (s, n), v in drives if s.form_factor == "2.5in")
            m.add(
                big
                <= sum(
                    (k.bays_3_5 if k.bays_3_5 is not None else 99) * v
                    for k, v in zip(cases, self.a, strict=True)
                )
            )
            # the rule: 2.5-inch drives use 2.5-inch bays plus the 3.5-inch bays left free
            m.add(
                big + small <= sum(_small_room(k) * v for k, v in zip(cases, self.a, strict=True))
            )
            sata = sum(n * v for (s, n), v in drives if s.interface.upper().startswith("SATA"))
            m.add(
                sata
                <= sum(
                    (b.sata_ports if b.sata_ports is not None else 99) * v
                    for b, v in zip(c.board, self.y, strict=True)
                )
            )
        if self._avoid("fast-storage"):
            for (s, _), v in drives:
                if s.kind == "hdd":
                    m.add(v == 0)

    # --- everything that depends on the GPUs -----------------------------------------------
    def _load10(self, opts: Sequence[tuple[Any, Gpu, int]], transient: bool = False) -> Any:
        """Estimated peak DC load ×10: CPU + GPUs + the build's rest-of-system allowance."""
        t = self.terms
        lits: list[Any] = [*self.x, *self.z, *self.v, *self.o]
        coefs: list[int] = [*t.cpu, *t.memory, *t.storage, *t.cooler]
        for lit, g, n in opts:
            lits.append(lit)
            coefs.append(gpu_load10(g, n, transient and L.is_transient_prone(self._chip_name(g))))
        return self.cp.LinearExpr.weighted_sum(lits, coefs) + t.base

    def _chip_name(self, g: Gpu) -> str:
        chip = self.prep.chips.get(g.id)
        return chip.name if chip else g.chip

    def _gpus(self, opts: list[tuple[Any, Gpu, int]], tag: str) -> None:
        m, c, q = self.m, self.cand, self.q
        future = tag == "future"
        head = HEADROOM_MILLI
        watts = sum(psu_capacity(p) * v for p, v in zip(c.psu, self.p, strict=True))
        if self._on("psu-headroom"):
            m.add(watts >= head * self._load10(opts))
        if self._avoid("psu-headroom") and any(
            L.is_transient_prone(self._chip_name(g)) for _, g, _ in opts
        ):
            atx3 = sum(v for p, v in zip(c.psu, self.p, strict=True) if p.atx3)
            big = head * 10**6
            m.add(watts + big * atx3 >= head * self._load10(opts, transient=True))
        if self._on("gpu-power-connectors"):
            by_demand: dict[L.ConnectorDemand, list[Any]] = defaultdict(list)
            for lit, g, n in opts:
                d = L.gpu_connector_demand([g] * n)
                if d is not None:
                    by_demand[d].append(lit)
            psu_cls: dict[tuple[int | None, int], list[int]] = defaultdict(list)
            for i, p in enumerate(c.psu):
                psu_cls[psu_plugs(p)].append(i)
            for (have8, havehp), pi in psu_cls.items():
                if have8 is None:
                    continue  # the rule reports unchecked
                for d, lits in by_demand.items():
                    if connectors_fail(d, have8, havehp):
                        m.add(sum(lits) + sum(self.p[i] for i in pi) <= 1)
        if self._avoid("wall-circuit") and q.site is not None:
            site = q.site
            cap = self.cp.LinearExpr.weighted_sum(self.p, [wall_cap10(p, site) for p in c.psu])
            m.add(self._load10(opts) <= cap)
        if not future and self._on("gpu-length"):
            m.add(
                sum((g.length_mm or 0) * lit for lit, g, _ in opts)
                <= sum(
                    (k.max_gpu_length_mm or 10_000) * v for k, v in zip(c.case, self.a, strict=True)
                )
            )
        if self._avoid("cpu-threads-per-gpu"):
            m.add(
                sum(p.threads * v for p, v in zip(c.cpu, self.x, strict=True))
                >= sum(L.MIN_THREADS_PER_GPU * n * lit for lit, _, n in opts)
            )
        self._slots(opts, tag)

    def _slots(self, opts: list[tuple[Any, Gpu, int]], tag: str) -> None:
        """Layout × card class × count: gpu-slots, slot-spacing, pcie-lanes, m2-slots,
        case-expansion-slots and multi-gpu-airflow from the checker's placement functions."""
        m, c, q = self.m, self.cand, self.q
        layouts: dict[Hashable, tuple[Layout, list[int]]] = {}
        for i, b in enumerate(c.board):
            lay = self.prep.layout(b)
            layouts.setdefault(lay.key, (lay, []))[1].append(i)
        by_class: dict[tuple[tuple[int | None, bool], int], list[Any]] = defaultdict(list)
        for lit, g, n in opts:
            by_class[(card_class(g), n)].append(lit)
        cfgs: dict[tuple[bool, int], list[Any]] = defaultdict(list)
        for (s, n), v in zip(c.storage, self.v, strict=True):
            cfgs[m2_config(s, n)].append(v)
        case_slots: dict[int | None, list[int]] = defaultdict(list)
        for i, k in enumerate(c.case):
            case_slots[k.expansion_slots].append(i)
        cpu_lanes: dict[int | None, list[int]] = defaultdict(list)
        for i, p in enumerate(c.cpu):
            cpu_lanes[p.pcie_lanes].append(i)
        groups = {
            g: self._on(g)
            for g in ("gpu-slots", "slot-spacing", "pcie-lanes", "m2-slots", "case-expansion-slots")
        }
        airflow = self._avoid("multi-gpu-airflow")
        lanes_warn = self._avoid("pcie-lanes")
        fit_known = q.known_fit and self._on("known-fit")
        u_by_layout: dict[Hashable, list[Any]] = defaultdict(list)
        u_by_class: dict[tuple[tuple[int | None, bool], int], list[Any]] = defaultdict(list)
        for lkey, (lay, _) in layouts.items():
            for (cls, n), _lits in by_class.items():
                width, open_air = cls
                multi = n >= 2
                if fit_known and multi and (not lay.known or width is None):
                    continue
                f = place_facts(lay, width, n)
                if groups["gpu-slots"] and lay.has_slots and n > f.x16:
                    continue
                if lay.known:
                    if groups["slot-spacing"] and f.placed < n and n <= f.x16:
                        continue
                    if fit_known and multi and not f.lanes_known:
                        continue
                    if airflow and multi and open_air and f.choked:
                        continue
                u = m.new_bool_var(f"u-{tag}")
                u_by_layout[lkey].append(u)
                u_by_class[(cls, n)].append(u)
                if lay.known and groups["case-expansion-slots"] and f.placed:
                    small = [
                        i
                        for s, idx in case_slots.items()
                        if s is not None and s < f.bottom
                        for i in idx
                    ]
                    if small:
                        m.add(u + sum(self.a[i] for i in small) <= 1)
                if fit_known and multi and None in case_slots:
                    m.add(u + sum(self.a[i] for i in case_slots[None]) <= 1)
                for cfg, vlits in cfgs.items():
                    mf = f.m2[cfg]
                    bad = False
                    if groups["m2-slots"] and cfg[1] > 0 and lay.board.m2_slots and mf.unassigned:
                        bad = True
                    lanes = mf.min_lanes
                    if (
                        lay.known
                        and lanes is not None
                        and groups["pcie-lanes"]
                        and (lanes == 0 or (lanes_warn and lanes < L.MIN_GPU_LANES))
                    ):
                        bad = True
                    if bad:
                        m.add(u + sum(vlits) <= 1)
                        continue
                    if lay.known and lanes_warn:
                        few = [
                            i
                            for ln, idx in cpu_lanes.items()
                            if ln is not None and ln < mf.cpu_lanes
                            for i in idx
                        ]
                        if few:
                            m.add(u + sum(vlits) + sum(self.x[i] for i in few) <= 2)
        for lkey, (_, idx) in layouts.items():
            m.add(sum(self.y[i] for i in idx) == sum(u_by_layout[lkey]))
        for key, lits in by_class.items():
            m.add(sum(lits) == sum(u_by_class[key]))

    # --- the request: budget, workload, user constraints -----------------------------------
    def _request(self) -> None:
        m, c, q = self.m, self.cand, self.q
        if q.budget_cents is not None and self._on("budget"):
            m.add(self.price <= q.budget_cents)
        if self._avoid("ram-vs-vram"):
            m.add(
                100 * self.memory_gb
                >= sum(
                    round(100 * L.RAM_TO_VRAM_RATIO * g.vram_gib * n) * v
                    for (g, n), v in zip(c.gpu, self.w, strict=True)
                )
            )
        if c.ram_need_gib and self._on("workload-ram"):
            m.add(
                self.memory_gb
                >= sum(
                    c.ram_need_gib[(g.id, n)] * v for (g, n), v in zip(c.gpu, self.w, strict=True)
                )
            )
        if c.threads_need and self._on("workload-threads"):
            m.add(
                sum(p.threads * v for p, v in zip(c.cpu, self.x, strict=True))
                >= sum(c.threads_need[n] * v for (_, n), v in zip(c.gpu, self.w, strict=True))
            )
        if c.storage_need_gb and self._on("workload-storage"):
            m.add(
                sum(s.capacity_gb * n * v for (s, n), v in zip(c.storage, self.v, strict=True))
                >= c.storage_need_gb
            )
        if q.min_vram_gib and self._on("min-vram"):
            m.add(self.vram >= ceil_int(q.min_vram_gib * 100))
        if q.min_tflops and self._on("min-tflops"):
            m.add(self.tflops >= ceil_int(q.min_tflops * TFLOPS_SCALE))
        if self._on("include"):
            for pid in sorted(set(q.include_ids)):
                pinned = [
                    v
                    for parts, vs in self._all_choices()
                    for part, v in zip(parts, vs, strict=True)
                    if part.id == pid
                ]
                # An included part that no candidate option carries any more (pruned as unable
                # to fit this query) makes the query infeasible; never drop the demand silently.
                m.add(self.cp.LinearExpr.sum(pinned) >= 1)
            for brand in q.include_brands:
                lits = [
                    v
                    for parts, vs in self._all_choices()
                    for part, v in zip(parts, vs, strict=True)
                    if _brand(part) == brand
                ]
                m.add(self.cp.LinearExpr.sum(lits) >= 1)

    def _all_choices(self) -> list[tuple[list[Part], list[Any]]]:
        return [
            ([p for p, _ in opts], lits)
            for opts, lits in zip(self.cand.options().values(), self.choices, strict=True)
        ]

    # --- cuts and solving ------------------------------------------------------------------
    def selection_lits(self, sel: Selection) -> list[Any]:
        c = self.cand
        out = []
        for parts, lits, chosen in (
            (c.cpu, self.x, sel.cpu),
            (c.board, self.y, sel.board),
            (c.memory, self.z, sel.memory),
            (c.gpu, self.w, sel.gpu),
            (c.storage, self.v, sel.storage),
            (c.psu, self.p, sel.psu),
            (c.cooler, self.o, sel.cooler),
            (c.case, self.a, sel.case),
        ):
            out.append(lits[_index(parts, chosen)])
        return out

    def exclude(self, sel: Selection, by: str = "build") -> None:
        """No-good cut: never this exact build again (``by='gpu'``: never this GPU choice)."""
        if by == "gpu":
            self.m.add(self.w[_index(self.cand.gpu, sel.gpu)] == 0)
            return
        lits = self.selection_lits(sel)
        self.m.add(sum(lits) <= len(lits) - 1)

    def objective(self, name: str, ref: Selection | None = None) -> tuple[Any, bool]:
        """(linear objective, maximise?) for objective ``name``: throughput or vram, then cheaper;
        cost, then faster; throughput-per-dollar linearised at the build ``ref`` (one step of
        Dinkelbach's method: T·C_ref − T_ref·C)."""
        big = self.max_price + 1
        if name == "throughput":
            return self.tflops * big - self.price, True
        if name == "vram":
            return self.vram * big - self.price, True
        if name == "cost":
            tmax = max(self.cand.tflops.values(), default=0) + 1
            return self.price * tmax - self.tflops, False
        assert ref is not None, "throughput-per-dollar needs a reference build"
        t_ref = self.cand.tflops[(ref.gpu[0].id, ref.gpu[1])]
        return self.tflops * max(ref.price_cents(), 1) - self.price * t_ref, True

    def solve(self, objective: Any, maximize: bool, time_limit_s: float) -> tuple[str, Any]:
        """(status name, solver) after optimising ``objective``."""
        if maximize:
            self.m.maximize(objective)
        else:
            self.m.minimize(objective)
        from dlrig.budget import seconds_left, stoppable

        solver = self.cp.CpSolver()
        # A web request's budget (dlrig.budget) caps the solve and can stop it early.
        solver.parameters.max_time_in_seconds = seconds_left(time_limit_s)
        solver.parameters.num_workers = self.workers
        solver.parameters.random_seed = 7
        with stoppable(solver.stop_search):
            status = solver.solve(self.m)
        return solver.status_name(status), solver

    def selection(self, solver: Any) -> Selection:
        c = self.cand

        def pick(items: Sequence[Any], lits: Sequence[Any]) -> Any:
            for item, lit in zip(items, lits, strict=True):
                if solver.boolean_value(lit):
                    return item
            raise AssertionError("one-hot category without a choice")

        return Selection(
            cpu=pick(c.cpu, self.x),
            board=pick(c.board, self.y),
            memory=pick(c.memory, self.z),
            gpu=pick(c.gpu, self.w),
            storage=pick(c.storage, self.v),
            psu=pick(c.psu, self.p),
            cooler=pick(c.cooler, self.o),
            case=pick(c.case, self.a),
        )

    def hint(self, sel: Selection) -> None:
        self.m.clear_hints()
        chosen = {id(v) for v in self.selection_lits(sel)}
        for vs in self.choices:
            for v in vs:
                self.m.add_hint(v, id(v) in chosen)


def _index(items: Sequence[Any], chosen: Any) -> int:
    for i, item in enumerate(items):
        if item is chosen or item == chosen:
            return i
    raise ValueError("choice not among the candidates")


def _small_room(k: Case) -> int:
    if k.bays_3_5 is None or (k.bays_2_5 is None and k.bays_3_5 == 0):
        return 99  # unchecked
    return (k.bays_2_5 or 0) + k.bays_3_5


def _brand(p: Part) -> str:
    from dlrig.catalog import normalize

    return normalize(p.brand)


__all__ = [
    "AVOIDABLE_WARNINGS",
    "FIT_RULES",
    "MAX_DRIVES",
    "Candidates",
    "PlanModel",
    "Query",
    "Selection",
    "card_class",
    "cents",
    "connectors_fail",
    "m2_config",
]
