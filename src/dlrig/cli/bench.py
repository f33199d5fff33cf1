"""`dlrig bench`: measure this machine and compare it with the build (or the GPUs' specs)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer

from dlrig.app.bench import BenchRequest
from dlrig.cli.options import CATALOG, JSON, from_request, output_option
from dlrig.cli.output import print_json, stderr, stdout, table
from dlrig.errors import InputError


@from_request(
    BenchRequest,
    output_option("Also write a Markdown report here."),
    JSON,
    CATALOG,
)
def bench_cmd(
    req: BenchRequest,
    output: Path | None = None,
    json_: bool = False,
    catalog: str | None = None,
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
    from contextlib import nullcontext

    from dlrig.app import bench
    from dlrig.bench.allreduce import launched_by_torchrun
    from dlrig.bench.report import to_markdown
    from dlrig.bench.runner import RichProgress
    from dlrig.catalog import open_catalog

    if output is not None:
        _check_output(output)  # before minutes of measuring, not after
    cat = open_catalog(catalog)
    bars = nullcontext(None) if launched_by_torchrun() else RichProgress(stderr)  # ranks: quiet
    with bars as progress:
        report = bench.run(req, cat, progress)
    if report is None:  # a torchrun rank other than 0
        return
    if output is not None:
        try:
            output.write_text(to_markdown(report), encoding="utf-8")
        except OSError as exc:
            raise InputError(f"-o {output}: {exc.strerror or exc}", _OUTPUT_HINT) from None
        stderr.print(f"wrote {output}", markup=False, highlight=False)
    if json_:
        print_json(report)
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
    """Add ``dlrig bench`` to the CLI."""
    app.command("bench")(bench_cmd)
