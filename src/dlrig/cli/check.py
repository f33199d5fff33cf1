"""`dlrig check`, `dlrig rules` and `dlrig import-list`: the compatibility checker's commands."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from dlrig.app.check import CheckRequest
from dlrig.app.importlist import ImportListRequest
from dlrig.cli.options import CATALOG, JSON, JsonOpt, from_request, option, output_option
from dlrig.cli.output import (
    fmt_num,
    line_price_note,
    price_note,
    print_json,
    print_price_summary,
    stderr,
    stdout,
    table,
)

if TYPE_CHECKING:
    from dlrig.build import Build
    from dlrig.rules.base import CheckResult

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


SlotMapOpt = Annotated[
    Path | None,
    typer.Option(
        "--slot-map",
        help="Also draw the board's slots with each GPU in its slot, as an SVG file.",
    ),
]


@from_request(CheckRequest, JSON, CATALOG, option("slot_map", SlotMapOpt))
def check_cmd(
    req: CheckRequest, json_: bool = False, catalog: str | None = None, slot_map: Path | None = None
) -> None:
    """Check a build for deep-learning compatibility: every finding with its fix.

    Exit status: 0 no errors, 1 errors found, 2 bad input.

    Examples:
      dlrig check examples/warmachine.yaml
      dlrig check examples/warmachine.yaml --gpus 1
      dlrig check my-build.yaml --json
      dlrig check examples/warmachine.yaml --slot-map slots.svg
    """
    from dlrig.app import check
    from dlrig.catalog import open_catalog

    result = check.run(req, open_catalog(catalog))
    if not any(result.build.items.values()):  # every part null: a file to fill in, not a build
        from dlrig.errors import InputError

        raise InputError(
            f"{result.build.source or 'the build'}: every part is null: the build names no part",
            "write at least the CPU, motherboard, PSU and case (catalog name or id)",
        )
    if slot_map is not None:
        _write_slot_map(result.build, slot_map)
    for note in result.build.resolved_fuzzy:  # the user should confirm a fuzzy name match
        stderr.print(f"note: {note} (check that this is the part you mean)", markup=False)
    if json_:
        print_json(result)
    else:
        render_check(result)
    if not result.ok:
        raise typer.Exit(1)


def _write_slot_map(build: Build, path: Path) -> None:
    """The slot map SVG (dlrig.drawings) to ``path``; a path that cannot be written is bad input."""
    from dlrig.drawings import slot_map_svg
    from dlrig.errors import InputError

    if path.suffix.lower() != ".svg":
        raise InputError(f"cannot write a slot map to '{path.name}'", "give a file ending in .svg")
    try:
        path.write_text(slot_map_svg(build), encoding="utf-8")
    except OSError as exc:
        raise InputError(
            f"cannot write the slot map {path}: {exc.strerror or exc}",
            "choose a file in a folder you can write to",
        ) from None
    stderr.print(f"wrote {path}", markup=False, highlight=False)


def _line_extras(it: Any) -> str:
    """What else the build file's line says (the checker counts it): "; 300 W limit, PSU 2,
    slots PCIE5, PCIE7, riser", "; circuit 2"."""
    bits = []
    if it.power_limit_w is not None:
        bits.append(f"{it.power_limit_w:g} W limit")
    if it.psu is not None:
        bits.append(f"PSU {it.psu}")
    if it.slots:
        bits.append(("slot " if len(it.slots) == 1 else "slots ") + ", ".join(it.slots))
    if it.riser is not None:
        bits.append(it.riser.name or "riser")
    if it.circuit is not None:
        bits.append(f"circuit {it.circuit}")
    return "; " + ", ".join(bits) if bits else ""


def render_check(result: CheckResult) -> None:
    """The Rich report: findings with fixes, totals, unchecked rules."""
    from rich.text import Text

    from dlrig.rules.totals import build_totals

    build = result.build
    title = f"dlrig check: {build.name}" + (f" ({build.source})" if build.source else "")
    stdout.print(Text(title, style="bold"))
    parts_rows = []
    for cat, items in build.items.items():
        for it in items:
            price = it.unit_price_usd
            parts_rows.append(
                [
                    cat.value,
                    it.part.name + (" (custom)" if it.part.custom else "") + _line_extras(it),
                    it.count,
                    None if price is None else f"${price:,.0f}",
                    line_price_note(it),
                ]
            )
            r = it.riser
            if r is not None and r.price_usd is not None:  # counted in the price total
                parts_rows.append(
                    ["riser", r.name, it.count, f"${r.price_usd:,.0f}", price_note(r)]
                )
    stdout.print(table("parts", ["category", "part", "count", "unit price", "priced"], parts_rows))
    if result.findings:
        for f in result.findings:
            line = Text()
            line.append(f"{f.severity.value.upper():7} ", style=_STYLE[f.severity.value])
            line.append(f"{f.rule} {f.slug}: ", style="bold")
            line.append(f.message)
            stdout.print(line)
            stdout.print(Text(f"        → {f.hint}", style="dim"))
    else:
        stdout.print(Text("no findings", style="green"))
    t = build_totals(build)
    unpriced = "" if t["price_complete"] else " (some parts unpriced)"
    price_text = f"${t['price_usd']:,.0f}{unpriced}"
    eff = f"{t['psu_efficiency']:.0%}" + (" assumed" if t["psu_efficiency_assumed"] else "")
    stdout.print(
        table(
            "totals",
            ["price", "peak DC power", "wall power", "GPUs", "VRAM", "RAM", "circuit limit"],
            [
                [
                    price_text,
                    fmt_num(t["peak_power_w"], unit="W"),
                    fmt_num(t["wall_power_w"], unit="W") + f" (PSU {eff})",
                    t["gpu_count"],
                    fmt_num(t["vram_gib"], unit="GiB"),
                    fmt_num(t["memory_gb"], unit="GB"),
                    fmt_num(t["circuit_limit_w"], unit="W"),
                ]
            ],
        )
    )
    print_price_summary(build.parts)
    if result.unchecked:
        stdout.print(Text("unchecked (missing data):", style="bold"))
        for u in result.unchecked:
            stdout.print(f"  {u.rule} {u.slug}: {u.reason}", markup=False, highlight=False)
    n_err, n_warn = len(result.errors), len(result.warnings)
    if result.missing_core:  # no tick: what those parts decide was never checked
        missing = ", ".join(result.missing_core)
        stdout.print(
            Text(
                f"incomplete build: no {missing}; the rules that need them did not run. "
                "→ Add the missing parts (catalog name, id or {custom: {...}}).",
                style="bold red",
            )
        )
    if n_err:
        verdict = Text(f"✗ {n_err} error(s), {n_warn} warning(s)", style="bold red")
    elif result.missing_core:
        verdict = Text(f"no errors in what was checked, {n_warn} warning(s)", style="bold")
    else:
        verdict = Text(f"✓ no errors, {n_warn} warning(s)", style="bold green")
    stdout.print(verdict)


def rules_cmd(
    slug: Annotated[str | None, typer.Argument(help="A rule slug or code to explain.")] = None,
    json_: JsonOpt = False,
) -> None:
    """List the compatibility rules, or explain one (why, a bad build, a good build).

    Examples:
      dlrig rules
      dlrig rules psu-headroom
      dlrig rules --json
    """
    from dlrig.rules import get_rule, iter_rules

    if slug is None:
        rules = list(iter_rules())
        if json_:
            from dlrig.app.catalog import RuleList

            print_json(RuleList(rules))
            return
        stdout.print(
            table(
                f"rules ({len(rules)})",
                ["code", "slug", "severity", "topic", "checks"],
                [[r.code, r.slug, r.severity.value, r.topic, r.title] for r in rules],
            )
        )
        return
    r = get_rule(slug)
    d = r.to_dict()
    if json_:
        print_json(d)
        return
    stdout.print(f"[bold]{r.code} {r.slug}[/bold] ({r.severity.value}, {r.topic})")
    stdout.print(d["title"], highlight=False)
    for key in ("why", "bad", "good"):
        stdout.print(f"\n[bold]{key.capitalize()}:[/bold] {escape(d[key])}", highlight=False)


@from_request(
    ImportListRequest,
    output_option("Build file to write (default: stdout)."),
    JSON,
    CATALOG,
)
def import_list_cmd(
    req: ImportListRequest,
    output: Path | None = None,
    json_: bool = False,
    catalog: str | None = None,
) -> None:
    """Turn a PCPartPicker plain-text parts list into a build file.

    Lines that do not resolve to a catalog part are listed (never dropped silently); prices in
    the list are kept as part prices. Exit status 1 when some lines did not resolve.

    Examples:
      dlrig import-list my-list.txt -o build.yaml
      dlrig import-list my-list.txt --json
    """
    import sys

    from dlrig.app import importlist
    from dlrig.buildfile import dump_build, write_build
    from dlrig.catalog import open_catalog
    from dlrig.importlist import file_comments

    result = importlist.run(req, open_catalog(catalog))
    comments = file_comments(result)
    if result.notes:  # names matched word by word: the user confirms them
        stderr.print("note: names matched word by word; check each is the part you mean:")
        for note in result.notes:
            stderr.print(f"  {note}", markup=False, highlight=False)
    if json_:
        data: dict[str, Any] = result.to_dict()
        if output is not None and result.build is not None:
            write_build(result.build, output, comments)
            data["written"] = str(output)
        print_json(data)
    else:
        if result.build is not None:
            if output is None:
                sys.stdout.write(dump_build(result.build, comments))
            else:
                write_build(result.build, output, comments)
                stderr.print(f"wrote {output} ({len(result.resolved)} parts)", markup=False)
        for u in result.skipped:
            stderr.print(f"skipped: line {u.line}: {u.text} ({u.reason})", markup=False)
        for u in result.unresolved:
            stderr.print(
                f"[yellow]not imported:[/yellow] line {u.line}: {escape(u.text)} — "
                f"{escape(u.reason)}",
                highlight=False,
            )
        if result.missing_categories:
            missing = ", ".join(result.missing_categories)
            stderr.print(f"[yellow]missing:[/yellow] no {missing} in the list; written as null")
    if result.unresolved:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``dlrig check``, ``dlrig rules`` and ``dlrig import-list`` to the CLI."""
    app.command("check")(check_cmd)
    app.command("rules")(rules_cmd)
    app.command("import-list")(import_list_cmd)
