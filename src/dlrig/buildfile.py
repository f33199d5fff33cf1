"""Build files: read (YAML or JSON) into a :class:`~dlrig.build.Build`, and write them back.

Format (``examples/warmachine.yaml``)::

    name: Warmachine
    description: optional free text
    parts:
      cpu: Intel Core i9-10920X                      # catalog id or name
      gpu: {part: ASUS Turbo GeForce RTX 2080 Ti, count: 4}
      storage: [Samsung 970 EVO 1TB, Seagate Exos 8TB]
      cooler: null                                  # left out on purpose (rules say unchecked)
      memory: {custom: {name: My kit, type: DDR4, speed_mts: 3200, modules: 4, module_gb: 32}}
      ...
    site: {mains_voltage_v: 120, circuit_amps: 15}   # optional; these are the defaults
    # or several circuits: site: {circuits: [{mains_voltage_v: 120, circuit_amps: 20}, ...]}
    # a circuit may also be written as --circuit takes it: site: 230x16, circuits: [120x15, 120x20]
    workload: workloads/llama.yaml                  # optional; kept raw for `dlrig size`
    cost: {extras_usd: 150}                         # optional; kept raw for `dlrig cost`

A part entry is a name/id string, ``{part: NAME, count: N, price_usd: P}``,
``{part: NAME, with: {field: value}}`` (a catalog part with some facts replaced) or
``{custom: {...}, count: N, price_usd: P}``; memory, gpu, storage and psu also take a list of
entries. GPU entries may add ``power_limit_w`` (per card, ``nvidia-smi -pl``), ``psu`` (which
PSU of the list feeds them, 1-based; PSU 1 also feeds the board), ``slot`` (the board slot, or a
list of slots, one per card) and ``riser`` (``{length_mm: 200, pcie_gen: 4}``); PSU entries may
add ``circuit`` (1-based, into ``site.circuits``). Any entry may say ``condition: used`` (or
``refurbished``): the part is priced at that condition's offer, as ``dlrig plan --used`` bought
it (without a known offer of that condition, the line's ``price_usd``, else no price). A name
with a colon or a comma must be quoted. Every category must appear (``null`` leaves one out
deliberately). Any error names the file and line and says how to fix it
(:class:`~dlrig.errors.BuildFileError`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import ValidationError

from dlrig.build import MAX_COUNT, MULTI_CATEGORIES, Build, BuildItem, Site
from dlrig.errors import BuildFileError, InputError, PartNotFoundError, validation_problem
from dlrig.parts import PART_MODELS, Category, Gpu, Part, Riser, category_key
from dlrig.textfile import TextError, parse_yaml, read_text, short

if TYPE_CHECKING:
    from dlrig.catalog import Catalog
    from dlrig.catalog.offers import Condition
    from dlrig.workload import Workload

__all__ = [
    "build_to_dict",
    "dump_build",
    "load_build",
    "load_build_text",
    "parse_build",
    "read_build_data",
    "write_build",
]

TOP_KEYS = ("name", "description", "parts", "site", "workload", "cost")
ITEM_KEYS = (
    "part",
    "custom",
    "with",
    "count",
    "price_usd",
    "power_limit_w",
    "psu",
    "slot",
    "riser",
    "circuit",
    "condition",
)
GPU_ONLY_KEYS = ("power_limit_w", "psu", "slot", "riser")
SITE_KEYS = ("mains_voltage_v", "circuit_amps", "circuits")
CIRCUIT_KEYS = ("mains_voltage_v", "circuit_amps")
QUOTE_HINT = (
    "a part name that contains a colon or a comma must be quoted, e.g. "
    'cpu: "AMD EPYC 7003: 64 cores"'
)
# Values in one build file after alias expansion: a 64-GPU build with custom parts has a few
# hundred; anything near this limit is not a build file.
MAX_BUILD_VALUES = 20_000

Path_ = tuple[str | int, ...]


# --- reading ---------------------------------------------------------------------------------
def load_build(path: str | Path, catalog: Catalog | None = None) -> Build:
    """Read and validate the build file at ``path`` (BuildFileError on any problem)."""
    data, lines = read_build_data(path)
    if catalog is None:
        from dlrig.catalog import open_catalog

        catalog = open_catalog()
    default_name = Path(path).stem
    return parse_build(data, catalog, source=str(path), lines=lines, default_name=default_name)


def load_build_text(
    text: str, catalog: Catalog | None = None, source: str = "<text>", *, read_files: bool = True
) -> Build:
    """Read and validate the text of a build file (YAML or JSON); ``source`` names it in error
    messages ("<text>:5: ..."). With ``read_files=False`` (text from a web request) the build's
    ``workload:`` may be inline fields or a model preset name, never a file to open."""
    data, lines = parse_text(text, source)
    if catalog is None:
        from dlrig.catalog import open_catalog

        catalog = open_catalog()
    return parse_build(data, catalog, source, lines=lines, read_files=read_files)


def read_build_data(path: str | Path) -> tuple[dict[str, Any], dict[Path_, int]]:
    """The raw mapping in a build file plus the 1-based line of every key/value in it."""
    text = read_text(
        path,
        "build file (YAML or JSON)",
        lambda message, hint: BuildFileError(message, hint, str(path)),
        "check the path (build files are YAML or JSON)",
    )
    return parse_text(text, str(path))


def parse_text(text: str, source: str = "<inline>") -> tuple[dict[str, Any], dict[Path_, int]]:
    """YAML/JSON text → (mapping, lines), through the safe loader (:mod:`dlrig.textfile`)."""
    try:
        doc = parse_yaml(text, max_nodes=MAX_BUILD_VALUES)
    except TextError as exc:
        if source.lower().endswith(".json") and exc.message.startswith("invalid YAML"):
            _raise_json_error(text, source)
        hint = exc.hint
        if "mapping values" in exc.message or "expected ',' or '}'" in exc.message:
            hint = "fix the syntax: " + QUOTE_HINT
        raise BuildFileError(exc.message, hint, source, exc.line) from None
    node, data = doc.node, doc.data
    if node is None:
        raise BuildFileError("the file is empty", "start from examples/warmachine.yaml", source)
    lines: dict[Path_, int] = {}
    _collect_lines(node, (), lines, source)
    if not isinstance(data, dict):
        raise BuildFileError(
            f"expected a mapping with 'name' and 'parts', found {_type_name(data)}",
            "start from examples/warmachine.yaml",
            source,
            lines.get((), 1),
        )
    return data, lines


def _raise_json_error(text: str, source: str) -> None:
    """A .json build file that YAML cannot read: report it in JSON's terms, at its line."""
    import json

    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise BuildFileError(
            f"invalid JSON: {exc.msg} (column {exc.colno})",
            "fix the syntax (check commas, quotes and brackets)",
            source,
            exc.lineno,
        ) from None


def _collect_lines(node: yaml.Node, path: Path_, lines: dict[Path_, int], source: str) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                raise BuildFileError(
                    f"duplicate key '{key}'",
                    "each key may appear once; merge or delete the repeated entry",
                    source,
                    key_node.start_mark.line + 1,
                )
            seen.add(key)
            _collect_lines(value_node, (*path, key), lines, source)
            lines[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, child in enumerate(node.value):
            _collect_lines(child, (*path, i), lines, source)


class _Ctx:
    """Error reporting while parsing: file name and a path → line map."""

    def __init__(self, source: str, lines: Mapping[Path_, int] | None) -> None:
        self.source = source
        self.lines = lines or {}
        self.fuzzy: list[str] = []  # names resolved by similarity, for the user to confirm

    def line(self, path: Path_) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())

    def error(self, path: Path_, message: str, hint: str) -> BuildFileError:
        where = _where(path)
        msg = f"{where}: {message}" if where else message
        return BuildFileError(msg, hint, self.source, self.line(path))


def parse_build(
    data: Mapping[str, Any],
    catalog: Catalog,
    source: str = "<inline>",
    *,
    lines: Mapping[Path_, int] | None = None,
    default_name: str = "build",
    read_files: bool = True,
) -> Build:
    """Validate a build-file mapping and resolve its parts in ``catalog``; ``read_files=False``
    refuses a workload file path (see :func:`load_build_text`)."""
    ctx = _Ctx(source, lines)
    if not isinstance(data, Mapping):
        raise ctx.error((), f"expected a mapping, found {_type_name(data)}", "see docs/check.md")
    _check_keys(ctx, (), data, TOP_KEYS)
    name = data.get("name", default_name)
    if not isinstance(name, str) or not name.strip():
        raise ctx.error(("name",), "must be a non-empty string", "write e.g. name: My rig")
    description = data.get("description")
    if description is not None and not isinstance(description, str):
        raise ctx.error(("description",), "must be a string", "write free text or remove it")
    if "parts" not in data:
        raise ctx.error(
            (), "missing 'parts'", "add a parts: mapping (see examples/warmachine.yaml)"
        )
    parts = data["parts"]
    if not isinstance(parts, Mapping):
        raise ctx.error(
            ("parts",),
            f"must be a mapping of category to part, found {_type_name(parts)}",
            "write e.g. parts: {cpu: Intel Core i9-10920X, ...}",
        )
    site = _parse_site(ctx, data.get("site"))
    items: dict[Category, list[BuildItem]] = {}
    raw_keys: dict[Category, str] = {}
    for key, value in parts.items():
        cat = _category(ctx, key)
        if cat in items:
            raise ctx.error(
                ("parts", key),
                f"category {cat.value} appears twice (as '{raw_keys[cat]}' and '{key}')",
                "list it once",
            )
        raw_keys[cat] = str(key)
        items[cat] = _parse_entries(ctx, ("parts", key), cat, value, catalog)
    missing = [c.value for c in Category if c not in items]
    if missing:
        raise ctx.error(
            ("parts",),
            "missing " + ", ".join(missing),
            f"add {missing[0]}: <catalog name or id> under parts (or {missing[0]}: null to "
            "leave it out on purpose; the rules that need it report unchecked)",
        )
    workload = data.get("workload")
    if workload is not None and not isinstance(workload, str | Mapping):
        raise ctx.error(("workload",), "must be a file path or a mapping", "see docs/check.md")
    spec = None
    if isinstance(workload, str) and not read_files:
        spec = _preset_workload(ctx, workload)
    cost = data.get("cost")
    if cost is not None and not isinstance(cost, Mapping):
        raise ctx.error(("cost",), "must be a mapping", "write e.g. cost: {extras_usd: 150}")
    build = Build(
        name.strip(),
        items,
        site=site,
        workload=workload,
        cost=cost,
        description=description,
        source=source,
        catalog=catalog,
        resolved_fuzzy=ctx.fuzzy,
        workload_spec=spec,
    )
    _check_indices(ctx, build, raw_keys)
    if workload is not None:
        # Fail early, at the build file's line, on a workload the sizing module would reject.
        # The build keeps what it parsed, so the workload-fits rule does not parse it again.
        from dlrig.errors import WorkloadError

        try:
            build.workload_spec  # noqa: B018
        except WorkloadError as exc:
            raise ctx.error(("workload",), exc.message, exc.hint) from None
    return build


def _check_indices(ctx: _Ctx, build: Build, raw_keys: Mapping[Category, str]) -> None:
    """GPU lines' psu: and PSU lines' circuit: must name a PSU / circuit the build has."""
    n_psu, n_circ = len(build.psus), len(build.site.circuits)
    _check_index(
        ctx, build, raw_keys, Category.GPU, "psu", max(n_psu, 1),
        f"the build lists {n_psu} PSU(s)",
        "list the PSUs under psu: [...] (PSU 1 feeds the board), or fix the number",
    )  # fmt: skip
    _check_index(
        ctx, build, raw_keys, Category.PSU, "circuit", n_circ,
        f"site lists {n_circ} circuit(s)",
        "list them under site: {circuits: [{mains_voltage_v: 120, circuit_amps: 15}, ...]}",
    )  # fmt: skip


def _check_index(
    ctx: _Ctx,
    build: Build,
    raw_keys: Mapping[Category, str],
    cat: Category,
    field: str,
    limit: int,
    have: str,
    hint: str,
) -> None:
    """Each ``cat`` line's ``field`` (1-based) is at most ``limit``; else an error at its line."""
    items = build.items[cat]
    for i, it in enumerate(items):
        value = getattr(it, field)
        if value is not None and value > limit:
            where: Path_ = ("parts", raw_keys[cat], *((i,) if len(items) > 1 else ()), field)
            raise ctx.error(where, f"{field}: {value} but {have}", hint)


def _preset_workload(ctx: _Ctx, name: str) -> Workload:
    """A build's ``workload: NAME`` read as a model preset, never as a file to open."""
    from dlrig.errors import WorkloadError
    from dlrig.workload import load_workload

    looks_like_path = any(c in name for c in "/\\") or name.lower().endswith(
        (".yaml", ".yml", ".json")
    )
    if looks_like_path:
        raise ctx.error(
            ("workload",),
            f"'{short(name, 60)}' is a file path; a build sent to the web app cannot name a file",
            "write the workload's fields under workload: (e.g. workload: {model: llama-3.1-8b, "
            "task: lora}), or a model preset name",
        )
    try:
        return load_workload({"model": name})
    except WorkloadError as exc:
        raise ctx.error(("workload",), exc.message, exc.hint) from None


def _category(ctx: _Ctx, key: Any) -> Category:
    text = category_key(str(key))
    try:
        return Category(text)
    except ValueError:
        pass
    from rapidfuzz import process

    names = [c.value for c in Category]
    best = process.extractOne(text, names, score_cutoff=60)
    hint = f"did you mean '{best[0]}'? " if best else ""
    raise ctx.error(
        ("parts", key),
        f"unknown category '{key}'",
        hint + "categories are: " + ", ".join(names),
    )


def _parse_entries(
    ctx: _Ctx, path: Path_, cat: Category, value: Any, catalog: Catalog
) -> list[BuildItem]:
    if value is None:
        return []
    if isinstance(value, list):
        if cat not in MULTI_CATEGORIES:
            raise ctx.error(
                path,
                f"a build takes one {cat.value}, found a list of {len(value)}",
                "keep one; only memory, gpu, storage and psu may be lists",
            )
        if not value:
            raise ctx.error(path, "empty list", f"list at least one {cat.value}, or write null")
        items = [_parse_entry(ctx, (*path, i), cat, v, catalog) for i, v in enumerate(value)]
        total = sum(it.count for it in items)
        if total > MAX_COUNT:
            raise ctx.error(
                path,
                f"{total:,} {cat.value} units in all, more than one machine holds "
                f"(at most {MAX_COUNT})",
                "check the counts",
            )
        return items
    return [_parse_entry(ctx, path, cat, value, catalog)]


def _parse_entry(ctx: _Ctx, path: Path_, cat: Category, value: Any, catalog: Catalog) -> BuildItem:
    count: Any = 1
    price: Any = None
    extra: dict[str, Any] = {}
    if isinstance(value, str):
        part = _resolve(ctx, path, cat, value, catalog)
    elif isinstance(value, Mapping):
        _check_keys(ctx, path, value, ITEM_KEYS, quote_hint=True)
        if ("part" in value) == ("custom" in value):
            raise ctx.error(
                path,
                "give either 'part' (a catalog name) or 'custom' (an inline part)",
                "write {part: NAME, count: N} or {custom: {name: ..., <fields>}}",
            )
        if "part" in value:
            name = value["part"]
            if not isinstance(name, str):
                raise ctx.error((*path, "part"), "must be a part name or id", "quote the name")
            part = _resolve(ctx, (*path, "part"), cat, name, catalog)
            if "with" in value:
                extra["base"] = part
                part = _override(ctx, (*path, "with"), cat, part, value["with"])
                extra["overrides"] = tuple(dict(value["with"]).items())
        else:
            if "with" in value:
                raise ctx.error(
                    (*path, "with"),
                    "'with' changes a catalog part; a custom part already lists its fields",
                    "move the fields into custom: {...}, or use {part: NAME, with: {...}}",
                )
            part = _custom(ctx, (*path, "custom"), cat, value["custom"])
        count = value.get("count", 1)
        price = value.get("price_usd")
        extra.update(_item_extras(ctx, path, cat, value))
    else:
        raise ctx.error(
            path,
            f"expected a part name or a mapping, found {_type_name(value)}",
            "write the part's name, e.g. gpu: NVIDIA GeForce RTX 4090 Founders Edition",
        )
    if isinstance(count, bool) or not isinstance(count, int):
        raise ctx.error(
            (*path, "count"),
            f"count must be a whole number, found {count!r}",
            "write e.g. count: 2",
        )
    if count < 1:
        raise ctx.error(
            (*path, "count"),
            f"count must be at least 1, found {count}",
            "remove the entry (or write null) instead of a zero or negative count",
        )
    if count > MAX_COUNT:
        raise ctx.error(
            (*path, "count"),
            f"count {count:,} is more than one machine holds (at most {MAX_COUNT})",
            "check the number, e.g. count: 4",
        )
    if count != 1 and cat not in MULTI_CATEGORIES:
        raise ctx.error(
            (*path, "count"),
            f"a build takes exactly one {cat.value}, found count {count}",
            "remove count; only memory, gpu, storage and psu may repeat",
        )
    if price is not None and (
        isinstance(price, bool) or not isinstance(price, int | float) or price <= 0
    ):
        raise ctx.error(
            (*path, "price_usd"),
            f"price_usd must be a positive number, found {price!r}",
            "write the per-unit price in US dollars, e.g. price_usd: 999",
        )
    slots = extra.get("slots", ())
    if len(slots) > count:
        raise ctx.error(
            (*path, "slot"),
            f"{len(slots)} slots for {count} card(s)",
            "give one slot per card (a list as long as count), or fewer",
        )
    if "power_limit_w" in extra:
        _check_power_limit(ctx, (*path, "power_limit_w"), part, extra["power_limit_w"])
    if isinstance(value, Mapping) and "condition" in value:
        condition = _condition(ctx, (*path, "condition"), value["condition"])
        if condition is not None:
            extra["condition"] = condition.value
            base = extra.get("base")
            if base is not None and "name" not in dict(extra["overrides"]):
                # {part: X, with: {...}}: still X bought used, so X's used offer prices it
                offer = _priced_as(base, condition, catalog)
                part = part.model_copy(update={k: getattr(offer, k) for k in _PRICE_FIELDS})
            elif not part.custom:
                part = _priced_as(part, condition, catalog)
            # a renamed or custom part is a product with no offers: the line's price_usd is its
            # used price, and the check table says "your used price" / "used, no price"
    return BuildItem(part, count, None if price is None else float(price), **extra)


_PRICE_FIELDS = ("price_usd", "price_date", "price_source")


def _condition(ctx: _Ctx, path: Path_, value: Any) -> Condition | None:
    """A line's ``condition:`` (None for new, the default)."""
    from dlrig.catalog.offers import Condition

    try:
        condition = Condition(value.strip().lower()) if isinstance(value, str) else None
    except ValueError:
        condition = None
    if condition is None:
        raise ctx.error(
            path,
            f"condition must be new, used or refurbished, found {short(repr(value))}",
            "write e.g. condition: used",
        )
    return None if condition is Condition.NEW else condition


def _priced_as(part: Part, condition: Condition, catalog: Catalog) -> Part:
    """``part`` priced at its ``condition`` offer, else at the line's own ``price_usd``; with
    neither its price is unknown (never the new price: a used part is not bought at it), which
    check and cost report like any unpriced part, so the build is still checked."""
    from dlrig.catalog.offers import priced_as

    found = priced_as(catalog, part, condition)
    if found is not None:
        return found
    return part.model_copy(update={"price_usd": None, "price_date": None, "price_source": None})


def _item_extras(ctx: _Ctx, path: Path_, cat: Category, value: Mapping[str, Any]) -> dict[str, Any]:
    """power_limit_w / psu / slot / riser (GPU lines) and circuit (PSU lines) of an entry."""
    out: dict[str, Any] = {}
    for key in GPU_ONLY_KEYS:
        if key in value and cat is not Category.GPU:
            raise ctx.error(
                (*path, key), f"'{key}' applies to GPU entries only", f"remove {key}: here"
            )
    if "circuit" in value and cat is not Category.PSU:
        raise ctx.error(
            (*path, "circuit"),
            "'circuit' applies to PSU entries only",
            "give each PSU its circuit: {part: ..., circuit: 2}",
        )
    if "power_limit_w" in value:
        out["power_limit_w"] = _positive_number(ctx, (*path, "power_limit_w"), value)
    for key in ("psu", "circuit"):
        if key in value:
            v = value[key]
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ctx.error(
                    (*path, key),
                    f"{key} must be a whole number from 1 (the first {key}), found {v!r}",
                    f"write e.g. {key}: 2",
                )
            out[key] = v
    if "slot" in value:
        raw = value["slot"]
        slots = [raw] if isinstance(raw, str | int) and not isinstance(raw, bool) else raw
        if not isinstance(slots, list) or not all(
            isinstance(x, str | int) and not isinstance(x, bool) and str(x).strip() for x in slots
        ):
            raise ctx.error(
                (*path, "slot"),
                "slot must be a slot name (or position) or a list of them, one per card",
                "write e.g. slot: PCIEX16_3 or slot: [PCIEX16_1, PCIEX16_3]",
            )
        out["slots"] = tuple(str(x).strip() for x in slots)
    if "riser" in value:
        out["riser"] = _riser(ctx, (*path, "riser"), value["riser"])
    return out


def _positive_number(ctx: _Ctx, path: Path_, value: Mapping[str, Any]) -> float:
    v = value[str(path[-1])]
    if isinstance(v, bool) or not isinstance(v, int | float) or not v > 0 or v != v:
        raise ctx.error(
            path,
            f"{path[-1]} must be a positive number of watts, found {v!r}",
            "write e.g. power_limit_w: 300 (what nvidia-smi -pl sets per card)",
        )
    return float(v)


def _check_power_limit(ctx: _Ctx, path: Path_, part: Part, limit_w: float) -> None:
    """A power limit outside the range the card's driver accepts is bad input."""
    from dlrig.gpu_power import card_limits_w

    if not isinstance(part, Gpu):
        return
    lo, hi = card_limits_w(part)
    if lo is not None and limit_w < lo:
        raise ctx.error(
            path,
            f"{limit_w:g} W is below the {lo:g} W minimum power limit of {part.name}",
            f"the driver accepts {lo:g} W or more (nvidia-smi -q -d POWER shows the range; on "
            "AMD, the amdgpu hwmon power1_cap_min/max); "
            f"write power_limit_w: {lo:g} or higher",
        )
    if hi is not None and limit_w > hi:
        raise ctx.error(
            path,
            f"{limit_w:g} W is above the {hi:g} W maximum power limit of {part.name}",
            f"write power_limit_w: {hi:g} or lower",
        )
    if limit_w > 2 * part.tdp_w:
        raise ctx.error(
            path,
            f"{limit_w:g} W is more than twice the {part.tdp_w} W board power of {part.name}",
            "power_limit_w is per card, in watts (e.g. 300)",
        )


def _riser(ctx: _Ctx, path: Path_, value: Any) -> Riser:
    if not isinstance(value, Mapping):
        raise ctx.error(
            path,
            "riser must be a mapping of its facts",
            "write e.g. riser: {length_mm: 200, pcie_gen: 4} (name and source optional)",
        )
    fields = dict(value)
    fields.setdefault(
        "name",
        " ".join(
            x
            for x in (
                f"{fields['length_mm']} mm" if "length_mm" in fields else "",
                f"PCIe {fields['pcie_gen']}.0" if "pcie_gen" in fields else "",
                "M.2 adapter" if fields.get("kind") == "m2-adapter" else "riser",
            )
            if x
        ),
    )
    try:
        return Riser.model_validate(fields)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(x) for x in err["loc"])
        raise ctx.error(
            path,
            f"riser: {field}: {validation_problem(err)}",
            "write e.g. riser: {length_mm: 200, pcie_gen: 4}; riser fields: "
            + ", ".join(Riser.model_fields),
        ) from None


def _override(ctx: _Ctx, path: Path_, cat: Category, part: Part, value: Any) -> Part:
    """The catalog part with some facts replaced ({part: ID, with: {field: value}})."""
    import hashlib
    import json

    model = PART_MODELS[cat]
    if not isinstance(value, Mapping) or not value:
        raise ctx.error(
            path,
            "'with' must be a mapping of the facts to replace",
            f"write e.g. with: {{{_example_field(cat)}}}",
        )
    fixed = ("id", "custom", "origin", "category")
    bad = [k for k in value if k in fixed]
    if bad:
        raise ctx.error((*path, bad[0]), f"'{bad[0]}' cannot be overridden", "remove it")
    unknown = [k for k in value if k not in model.model_fields]
    if unknown:
        from rapidfuzz import process

        best = process.extractOne(str(unknown[0]), list(model.model_fields), score_cutoff=60)
        hint = f"did you mean '{best[0]}'? " if best else ""
        raise ctx.error(
            (*path, unknown[0]),
            f"{cat.value} has no field '{unknown[0]}'",
            hint + f"fields of a {cat.value}: " + ", ".join(_user_fields(model)),
        )
    digest = hashlib.sha1(
        json.dumps(dict(value), sort_keys=True, default=str).encode()
    ).hexdigest()[:6]
    fields = part.model_dump()
    if "name" in value:
        # a renamed part is another product: the base part's price and shop names do not apply
        for key in (*_PRICE_FIELDS, "aliases"):
            fields.pop(key, None)
    fields.update(value)
    fields["id"] = f"{part.id}+{digest}"[:120]
    changes = ", ".join(f"{k}={v}" for k, v in value.items())
    if "name" not in value:
        fields["name"] = f"{part.name} (with {changes})"
    fields["custom"] = True
    fields["origin"] = "user"
    note = f"catalog part {part.id} with {changes}"
    fields["notes"] = f"{note}; {part.notes}" if part.notes else note
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(x) for x in err["loc"])
        key = str(err["loc"][0]) if err["loc"] else ""
        current = getattr(part, key, None) if key else None
        example = (
            f"write e.g. {key}: {_yaml_value(current)} (the catalog's value)"
            if current is not None and key != "name"
            else f"fix the value; fields of a {cat.value}: " + ", ".join(_user_fields(model))
        )
        raise ctx.error(
            (*path, key) if key in value else path,
            f"with: {field}: {validation_problem(err)}",
            example,
        ) from None


def _yaml_value(value: Any) -> str:
    """``value`` as it is written in a build file (true, 256, [a, b])."""
    return (
        yaml.safe_dump(value, default_flow_style=True, width=10**6)
        .strip()
        .removesuffix("...")
        .strip()
    )


def _user_fields(model: Any) -> list[str]:
    return [f for f in model.model_fields if f not in ("id", "custom", "origin", "aliases")]


def _example_field(cat: Category) -> str:
    return {
        Category.GPU: "length_mm: 285",
        Category.PSU: "pcie_8pin: 8",
        Category.CASE: "max_gpu_length_mm: 330",
        Category.MOTHERBOARD: "sata_ports: 8",
    }.get(cat, "notes: ...")


def _resolve(ctx: _Ctx, path: Path_, cat: Category, text: str, catalog: Catalog) -> Part:
    if not text.strip():
        raise ctx.error(path, "empty part name", "write the part's catalog name or id")
    try:
        found = catalog.match(text, cat)
    except PartNotFoundError as exc:
        raise ctx.error(path, exc.message, _list_hint(catalog, cat, text) or exc.hint) from None
    if found.note is not None:  # matched word by word: the user confirms it
        line = ctx.line(path)
        where = f"line {line}: " if line is not None else ""
        ctx.fuzzy.append(where + found.note)
    return found.part


def _list_hint(catalog: Catalog, cat: Category, text: str) -> str | None:
    """For "A, B" where each of A and B is a part: the list it was meant to be (a comma reads
    as part of one name in YAML, and "did you mean A or B" did not say why)."""
    pieces = [p.strip() for p in text.split(",")]
    if len(pieces) < 2 or not all(pieces):
        return None
    for piece in pieces:
        try:
            catalog.match(piece, cat)
        except PartNotFoundError:
            return None
    if cat in MULTI_CATEGORIES:
        return f"for several parts write a list: {cat.value}: [{', '.join(pieces)}]"
    return f"a build takes one {cat.value}: name one of {' or '.join(pieces)}"


def _custom(ctx: _Ctx, path: Path_, cat: Category, value: Any) -> Part:
    model = PART_MODELS[cat]
    if not isinstance(value, Mapping):
        raise ctx.error(
            path,
            "custom must be a mapping of the part's fields",
            "write {custom: {name: ..., <fields>}}",
        )
    if not isinstance(value.get("name"), str) or not value["name"].strip():
        raise ctx.error(path, "a custom part needs a name", "add name: ... to the custom part")
    fields = dict(value)
    fields.setdefault("id", "custom-" + _slug(fields["name"]))
    fields.setdefault("brand", fields["name"].split()[0])
    fields.setdefault("source", "user")
    fields["custom"] = True
    fields.setdefault("origin", "user")
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        # A wrong value the user wrote is more useful to report than a field left out.
        errs = sorted(exc.errors(), key=lambda e: e["type"] == "missing")
        err = errs[0]
        loc = [str(x) for x in err["loc"]]
        field = ".".join(loc)
        key = loc[0] if loc else ""
        allowed = ", ".join(
            f for f in model.model_fields if f not in ("id", "custom", "origin", "aliases")
        )
        sub = (*path, key) if key in value else path
        raise ctx.error(
            sub,
            f"custom {cat.value}: {field}: {validation_problem(err)}",
            f"fields of a {cat.value}: {allowed}",
        ) from None


def _parse_site(ctx: _Ctx, value: Any) -> Site:
    if value is None:
        return Site()
    if isinstance(value, str):  # site: 230x16, the syntax of --circuit
        return Site(*_circuit(ctx, ("site",), value))
    if not isinstance(value, Mapping):
        raise _not_a_circuit(ctx, ("site",), value)
    _check_keys(ctx, ("site",), value, SITE_KEYS)
    if "circuits" in value:
        if "mains_voltage_v" in value or "circuit_amps" in value:
            raise ctx.error(
                ("site", "circuits"),
                "give either circuits: [...] or mains_voltage_v/circuit_amps, not both",
                "list every circuit under circuits:",
            )
        raw = value["circuits"]
        if not isinstance(raw, list) or not raw:
            raise ctx.error(
                ("site", "circuits"),
                "lists no circuit" if isinstance(raw, list) else "must be a list of circuits",
                "write circuits: [{mains_voltage_v: 120, circuit_amps: 20}, ...], or leave "
                "circuits: out for one 120 V / 15 A circuit",
            )
        circuits = [_circuit(ctx, ("site", "circuits", i), c) for i, c in enumerate(raw)]
        (v0, a0), rest = circuits[0], tuple(circuits[1:])
        return Site(v0, a0, rest)
    volts, amps = _circuit(ctx, ("site",), value)
    return Site(volts, amps)


def _circuit(ctx: _Ctx, path: Path_, value: Any) -> tuple[float, float]:
    if isinstance(value, str):  # '120x15' / '230V x 16', as --circuit takes it
        try:
            site = Site.parse(value)
        except InputError as e:
            raise ctx.error(path, e.message, e.hint) from None
        return site.mains_voltage_v, site.circuit_amps
    if not isinstance(value, Mapping):
        raise _not_a_circuit(ctx, path, value)
    if path[-1] != "site":
        _check_keys(ctx, path, value, CIRCUIT_KEYS)
    args: dict[str, float] = {}
    for key in CIRCUIT_KEYS:
        if key in value:
            v = value[key]
            if isinstance(v, bool) or not isinstance(v, int | float) or v <= 0:
                raise ctx.error(
                    (*path, key),
                    f"{key} must be a positive number, found {v!r}",
                    "e.g. mains_voltage_v: 120 (US) or 230 (EU); circuit_amps: 15",
                )
            args[key] = float(v)
    default = Site()
    volts = args.get("mains_voltage_v", default.mains_voltage_v)
    amps = args.get("circuit_amps", default.circuit_amps)
    try:  # the plausibility check VOLTSxAMPS text gets (circuit_amps: 1500 is a typo)
        Site.checked(volts, amps)
    except InputError as e:
        raise ctx.error(path, e.message, e.hint) from None
    return volts, amps


def _not_a_circuit(ctx: _Ctx, path: Path_, value: Any) -> BuildFileError:
    """The error for a circuit that is neither VOLTSxAMPS text nor a mapping. A bare number gets
    its own words: YAML 1.1 reads circuits: [0x15] as the hex number 21 and 120 as 120, and
    "must be VOLTSxAMPS" would not say why the 0x15 the user sees is wrong."""
    how = "write 120x15 (volts x amps), or {mains_voltage_v: 120, circuit_amps: 15}"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return ctx.error(
            path,
            f"YAML read this circuit as the number {value:g} (a bare 0x15 is hexadecimal), "
            "not VOLTSxAMPS",
            f"{how}; quote it if in doubt: '120x15'",
        )
    return ctx.error(path, f"must be VOLTSxAMPS or a mapping, found {_type_name(value)}", how)


def _check_keys(
    ctx: _Ctx,
    path: Path_,
    mapping: Mapping[Any, Any],
    allowed: tuple[str, ...],
    *,
    quote_hint: bool = False,
) -> None:
    for key in mapping:
        if key not in allowed:
            from rapidfuzz import process

            if quote_hint and mapping[key] is None:
                # {part: Foo Bar, 24GB} reads '24GB' as a key: a comma inside the name
                raise ctx.error(
                    (*path, key),
                    f"unknown key '{key}' (is it the end of a part name with a comma?)",
                    QUOTE_HINT,
                )
            best = process.extractOne(str(key), allowed, score_cutoff=60)
            hint = f"did you mean '{best[0]}'? " if best else ""
            raise ctx.error(
                (*path, key),
                f"unknown key '{key}'",
                hint + "allowed keys: " + ", ".join(allowed),
            )


# --- writing ---------------------------------------------------------------------------------
def build_to_dict(build: Build) -> dict[str, Any]:
    """The build as a build-file mapping that :func:`parse_build` reads back to the same parts."""
    parts: dict[str, Any] = {}
    for cat in Category:
        entries = [_entry(build, it) for it in build.items[cat]]
        if not entries:
            parts[cat.value] = None
        elif len(entries) == 1 or cat not in MULTI_CATEGORIES:
            parts[cat.value] = entries[0]
        else:
            parts[cat.value] = entries
    out: dict[str, Any] = {"name": build.name}
    if build.description:
        out["description"] = build.description
    out["parts"] = parts
    site = build.site
    if site.extra_circuits:
        out["site"] = {
            "circuits": [
                {"mains_voltage_v": _num(v), "circuit_amps": _num(a)} for v, a in site.circuits
            ]
        }
    elif not site.is_default:
        out["site"] = {
            "mains_voltage_v": _num(site.mains_voltage_v),
            "circuit_amps": _num(site.circuit_amps),
        }
    if build.workload is not None:
        out["workload"] = build.workload
    if build.cost is not None:
        out["cost"] = dict(build.cost)
    return out


def _entry(build: Build, it: BuildItem) -> Any:
    part = it.part
    if it.base is not None:
        ref: dict[str, Any] = {"part": _ref_name(build, it.base), "with": dict(it.overrides)}
    elif part.custom:
        data = part.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
        for key in ("id", "custom", "origin"):
            data.pop(key, None)
        data["name"] = part.name
        ref = {"custom": data}
    else:
        ref = {"part": _ref_name(build, part)}
    if it.count != 1:
        ref["count"] = it.count
    if it.price_usd is not None:
        ref["price_usd"] = _num(it.price_usd)
    if it.power_limit_w is not None:
        ref["power_limit_w"] = _num(it.power_limit_w)
    if it.psu is not None:
        ref["psu"] = it.psu
    if it.slots:
        ref["slot"] = it.slots[0] if len(it.slots) == 1 else list(it.slots)
    if it.riser is not None:
        ref["riser"] = it.riser.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    if it.circuit is not None:
        ref["circuit"] = it.circuit
    if it.condition is not None:
        ref["condition"] = it.condition
    if list(ref) == ["part"]:
        return ref["part"]
    return ref


def _ref_name(build: Build, part: Part) -> str:
    """The part's name when it resolves back to the same part, else its id (always exact)."""
    if build.catalog is None:
        return part.id
    try:
        same = build.catalog.resolve(part.name, part.category).id == part.id
    except PartNotFoundError:
        same = False
    return part.name if same else part.id


def dump_build(build: Build, comments: Sequence[str] = ()) -> str:
    """The build file text (YAML), after ``comments`` (e.g. names matched word by word, for
    the user to confirm) as ``#`` lines."""
    head = "".join("# " + " ".join(c.split()) + "\n" for c in comments)
    return head + yaml.safe_dump(
        build_to_dict(build),
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=None,
        width=100,
    )


def write_build(
    build: Build, path: str | Path, comments: Sequence[str] = (), text: str | None = None
) -> Path:
    """Write ``build`` as a YAML build file that ``dlrig check`` accepts; returns the path.
    ``text``: the file's text when the caller composed it (``plan -o``: with comments)."""
    p = Path(path)
    if text is None:
        # before touching the file: a failure must not leave it half-written
        text = dump_build(build, comments)
    try:
        if p.exists() and not p.is_file() and not p.is_dir():
            # a device or a pipe (-o /dev/stdout): write into it; renaming a file over it
            # replaced the device itself (as root, `plan -o /dev/full` said "wrote" and made
            # /dev/full a regular file)
            with p.open("w", encoding="utf-8") as stream:
                stream.write(text)
            return p
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(p.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(p)  # atomic on POSIX: the old file stays whole until the new one is complete
    except OSError as exc:
        raise BuildFileError(
            f"cannot write the build file ({exc.strerror or exc})",
            "choose a file in a folder you can write to",
            str(p),
        ) from None
    return p


# --- helpers ---------------------------------------------------------------------------------
def _where(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing"
    return {
        dict: "a mapping",
        list: "a list",
        str: "text",
        bool: "true/false",
        int: "a number",
        float: "a number",
    }.get(type(value), type(value).__name__)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:100] or "part"


def _num(v: float) -> float | int:
    return int(v) if float(v).is_integer() else v
