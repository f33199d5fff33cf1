"""`dlrig size` (what a workload needs) and `dlrig gpus` (every GPU chip ranked for it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from dlrig.cli.output import fmt_num, print_json, stderr, stdout, table
from dlrig.units import human_count, human_hours

if TYPE_CHECKING:
    from dlrig.sizing import SizingResult

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]
CatalogOpt = Annotated[
    str | None,
    typer.Option("--catalog", help="Catalog store (default: $DLRIG_CATALOG, else built-in)."),
]
TaskOpt = Annotated[
    str | None, typer.Option("--task", help="train, finetune, lora, qlora or inference.")
]
ModelOpt = Annotated[
    str | None, typer.Option("--model", "-m", help="Model preset (see --list-models).")
]
PrecisionOpt = Annotated[
    str | None, typer.Option("--precision", "-p", help="fp32, bf16, fp16, fp8, int8 or int4.")
]
OptimizerOpt = Annotated[
    str | None, typer.Option("--optimizer", help="adamw, adamw8bit, sgd or adafactor.")
]
BatchOpt = Annotated[int | None, typer.Option("--batch", "-b", help="Micro-batch per GPU.")]
SeqOpt = Annotated[int | None, typer.Option("--seq", "-s", help="Sequence length (tokens).")]
CkptOpt = Annotated[
    bool | None,
    typer.Option("--checkpointing/--no-checkpointing", help="Gradient checkpointing."),
]
ZeroOpt = Annotated[int | None, typer.Option("--zero", help="ZeRO stage 0-3 (3 = FSDP).")]
RankOpt = Annotated[int | None, typer.Option("--lora-rank", help="LoRA rank.")]
TokensOpt = Annotated[
    str | None, typer.Option("--tokens", help="Training tokens per epoch, e.g. 10B or 1e9.")
]
SamplesOpt = Annotated[
    str | None, typer.Option("--samples", help="Training samples per epoch (vision).")
]
EpochsOpt = Annotated[float | None, typer.Option("--epochs", help="Epochs (default 1).")]
GpusOpt = Annotated[int, typer.Option("--gpus", "-n", help="Number of GPUs.", min=1)]
InterconnectOpt = Annotated[
    str, typer.Option("--interconnect", help="pcie, pcie-switch, nvlink or network.")
]
UtilOpt = Annotated[
    float | None,
    typer.Option("--utilization", "-u", help="Model FLOPs utilisation (default 0.40)."),
]


def _list_models(json_: bool) -> None:
    from dlrig.sizing import count_params
    from dlrig.workload import model_presets

    presets = list(model_presets().values())
    if json_:
        print_json([m.model_dump(mode="json") for m in presets])
        return
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
        facts.append(["GPUs needed", r.gpus_needed if r.gpus_needed else "more than 64"])
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


def size_cmd(
    workload: Annotated[
        str | None, typer.Argument(help="Workload YAML file (or use --model and flags).")
    ] = None,
    gpu: Annotated[
        str | None, typer.Option("--gpu", "-g", help="GPU chip (name or id, fuzzy matched).")
    ] = None,
    gpus: GpusOpt = 1,
    interconnect: InterconnectOpt = "pcie",
    utilization: UtilOpt = None,
    task: TaskOpt = None,
    model: ModelOpt = None,
    precision: PrecisionOpt = None,
    optimizer: OptimizerOpt = None,
    batch: BatchOpt = None,
    seq: SeqOpt = None,
    checkpointing: CkptOpt = None,
    zero: ZeroOpt = None,
    lora_rank: RankOpt = None,
    tokens: TokensOpt = None,
    samples: SamplesOpt = None,
    epochs: EpochsOpt = None,
    list_models: Annotated[
        bool, typer.Option("--list-models", help="List the model presets and exit.")
    ] = False,
    json_: JsonOpt = False,
    catalog: CatalogOpt = None,
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
    from dlrig.sizing import size
    from dlrig.workload import workload_from_flags

    w = workload_from_flags(
        workload,
        task=task,
        model=model,
        precision=precision,
        optimizer=optimizer,
        batch=batch,
        seq=seq,
        checkpointing=checkpointing,
        zero=zero,
        lora_rank=lora_rank,
        tokens=tokens,
        samples=samples,
        epochs=epochs,
    )
    chip = None
    if gpu is not None:
        from dlrig.catalog import open_catalog

        chip = open_catalog(catalog).gpu_chip(gpu)
    result = size(w, chip, n_gpus=gpus, interconnect=interconnect, utilization=utilization)
    if json_:
        print_json(result.as_dict())
        return
    render_size(result)


def gpus_cmd(
    workload: Annotated[
        str | None, typer.Option("--workload", "-w", help="Workload YAML file.")
    ] = None,
    gpus: GpusOpt = 1,
    interconnect: InterconnectOpt = "pcie",
    utilization: UtilOpt = None,
    sort: Annotated[
        str, typer.Option("--sort", help="fit, perf, price, perf-per-dollar or perf-per-watt.")
    ] = "fit",
    task: TaskOpt = None,
    model: ModelOpt = None,
    precision: PrecisionOpt = None,
    optimizer: OptimizerOpt = None,
    batch: BatchOpt = None,
    seq: SeqOpt = None,
    checkpointing: CkptOpt = None,
    zero: ZeroOpt = None,
    lora_rank: RankOpt = None,
    tokens: TokensOpt = None,
    samples: SamplesOpt = None,
    epochs: EpochsOpt = None,
    json_: JsonOpt = False,
    catalog: CatalogOpt = None,
) -> None:
    """Every GPU chip in the catalog ranked for a workload: fit, speed, price, perf/$ and perf/W.

    Prices are launch prices (unknown ones sort last on price keys). Without a workload, chips
    are ranked by dense 16-bit TFLOPS.

    Examples:
      dlrig gpus --workload examples/workloads/llama3-8b-qlora.yaml
      dlrig gpus --model llama-3.1-8b --task inference --sort perf-per-dollar
      dlrig gpus --json
    """
    from dlrig.catalog import open_catalog
    from dlrig.sizing import gpu_ranking
    from dlrig.workload import workload_from_flags

    w = None
    if workload is not None or model is not None:
        w = workload_from_flags(
            workload,
            task=task,
            model=model,
            precision=precision,
            optimizer=optimizer,
            batch=batch,
            seq=seq,
            checkpointing=checkpointing,
            zero=zero,
            lora_rank=lora_rank,
            tokens=tokens,
            samples=samples,
            epochs=epochs,
        )
    ranking = gpu_ranking(open_catalog(catalog).chips, w, gpus, interconnect, utilization, sort)
    if json_:
        print_json(ranking)
        return
    rows = ranking["gpus"]
    if not rows:
        stdout.print("the catalog has no GPU chips")
        return
    unit = rows[0]["perf_unit"] if w else "mix TFLOPS"
    title = f"GPU chips for {w.describe()}" if w else "GPU chips for the default mix"
    if gpus > 1:
        title += f" ({gpus} per machine)"
    stdout.print(
        table(
            title,
            [
                "#",
                "chip",
                "VRAM GiB",
                "needs GiB",
                "fits",
                "time",
                unit,
                "source ±err",
                "launch $",
                f"{unit} per $1k",
                f"{unit} per W",
            ],
            [
                [
                    i,
                    r["name"],
                    r["vram_gib"],
                    r["vram_needed_gib"],
                    {True: "yes", False: "no", None: "—"}[r["fits"]],
                    human_hours(r["time_hours"]),
                    fmt_num(r["perf"], 1),
                    provenance_cell(r["provenance"], r["expected_error"]),
                    "unknown" if r["price_usd"] is None else fmt_num(r["price_usd"], 0),
                    fmt_num(r["perf_per_1000_usd"], 2),
                    fmt_num(r["perf_per_watt"], 3),
                ]
                for i, r in enumerate(rows, 1)
            ],
        )
    )


def register(app: typer.Typer) -> None:
    app.command("size")(size_cmd)
    app.command("gpus")(gpus_cmd)
