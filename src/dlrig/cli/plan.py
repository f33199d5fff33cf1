"""`dlrig plan`: the provably optimal build for a budget and a workload."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from dlrig.app.plan import PlanRequest
from dlrig.catalog.offers import is_used_price
from dlrig.cli.options import CATALOG, JSON, from_request, output_option
from dlrig.cli.output import (
    fmt_num,
    price_note,
    print_json,
    print_price_summary,
    stderr,
    stdout,
    table,
)

if TYPE_CHECKING:
    from dlrig.optimize import PlannedBuild, PlanResult


@from_request(
    PlanRequest,
    output_option("Write the build file here."),
    JSON,
    CATALOG,
)
def plan_cmd(
    req: PlanRequest, output: Path | None = None, json_: bool = False, catalog: str | None = None
) -> None:
    """The best compatible build for a budget (and workload), proved optimal.

    Examples:
      dlrig plan --budget-usd 7000
      dlrig plan --budget-usd 12000 --workload llama-3.1-8b --task lora -k 3
      dlrig plan --budget-usd 5000 --gpus 1 --upgrade-to 4 -o build.yaml
      dlrig plan --budget-usd 20000 --frontier --circuit 230x16
      dlrig plan --budget-usd 40000 --part-price "ASUS Pro WS WRX90E-SAGE SE=1299"
    """
    from dlrig.app import plan
    from dlrig.catalog import open_catalog

    if output:
        _check_output(output)  # before the solve, not after it
    result = plan.run(req, open_catalog(catalog))
    if output and result.best is not None:
        from dlrig.buildfile import write_build
        from dlrig.optimize.planfile import plan_file_text, plan_header

        best = result.best
        text = plan_file_text(best, plan_header(best, result.caveats, result.unspent))
        path = write_build(best.build, output, text=text)
        stderr.print(f"wrote {path}", markup=False, highlight=False)
    if json_:
        print_json(result)
    else:
        render(result)
    if result.best is None:
        raise typer.Exit(1)


def _check_output(output: Path) -> None:
    """Refuse an ``-o`` path the build file cannot be written to (missing folders are made)."""
    import os

    from dlrig.errors import InputError

    path = Path(output)
    if path.is_dir():
        raise InputError(f"-o {output} is a folder", "give a file name, e.g. -o build.yaml")
    folder = path.parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(
            f"-o {output}: cannot create the file under {folder}",
            "choose a file in a folder you can write to",
        )
    if path.exists() and not os.access(path, os.W_OK):
        raise InputError(f"-o {output} is not writable", "choose another file name")


def _parts_table(pb: PlannedBuild, title: str) -> None:
    rows = []
    for cat, items in pb.build.items.items():
        for it in items:
            unit = it.unit_price_usd
            rows.append(
                [
                    cat.value,
                    f"{it.count}×" if it.count > 1 else "",
                    it.part.name,
                    fmt_num(unit * it.count if unit is not None else None, 0, "USD"),
                    price_note(it.part),
                ]
            )
            if it.riser is not None:  # an open frame's cards sit on risers, bought with them
                r = it.riser
                cost = r.price_usd * it.count if r.price_usd is not None else None
                rows.append(
                    [
                        "riser",
                        f"{it.count}×" if it.count > 1 else "",
                        r.name,
                        fmt_num(cost, 0, "USD"),
                        price_note(r),
                    ]
                )
    stdout.print(table(title, ["category", "n", "part", "price", "priced"], rows))
    print_price_summary(pb.build.parts)
    for part in pb.build.parts:
        if is_used_price(part):  # a used price is only as good as its source: show it
            stdout.print(
                f"  {part.name}: ${part.price_usd:,.0f} {part.price_source}",
                markup=False,
                highlight=False,
            )


def render(r: PlanResult) -> None:
    """The plan as tables: the best build, its check, the binding constraints, alternatives."""
    if r.best is None:
        stdout.print(f"[bold red]no build found[/bold red] ({r.status})")
        if r.infeasible:
            for reason in r.infeasible.reasons:
                stdout.print(f"  • {reason}", markup=False, highlight=False)
            if r.infeasible.cheapest is not None:
                _parts_table(r.infeasible.cheapest, "cheapest build that fits")
        return
    b = r.best
    for line in r.caveats:  # first: what a multi-GPU plan could not check
        stdout.print(f"[bold yellow]{line}[/bold yellow]", highlight=False)
    _parts_table(b, b.build.name)
    for cat, why in b.reasons.items():
        stdout.print(f"  {cat}: {why}", markup=False, highlight=False)
    proof = "proved optimal" if r.optimal else "best found (not proved optimal)"
    stdout.print(
        f"[bold]${b.price_usd:,.0f}[/bold], {b.tflops:,.1f} sustained TFLOPS, "
        f"{b.vram_gib:g} GiB VRAM — {r.status} ({proof}, objective {r.objective})",
        highlight=False,
    )
    if b.power_limit:  # the planner capped the GPUs (nvidia-smi -pl) to fit PSU or circuit
        stdout.print(f"power limit: {b.power_limit['text']}", highlight=False)
    if b.workload:
        wl = b.workload
        rate = fmt_num(wl["throughput"], 0, wl["throughput_unit"])
        hours = wl["time_hours"]
        stdout.print(
            f"workload {wl['describe']}: {wl['vram_per_gpu_gib']} GiB per GPU, {rate}"
            + (f", {hours:,.1f} h to train" if hours else ""),
            highlight=False,
        )
    if b.future is not None:
        stdout.print(
            f"upgrade path: {b.future.gpu_count} GPUs later for ${b.future_price_usd:,.0f} "
            f"in all, {fmt_num(b.future_tflops, 1)} TFLOPS; the board, case, PSU and cooler "
            "already fit them",
            highlight=False,
        )
    stdout.print(f"check: no errors; {len(b.check.warnings)} warning(s)", highlight=False)
    for f in b.check.findings:
        if f.severity.value != "info":
            stdout.print(f"  {f.severity.value}: {f.message}", markup=False, highlight=False)
    if b.check.unchecked:
        stdout.print(
            "unchecked (data missing): " + ", ".join(u.slug for u in b.check.unchecked),
            highlight=False,
        )
    if r.binding:
        stdout.print("binding constraints:")
        for x in r.binding:
            stdout.print(f"  • {x.text}: {x.detail} (+{x.gain:.0%})", markup=False, highlight=False)
    if r.unspent:
        stdout.print(r.unspent, markup=False, highlight=False)
    if r.alternatives:
        stdout.print(
            table(
                "alternatives",
                ["#", "GPUs", "price", "TFLOPS", "VRAM GiB"],
                [
                    [
                        i + 1,
                        f"{a.gpu_count}× {a.build.gpus[0].name}",
                        fmt_num(a.price_usd, 0, "USD"),
                        fmt_num(a.tflops, 1),
                        f"{a.vram_gib:g}",
                    ]
                    for i, a in enumerate(r.alternatives)
                ],
            )
        )
    if r.frontier:
        stdout.print(
            table(
                "Pareto frontier: price vs throughput",
                ["price", "TFLOPS", "GPUs"],
                [
                    [
                        fmt_num(f.price_usd, 0, "USD"),
                        fmt_num(f.tflops, 1),
                        f"{f.gpu_count}× {f.build.gpus[0].name}",
                    ]
                    for f in r.frontier
                ],
            )
        )
    for note in r.notes:
        stderr.print(f"note: {note}", markup=False, highlight=False)
    stderr.print(
        "held as constraints (warnings): " + ", ".join(r.held_warnings) + " — relax with --allow",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add ``dlrig plan`` to the CLI."""
    app.command("plan")(plan_cmd)
