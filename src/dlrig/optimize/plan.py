"""plan(): the provably optimal compatible build for a budget and a workload.

Pipeline: preprocess the catalog (cached per version) → filter and prune the candidates for the
request → build the CP-SAT model → solve → check the build with the real checker (an error, or a
warning the planner holds as a constraint, adds a no-good cut and re-solves, so every returned
build passes ``dlrig check``) → alternatives, frontier, binding constraints, or an explanation
of an infeasible request.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlrig.errors import InputError, MissingExtraError, PartNotFoundError
from dlrig.optimize.model import (
    AVOIDABLE_WARNINGS,
    FIT_RULES,
    TFLOPS_SCALE,
    Candidates,
    PlanModel,
    Query,
    Selection,
    budget_reduce,
    cents,
    reduce_candidates,
)
from dlrig.optimize.prep import MAX_DRIVES, MAX_GPUS, MAX_KITS, Prep, ceil_int, prepare
from dlrig.parts import Category, Gpu, Part
from dlrig.rules import limits as L

if TYPE_CHECKING:
    from dlrig.build import Build, Site
    from dlrig.catalog import Catalog
    from dlrig.rules.base import CheckResult
    from dlrig.workload import Workload

OBJECTIVES = ("throughput", "vram", "throughput-per-dollar", "cost")
COOLING = ("blower", "open-air", "liquid", "passive")
MAX_CUTS = 200  # re-solves after the checker rejects a build, per solve
BAND = 4  # GPU options in the first band of best_banded (then ×BAND_GROWTH per band)
BAND_GROWTH = 3
FRONTIER_POINTS = 25
BINDING_GROUPS = (
    "budget",
    "psu-headroom",
    "gpu-power-connectors",
    "gpu-slots",
    "slot-spacing",
    "case-expansion-slots",
    "gpu-length",
    "pcie-lanes",
    "multi-gpu-airflow",
    "wall-circuit",
    "ram-vs-vram",
    "cpu-threads-per-gpu",
    "memory-capacity",
    "workload-ram",
    "known-fit",
)
GROUP_TEXT = {
    "budget": "budget",
    "psu-headroom": "PSU headroom (110% of the load)",
    "gpu-power-connectors": "PSU connectors",
    "gpu-slots": "x16 slots on the board",
    "slot-spacing": "slot spacing vs card thickness",
    "case-expansion-slots": "case slots",
    "gpu-length": "GPU length vs case",
    "pcie-lanes": "PCIe lanes (x8 per GPU)",
    "multi-gpu-airflow": "airflow between open-air cards",
    "wall-circuit": "wall circuit",
    "ram-vs-vram": "RAM ≥ VRAM",
    "cpu-threads-per-gpu": "CPU threads per GPU",
    "memory-capacity": "memory slots/maximum",
    "workload-ram": "workload RAM",
    "workload-threads": "workload CPU threads",
    "workload-storage": "workload storage",
    "known-fit": "multi-GPU fit needs a known slot layout",
    "min-vram": "minimum VRAM",
    "min-tflops": "throughput target",
    "include": "included parts",
}


# --- results ---------------------------------------------------------------------------------
@dataclass
class PlannedBuild:
    """One returned build with its numbers and the checker's verdict (no errors, by design)."""

    build: Build
    price_usd: float
    tflops: float
    vram_gib: float
    gpu_count: int
    check: CheckResult
    workload: dict[str, Any] | None = None
    future: Build | None = None
    future_check: CheckResult | None = None
    future_tflops: float | None = None
    future_price_usd: float | None = None

    def to_dict(self) -> dict[str, Any]:
        b = self.build
        out: dict[str, Any] = {
            "name": b.name,
            "price_usd": self.price_usd,
            "tflops": round(self.tflops, 3),
            "vram_gib": self.vram_gib,
            "gpu_count": self.gpu_count,
            "parts": {
                c.value: [
                    {
                        "id": it.part.id,
                        "name": it.part.name,
                        "count": it.count,
                        "price_usd": it.unit_price_usd,
                    }
                    for it in b.items[c]
                ]
                for c in Category
            },
            "check": self.check.to_dict(),
            "workload": self.workload,
        }
        if self.future is not None:
            out["upgrade"] = {
                "gpu_count": self.future.gpu_count,
                "tflops": self.future_tflops,
                "price_usd": self.future_price_usd,
                "check": self.future_check.to_dict() if self.future_check else None,
            }
        return out


@dataclass
class Binding:
    group: str
    text: str
    detail: str
    gain: float  # relative objective gain when the constraint is relaxed (0.25 = +25%)


@dataclass
class Infeasible:
    reasons: list[str]
    cheapest: PlannedBuild | None = None


@dataclass
class PlanResult:
    status: str  # OPTIMAL, FEASIBLE, INFEASIBLE or UNKNOWN
    objective: str
    best: PlannedBuild | None
    alternatives: list[PlannedBuild] = field(default_factory=list)
    frontier: list[PlannedBuild] = field(default_factory=list)
    binding: list[Binding] = field(default_factory=list)
    infeasible: Infeasible | None = None
    held_warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def optimal(self) -> bool:
        return self.status == "OPTIMAL"

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "objective": self.objective,
            "best": self.best.to_dict() if self.best else None,
            "alternatives": [a.to_dict() for a in self.alternatives],
            "frontier": [
                {
                    "price_usd": f.price_usd,
                    "tflops": round(f.tflops, 3),
                    "gpu_count": f.gpu_count,
                    "gpu": f.build.gpus[0].name if f.build.gpus else None,
                }
                for f in self.frontier
            ],
            "binding": [
                {"constraint": b.group, "text": b.text, "detail": b.detail, "gain": b.gain}
                for b in self.binding
            ],
            "infeasible": None
            if self.infeasible is None
            else {
                "reasons": self.infeasible.reasons,
                "cheapest": self.infeasible.cheapest.to_dict()
                if self.infeasible.cheapest
                else None,
            },
            "held_warnings": self.held_warnings,
            "notes": self.notes,
            "stats": self.stats,
        }


# --- the request ---------------------------------------------------------------------------
def _load_workload(
    workload: Any, task: str | None, precision: str | None = None
) -> tuple[Workload | None, Any]:
    """(validated workload, what to write in the build file); ``task`` and ``precision`` are
    laid over the workload's own (a preset's default bf16 cannot serve 70B on small cards)."""
    if workload is None:
        return None, None
    from dlrig.workload import Workload, load_workload, workload_from_mapping

    over = {k: v for k, v in (("task", task), ("precision", precision)) if v}
    if isinstance(workload, Workload):
        if over:
            data = {**workload.model_dump(mode="json", exclude_defaults=True), **over}
            data["model"] = workload.model
            return workload_from_mapping(data), {**data, "model": workload.model.id}
        return workload, workload.model_dump(mode="json", exclude_defaults=True)
    if isinstance(workload, Mapping):
        data = {**dict(workload), **over}
        return workload_from_mapping(data), data
    text = str(workload)
    if Path(text).exists():
        w = load_workload(Path(text))
        if over:
            from dlrig.workload import _read_workload_file

            data = {**_read_workload_file(Path(text)), **over}
            return workload_from_mapping(data, where=text), data
        return w, str(text)
    data = {"model": text, **over}
    return workload_from_mapping(data, where="--workload"), data


def _resolve_terms(catalog: Catalog, terms: Sequence[str], what: str) -> tuple[set[str], set[str]]:
    """(part ids, normalised brands) that ``--include``/``--exclude`` terms name."""
    from dlrig.catalog import normalize

    ids: set[str] = set()
    out_brands: set[str] = set()
    if not terms:
        return ids, out_brands
    brands = {normalize(p.brand) for p in catalog.parts()}
    for t in terms:
        key = normalize(t)
        if key in brands:
            out_brands.add(key)
            continue
        try:
            ids.add(catalog.resolve(t).id)
        except PartNotFoundError as exc:
            raise PartNotFoundError(
                f"--{what} '{t}' is neither a brand nor a part: {exc.message}", exc.hint
            ) from None
    return ids, out_brands


def _gpu_counts(q: Query) -> list[int]:
    top = q.upgrade_to or q.max_gpus
    if q.gpus is not None:
        return [q.gpus]
    return list(range(1, min(top, MAX_GPUS) + 1))


def candidates(
    prep: Prep,
    q: Query,
    exclude_ids: Iterable[str] = (),
    exclude_brands: Iterable[str] = (),
    cooling: Sequence[str] | None = None,
) -> tuple[Candidates, dict[str, Any]]:
    """Filter, prune and expand (part × count) the options of one query."""
    from dlrig.catalog import normalize
    from dlrig.sizing import objective_coefficient as coefficient

    ex_ids, ex_brands = set(exclude_ids), set(exclude_brands)
    pins = set(q.include_ids)
    avoid = q.avoid
    dropped: dict[str, int] = {}

    def keep(p: Part) -> bool:
        if p.id in ex_ids or normalize(p.brand) in ex_brands:
            return False
        if isinstance(p, Gpu):
            chip = prep.chips[p.id]
            if cooling and p.cooling not in cooling:
                return False
            if "tensor-cores" in avoid and chip.tensor_cores is False:
                return False
            if "cuda-support" in avoid and chip.vendor != "nvidia":
                return False
            if (
                "pcie-lanes" in avoid
                and p.pcie_lanes is not None
                and p.pcie_lanes < L.MIN_GPU_LANES
            ):
                return False
            if coefficient(chip, 1, q.workload, q.precision) is None:
                dropped["gpu without a TFLOPS figure"] = (
                    dropped.get("gpu without a TFLOPS figure", 0) + 1
                )
                return False
        return True

    filtered = {c: [p for p in ps if keep(p)] for c, ps in prep.parts.items()}
    # pruning depends on the filtered parts and the pins only: requests that filter alike (a
    # workload's precision with the same TFLOPS figures known, ...) share one pruned set
    signature = (tuple(tuple(p.id for p in ps) for ps in filtered.values()), frozenset(pins))
    before = {c.value: len(ps) for c, ps in filtered.items()}
    pruned = prep.pruned(filtered, signature, keep=pins)
    boards = pruned[Category.MOTHERBOARD]
    max_slots = max((b.memory_slots for b in boards), default=0)  # type: ignore[attr-defined]
    w = q.workload
    memory = [
        (k, m)
        for k in pruned[Category.MEMORY]
        for m in range(1, MAX_KITS + 1)
        if k.modules * m <= max_slots  # type: ignore[attr-defined]
    ]
    counts = _gpu_counts(q)
    vram_need: dict[int, float] = {}
    if w is not None:
        from dlrig.sizing import vram_required_gib

        vram_need = {n: vram_required_gib(w, n) for n in counts}
    gpus: list[tuple[Any, int]] = []
    tflops: dict[tuple[str, int], int] = {}
    for g in pruned[Category.GPU]:
        assert isinstance(g, Gpu)
        chip = prep.chips[g.id]
        for n in counts:
            if n >= 2 and "multi-gpu-airflow" in avoid and g.cooling == "passive":
                continue
            if n >= 2 and q.known_fit and (g.slot_width is None or g.cooling is None):
                continue
            if w is not None and vram_need[n] > g.vram_gib:
                continue
            # the workload's own figure of merit (sizing.objective_coefficient), model TFLOPS
            t = coefficient(chip, n, w, q.precision)
            assert t is not None
            tflops[(g.id, n)] = round(t * TFLOPS_SCALE)
            gpus.append((g, n))
    ram_need: dict[tuple[str, int], int] = {}
    threads_need: dict[int, int] = {}
    storage_need = 0
    if w is not None:
        from dlrig.sizing import memory_bytes, system_requirements

        mems = {n: memory_bytes(w, n) for n in counts}
        for g, n in gpus:
            req = system_requirements(w, mems[n], n, prep.chips[g.id])
            ram_need[(g.id, n)] = ceil_int(req["ram_gib"])
            threads_need[n] = int(req["cpu_threads"])
        any_req = system_requirements(w, mems[counts[0]], counts[0], None)
        storage_need = ceil_int(any_req["storage_gb"])
    drive_counts = range(1, MAX_DRIVES + 1) if storage_need else range(1, 2)
    storage = [(s, n) for s in pruned[Category.STORAGE] for n in drive_counts]
    cand = Candidates(
        cpu=pruned[Category.CPU],  # type: ignore[arg-type]
        board=boards,  # type: ignore[arg-type]
        memory=memory,  # type: ignore[arg-type]
        gpu=gpus,
        storage=storage,  # type: ignore[arg-type]
        psu=pruned[Category.PSU],  # type: ignore[arg-type]
        cooler=pruned[Category.COOLER],  # type: ignore[arg-type]
        case=pruned[Category.CASE],  # type: ignore[arg-type]
        tflops=tflops,
        ram_need_gib=ram_need,
        threads_need=threads_need,
        storage_need_gb=storage_need,
    )
    info = {
        "filtered": before,
        "pruned": {c.value: len(ps) for c, ps in pruned.items()},
        "options": cand.sizes(),
        "dropped": dropped,
        "vram_need_gib": {n: round(v, 2) for n, v in vram_need.items()},
    }
    return cand, info


# --- building and verifying ------------------------------------------------------------------
class _Planner:
    def __init__(
        self,
        catalog: Catalog,
        prep: Prep,
        cand: Candidates,
        q: Query,
        workload_ref: Any,
        time_limit_s: float,
        workers: int,
        workload_spec: Workload | None = None,
    ) -> None:
        self.catalog = catalog
        self.prep = prep
        self.cand = cand
        self.q = q
        self.workload_ref = workload_ref
        self.workload_spec = workload_spec
        self.time_limit_s = time_limit_s
        self.workers = workers
        self.cuts = 0
        self.solves = 0
        self.solve_s = 0.0
        self.status = "OPTIMAL"

    def reduced(self, relax: Iterable[str] = ()) -> Candidates:
        """The candidates less the options no solution can use (see reduce_candidates)."""
        return reduce_candidates(self.cand, self.q, relax)

    def model(self, relax: Iterable[str] = (), cand: Candidates | None = None) -> PlanModel:
        cand = cand if cand is not None else self.reduced(relax)
        return PlanModel(self.prep, cand, self.q, relax=relax, workers=self.workers)

    def make_build(self, sel: Selection, n: int | None = None, name: str = "plan") -> Build:
        from dlrig.build import Build

        g, count = sel.gpu
        return Build.from_parts(
            {
                Category.CPU: sel.cpu,
                Category.MOTHERBOARD: sel.board,
                Category.MEMORY: sel.memory,
                Category.GPU: (g, n or count),
                Category.STORAGE: sel.storage,
                Category.PSU: sel.psu,
                Category.COOLER: sel.cooler,
                Category.CASE: sel.case,
            },
            name=name,
            catalog=self.catalog,
            site=self.q.site,
            workload=self.workload_ref,
            workload_spec=self.workload_spec,  # parsed once per plan, not once per check
        )

    def rejects(self, result: CheckResult, future: bool = False) -> list[str]:
        """Why the checker's verdict is not acceptable for a plan (empty: accepted)."""
        from dlrig.rules.base import Severity

        out = [f"{f.slug}: {f.message}" for f in result.errors]
        avoid = set(self.q.avoid) - ({"ram-vs-vram"} if future else set())
        out += [
            f"{f.slug}: {f.message}"
            for f in result.findings
            if f.severity is Severity.WARNING and f.slug in avoid
        ]
        if self.q.known_fit and result.build.gpu_count >= 2:
            out += [
                f"{u.slug} unchecked: {u.reason}" for u in result.unchecked if u.slug in FIT_RULES
            ]
        return out

    def verify(self, sel: Selection) -> PlannedBuild | None:
        from dlrig.rules import check

        build = self.make_build(sel)
        result = check(build)
        if self.rejects(result):
            return None
        planned = self.planned(sel, build, result)
        if self.q.upgrade_to:
            fb = self.make_build(sel, self.q.upgrade_to, name=f"{build.name} (upgraded)")
            fr = check(fb)
            if self.rejects(fr, future=True):
                return None
            planned.future, planned.future_check = fb, fr
            chip = self.prep.chips[sel.gpu[0].id]
            from dlrig.sizing import objective_coefficient as coefficient

            planned.future_tflops = coefficient(
                chip, self.q.upgrade_to, self.q.workload, self.q.precision
            )
            planned.future_price_usd = round(
                (sel.price_cents() + cents(sel.gpu[0]) * (self.q.upgrade_to - sel.gpu[1])) / 100,
                2,
            )
        return planned

    def planned(self, sel: Selection, build: Build, result: CheckResult) -> PlannedBuild:
        g, n = sel.gpu
        tflops = self.cand.tflops[(g.id, n)] / TFLOPS_SCALE
        wl = None
        if self.q.workload is not None:
            from dlrig.sizing import size

            r = size(self.q.workload, self.prep.chips[g.id], n_gpus=n)
            rate, unit = r.throughput
            wl = {
                "describe": self.q.workload.describe(),
                "vram_per_gpu_gib": round(r.vram_per_gpu_gib, 2),
                "throughput": rate,
                "throughput_unit": unit,
                "time_hours": r.time_hours,
                "system": r.system,
            }
        gpu_name = g.name
        build.name = f"plan: {n}× {gpu_name}"
        return PlannedBuild(
            build=build,
            price_usd=round(sel.price_cents() / 100, 2),
            tflops=tflops,
            vram_gib=g.vram_gib * n,
            gpu_count=n,
            check=result,
            workload=wl,
        )

    def solve(
        self, pm: PlanModel, objective: Any, maximize: bool
    ) -> tuple[str, Selection | None, PlannedBuild | None, float]:
        """Solve; cut and re-solve until the checker accepts the build (or none is left)."""
        for _ in range(MAX_CUTS):
            t = time.perf_counter()
            status, solver = pm.solve(objective, maximize, self.time_limit_s)
            self.solve_s += time.perf_counter() - t
            self.solves += 1
            if status not in ("OPTIMAL", "FEASIBLE"):
                return status, None, None, 0.0
            sel = pm.selection(solver)
            planned = self.verify(sel)
            if planned is not None:
                if status != "OPTIMAL":
                    self.status = "FEASIBLE"
                return status, sel, planned, solver.objective_value
            self.cuts += 1
            pm.exclude(sel)
        return "UNKNOWN", None, None, 0.0

    def best(
        self, pm: PlanModel, objective: str
    ) -> tuple[str, Selection | None, PlannedBuild | None]:
        if objective == "throughput-per-dollar":
            return self.ratio(pm)
        st, sel, pb, _ = self.solve(pm, *pm.objective(objective))
        return st, sel, pb

    def best_banded(self, objective: str) -> tuple[str, Selection | None, PlannedBuild | None]:
        """best() over bands of GPU options, most promising first; the same optimum.

        throughput/vram: the options are ranked by their TFLOPS (VRAM); a band holds every
        option ranked at least as high as its last one (ties included), so a build found in the
        first feasible band beats every option left out: it is the optimum. cost: the options
        are ranked by the least price of a build with them; when the band's cheapest build costs
        more than the band's last rank, one more solve over every option up to that price makes
        it exact. A band that proves nothing (time limit) falls back to all remaining options.
        throughput-per-dollar solves the whole reduced model.
        """
        cand = self.reduced()
        if objective == "throughput-per-dollar" or len(cand.gpu) <= BAND:
            return self.best(self.model(cand=cand), objective)
        if objective == "cost":
            rest = _rest_cents(cand)
            rank = {o: cents(o[0]) * o[1] + rest for o in cand.gpu}
        elif objective == "vram":
            rank = {o: -round(o[0].vram_gib * 100) * o[1] for o in cand.gpu}
        else:
            rank = {o: -cand.tflops[(o[0].id, o[1])] for o in cand.gpu}
        order = sorted(range(len(cand.gpu)), key=lambda i: rank[cand.gpu[i]])
        start, size = 0, BAND
        while start < len(order):
            end = min(len(order), start + size)
            last = rank[cand.gpu[order[end - 1]]]
            while end < len(order) and rank[cand.gpu[order[end]]] == last:
                end += 1
            sub = budget_reduce(
                replace(cand, gpu=[cand.gpu[i] for i in sorted(order[start:end])]), self.q
            )
            if not all(sub.sizes().values()):  # nothing in this band fits the budget
                start, size = end, size * BAND_GROWTH
                continue
            st, sel, pb = self.best(self.model(cand=sub), objective)
            if sel is None and st != "INFEASIBLE":  # undecided: everything that is left
                rest_opts = sorted(order[start:])
                return self.best(
                    self.model(cand=replace(cand, gpu=[cand.gpu[i] for i in rest_opts])),
                    objective,
                )
            if sel is not None:
                if objective == "cost" and end < len(order):
                    price = sel.price_cents()
                    more = [i for i in order[end:] if rank[cand.gpu[i]] <= price]
                    if more:
                        upto = sorted(order[:end] + more)
                        wider = replace(cand, gpu=[cand.gpu[i] for i in upto])
                        pm = self.model(cand=budget_reduce(wider, self.q))
                        pm.hint(sel)
                        return self.best(pm, objective)
                return st, sel, pb
            start, size = end, size * BAND_GROWTH
        return "INFEASIBLE", None, None

    def ratio(self, pm: PlanModel) -> tuple[str, Selection | None, PlannedBuild | None]:
        """Throughput per dollar by Dinkelbach's method: max T·C* − T*·C until it reaches 0."""
        st, sel, pb, _ = self.solve(pm, *pm.objective("throughput"))
        if sel is None:
            return st, None, None
        for _ in range(50):
            t0, c0 = self.cand.tflops[(sel.gpu[0].id, sel.gpu[1])], max(sel.price_cents(), 1)
            st2, sel2, pb2, value = self.solve(pm, *pm.objective("throughput-per-dollar", sel))
            if sel2 is None or value <= 0:
                break
            t2, c2 = self.cand.tflops[(sel2.gpu[0].id, sel2.gpu[1])], sel2.price_cents()
            if t2 * c0 <= t0 * c2:
                break
            st, sel, pb = st2, sel2, pb2
        return st, sel, pb

    def score(self, sel: Selection, objective: str) -> float:
        t = self.cand.tflops[(sel.gpu[0].id, sel.gpu[1])]
        if objective == "throughput":
            return float(t)
        if objective == "vram":
            return sel.gpu[0].vram_gib * sel.gpu[1]
        if objective == "cost":
            return -float(sel.price_cents())
        return t / max(sel.price_cents(), 1)


# --- the public function ---------------------------------------------------------------------
# Largest budget, VRAM, TFLOPS, hours or time limit the planner takes: far above any one machine,
# low enough that its arithmetic (prices in cents as integers) cannot overflow.
MAX_PLAN_NUMBER = 1e9


def plan(
    budget_usd: float | None = None,
    workload: Any = None,
    *,
    objective: str = "throughput",
    task: str | None = None,
    precision: str | None = None,
    gpus: int | None = None,
    max_gpus: int = MAX_GPUS,
    upgrade_to: int | None = None,
    min_vram_gib: float | None = None,
    min_tflops: float | None = None,
    max_hours: float | None = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    cooling: Sequence[str] | None = None,
    site: Site | None = None,
    allow: Sequence[str] = (),
    known_fit: bool = True,
    alternatives: int = 0,
    distinct: str = "gpu",
    frontier: bool = False,
    explain: bool = True,
    catalog: Catalog | str | Path | None = None,
    part_prices: Mapping[str, float] | None = None,
    time_limit_s: float = 10.0,
    workers: int = 1,
) -> PlanResult:
    """The best compatible build for the budget (and workload), proved optimal by CP-SAT.

    ``objective``: throughput (max sustained TFLOPS, then cheapest), vram (max total VRAM, then
    cheapest), throughput-per-dollar, or cost (cheapest build meeting ``min_tflops`` /
    ``max_hours`` and the workload). ``allow`` lists warning rules the plan may trigger (by
    default every warning in :data:`AVOIDABLE_WARNINGS` is held as a constraint). ``site`` is
    the wall circuit the build runs on (default 120 V / 15 A). ``part_prices`` (part id or
    name → USD) prices parts for this plan, e.g. local quotes. ``upgrade_to`` plans the board,
    case, PSU and cooling for that many GPUs with fewer bought now. Every returned build passes
    :func:`dlrig.rules.check` with no error.
    """
    t_start = time.perf_counter()
    try:
        import ortools.sat.python.cp_model  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the install
        raise MissingExtraError("ortools", "plan") from None
    from dlrig.build import Site
    from dlrig.catalog import open_catalog

    if objective not in OBJECTIVES:
        raise InputError(
            f"unknown objective '{objective}'", "choose one of: " + ", ".join(OBJECTIVES)
        )
    if budget_usd is not None and not 0 < budget_usd <= MAX_PLAN_NUMBER:  # also NaN
        raise InputError(
            f"budget ${budget_usd:,.6g} is not a positive amount up to ${MAX_PLAN_NUMBER:,.0f}",
            "give a budget in USD, e.g. 7000",
        )
    for flag, value, least in (
        ("--min-vram-gib", min_vram_gib, 0.0),  # 0: no minimum
        ("--min-tflops", min_tflops, 0.0),
        ("--max-hours", max_hours, None),
        ("--time-limit", time_limit_s, None),
    ):
        if value is None:
            continue
        ok = value >= least if least is not None else value > 0
        if not ok or not value <= MAX_PLAN_NUMBER:  # NaN fails both comparisons
            what = "0 or more" if least is not None else "above 0"
            raise InputError(f"{flag} {value:g} is out of range", f"give {flag} {what}")
    if budget_usd is None and objective != "cost":
        raise InputError("a budget is needed", "pass --budget-usd (or --objective cost)")
    if gpus is not None and not 1 <= gpus <= MAX_GPUS:
        raise InputError(f"--gpus {gpus} is outside 1-{MAX_GPUS}", "plan 1 to 8 GPUs")
    if upgrade_to is not None:
        if not 2 <= upgrade_to <= MAX_GPUS:
            raise InputError(f"--upgrade-to {upgrade_to} is outside 2-{MAX_GPUS}", "use 2 to 8")
        if gpus is not None and gpus > upgrade_to:
            raise InputError(
                f"--gpus {gpus} is more than --upgrade-to {upgrade_to}", "buy fewer GPUs now"
            )
    if distinct not in ("gpu", "build"):
        raise InputError(f"unknown distinct mode '{distinct}'", "use gpu or build")
    if cooling:
        bad = [c for c in cooling if c not in COOLING]
        if bad:
            raise InputError(f"unknown GPU cooling '{bad[0]}'", "choose from " + ", ".join(COOLING))
    unknown_allow = [a for a in allow if a not in AVOIDABLE_WARNINGS]
    if unknown_allow:
        raise InputError(
            f"--allow {unknown_allow[0]}: not a warning rule the planner holds",
            "choose from " + ", ".join(AVOIDABLE_WARNINGS),
        )
    from dlrig.catalog import Catalog as _Catalog

    cat: _Catalog = catalog if isinstance(catalog, _Catalog) else open_catalog(catalog)
    if part_prices:  # the user's quotes for parts the catalog has no dated price for
        cat = cat.with_prices(part_prices)
    w, workload_ref = _load_workload(workload, task, precision)
    prec = precision or (w.precision if w is not None else "bf16")
    if max_hours is not None:
        if w is None:
            raise InputError("--max-hours needs a workload", "pass --workload")
        from dlrig.sizing import training_flops

        flops = training_flops(w)
        if flops is None:
            raise InputError("the workload has no data size", "set data.tokens or --tokens")
        # the objective is model TFLOPS (recomputation already slows the estimated rate)
        need = flops / (max_hours * 3600) / 1e12
        min_tflops = max(min_tflops or 0.0, need)
    t_prep = time.perf_counter()
    prep = prepare(cat)
    prep_s = time.perf_counter() - t_prep
    inc_ids, inc_brands = _resolve_terms(cat, include, "include")
    ex_ids, ex_brands = _resolve_terms(cat, exclude, "exclude")
    q = Query(
        budget_cents=None if budget_usd is None else round(budget_usd * 100),
        objective=objective,
        precision=prec,
        workload=w,
        gpus=gpus,
        max_gpus=max_gpus,
        upgrade_to=upgrade_to,
        min_vram_gib=min_vram_gib,
        min_tflops=min_tflops,
        site=site or Site(),
        avoid=frozenset(AVOIDABLE_WARNINGS) - set(allow),
        known_fit=known_fit,
        include_ids=tuple(sorted(inc_ids)),
        include_brands=tuple(sorted(inc_brands)),
    )
    for pid in inc_ids:
        part = cat.get(pid)
        if part.price_usd is None:
            raise InputError(
                f"--include {part.name}: the part has no price, so the planner cannot use it",
                "choose a priced part (dlrig catalog list shows prices)",
            )
    t_cand = time.perf_counter()
    cand, info = candidates(prep, q, ex_ids, ex_brands, cooling)
    cand_s = time.perf_counter() - t_cand
    planner = _Planner(cat, prep, cand, q, workload_ref, time_limit_s, workers, w)
    notes = _notes(prep, info, q)
    result = PlanResult(
        status="INFEASIBLE",
        objective=objective,
        best=None,
        held_warnings=sorted(q.avoid),
        notes=notes,
    )
    empty = [k for k, n in cand.sizes().items() if n == 0]
    t_solve = time.perf_counter()
    sel = None
    if not empty:
        status, sel, best = planner.best_banded(objective)
        if best is not None:
            result.best = best
            result.status = planner.status
        elif status not in ("INFEASIBLE", "MODEL_INVALID"):
            result.status = "UNKNOWN"
    solve_s = time.perf_counter() - t_solve
    if result.best is None or sel is None:
        result.infeasible = _explain_infeasible(planner, q, cand, info, empty)
    else:
        if alternatives:
            pm = planner.model()
            result.alternatives = _alternatives(planner, pm, sel, objective, alternatives, distinct)
        if frontier:
            result.frontier = _frontier(planner)
        if explain:
            result.binding, examined = _binding(planner, sel, objective)
            if examined < len(BINDING_GROUPS):
                result.notes.append(
                    f"binding-constraint analysis stopped after {BINDING_BUDGET_S:g} s "
                    f"({examined} of {len(BINDING_GROUPS)} constraint groups examined)"
                )
    result.stats = {
        "catalog": cat.name,
        "catalog_version": cat.version,
        "prep_s": round(prep_s, 4),
        "prep_build_s": round(prep.seconds, 4),
        "candidates_s": round(cand_s, 4),
        "solve_s": round(solve_s, 4),
        "cp_sat_s": round(planner.solve_s, 4),
        "total_s": round(time.perf_counter() - t_start, 4),
        "solves": planner.solves,
        "checker_cuts": planner.cuts,
        "unpriced_excluded": {c.value: n for c, n in prep.unpriced.items()},
        **info,
    }
    return result


def _rest_cents(c: Candidates) -> int:
    """The least price of everything but the GPUs."""
    return sum(
        min((cents(p) * n for p, n in opts), default=0)
        for k, opts in c.options().items()
        if k != "gpu"
    )


def _notes(prep: Prep, info: dict[str, Any], q: Query) -> list[str]:
    notes = []
    unpriced = sum(prep.unpriced.values())
    if unpriced:
        parts = ", ".join(f"{n} {c.value}" for c, n in prep.unpriced.items() if n)
        notes.append(f"{unpriced} parts without a price were left out ({parts}).")
    for why, n in info["dropped"].items():
        notes.append(f"{n} {why} left out for {q.precision}.")
    return notes


def _alternatives(
    planner: _Planner, pm: PlanModel, sel: Selection, objective: str, k: int, distinct: str
) -> list[PlannedBuild]:
    out: list[PlannedBuild] = []
    last = sel
    for _ in range(k):
        pm.exclude(last, by=distinct)
        _, nxt, pb = planner.best(pm, objective)
        if nxt is None or pb is None:
            break
        out.append(pb)
        last = nxt
    return out


def _frontier(planner: _Planner) -> list[PlannedBuild]:
    """Pareto frontier of price vs throughput: max throughput, then cheapest, under a falling
    price cap (each point is optimal for its cap, so no point dominates another)."""
    pm = planner.model()
    points: list[PlannedBuild] = []
    for _ in range(FRONTIER_POINTS):
        _, sel, pb, _ = planner.solve(pm, *pm.objective("throughput"))
        if sel is None or pb is None:
            break
        points.append(pb)
        pm.m.add(pm.price <= sel.price_cents() - 1)
        pm.m.add(pm.tflops <= planner.cand.tflops[(sel.gpu[0].id, sel.gpu[1])] - 1)
    return points


# The binding analysis re-solves the model once per constraint group; on a large imported
# catalog that takes far longer than the plan itself, so it gets a fixed time budget.
BINDING_BUDGET_S = 4.0
PROBE_LIMIT_S = 2.0  # time limit of one relaxed re-solve (binding constraints, infeasibility)


def _binding(planner: _Planner, sel: Selection, objective: str) -> tuple[list[Binding], int]:
    """Constraint groups whose relaxation improves the objective (budget: +25%), and how many
    groups were examined within :data:`BINDING_BUDGET_S`."""
    deadline = time.monotonic() + BINDING_BUDGET_S
    base = planner.score(sel, objective)
    out: list[Binding] = []
    q = planner.q
    examined = 0
    for group in BINDING_GROUPS:
        left_s = deadline - time.monotonic()
        if left_s <= 0.05:
            break
        examined += 1
        if group == "budget":
            if q.budget_cents is None or objective == "cost":
                continue
            saved = q.budget_cents
            q.budget_cents = int(saved * 1.25)
            try:
                pm = planner.model()
            finally:
                q.budget_cents = saved
        else:
            pm = planner.model(relax=[group])
            if group not in pm.groups or (group in AVOIDABLE_WARNINGS and group not in q.avoid):
                continue
        obj, maximize = pm.objective(objective, sel)
        status, solver = pm.solve(obj, maximize, min(planner.time_limit_s, PROBE_LIMIT_S, left_s))
        if status not in ("OPTIMAL", "FEASIBLE"):
            continue
        alt = pm.selection(solver)
        score = planner.score(alt, objective)
        if score <= base * (1 + 1e-9) if base >= 0 else score <= base:
            continue
        gain = (score - base) / abs(base) if base else 1.0
        g, n = alt.gpu
        what = "+25% budget" if group == "budget" else f"without '{group}'"
        detail = f"{what}: {n}× {g.name}, ${alt.price_cents() / 100:,.0f}"
        if objective in ("throughput", "throughput-per-dollar"):
            detail += f", {planner.cand.tflops[(g.id, n)] / TFLOPS_SCALE:,.1f} TFLOPS"
        out.append(Binding(group, GROUP_TEXT.get(group, group), detail, round(gain, 4)))
    return out, examined


def _explain_infeasible(
    planner: _Planner, q: Query, cand: Candidates, info: dict[str, Any], empty: list[str]
) -> Infeasible:
    reasons: list[str] = []
    if empty:
        for k in empty:
            if k == "gpu" and q.workload is not None and info["pruned"].get("gpu"):
                need = info["vram_need_gib"]
                top = max(
                    (getattr(g, "vram_gib", 0.0) for g in planner.prep.parts[Category.GPU]),
                    default=0.0,
                )
                n_max = max(need) if need else 1
                reasons.append(
                    f"no priced GPU holds the workload: it needs {need[min(need)]:.1f} GiB per GPU "
                    f"on 1 GPU and {need[n_max]:.1f} GiB on {n_max}; the largest card has "
                    f"{top:g} GiB. Use ZeRO-3/FSDP, LoRA/QLoRA or a smaller batch."
                )
            else:
                reasons.append(f"no usable priced {k} passes the filters")
        return Infeasible(reasons)
    # the same request without the budget: the cheapest build that fits
    cheapest = None
    if q.budget_cents is not None:
        pm = planner.model(relax=["budget"])
        _, sel, pb, _ = planner.solve(pm, *pm.objective("cost"))
        if pb is not None and sel is not None:
            cheapest = pb
            reasons.append(
                f"the budget ${q.budget_cents / 100:,.0f} is too small: the cheapest build that "
                f"fits costs ${pb.price_usd:,.0f} "
                f"(${pb.price_usd - q.budget_cents / 100:,.0f} more)"
            )
            return Infeasible(reasons, cheapest)
    # still impossible: which single constraint group makes it possible?
    freed = []
    for group in sorted((set(BINDING_GROUPS) | set(GROUP_TEXT)) - {"budget"}):
        pm = planner.model(relax=["budget", group])
        if group not in pm.groups:
            continue
        status, _ = pm.solve(pm.price, False, min(planner.time_limit_s, PROBE_LIMIT_S))
        if status in ("OPTIMAL", "FEASIBLE"):
            freed.append(GROUP_TEXT.get(group, group))
    if freed:
        reasons.append(
            "no build meets every constraint; dropping one of these would allow one: "
            + ", ".join(freed)
        )
    else:
        reasons.append("no build in the catalog meets these constraints together")
    return Infeasible(reasons, cheapest)
