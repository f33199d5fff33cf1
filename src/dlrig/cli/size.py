"""`dlrig size` (what a workload needs) and `dlrig gpus` (every GPU chip ranked for it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from dlrig.cli.output import fmt_num, print_json, stderr, stdout, table

if TYPE_CHECKING:
    from dlrig.parts import GpuChip
    from dlrig.sizing import SizingResult
    from dlrig.workload import Workload

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


def _workload(
    path: str | None,
    task: str | None,
    model: str | None,
    precision: str | None,
    optimizer: str | None,
    batch: int | None,
    seq: int | None,
    checkpointing: bool | None,
    zero: int | None,
    lora_rank: int | None,
    tokens: str | None,
    samples: str | None,
    epochs: float | None,
) -> Workload:
    """The workload file (if any) with the flags laid over it."""
    import yaml

    from dlrig.errors import WorkloadError
    from dlrig.workload import load_workload

    data: dict[str, Any] = {}
    where = "workload"
    if path is not None:
        from pathlib import Path

        p = Path(path)
        if not p.exists():
            raise WorkloadError(
                f"workload file {path} does not exist",
                "give a YAML workload file (see examples/workloads/), or --model PRESET",
            )
        base = load_workload(p)  # validates the file on its own first (file-level errors)
        del base
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        where = str(p)
    flags: dict[str, Any] = {
        "task": task,
        "model": model,
        "precision": precision,
        "optimizer": optimizer,
        "micro_batch": batch,
        "sequence": seq,
        "gradient_checkpointing": checkpointing,
        "zero_stage": zero,
    }
    for key, value in flags.items():
        if value is not None:
            data[key] = value
    if lora_rank is not None:
        lora = dict(data.get("lora") or {})
        lora["rank"] = lora_rank
        data["lora"] = lora
    data_spec = dict(data.get("data") or {})
    extra: dict[str, Any] = {"tokens": tokens, "samples": samples, "epochs": epochs}
    for key, val in extra.items():
        if val is not None:
            data_spec[key] = val
    if data_spec:
        data["data"] = data_spec
    if "model" not in data:
        raise WorkloadError(
            "no workload given", "pass a workload file, or --model PRESET (see --list-models)"
        )
    from dlrig.workload import workload_from_mapping

    return workload_from_mapping(data, where=where)


def _chip(name: str | None, catalog: str | None) -> GpuChip | None:
    if name is None:
        return None
    from dlrig.catalog import open_catalog
    from dlrig.errors import PartNotFoundError

    cat = open_catalog(catalog)
    try:
        return cat.chip(name)
    except PartNotFoundError:
        # a card name ("ASUS TUF RTX 4090") resolves through its part to the chip
        try:
            part = cat.resolve(name)
        except PartNotFoundError:
            raise PartNotFoundError(
                f"unknown GPU chip '{name}'",
                "list chips with `dlrig catalog chips`",
            ) from None
        chip = cat.chip_of(part)
        if chip is None:
            raise
        return chip


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
                    _count(m.params or count_params(m)),
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


def _count(n: float | None) -> str | None:
    if n is None:
        return None
    for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if n >= div:
            return f"{n / div:.3g}{suffix}"
    return f"{n:g}"


def _duration(hours: float | None) -> str:
    if hours is None:
        return "—"
    if hours < 1:
        return f"{hours * 60:.1f} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"


def render_size(r: SizingResult) -> None:
    """The memory breakdown, fit and time/throughput as tables."""
    w = r.workload
    gpu = f"{r.n_gpus} × {r.chip.name}" if r.chip else f"{r.n_gpus} GPU(s), none chosen"
    stdout.print(f"[bold]{w.describe()}[/bold] on {gpu}", highlight=False)
    mem = r.memory_gib
    rows = [[k.replace("_", " "), f"{v:,.2f}"] for k, v in mem.items()]
    stdout.print(table("GPU memory per GPU (GiB)", ["component", "GiB"], rows))
    facts: list[list[Any]] = [
        ["parameters", _count(r.params)],
        ["trainable parameters", _count(r.trainable_params)],
    ]
    if r.chip is not None and r.chip.vram_gib is not None:
        verdict = "yes" if r.fits else f"no — {r.shortfall_gib:.1f} GiB short"
        facts.append(["fits in " + f"{r.chip.vram_gib:g} GiB", verdict])
        facts.append(["GPUs needed", r.gpus_needed if r.gpus_needed else "more than 64"])
    if r.flops is not None:
        facts.append(["training FLOPs", f"{r.flops:.3g}"])
    if r.effective_tflops is not None:
        facts.append(["sustained TFLOPS", fmt_num(r.effective_tflops, 1)])
    if w.trains:
        facts.append(["time to train", _duration(r.time_hours)])
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
        stderr.print(f"note: {note}", highlight=False)


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
      dlrig size --model gpt2-124m --task train --tokens 10B --gpu a100 --gpus 8 -u 0.6
      dlrig size --list-models
    """
    if list_models:
        _list_models(json_)
        return
    from dlrig.sizing import size

    w = _workload(
        workload,
        task,
        model,
        precision,
        optimizer,
        batch,
        seq,
        checkpointing,
        zero,
        lora_rank,
        tokens,
        samples,
        epochs,
    )
    chip = _chip(gpu, catalog)
    result = size(w, chip, n_gpus=gpus, interconnect=interconnect, utilization=utilization)
    if json_:
        print_json(result.as_dict())
        return
    render_size(result)


SORT_KEYS = ("fit", "perf", "price", "perf-per-dollar", "perf-per-watt")


def rank_chips(
    chips: list[GpuChip],
    w: Workload | None,
    n_gpus: int = 1,
    interconnect: str = "pcie",
    utilization: float | None = None,
    sort: str = "fit",
) -> list[dict[str, Any]]:
    """One row per chip: fits, perf (tokens/s, samples/s or TFLOPS), price, perf/$ and perf/W.

    ``sort``: fit (fitting chips first, then fastest), perf, price (cheapest first),
    perf-per-dollar, perf-per-watt. Chips without a price sort last on the price keys.
    """
    from dlrig.errors import InputError
    from dlrig.sizing import size

    if sort not in SORT_KEYS:
        raise InputError(f"unknown sort key '{sort}'", "choose one of: " + ", ".join(SORT_KEYS))
    rows: list[dict[str, Any]] = []
    for chip in chips:
        row: dict[str, Any] = {
            "id": chip.id,
            "name": chip.name,
            "vram_gib": chip.vram_gib,
            "price_usd": chip.launch_price_usd,
            "tdp_w": chip.tdp_w,
        }
        if w is None:
            perf = chip.peak_tflops("bf16") or chip.peak_tflops("fp16") or chip.fp32_tflops
            row.update(
                fits=None,
                vram_needed_gib=None,
                time_hours=None,
                perf=perf,
                perf_unit="dense 16-bit TFLOPS",
            )
        else:
            r = size(w, chip, n_gpus, interconnect, utilization)
            rate, unit = r.throughput
            row.update(
                fits=r.fits,
                vram_needed_gib=round(r.vram_per_gpu_gib, 2),
                time_hours=r.time_hours,
                perf=rate,
                perf_unit=unit,
                gpus_needed=r.gpus_needed,
            )
        perf = row["perf"]
        price = chip.launch_price_usd
        row["perf_per_1000_usd"] = (
            None if perf is None or price is None else perf / (price * n_gpus) * 1000
        )
        row["perf_per_watt"] = (
            None if perf is None or chip.tdp_w is None else (perf / (chip.tdp_w * n_gpus))
        )
        rows.append(row)

    def neg(v: float | None) -> float:
        return -v if v is not None else float("inf")

    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        fit_rank = {True: 0, None: 1, False: 2}[row["fits"]]
        if sort == "perf":
            return (neg(row["perf"]), fit_rank, row["name"])
        if sort == "price":
            price = row["price_usd"]
            return (price is None, price or 0.0, fit_rank, row["name"])
        if sort == "perf-per-dollar":
            return (
                row["perf_per_1000_usd"] is None,
                neg(row["perf_per_1000_usd"]),
                fit_rank,
                row["name"],
            )
        if sort == "perf-per-watt":
            return (neg(row["perf_per_watt"]), fit_rank, row["name"])
        return (fit_rank, neg(row["perf"]), row["price_usd"] is None, row["name"])

    rows.sort(key=key)
    return rows


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

    w = None
    if workload is not None or model is not None:
        w = _workload(
            workload,
            task,
            model,
            precision,
            optimizer,
            batch,
            seq,
            checkpointing,
            zero,
            lora_rank,
            tokens,
            samples,
            epochs,
        )
    chips = open_catalog(catalog).chips
    rows = rank_chips(chips, w, gpus, interconnect, utilization, sort)
    if json_:
        print_json(
            {
                "workload": None if w is None else w.describe(),
                "n_gpus": gpus,
                "sort": sort,
                "gpus": rows,
            }
        )
        return
    if not rows:
        stdout.print("the catalog has no GPU chips")
        return
    unit = rows[0]["perf_unit"]
    title = f"GPU chips for {w.describe()}" if w else "GPU chips by dense 16-bit TFLOPS"
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
                    _duration(r["time_hours"]),
                    fmt_num(r["perf"], 1),
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
