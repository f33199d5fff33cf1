"""`dlrig plan`: the provably optimal build for a budget and a workload."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from dlrig.build import Site
from dlrig.cli.output import fmt_num, print_json, stderr, stdout, table

if TYPE_CHECKING:
    from dlrig.optimize import PlannedBuild, PlanResult


def plan_cmd(
    budget_usd: Annotated[
        str | None,
        typer.Option("--budget-usd", "-b", help="Budget in US dollars (7000, 7,000, $7k)."),
    ] = None,
    workload: Annotated[
        str | None,
        typer.Option("--workload", "-w", help="Workload YAML file or model preset."),
    ] = None,
    task: Annotated[
        str | None, typer.Option("--task", help="train, finetune, lora, qlora or inference.")
    ] = None,
    precision: Annotated[
        str | None,
        typer.Option("--precision", "-p", help="fp32, bf16, fp16, fp8, int8 or int4."),
    ] = None,
    objective: Annotated[
        str,
        typer.Option("--objective", help="throughput, vram, throughput-per-dollar or cost."),
    ] = "throughput",
    gpus: Annotated[
        int | None, typer.Option("--gpus", "-n", help="Exactly this many GPUs.")
    ] = None,
    upgrade_to: Annotated[
        int | None,
        typer.Option("--upgrade-to", help="Board, case, PSU and cooling for this many GPUs."),
    ] = None,
    min_vram_gib: Annotated[
        float | None, typer.Option("--min-vram-gib", help="Total VRAM at least (GiB).")
    ] = None,
    min_tflops: Annotated[
        float | None, typer.Option("--min-tflops", help="Sustained TFLOPS at least.")
    ] = None,
    max_hours: Annotated[
        float | None, typer.Option("--max-hours", help="Time-to-train target (with a workload).")
    ] = None,
    include: Annotated[
        list[str] | None, typer.Option("--include", help="Part or brand to include (repeat).")
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", help="Part or brand to exclude (repeat).")
    ] = None,
    cooling: Annotated[
        list[str] | None, typer.Option("--cooling", help="Allowed GPU cooling, e.g. blower.")
    ] = None,
    circuit: Annotated[
        str | None, typer.Option("--circuit", help="Wall circuit VOLTSxAMPS (default 120x15).")
    ] = None,
    allow: Annotated[
        list[str] | None, typer.Option("--allow", help="Warning rule the plan may trigger.")
    ] = None,
    alternatives: Annotated[
        int, typer.Option("--alternatives", "-k", help="Next-best distinct builds.", min=0)
    ] = 0,
    frontier: Annotated[
        bool, typer.Option("--frontier", help="Print the Pareto frontier of cost vs throughput.")
    ] = False,
    explain: Annotated[
        bool, typer.Option("--explain/--no-explain", help="Find the binding constraints.")
    ] = True,
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="Write the build file here.")
    ] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
    catalog: Annotated[
        str | None,
        typer.Option("--catalog", help="Catalog store (default: $DLRIG_CATALOG, else built-in)."),
    ] = None,
    time_limit: Annotated[
        float, typer.Option("--time-limit", help="Solver time limit per solve (s).")
    ] = 10.0,
    part_price: Annotated[
        list[str] | None,
        typer.Option(
            "--part-price",
            help="NAME=USD: your price for a part (e.g. a quote for a board the catalog has no "
            "price for). Repeat for several parts.",
        ),
    ] = None,
) -> None:
    """The best compatible build for a budget (and workload), proved optimal.

    Examples:
      dlrig plan --budget-usd 7000
      dlrig plan --budget-usd 12000 --workload llama-3.1-8b --task lora -k 3
      dlrig plan --budget-usd 5000 --gpus 1 --upgrade-to 4 -o build.yaml
      dlrig plan --budget-usd 20000 --frontier --circuit 230x16
      dlrig plan --budget-usd 40000 --part-price "ASUS Pro WS WRX90E-SAGE SE=1299"
    """
    from dlrig.errors import InputError
    from dlrig.optimize import plan
    from dlrig.units import parse_usd

    if output:
        _check_output(output)  # before the solve, not after it
    quotes: dict[str, float] = {}
    for item in part_price or ():
        name, sep, usd = item.rpartition("=")
        if not sep or not name.strip():
            raise InputError(
                f"--part-price '{item}' is not NAME=USD", "write e.g. --part-price 'RTX A6000=4650'"
            )
        quotes[name.strip()] = parse_usd(usd)

    result = plan(
        None if budget_usd is None else parse_usd(budget_usd),
        workload,
        objective=objective,
        task=task,
        precision=precision,
        gpus=gpus,
        upgrade_to=upgrade_to,
        min_vram_gib=min_vram_gib,
        min_tflops=min_tflops,
        max_hours=max_hours,
        include=include or (),
        exclude=exclude or (),
        cooling=cooling or None,
        site=Site.parse(circuit),
        allow=allow or (),
        alternatives=alternatives,
        frontier=frontier,
        explain=explain,
        catalog=catalog,
        part_prices=quotes,
        time_limit_s=time_limit,
    )
    if output and result.best is not None:
        from dlrig.buildfile import write_build

        path = write_build(result.best.build, output)
        stderr.print(f"wrote {path}", markup=False, highlight=False)
    if json_:
        print_json(result.to_dict())
    else:
        render(result)
    if result.best is None:
        raise typer.Exit(1)


def _check_output(output: str) -> None:
    """Refuse an ``-o`` path the build file cannot be written to (missing folders are made)."""
    import os
    from pathlib import Path

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
                ]
            )
    stdout.print(table(title, ["category", "n", "part", "price"], rows))


def render(r: PlanResult) -> None:
    if r.best is None:
        stdout.print(f"[bold red]no build found[/bold red] ({r.status})")
        if r.infeasible:
            for reason in r.infeasible.reasons:
                stdout.print(f"  • {reason}", markup=False, highlight=False)
            if r.infeasible.cheapest is not None:
                _parts_table(r.infeasible.cheapest, "cheapest build that fits")
        return
    b = r.best
    _parts_table(b, b.build.name)
    proof = "proved optimal" if r.optimal else "best found (not proved optimal)"
    stdout.print(
        f"[bold]${b.price_usd:,.0f}[/bold], {b.tflops:,.1f} sustained TFLOPS, "
        f"{b.vram_gib:g} GiB VRAM — {r.status} ({proof}, objective {r.objective})",
        highlight=False,
    )
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
    app.command("plan")(plan_cmd)
