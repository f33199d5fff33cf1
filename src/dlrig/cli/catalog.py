"""`dlrig catalog list|show|search|chips`: browse the parts catalog."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from dlrig.cli.options import CatalogOpt, JsonOpt
from dlrig.cli.output import PLAIN_LISTING_ROWS, plain_table, print_json, stderr, stdout, table
from dlrig.parts import Category, GpuChip, Part

catalog_app = typer.Typer(
    help="Browse the parts catalog (built-in, or an imported store with --catalog); import "
    "public datasets into a store.",
    no_args_is_help=True,
)
_catalog_state: dict[str, str | None] = {"catalog": None}

CategoryOpt = Annotated[
    str | None,
    typer.Option(
        "--category", "-c", help="cpu, motherboard, memory, gpu, storage, psu, cooler or case."
    ),
]

# The columns a listing shows per category: (header, attribute).
LIST_COLUMNS: dict[Category, list[tuple[str, str]]] = {
    Category.CPU: [
        ("cores", "cores"),
        ("threads", "threads"),
        ("socket", "socket"),
        ("TDP W", "tdp_w"),
        ("PCIe lanes", "pcie_lanes"),
    ],
    Category.MOTHERBOARD: [
        ("socket", "socket"),
        ("chipset", "chipset"),
        ("form factor", "form_factor"),
        ("memory", "memory_type"),
        ("x16 slots", "x16_count"),
    ],
    Category.MEMORY: [
        ("type", "type"),
        ("MT/s", "speed_mts"),
        ("kit", "kit"),
        ("ECC", "ecc"),
        ("RDIMM", "registered"),
    ],
    Category.GPU: [
        ("chip", "chip"),
        ("VRAM GiB", "vram_gib"),
        ("TDP W", "tdp_w"),
        ("length mm", "length_mm"),
        ("slots", "slot_width"),
        ("cooling", "cooling"),
    ],
    Category.STORAGE: [
        ("kind", "kind"),
        ("capacity GB", "capacity_gb"),
        ("read MB/s", "seq_read_mb_s"),
        ("form factor", "form_factor"),
    ],
    Category.PSU: [
        ("W", "wattage_w"),
        ("rating", "efficiency"),
        ("6+2-pin", "pcie_8pin"),
        ("12V-2x6", "pcie_12vhpwr"),
        ("ATX 3", "atx3"),
    ],
    Category.COOLER: [
        ("kind", "kind"),
        ("height mm", "height_mm"),
        ("radiator mm", "radiator_mm"),
        ("rated W", "rated_tdp_w"),
    ],
    Category.CASE: [
        ("type", "form_factor"),
        ("max GPU mm", "max_gpu_length_mm"),
        ("slots", "expansion_slots"),
        ("max cooler mm", "max_cooler_height_mm"),
    ],
}


def _cell(part: Part, attr: str) -> Any:
    if attr == "x16_count":
        slots = getattr(part, "x16_slots", ())
        return len(slots) if slots else None
    if attr == "kit":
        return f"{part.modules}×{part.module_gb} GB"  # type: ignore[attr-defined]
    return getattr(part, attr, None)


def _price(part: Part) -> str | None:
    return None if part.price_usd is None else f"${part.price_usd:,.0f}"


def render_parts(parts: list[Part], title: str) -> None:
    """Parts as one table per category, with the columns that matter for it."""
    by_cat: dict[Category, list[Part]] = {}
    for p in parts:
        by_cat.setdefault(p.category, []).append(p)
    for cat, rows in by_cat.items():
        priced = [p for p in rows if p.price_only]
        if priced:
            rows = [p for p in rows if not p.price_only]
            stdout.print(
                table(
                    f"{title}: {cat.value} price-only rows ({len(priced)})",
                    ["id", "name", "price"],
                    [[p.id, p.name, _price(p)] for p in priced],
                )
            )
            if not rows:
                continue
        cols = LIST_COLUMNS[cat]
        heading = f"{title}: {cat.value} ({len(rows)})"
        headers = ["id", "name", *(h for h, _ in cols), "price"]
        cells = [[p.id, p.name, *(_cell(p, a) for _, a in cols), _price(p)] for p in rows]
        if len(rows) > PLAIN_LISTING_ROWS:
            plain_table(heading, headers, cells)
        else:
            stdout.print(table(heading, headers, cells))


def _open(catalog: str | None) -> Any:
    from dlrig.catalog import open_catalog

    return open_catalog(catalog or _catalog_state["catalog"])


@catalog_app.callback()
def _catalog_root(catalog: CatalogOpt = None) -> None:
    """Browse and import parts catalogs."""
    _catalog_state["catalog"] = catalog


@catalog_app.command("list")
def list_cmd(
    category: CategoryOpt = None,
    filter_: Annotated[
        list[str] | None,
        typer.Option(
            "--filter",
            "-f",
            help="FIELD OP VALUE, e.g. 'vram_gib>=24' (repeatable). "
            "Operators: = != < <= > >= ~ (contains).",
        ),
    ] = None,
    price_only: Annotated[
        bool, typer.Option("--price-only", help="List the price-only rows of an imported store.")
    ] = False,
    json_: JsonOpt = False,
    catalog: CatalogOpt = None,
) -> None:
    """List parts, optionally of one category and matching filters.

    Examples:
      dlrig catalog list --category gpu
      dlrig catalog list -c gpu -f 'vram_gib>=24' -f 'cooling=blower'
      dlrig catalog list -c psu --json
    """
    from dlrig.app import catalog as app_catalog

    req = app_catalog.PartsRequest.parse(category=category, filter=filter_, price_only=price_only)
    cat_obj = _open(catalog)
    parts = app_catalog.run(req, cat_obj)
    if json_:
        print_json(parts)
        return
    if price_only:
        stdout.print(
            table(
                f"price-only rows ({len(parts.parts)})",
                ["id", "name", "price", "date"],
                [[p.id, p.name, _price(p), p.price_date] for p in parts.parts],
            )
        )
        return
    render_parts(parts.parts, "catalog " + cat_obj.name)
    if not parts.parts:
        stdout.print("no parts match")


@catalog_app.command("show")
def show_cmd(
    part: Annotated[str, typer.Argument(help="A part id or name (fuzzy matched).")],
    json_: JsonOpt = False,
    catalog: CatalogOpt = None,
) -> None:
    """Show every field of one part, with units, its source and its GPU chip spec.

    Examples:
      dlrig catalog show "ASUS WS X299 SAGE"
      dlrig catalog show rtx-4090-fe --json
    """
    from dlrig.app import catalog as app_catalog

    detail = app_catalog.show(app_catalog.ShowRequest.parse(part=part), _open(catalog))
    if json_:
        print_json(detail)
        return
    found, chip = detail.part, detail.chip
    stdout.print(_fields_table(f"{found.name} ({found.category.value})", found))
    if chip is not None:
        stdout.print(_fields_table(f"GPU chip: {chip.name}", chip))


@catalog_app.command("search")
def search_cmd(
    text: Annotated[str, typer.Argument(help="Words to look for in names and aliases.")],
    category: CategoryOpt = None,
    limit: Annotated[
        int | None,
        typer.Option("--limit", min=0, help="Show at most N search matches (0: all; default 20)."),
    ] = None,
    json_: JsonOpt = False,
    catalog: CatalogOpt = None,
) -> None:
    """Search part names and aliases (all words, then the resolver's word match, then fuzzy).

    Examples:
      dlrig catalog search "rtx 4090"
      dlrig catalog search sage -c motherboard
    """
    from dlrig.app import catalog as app_catalog
    from dlrig.errors import InputError

    if not text.strip():  # it listed every part of every category, exit 0
        raise InputError(
            "nothing to search for", "give words of a part's name (dlrig catalog list lists all)"
        )
    req = app_catalog.PartsRequest.parse(category=category, q=text, limit=limit)
    found = app_catalog.run(req, _open(catalog))
    parts, total = found.parts, found.total or len(found.parts)
    if json_:
        print_json(found)
    elif not parts:
        stdout.print(f"nothing matches '{text}'", markup=False, highlight=False)
    else:
        render_parts(parts, f"search '{text}'")
    if len(parts) < total:  # never cut the list silently
        stderr.print(
            f"showing {len(parts)} of {total} matches; --limit 0 shows all, or add words "
            "or --category to narrow the search",
            markup=False,
        )


@catalog_app.command("coverage")
def coverage_cmd(
    missing: Annotated[
        bool, typer.Option("--missing", help="Also list the ids of the parts lacking each fact.")
    ] = False,
    json_: JsonOpt = False,
    catalog: CatalogOpt = None,
) -> None:
    """Per rule: how many parts lack the facts it needs (those make it report unchecked).

    Examples:
      dlrig catalog coverage
      dlrig catalog coverage --missing --json
    """
    from dlrig.catalog.coverage import coverage

    rows = coverage(_open(catalog).parts())
    if json_:
        data = [r.to_dict() for r in rows]
        if not missing:
            for d in data:
                d.pop("missing_ids")
        print_json(data)
        return
    stdout.print(
        table(
            "catalog coverage (facts the rules need)",
            ["rule", "category", "fact", "known", "missing", "coverage"]
            + (["missing parts"] if missing else []),
            [
                [r.rule, r.category.value, r.fact, f"{r.known}/{r.parts}", len(r.missing)]
                + [f"{r.percent:.0f}%"]
                + ([", ".join(r.missing)] if missing else [])
                for r in rows
            ],
        )
    )


@catalog_app.command("chips")
def chips_cmd(json_: JsonOpt = False, catalog: CatalogOpt = None) -> None:
    """List the GPU chip specs (dense TFLOPS, bandwidth, VRAM, launch price).

    Example:
      dlrig catalog chips --json
    """
    from dlrig.app import catalog as app_catalog

    specs = app_catalog.chips(_open(catalog))
    if json_:
        print_json(specs)
        return
    chips: list[GpuChip] = specs.items
    stdout.print(
        table(
            "GPU chips (dense TFLOPS; fp16/bf16 = tensor with FP32 accumulate)",
            [
                "id",
                "name",
                "arch",
                "fp32",
                "tf32",
                "bf16",
                "fp16",
                "fp8",
                "GB/s",
                "GiB",
                "W",
                "launch $",
            ],
            [
                [
                    c.id,
                    c.name,
                    c.architecture,
                    c.fp32_tflops,
                    c.tf32_tflops,
                    c.bf16_tflops,
                    c.fp16_tflops,
                    c.fp8_tflops,
                    c.memory_bandwidth_gb_s,
                    c.vram_gib,
                    c.tdp_w,
                    c.launch_price_usd,
                ]
                for c in chips
            ],
        )
    )


def _fields_table(title: str, model: Any) -> Any:
    from rich.table import Table
    from rich.text import Text

    t = Table(title=Text(title), show_header=True, header_style="bold")
    t.add_column("field")
    t.add_column("value", overflow="fold")
    for name, value in model.model_dump(mode="json").items():
        if value in (None, [], ()):
            value = "— (unknown)" if value is None else "—"
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            value = "\n".join(
                ", ".join(f"{k}={v}" for k, v in d.items() if v not in (None, [])) for d in value
            )
        t.add_row(name, Text(str(value)))
    return t


def register(app: typer.Typer) -> None:
    """Add ``dlrig catalog ...`` (and its import commands) to the CLI."""
    from dlrig.cli import catalog_import

    catalog_import.register(catalog_app)
    app.add_typer(catalog_app, name="catalog")
