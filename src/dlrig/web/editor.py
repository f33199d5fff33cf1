"""The build editor: pick parts per category from sortable, filterable lists; the check runs on
every change and its findings sit next to the parts they name.

The editor's whole state is the build file text (the "advanced" YAML view) plus a few fields
(name, circuit, counts) and the part list's view (category, filter, sort). Every action is a
submit button of one form (``op=add:gpu:<id>``, ``remove:gpu:0``, ``inc:gpu:0``, ``apply``...),
so the page works without JavaScript: ``POST /build`` re-renders it. With JavaScript
(``static/editor.js``) the same fields go to ``POST /api/editor`` as JSON and the answer's HTML
fragments replace the build panel (and the part list when its view changed) in place. Both
paths call :func:`edit`, so they cannot disagree; nothing of an unsaved build is stored.

Exports (``POST /build/export?format=...``) return the build as a download; ``check-json`` is
byte for byte what ``dlrig check FILE --json`` prints for the same build.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from dlrig.build import MAX_COUNT, MULTI_CATEGORIES, Build, BuildItem, Site
from dlrig.errors import DlrigError, InputError
from dlrig.parts import Category, Gpu, Part
from dlrig.web.app import error_dict  # the API's one error shape

if TYPE_CHECKING:
    from dlrig.catalog import Catalog
    from dlrig.rules.base import CheckResult

__all__ = ["MAX_BODY_BYTES", "EditResult", "edit", "page_context", "picker_rows", "router"]

# A request body beyond this is refused before it is parsed (an editor state is a few KB).
MAX_BODY_BYTES = 256 * 1024
PICKER_LIMIT = 300  # rows per part list; a filter narrows a big imported catalog
EMPTY_NAME = "My build"

# Part-list columns per category: (key, header, numeric). Values come from :func:`_value`.
COLUMNS: dict[Category, list[tuple[str, str, bool]]] = {
    Category.CPU: [
        ("cores", "cores", True),
        ("threads", "threads", True),
        ("socket", "socket", False),
        ("tdp_w", "TDP W", True),
        ("pcie_lanes", "PCIe lanes", True),
    ],
    Category.MOTHERBOARD: [
        ("socket", "socket", False),
        ("chipset", "chipset", False),
        ("form_factor", "form factor", False),
        ("memory_type", "memory", False),
        ("x16", "x16 slots", True),
    ],
    Category.MEMORY: [
        ("type", "type", False),
        ("speed_mts", "MT/s", True),
        ("capacity_gb", "GB", True),
        ("ecc", "ECC", False),
    ],
    Category.GPU: [
        ("vram_gib", "VRAM GiB", True),
        ("tflops", "FP16 TFLOPS", True),
        ("tdp_w", "W", True),
        ("length_mm", "length mm", True),
        ("slot_width", "slots", True),
        ("cooling", "cooling", False),
    ],
    Category.STORAGE: [
        ("kind", "kind", False),
        ("capacity_gb", "GB", True),
        ("seq_read_mb_s", "read MB/s", True),
        ("form_factor", "form", False),
    ],
    Category.PSU: [
        ("wattage_w", "W", True),
        ("efficiency", "rating", False),
        ("length_mm", "length mm", True),
        ("pcie_8pin", "6+2-pin", True),
        ("pcie_12vhpwr", "12V-2x6", True),
    ],
    Category.COOLER: [
        ("kind", "kind", False),
        ("height_mm", "height mm", True),
        ("radiator_mm", "radiator mm", True),
        ("rated_tdp_w", "rated W", True),
    ],
    Category.CASE: [
        ("form_factor", "type", False),
        ("max_gpu_length_mm", "max GPU mm", True),
        ("expansion_slots", "slots", True),
        ("max_cooler_height_mm", "max cooler mm", True),
    ],
}
_FILTER_OPS = ("<=", ">=", "!=", "=", "<", ">", "~")


# --- the editor's state and its actions -------------------------------------------------------
@dataclass
class EditResult:
    """What one action produced: the build (None when its text does not parse), the text, the
    check, the part list's view, and an error to show."""

    text: str
    build: Build | None = None
    result: CheckResult | None = None
    error: DlrigError | None = None
    category: Category = Category.CPU
    q: str = ""
    sort: str = "price"
    desc: bool = False
    parent: str = ""
    picker_changed: bool = False
    fallback_name: str = ""  # the name and circuit fields as typed, shown when the text is bad
    fallback_circuit: str = ""
    fallback_circuits_more: str = ""
    notes: list[str] = field(default_factory=list)


def empty_build_text(name: str = EMPTY_NAME) -> str:
    """The build file text of an empty build."""
    from dlrig.buildfile import dump_build

    return dump_build(Build(name, {}))


def edit(fields: Mapping[str, str], catalog: Catalog) -> EditResult:
    """Apply one editor action (``fields['op']``) to the state in ``fields``.

    ``apply`` reads the YAML text as typed; every other action reads it, applies the name,
    circuit and count fields, then the action, and writes the build back as canonical YAML.
    """
    from dlrig.buildfile import dump_build, load_build_text
    from dlrig.catalog.offers import priced_catalog

    catalog = priced_catalog(catalog)  # the prices `dlrig check` and `plan` use
    op = fields.get("op", "") or "update"
    text = fields.get("build", "")
    out = EditResult(
        text=text,
        parent=fields.get("parent", ""),
        fallback_name=fields.get("name", ""),
        fallback_circuit=fields.get("circuit", ""),
        fallback_circuits_more=fields.get("circuits_more", ""),
    )
    _view(out, fields, op)
    try:
        _check_size(text)
        build = load_build_text(text, catalog, "<build>")
    except DlrigError as exc:
        out.error = exc  # the text is kept as typed, with the error's line
        return out
    if op != "apply":
        try:
            build = _apply_op(_apply_fields(build, fields).replace(resolved_fuzzy=()), op, catalog)
        except DlrigError as exc:
            # a bad count or power limit: refused, and the build stays on the page as it was
            # (its parts, fields and check), so the user fixes the field where it is
            out.error = exc
    try:
        out.notes = list(build.resolved_fuzzy)
        out.text = dump_build(build)
        out.build = build
        out.result = _check(build, catalog)
    except DlrigError as exc:
        out.error = exc
    return out


def _check_size(text: str) -> None:
    size = len(text.encode("utf-8"))
    if size > MAX_BODY_BYTES:
        raise InputError(
            f"the build is {size:,} bytes; the limit is {MAX_BODY_BYTES:,}",
            "a build file is a few hundred bytes: paste just the build",
        )


def _check(build: Build, catalog: Catalog) -> CheckResult:
    """The check, through the same front door as ``dlrig check`` (the app layer)."""
    from dlrig.app.check import CheckRequest, run

    return run(CheckRequest.parse(build=build), catalog, read_files=False)


def _view(out: EditResult, fields: Mapping[str, str], op: str) -> None:
    """The part list's view: category, filter, sort (changed by show:/sort:/filter ops)."""
    from dlrig.parts import parse_category

    try:
        out.category = parse_category(fields.get("category") or "cpu")
    except DlrigError:
        out.category = Category.CPU
    out.q = fields.get("q", "")[:200]
    out.sort = fields.get("sort") or "price"
    out.desc = fields.get("dir") == "desc"
    kind, _, arg = op.partition(":")
    if kind == "show":
        with contextlib.suppress(DlrigError):
            out.category = parse_category(arg)
        out.q, out.sort, out.desc = "", "price", False
        out.picker_changed = True
    elif kind == "sort":
        out.desc = (not out.desc) if arg == out.sort else False
        out.sort = arg
        out.picker_changed = True
    elif kind == "filter":
        out.picker_changed = True


def _apply_fields(build: Build, fields: Mapping[str, str]) -> Build:
    name = fields.get("name", "").strip()
    if name:
        build = build.replace(name=name[:200])
    circuit = fields.get("circuit", "").strip()
    if circuit:
        # the field is circuit 1: a build's further circuits (a second PSU's outlet) stay, and
        # an unchanged field changes nothing (every action sent it and dropped circuit 2)
        first, site = Site.parse(circuit), build.site
        if (first.mains_voltage_v, first.circuit_amps) != (site.mains_voltage_v, site.circuit_amps):
            volts, amps = first.mains_voltage_v, first.circuit_amps
            build = build.replace(site=replace(site, mains_voltage_v=volts, circuit_amps=amps))
    more = fields.get("circuits_more")
    if more is not None:  # circuits 2, 3...: the field lists them all (empty: none)
        build = _with_more_circuits(build, more)
    items = {c: list(build.items[c]) for c in Category}
    changed = False
    n_psus, n_circuits = len(build.psus), len(build.site.circuits)
    for cat, its in items.items():
        for i, it in enumerate(its):
            # which PSU feeds a GPU line, which circuit a PSU line is on (1 is the default)
            for attr, line, most in (
                ("psu", Category.GPU, n_psus),
                ("circuit", Category.PSU, n_circuits),
            ):
                raw_n = fields.get(f"{attr}-{cat.value}-{i}")
                if raw_n is None or not raw_n.strip() or cat is not line:
                    continue
                n = _choice(raw_n, most, f"{attr} of {it.part.name}")
                if n != (getattr(it, attr) or 1):
                    value = None if n == 1 else n
                    its[i] = it = (
                        replace(it, psu=value) if attr == "psu" else replace(it, circuit=value)
                    )
                    changed = True
            raw_limit = fields.get(f"limit-{cat.value}-{i}")
            if raw_limit is not None and isinstance(it.part, Gpu):
                # the field is the line's power_limit_w: empty means the card's stock limit
                limit = _power_limit(raw_limit, it.part)
                if limit != it.power_limit_w:
                    its[i] = it = replace(it, power_limit_w=limit)
                    changed = True
            raw = fields.get(f"count-{cat.value}-{i}")
            if raw is None or not raw.strip():
                continue
            n = _count(raw, it.part)
            if n != it.count:
                its[i] = _recounted(it, n)
                changed = True
    return build.replace(items=items) if changed else build


MAX_MORE_CIRCUITS = 7  # circuits 2-8: more outlets than any rig in the builds uses


def _with_more_circuits(build: Build, text: str) -> Build:
    """``build`` with circuits 2, 3... as the editor's field lists them ("120x15, 230x16");
    refused where a PSU line is on a circuit the list drops (move the PSU first)."""
    extra: list[tuple[float, float]] = []
    for n, part in enumerate((t.strip() for t in text.split(",") if t.strip()), start=2):
        try:
            site = Site.parse(part)
        except InputError as exc:
            raise InputError(
                f"circuit {n}: {exc.message}", exc.hint, field="circuits_more"
            ) from None
        extra.append((site.mains_voltage_v, site.circuit_amps))
    if len(extra) > MAX_MORE_CIRCUITS:
        raise InputError(
            f"{len(extra) + 1} circuits: the editor takes at most {MAX_MORE_CIRCUITS + 1}",
            "list the circuits the PSUs are plugged into",
            field="circuits_more",
        )
    if tuple(extra) == build.site.extra_circuits:
        return build
    used = [
        (i + 1, it.part.name, (it.circuit or 1))
        for i, it in enumerate(build.items[Category.PSU])
        if (it.circuit or 1) > 1 + len(extra)
    ]
    if used:
        line, name, circuit = used[0]
        raise InputError(
            f"PSU line {line} ({name}) is on circuit {circuit}, which the circuits field no "
            "longer lists",
            f"move that PSU to another circuit first, or keep circuit {circuit} in the field",
            field="circuits_more",
        )
    return build.replace(site=replace(build.site, extra_circuits=tuple(extra)))


def _choice(raw: str, most: int, what: str) -> int:
    """A PSU or circuit number from the editor's select: 1 to ``most``."""
    try:
        n = int(raw.strip())
    except ValueError:
        n = 0
    if not 1 <= n <= most:
        raise InputError(f"{what}: '{raw.strip()}' is not 1 to {most}", "reload the editor")
    return n


def _power_limit(raw: str, gpu: Gpu) -> float | None:
    """A GPU line's power-limit field (W per card; empty: none), refused outside the range the
    card's driver accepts as the build file refuses it (``power_limit_w``)."""
    from dlrig.gpu_power import card_limits_w

    text = raw.strip().lower().removesuffix("w").strip().replace(",", "")
    if not text:
        return None
    lo, hi = card_limits_w(gpu)
    accepted = (
        f"the driver accepts {lo:g}-{hi:g} W" if lo is not None and hi is not None
        else f"the driver accepts {lo:g} W or more" if lo is not None
        else "its accepted range is not in the catalog"
    )  # fmt: skip
    fix = f"{accepted}; leave the field empty for the stock {gpu.tdp_w:g} W"
    try:
        watts = float(text)
    except ValueError:
        watts = float("nan")
    if not watts > 0 or watts == float("inf"):
        raise InputError(
            f"power limit of {gpu.name} must be a number of watts per card, not '{raw.strip()}'",
            "write e.g. 300 (what nvidia-smi -pl sets); " + fix,
        )
    if (lo is not None and watts < lo) or (hi is not None and watts > hi):
        raise InputError(
            f"power limit of {gpu.name}: {watts:g} W is outside what its driver accepts", fix
        )
    if watts > 2 * gpu.tdp_w:
        raise InputError(
            f"power limit of {gpu.name}: {watts:g} W is more than twice its {gpu.tdp_w:g} W "
            "board power",
            "the limit is per card, in watts (e.g. 300); " + fix,
        )
    return watts


def _count(raw: str, part: Part) -> int:
    try:
        n = int(raw.strip())
    except ValueError:
        raise InputError(
            f"count of {part.name} must be a whole number, not '{raw.strip()}'", "write e.g. 2"
        ) from None
    if not 1 <= n <= MAX_COUNT:
        raise InputError(
            f"count of {part.name} must be 1 to {MAX_COUNT}, not {n}",
            "use Remove to take the part out",
        )
    if n > 1 and part.category not in MULTI_CATEGORIES:
        raise InputError(
            f"a build takes one {part.category.value}",
            "only " + ", ".join(c.value for c in Category if c in MULTI_CATEGORIES) + " repeat",
        )
    return n


def _apply_op(build: Build, op: str, catalog: Catalog) -> Build:
    kind, _, arg = op.partition(":")
    if kind in ("update", "show", "sort", "filter", ""):
        return build
    cat_text, _, rest = arg.partition(":")
    try:
        cat = Category(cat_text)
    except ValueError:
        raise InputError(f"unknown action '{op}'", "reload the editor") from None
    items = list(build.items[cat])
    if kind == "add":
        part = catalog.get(rest)
        if part.category is not cat:
            raise InputError(f"'{part.name}' is a {part.category.value}", "add it under its own")
        items = _added(items, part, cat)
    elif kind in ("remove", "inc", "dec"):
        i = _index(rest, items, op)
        it = items[i]
        if kind == "remove" or (kind == "dec" and it.count <= 1):
            del items[i]
        else:
            n = it.count + (1 if kind == "inc" else -1)
            items[i] = _recounted(it, _count(str(n), it.part))
    else:
        raise InputError(f"unknown action '{op}'", "reload the editor")
    return build.replace(items={**build.items, cat: tuple(items)})


def _added(items: list[BuildItem], part: Part, cat: Category) -> list[BuildItem]:
    if cat not in MULTI_CATEGORIES:
        return [BuildItem(part)]  # one CPU, board, case...: picking another replaces it
    if cat is Category.PSU and items and all(it.part.id != part.id for it in items):
        # picking a PSU swaps the first one (it feeds the board; its circuit stays): a second
        # PSU is a count or a line of the YAML, not what a click in the list means
        first = replace(
            items[0], part=part, price_usd=None, base=None, overrides=(), condition=None
        )
        return [first, *items[1:]]
    for i, it in enumerate(items):
        if it.part.id == part.id:
            items[i] = _recounted(it, _count(str(it.count + 1), part))
            return items
    return [*items, BuildItem(part)]


def _recounted(item: BuildItem, count: int) -> BuildItem:
    """``item`` with a new count, keeping its price, power limit, PSU, riser, circuit and
    ``with:`` overrides (rebuilding it from the part dropped them: a capped card lost its cap)."""
    return replace(item, count=count, slots=item.slots[:count])


def _index(text: str, items: list[BuildItem], op: str) -> int:
    try:
        i = int(text)
    except ValueError:
        i = -1
    if not 0 <= i < len(items):
        raise InputError(f"action '{op}' names no part of the build", "reload the editor")
    return i


# --- the part list ----------------------------------------------------------------------------
def _value(part: Part, key: str, catalog: Catalog) -> Any:
    if key == "price":
        return part.price_usd
    if key == "name":
        return part.name
    if key == "tflops":
        chip = catalog.chip_of(part)
        return chip.fp16_tflops if chip else None
    if key == "x16":
        return len(part.x16_slots) if hasattr(part, "x16_slots") and part.pcie_slots else None  # type: ignore[attr-defined]
    return getattr(part, key, None)


def picker_rows(
    catalog: Catalog, category: Category, q: str = "", sort: str = "price", desc: bool = False
) -> tuple[list[dict[str, Any]], int]:
    """The part list: rows of ``category`` matching ``q`` (search words, each found in the
    part's name, aliases or text fields, and FIELD OP VALUE filters such as ``vram_gib>=24``),
    sorted by ``sort``; and how many matched in all. When no part holds every word, the
    closest names by spelling (the catalog's fuzzy search) are listed instead."""
    from dlrig.catalog.offers import priced_catalog

    catalog = priced_catalog(catalog)  # the prices `dlrig check` and `plan` use
    words: list[str] = []
    filters: list[str] = []
    for token in q.split():
        (filters if any(op in token for op in _FILTER_OPS) else words).append(token.lower())
    parsed = [catalog.parse_filter(f, category) for f in filters]
    parts = [
        p
        for p in catalog.parts(category)
        if all(w in _haystack(p) for w in words) and all(f.matches(p) for f in parsed)
    ]
    if not parts and words:
        found = catalog.search(" ".join(words), category, limit=20)
        parts = [p for p in found if all(f.matches(p) for f in parsed)]
    keys = {k for k, _, _ in COLUMNS[category]} | {"price", "name"}
    key = sort if sort in keys else "price"
    with_value = [(p, _value(p, key, catalog)) for p in parts]
    known = sorted(
        (pv for pv in with_value if pv[1] is not None),
        key=lambda pv: pv[1].lower() if isinstance(pv[1], str) else pv[1],
        reverse=desc,
    )
    unknown = [pv for pv in with_value if pv[1] is None]  # unknown values last, either way
    rows = []
    for p, _ in (known + unknown)[:PICKER_LIMIT]:
        cells = [(_cell(_value(p, k, catalog)), num) for k, _, num in COLUMNS[category]]
        rows.append(
            {
                "id": p.id,
                "name": p.name,
                "price_usd": p.price_usd,
                "price_date": p.price_date,
                "cells": cells,
            }
        )
    return rows, len(parts)


_NOT_SEARCHED = frozenset({"notes", "source", "price_source", "origin"})


def _haystack(p: Part) -> str:
    """The words a filter word may match: name, id, aliases and every short text field
    (socket, chip, cooling, form factor...), never notes or source URLs."""
    texts = [v for k, v in p if isinstance(v, str) and k not in _NOT_SEARCHED]
    return " ".join([*texts, *p.aliases]).lower()


def _cell(v: Any) -> str:
    if v is None:
        return "—"
    if v is True:
        return "yes"
    if v is False:
        return "no"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


# --- what the templates show ------------------------------------------------------------------
def panel_context(res: EditResult) -> dict[str, Any]:
    """The build panel's context: parts with their findings, totals, pictures, check JSON."""
    from dlrig.drawings import power_bar_svg, slot_map_svg
    from dlrig.exports import line_notes
    from dlrig.web.buildview import power_tables

    ctx: dict[str, Any] = {"error": None, "rows": [], "result": None, "notes": res.notes}
    if res.error is not None:
        ctx["error"] = error_dict(res.error)
    build, result = res.build, res.result
    if build is None or result is None:
        return ctx
    data = result.to_dict()
    by_part: dict[str, list[dict[str, Any]]] = {}
    for f in data["findings"]:
        for pid in f["parts"]:
            by_part.setdefault(pid, []).append(f)
    rows = []
    n_psus, n_circuits = len(build.psus), len(build.site.circuits)
    for cat in Category:
        items = [
            {
                "index": i,
                "part": it.part,
                "count": it.count,
                "unit_price": it.unit_price_usd,
                "price_date": None if it.price_usd is not None else it.part.price_date,
                "own_price": it.price_usd is not None,
                "condition": it.condition,  # "used": priced at a used offer, and says so
                # the line's cap (with its range and cost), PSU, slots, riser, circuit, with:
                "notes": line_notes(it),
                "link": it.base.id if it.base is not None else it.part.id,
                "power_limit_w": it.power_limit_w,
                # a GPU line's PSU and a PSU line's circuit, offered when there is a choice
                "psu_n": (it.psu or 1) if cat is Category.GPU and n_psus > 1 else None,
                "circuit_n": (it.circuit or 1) if cat is Category.PSU and n_circuits > 1 else None,
                "limit_range": _range_text(it.part) if isinstance(it.part, Gpu) else None,
                "findings": by_part.get(it.part.id, []),
                "multi": cat in MULTI_CATEGORIES,
            }
            for i, it in enumerate(build.items[cat])
        ]
        rows.append({"category": cat.value, "entries": items})
    dates = sorted({d for p in build.parts if (d := p.price_date) is not None})
    ctx.update(
        rows=rows,
        result=data,
        totals=data["totals"],
        unpriced=[p.name for p in build.unpriced],
        price_dates=(dates[0], dates[-1]) if dates else None,
        slot_map=slot_map_svg(build),
        power_bar=power_bar_svg(build),
        power=power_tables(build),
        n_psus=n_psus,
        n_circuits=n_circuits,
        check_json=check_json(result),
        circuit=f"{build.site.mains_voltage_v:g}x{build.site.circuit_amps:g}",
        circuits_more=", ".join(f"{v:g}x{a:g}" for v, a in build.site.extra_circuits),
        name=build.name,
    )
    return ctx


def _range_text(gpu: Gpu) -> str:
    """The power-limit field's tooltip: the range the card's driver accepts."""
    from dlrig.gpu_power import card_limits_w

    lo, hi = card_limits_w(gpu)
    if lo is None:
        return f"W per card (stock {gpu.tdp_w:g} W; accepted range not in the catalog)"
    if hi is None:  # the card's own ceiling is not sourced (gpu_power.yaml max_w_cards)
        return f"W per card (stock {gpu.tdp_w:g} W; the driver accepts {lo:g} W or more)"
    return f"W per card (stock {gpu.tdp_w:g} W; the driver accepts {lo:g}-{hi:g} W)"


def check_json(result: CheckResult) -> str:
    """``dlrig check --json``'s output for this result, byte for byte: the one serialiser the CLI
    and the API share, plus the newline the CLI ends with."""
    from dlrig.app.base import to_json

    return to_json(result) + "\n"


# --- HTTP -------------------------------------------------------------------------------------
class BodyTooLargeError(InputError):
    """A request body over :data:`MAX_BODY_BYTES` (HTTP 413)."""


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> str:
    """The request body as text, refused (:class:`BodyTooLargeError`) past ``limit`` bytes
    before it is read whole."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(int(declared), limit)
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise _too_large(len(raw), limit)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("the request body is not UTF-8 text", "send UTF-8") from None


def is_json(request: Request) -> bool:
    """Whether the request body is JSON."""
    return request.headers.get("content-type", "").startswith("application/json")


def is_form(request: Request) -> bool:
    """Whether the request body is an HTML form."""
    return request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")


def parse_fields(text: str, json_body: bool) -> dict[str, str]:
    """Form fields from a JSON object or an urlencoded form (last value of a repeated name)."""
    if not json_body:
        return {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}
    try:
        data = json.loads(text or "{}")
    except json.JSONDecodeError as exc:
        raise InputError(
            f"the request body is not valid JSON: {exc}", "send a JSON object"
        ) from None
    if not isinstance(data, dict):
        raise InputError("the request body must be a JSON object", 'send {"build": "..."}')
    return {str(k): "" if v is None else str(v) for k, v in data.items()}


async def read_fields(request: Request, limit: int = MAX_BODY_BYTES) -> dict[str, str]:
    """The request's fields, from a JSON object or an urlencoded form."""
    return parse_fields(await read_body(request, limit), is_json(request))


def _too_large(size: int, limit: int) -> BodyTooLargeError:
    return BodyTooLargeError(
        f"the request body is {size:,} bytes; the limit is {limit:,}",
        "a build file is a few hundred bytes: send just the build",
    )


async def too_large_handler(request: Request, exc: Exception) -> Response:
    """A body over the limit, on any route that reads one: HTTP 413 with the JSON error."""
    assert isinstance(exc, BodyTooLargeError)
    return JSONResponse(error_dict(exc), status_code=413)


def router(catalogs: Any, templates: Jinja2Templates) -> APIRouter:
    """The editor's routes; ``catalogs.get()`` is this thread's catalog."""
    r = APIRouter()
    # pages name parts, never ids (the check's JSON lists unpriced parts by id)
    templates.env.filters["part_name"] = lambda part_id: _part_name(catalogs.get(), part_id)

    def render(template: str, ctx: dict[str, Any]) -> str:
        return templates.get_template(template).render(**ctx)

    def page(request: Request, res: EditResult, status: int = 200) -> HTMLResponse:
        ctx = page_context(res, catalogs.get())
        return templates.TemplateResponse(request, "build.html", ctx, status_code=status)

    @r.get("/build", response_class=HTMLResponse, include_in_schema=False)
    def build_page(request: Request, category: str = "cpu", q: str = "") -> Response:
        from dlrig.web.saved import saved_text

        qp = request.query_params
        fields = {
            "category": category,
            "q": q,
            "sort": qp.get("sort", ""),
            "dir": qp.get("dir", ""),
            "op": "update",
        }
        token = qp.get("from", "")
        fields["build"], fields["parent"] = empty_build_text(), ""
        if token:
            try:
                fields["build"], fields["parent"] = saved_text(request.app, token)
            except DlrigError as exc:
                return templates.TemplateResponse(
                    request, "error.html", {"error": error_dict(exc)}, status_code=404
                )
        return page(request, edit(fields, catalogs.get()))

    @r.post("/build", response_class=HTMLResponse, include_in_schema=False)
    async def build_submit(request: Request) -> Response:
        fields = await read_fields(request)
        res = await run_in_threadpool(edit, fields, catalogs.get())
        return page(request, res, 200 if res.error is None else 422)

    @r.post("/api/editor", tags=["editor"])
    async def api_editor(request: Request) -> Response:
        """One editor action on the editor's fields (JSON): the build's canonical YAML, its
        check (`dlrig check --json`), and the editor's HTML fragments."""
        fields = await read_fields(request)

        def work() -> dict[str, Any]:
            cat = catalogs.get()
            res = edit(fields, cat)
            ctx = page_context(res, cat)
            out: dict[str, Any] = {
                "yaml": res.text,
                "name": ctx.get("name", ""),
                "circuit": ctx.get("circuit", ""),
                "circuits_more": ctx.get("circuits_more", ""),
                "check": ctx["result"],
                "error": ctx["error"],
                "panel_html": render("_build_panel.html", ctx),
            }
            if res.picker_changed:
                out["picker_html"] = render("_picker.html", ctx)
            return out

        out = await run_in_threadpool(work)
        return JSONResponse(out, status_code=200 if out["error"] is None else 422)

    @r.get("/build/picker", response_class=HTMLResponse, include_in_schema=False)
    def picker(category: str = "cpu", q: str = "", sort: str = "price", dir: str = "") -> str:
        res = EditResult(text="")
        _view(res, {"category": category, "q": q, "sort": sort, "dir": dir}, "filter")
        return render("_picker.html", _picker_context(res, catalogs.get()))

    @r.post("/build/export", include_in_schema=False)
    @r.post("/api/export", tags=["editor"])
    async def export(
        request: Request,
        format: str = Query("yaml", pattern=EXPORT_PATTERN),
    ) -> Response:
        """The build (body: build file, or the editor's fields) as a download: its YAML or JSON
        build file, a PCPartPicker-style text list, a Markdown table, or its check JSON."""
        body = await read_body(request)
        if is_form(request) or is_json(request):
            fields = parse_fields(body, is_json(request))
        else:  # a build file as the body, as for POST /api/check
            fields = {"build": body}
        fields = {**fields, "op": "update"}
        res = await run_in_threadpool(edit, fields, catalogs.get())
        if res.error is not None or res.build is None or res.result is None:
            err = res.error or InputError("no build", "send a build file")
            return JSONResponse(error_dict(err), status_code=422)
        return export_response(res.build, res.result, format)

    return r


def _part_name(catalog: Catalog, part_id: str) -> str:
    try:
        return catalog.get(part_id).name
    except DlrigError:
        return part_id  # a custom part: its id is all the check's JSON has


# What a build exports to beyond dlrig.exports' text formats: (media type, file name suffix).
EXTRA_EXPORTS: dict[str, tuple[str, str]] = {
    "check-json": ("application/json", "-check.json"),
    "slot-map": ("image/svg+xml", "-slot-map.svg"),
    "power": ("image/svg+xml", "-power.svg"),
}
EXPORT_PATTERN = "^(yaml|json|text|markdown|check-json|slot-map|power)$"


def export_response(build: Build, result: CheckResult, fmt: str) -> Any:
    """A download of ``build`` in ``fmt``: a text format of :mod:`dlrig.exports`, its check
    JSON, or one of its pictures (the slot map or the power budget, SVG)."""
    from dlrig.drawings import power_bar_svg, slot_map_svg
    from dlrig.exports import EXPORT_FORMATS, export_build, export_filename

    if fmt in EXTRA_EXPORTS:
        make = {"check-json": lambda: check_json(result), "slot-map": lambda: slot_map_svg(build),
                "power": lambda: power_bar_svg(build)}[fmt]  # fmt: skip
        body = make()
        media, suffix = EXTRA_EXPORTS[fmt]
        filename = export_filename(build, "json").removesuffix(".json") + suffix
    else:
        body, media = export_build(build, fmt, result), EXPORT_FORMATS[fmt][0]
        filename = export_filename(build, fmt)
    return Response(
        body,
        media_type=f"{media}; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


def _picker_context(res: EditResult, catalog: Catalog) -> dict[str, Any]:
    ctx: dict[str, Any] = {
        "category": res.category.value,
        "q": res.q,
        "sort": res.sort,
        "desc": res.desc,
        "categories": [c.value for c in Category],
        "columns": COLUMNS[res.category],
        "picker_error": None,
    }
    try:
        rows, total = picker_rows(catalog, res.category, res.q, res.sort, res.desc)
    except DlrigError as exc:
        rows, total = [], 0
        ctx["picker_error"] = error_dict(exc)
    ctx.update(parts=rows, total=total, limit=PICKER_LIMIT)
    return ctx


def page_context(res: EditResult, catalog: Catalog) -> dict[str, Any]:
    """The editor page's whole context: the build panel, the part list, the text, exports."""
    ctx = panel_context(res)
    ctx.update(_picker_context(res, catalog))
    ctx.update(text=res.text, parent=res.parent)
    ctx.setdefault("name", res.fallback_name)
    ctx.setdefault("circuit", res.fallback_circuit)
    ctx.setdefault("circuits_more", res.fallback_circuits_more)
    ctx["export_formats"] = [
        ("yaml", "YAML build file"),
        ("text", "Text list (PCPartPicker)"),
        ("markdown", "Markdown table"),
        ("json", "JSON build file"),
        ("check-json", "Check JSON"),
        ("slot-map", "Slot map (SVG)"),
        ("power", "Power budget (SVG)"),
    ]
    return ctx
