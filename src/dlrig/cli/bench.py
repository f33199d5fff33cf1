"""`dlrig bench`: measure this machine and compare it with the build (or the GPUs' specs)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from dlrig.cli.output import print_json, stderr, stdout, table
from dlrig.errors import InputError


def bench_cmd(
    quick: Annotated[
        bool, typer.Option("--quick", help="Small sizes, one shape: done in about 3 minutes.")
    ] = False,
    build: Annotated[
        Path | None,
        typer.Option(
            "--build",
            "-b",
            help="Build file giving the expected figures (default: the detected GPUs' chip specs).",
        ),
    ] = None,
    json_: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON on stdout.")
    ] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Also write a Markdown report here.")
    ] = None,
    disk: Annotated[
        list[str] | None,
        typer.Option(
            "--disk",
            help="Directory whose drive to test (repeatable). PATH=DRIVE names "
            "the drive (a storage part) giving its expected read speed.",
        ),
    ] = None,
    disk_size_mb: Annotated[
        int | None,
        typer.Option(
            "--disk-size-mb",
            min=1,
            help="Size of the disk test file in MB (default "
            "1,074 quick, 4,295 full). Larger than RAM is most honest where the page "
            "cache cannot be bypassed.",
        ),
    ] = None,
    device: Annotated[
        str | None,
        typer.Option("--device", help="cpu or cuda (default: cuda when a GPU is visible)."),
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            help="Run only these probes (repeatable): gemm, membw, loader, disk, allreduce.",
        ),
    ] = None,
    catalog: Annotated[
        str | None, typer.Option("--catalog", help="Catalog store (default: built-in).")
    ] = None,
) -> None:
    """Measure GEMM TFLOPS per dtype, memory/PCIe bandwidth, data loading, disks and all-reduce,
    and explain every shortfall against the build.

    Exit code 1 when a figure falls far short of its expected value (or GPUs are missing).

    Examples:
      dlrig bench --quick
      dlrig bench --build build.yaml --disk /data --disk /scratch=samsung-990-pro-2tb -o report.md
      dlrig bench --device cpu --json
      torchrun --nnodes 2 --nproc-per-node 8 --rdzv-endpoint HOST:29500 --no-python dlrig bench
    """
    from dlrig.bench import BenchOptions, bench
    from dlrig.bench.allreduce import launched_by_torchrun
    from dlrig.bench.report import report_to_dict, to_markdown
    from dlrig.catalog import open_catalog
    from dlrig.units import BYTES_PER_GB

    mode: Literal["quick", "full"] = "quick" if quick else "full"
    if output is not None:
        _check_output(output)  # before minutes of measuring, not after
    cat = open_catalog(catalog)
    if launched_by_torchrun():
        report = _torchrun(mode, cat)
        if report is None:  # not rank 0
            return
    else:
        options = BenchOptions(
            mode=mode,
            device=device,  # type: ignore[arg-type]  # checked by choose_device
            disk_file_bytes=disk_size_mb * BYTES_PER_GB // 1000 if disk_size_mb else None,
        )
        if only:
            options.probes = tuple(only)
        from dlrig.bench.runner import RichProgress

        with RichProgress(stderr) as progress:
            report = bench(options, cat, build, list(disk or []), progress)
    if output is not None:
        try:
            output.write_text(to_markdown(report), encoding="utf-8")
        except OSError as exc:
            raise InputError(f"-o {output}: {exc.strerror or exc}", _OUTPUT_HINT) from None
        stderr.print(f"wrote {output}", markup=False, highlight=False)
    if json_:
        print_json(report_to_dict(report))
    else:
        render(report)
    if report.has_errors:
        raise typer.Exit(1)


_OUTPUT_HINT = "give a file in an existing directory you can write to"


def _check_output(output: Path) -> None:
    """InputError unless the Markdown report can be written at ``output``."""
    parent = output.parent
    if output.is_dir():
        raise InputError(f"-o {output}: is a directory", _OUTPUT_HINT)
    if not parent.is_dir():
        raise InputError(f"-o {output}: the directory {parent} does not exist", _OUTPUT_HINT)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"-o {output}: the directory {parent} is not writable", _OUTPUT_HINT)


def _torchrun(mode: str, catalog: Any) -> Any:
    """Under torchrun only the all-reduce runs, across every rank; rank 0 reports."""
    from dlrig.bench import compare
    from dlrig.bench.context import full_sizes, quick_sizes
    from dlrig.bench.expected import Plan
    from dlrig.bench.runner import run_torchrun_allreduce

    result = run_torchrun_allreduce(quick_sizes() if mode == "quick" else full_sizes())
    if result is None:
        return None
    return compare(result, Plan(source="nothing (multi-node all-reduce)"), catalog)


def render(report: Any) -> None:
    """Figures, expected values and findings as Rich tables on stdout."""
    from rich.text import Text

    from dlrig.bench.report import fmt_ratio, fmt_value, verdict_text

    r = report.result
    stdout.print(
        f"[bold]dlrig bench[/bold] — {r.mode} mode on {r.device}, "
        f"{fmt_value(r.duration_s)} s; expected values from {report.expected_from}",
        highlight=False,
    )
    rows = []
    for c in report.comparisons:
        m = c.measurement
        verdict: str | Text | None = verdict_text(c)
        if c.verdict == "low":
            verdict = Text("LOW", style="red")
        elif c.verdict == "ok":
            verdict = Text("ok", style="green")
        elif c.verdict == "unknown":
            verdict = None
        rows.append(
            [
                m.label,
                fmt_value(m.value, m.unit),
                fmt_value(c.expected, m.unit) if c.expected is not None else None,
                fmt_ratio(c.ratio) if c.ratio is not None else None,
                verdict,
            ]
        )
    stdout.print(table("figures", ["figure", "measured", "expected", "ratio", "verdict"], rows))
    if report.findings:
        style = {"error": "bold red", "warning": "yellow", "info": "cyan"}
        for f in report.findings:
            stdout.print(Text(f"{f.severity}", style=style[f.severity]) + Text(f": {f.message}"))
    else:
        stdout.print("no findings: every figure with an expected value is within range")


def register(app: typer.Typer) -> None:
    app.command("bench")(bench_cmd)
