"""``dlrig plan``: the provably optimal compatible build for a budget and a workload.

Front doors: ``dlrig plan``, ``POST /api/plan``, the ``/plan`` page, and :func:`dlrig.plan`.
The result is :class:`~dlrig.optimize.PlanResult` (needs ``dlrig[plan]``).

A new planner option is a field here and the planner code that uses it: the CLI option, the
web API field, the page's form field and the Python keyword all come from this model.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, field_validator

from dlrig.app.base import Cli, Command, Request, TextList, Usd, workload_ref
from dlrig.errors import InputError

if TYPE_CHECKING:
    from dlrig.catalog import Catalog
    from dlrig.optimize import PlanResult

__all__ = ["PlanRequest", "planner_available", "priced_catalog", "run"]


class PlanRequest(Request):
    """What ``dlrig plan`` takes (names as in ``dlrig plan --json``'s request echo)."""

    budget_usd: Annotated[Usd | None, Cli("--budget-usd", "-b", metavar="<usd>")] = Field(
        None, description="Budget in US dollars (7000, 7,000, $7k)."
    )
    workload: Annotated[Any, Cli("--workload", "-w")] = Field(
        None, description="Workload YAML file or model preset."
    )
    task: Annotated[str | None, Cli("--task")] = Field(
        None, description="train, finetune, lora, qlora or inference."
    )
    precision: Annotated[str | None, Cli("--precision", "-p")] = Field(
        None,
        description="Rank GPUs by this precision's TFLOPS: fp32, bf16, fp16, fp8, int8 or int4 "
        "(laid over the workload's; default bf16).",
    )
    objective: Annotated[str, Cli("--objective")] = Field(
        "throughput", description="throughput, vram, throughput-per-dollar or cost."
    )
    gpus: Annotated[int | None, Cli("--gpus", "-n")] = Field(
        None, description="Exactly this many GPUs."
    )
    upgrade_to: Annotated[int | None, Cli("--upgrade-to")] = Field(
        None, description="Board, case, PSU and cooling for this many GPUs."
    )
    min_vram_gib: Annotated[float | None, Cli("--min-vram-gib")] = Field(
        None, description="Total VRAM at least (GiB)."
    )
    min_tflops: Annotated[float | None, Cli("--min-tflops")] = Field(
        None, description="Sustained TFLOPS at least."
    )
    max_hours: Annotated[float | None, Cli("--max-hours")] = Field(
        None, description="Time-to-train target (with a workload)."
    )
    include: Annotated[TextList, Cli("--include")] = Field(
        [], description="Part or brand to include (repeat)."
    )
    exclude: Annotated[TextList, Cli("--exclude")] = Field(
        [], description="Part or brand to exclude (repeat)."
    )
    cooling: Annotated[TextList, Cli("--cooling")] = Field(
        [], description="Allowed GPU cooling, e.g. blower."
    )
    circuit: Annotated[str | None, Cli("--circuit")] = Field(
        None, description="Wall circuit VOLTSxAMPS (default 120x15)."
    )
    allow: Annotated[TextList, Cli("--allow")] = Field(
        [], description="Warning rule the plan may trigger."
    )
    alternatives: Annotated[int, Cli("--alternatives", "-k")] = Field(
        0, ge=0, description="Next-best distinct builds."
    )
    distinct: Annotated[str, Cli("--distinct")] = Field(
        "gpu", description="Alternatives differ in their GPU (gpu) or in any part (build)."
    )
    frontier: Annotated[bool, Cli("--frontier")] = Field(
        False, description="Print the Pareto frontier of cost vs throughput."
    )
    explain: Annotated[bool, Cli("--explain/--no-explain")] = Field(
        True, description="Find the binding constraints."
    )
    fill: Annotated[bool, Cli("--fill/--no-fill")] = Field(
        True,
        description="Spend the rest of the budget on the whole machine (RAM, NVMe, PSU tier, "
        "cooler, CPU threads); --no-fill: the cheapest parts that pass the rules.",
    )
    power_limits: Annotated[bool, Cli("--power-limits/--no-power-limits")] = Field(
        True,
        description="Let the planner cap GPUs at measured power limits (nvidia-smi -pl) to fit "
        "the PSU or wall circuit; the plan says what the caps cost in throughput.",
    )
    time_limit: Annotated[float, Cli("--time-limit")] = Field(
        10.0, description="Solver time limit per solve (s)."
    )
    part_price: Annotated[dict[str, float], Cli("--part-price", metavar="<name=usd>")] = Field(
        {},
        description="NAME=USD: your price for a part (e.g. a quote for a board the catalog has "
        "no price for). Repeat for several parts.",
    )

    condition: Annotated[str, Cli("--condition")] = Field(
        "new",
        description="Offers the plan may buy: new, used, refurbished, comma-separated "
        "(used prices come from the shipped snapshot and `dlrig prices import`).",
    )
    used: Annotated[bool, Cli("--used")] = Field(
        False, description="Shorthand for --condition new,used."
    )

    @field_validator("condition")
    @classmethod
    def _condition(cls, value: str) -> str:
        from dlrig.catalog.offers import parse_conditions

        return ",".join(sorted(c.value for c in parse_conditions(value)))

    @field_validator("precision")
    @classmethod
    def _precision(cls, value: str | None) -> str | None:
        """One of the precisions the sizing model knows (the planner would find no GPU else)."""
        from dlrig.workload import PRECISIONS

        if value is not None and value not in PRECISIONS:
            raise InputError(f"unknown precision '{value}'", "choose " + ", ".join(PRECISIONS))
        return value

    @field_validator("circuit", mode="before")
    @classmethod
    def _circuit(cls, value: Any) -> Any:
        """VOLTSxAMPS text, checked here so every front door names the field; a number (a JSON
        21, or YAML's reading of 0x15) is said as such, not as "must be text"."""
        from dlrig.build import Site

        if isinstance(value, int | float) and not isinstance(value, bool):
            raise InputError(
                f"circuit: the number {value:g} is not VOLTSxAMPS",
                'write the circuit as text, volts x amps: "120x15" or "230x16"',
                field="circuit",
            )
        if isinstance(value, str):
            try:
                Site.parse(value)
            except InputError as e:
                raise InputError(e.message, e.hint, field="circuit") from None
        return value

    @field_validator("part_price", mode="before")
    @classmethod
    def _quotes(cls, value: Any) -> Any:
        """NAME=USD texts (repeated options, or one per line in a form) as {name: dollars}."""
        from dlrig.units import parse_usd

        if isinstance(value, str):
            value = [line for line in value.splitlines() if line.strip()]
        if not isinstance(value, list | tuple):
            return value
        quotes: dict[str, float] = {}
        for item in value:
            name, sep, usd = str(item).rpartition("=")
            if not sep or not name.strip():
                raise InputError(
                    f"part_price: '{item}' is not NAME=USD",
                    "write e.g. RTX A6000=4650",
                    field="part_price",
                )
            quotes[name.strip()] = parse_usd(usd)
        return quotes


def planner_available() -> bool:
    """Whether this install has the planner (``dlrig.optimize``, ortools)."""
    import importlib.util

    # dlrig.optimize imports without OR-Tools (it loads it lazily), so ask for OR-Tools itself:
    # without it the Plan page and its links would only answer "install dlrig[plan]"
    if importlib.util.find_spec("ortools") is None:
        return False
    try:
        from dlrig import optimize
    except ImportError:
        return False
    return callable(getattr(optimize, "plan", None))


def priced_catalog(catalog: Catalog, condition: str) -> Catalog:
    """``catalog`` priced at the offers a buyer of ``condition`` would take today: the shipped
    snapshot plus the user's price book (``dlrig prices import``)."""
    from dlrig.catalog.offers import priced_catalog as priced

    return priced(catalog, condition)


def run(req: PlanRequest, catalog: Catalog, read_files: bool = True) -> PlanResult:
    """Plan on ``catalog``: the best build, alternatives, frontier and explanations asked for."""
    from dlrig.build import Site
    from dlrig.optimize import plan

    ref = workload_ref(req.workload, read_files)
    condition = req.condition + (",used" if req.used else "")
    original, catalog = catalog, priced_catalog(catalog, condition)
    result = plan(
        req.budget_usd,
        str(ref) if isinstance(ref, Path) else ref,  # a file: the build file names it
        objective=req.objective,
        task=req.task,
        precision=req.precision,
        gpus=req.gpus,
        upgrade_to=req.upgrade_to,
        min_vram_gib=req.min_vram_gib,
        min_tflops=req.min_tflops,
        max_hours=req.max_hours,
        include=req.include,
        exclude=req.exclude,
        cooling=req.cooling or None,
        site=Site.parse(req.circuit),
        allow=req.allow,
        alternatives=req.alternatives,
        distinct=req.distinct,
        frontier=req.frontier,
        explain=req.explain,
        fill=req.fill,
        power_limits=req.power_limits,
        catalog=catalog,
        part_prices=req.part_price,
        time_limit_s=req.time_limit,
    )
    _keep_bought_prices(result, original)
    result.notes[:0] = _word_matches(req, original)
    if result.best is None and result.infeasible is not None and "new" not in condition:
        # `--condition used` meant "used GPUs too" more often than "nothing new": say so first
        result.infeasible.reasons.insert(
            0,
            # the request's field names: this JSON is the same from the CLI, the web and Python
            f"condition {req.condition}: only parts with a {req.condition} offer can be bought "
            "(few CPUs, boards, drives or cases have one); allow new parts too with condition "
            f"new,{req.condition}",
        )
    return result


def _word_matches(req: PlanRequest, catalog: Catalog) -> list[str]:
    """The part names of --include, --exclude and --part-price that matched word by word, not
    exactly: the user confirms them, as in check and import-list (a quote for the wrong card
    would be silent otherwise)."""
    from dlrig.errors import DlrigError

    notes = []
    for option, names in (  # named as the request fields: the notes are the same everywhere
        ("include", req.include),
        ("exclude", req.exclude),
        ("part_price", list(req.part_price)),
    ):
        for name in names:
            try:
                found = catalog.match(name)
            except DlrigError:  # a brand, or refused: the planner says so itself
                continue
            if found.note is not None:
                notes.append(f"{option}: {found.note}")
    return notes


def _keep_bought_prices(result: PlanResult, original: Catalog) -> None:
    """A part the plan bought at a price of its own carries it on its build-file line: `plan -o`
    wrote the bare name, and `check`/`cost` of the file then read the catalog's price (a $750
    used RTX 3090 became $1,550 again). A used or refurbished offer is recorded as the line's
    ``condition`` (the file re-checks at that condition's offer, with its date and source); a
    --part-price quote or a newer new offer from the price book as the line's ``price_usd``."""
    from dataclasses import replace

    from dlrig.catalog.offers import Condition, price_condition
    from dlrig.errors import PartNotFoundError

    builds = [result.best, *result.alternatives, *result.frontier]
    if result.infeasible is not None:
        builds.append(result.infeasible.cheapest)
    for pb in builds:
        if pb is None:
            continue
        items = {}
        for cat, its in pb.build.items.items():
            new = []
            for it in its:
                try:
                    listed = original.get(it.part.id).price_usd
                except PartNotFoundError:
                    listed = None
                own = it.part.price_usd
                condition = price_condition(it.part)
                if condition is not Condition.NEW and it.condition is None:
                    it = replace(it, condition=condition.value)
                elif it.price_usd is None and own is not None and own != listed:
                    it = replace(it, price_usd=own)
                new.append(it)
            items[cat] = tuple(new)
        pb.build = pb.build.replace(items=items)


COMMAND = Command(
    "plan", PlanRequest, run, "The provably optimal compatible build for a budget and workload."
)
