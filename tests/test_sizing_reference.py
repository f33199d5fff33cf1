"""Published reference cases: dlrig's sizing against measured memory, published FLOPs and times.

Tolerances (issue 4): weights-only and inference ±5%, training memory ±15%, time-to-train
exact (±1%) when given the source's utilisation. docs/sizing.md publishes each case's error;
``REFERENCE_CASES`` is the single list both read (the doc table is checked against it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from dlrig.parts import GpuChip
from dlrig.sizing import kv_cache_bytes, memory_bytes, size
from dlrig.units import BYTES_PER_GB, BYTES_PER_GIB
from dlrig.workload import load_workload

A100_SXM = GpuChip(
    id="a100-sxm4-80gb",
    name="NVIDIA A100 SXM4 80 GB",
    vendor="nvidia",
    architecture="Ampere",
    bf16_tflops=312,
    fp16_tflops=312,
    fp32_tflops=19.5,
    memory_bandwidth_gb_s=2039,
    vram_gib=80,
    tdp_w=400,
    source="https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/"
    "nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf",
)

# StarCoder / OctoCoder 15.5B (GPTBigCode, multi-query attention).
OCTOCODER = {
    "name": "OctoCoder 15.5B",
    "arch": "gpt2",
    "layers": 40,
    "hidden": 6144,
    "heads": 48,
    "kv_heads": 1,
    "intermediate": 24576,
    "vocab": 49152,
    "context": 8192,
    "tie_embeddings": True,
}
OCTO_SRC = "https://huggingface.co/docs/transformers/llm_tutorial_optimization"
ANATOMY_SRC = "https://huggingface.co/docs/transformers/model_memory_anatomy"
ZERO_SRC = "https://arxiv.org/abs/1910.02054"
BERT_LARGE_TRAIN = {
    "framework": "hf-trainer",  # Trainer, fp32 model (fp16=True runs autocast over it)
    "task": "finetune",
    "model": "bert-large",
    "precision": "fp32",
    "optimizer": "adamw",
    "sequence": 512,
    "attention": "eager",
    "dropout": True,
    "vocab_logits": False,  # sequence classification head
    "cuda_context_gib": 1343 / 1024,  # measured in the same document (V100, CUDA 11.2)
}


def _gib(n_bytes: float) -> float:
    return n_bytes / BYTES_PER_GIB


def _gb(n_bytes: float) -> float:
    return n_bytes / BYTES_PER_GB


def _model_states_gb(stage: int, n: int) -> float:
    w = load_workload(
        {"task": "train", "model": {"params": 7.5e9}, "precision": "fp16", "zero_stage": stage}
    )
    m = memory_bytes(w, n)
    return _gb(m.weights + m.gradients + m.optimizer)


def _octo(precision: str, quant_bits: float | None = None) -> float:
    w = load_workload(
        {
            "task": "inference",
            "model": OCTOCODER,
            "precision": precision,
            "quant_bits": quant_bits,
            "inference": {"prompt_tokens": 20, "new_tokens": 60},
        }
    )
    return _gib(memory_bytes(w).allocated)  # torch.cuda.max_memory_allocated: no context


def _bert_large(batch: int, **changes: object) -> float:
    return size({**BERT_LARGE_TRAIN, "micro_batch": batch, **changes}).vram_per_gpu_gib * 1024


def _kv_gib(preset: str, tokens: int) -> float:
    w = load_workload({"task": "inference", "model": preset})
    return _gib(kv_cache_bytes(w, context=tokens, batch=1))


def _weights_gb(preset: str, precision: str) -> float:
    w = load_workload({"task": "inference", "model": preset, "precision": precision})
    return _gb(memory_bytes(w).weights)


def _llmc_gpt2_minutes() -> float:
    w = {
        "task": "train",
        "model": "gpt2-124m",
        "micro_batch": 64,
        "sequence": 1024,
        "data": {"tokens": 10e9},
    }
    # llm.c reports ~60 % MFU counted as 6N + 6·L·C·T (gpt2_estimate_mfu); -u is PaLM's count
    from dlrig.perfcal.training import convert_mfu

    mfu = convert_mfu(0.60, "gpt2-124m", 1024, "llmc")
    r = size(w, A100_SXM, n_gpus=8, interconnect="nvlink", utilization=mfu)
    assert r.time_hours is not None
    return r.time_hours * 60


def _train_flops(model: dict[str, object] | str, tokens: float, seq: int) -> float:
    r = size({"task": "train", "model": model, "sequence": seq, "data": {"tokens": tokens}})
    assert r.flops is not None
    return r.flops


def _six_nd_share(model: dict[str, object], seq: int) -> float:
    """6N ÷ (6N + 12·L·h·s): the part of PaLM-accounted FLOPs a 6·N·D figure counts."""
    from dlrig.perfcal.training import flops_per_token

    return flops_per_token(model, seq, "6n") / flops_per_token(model, seq, "palm")


GPT3_175B = {
    "name": "GPT-3 175B",
    "params": 174.6e9,
    "layers": 96,
    "hidden": 12288,
    "heads": 96,
    "vocab": 50257,
    "context": 2048,
}
LLAMA3_405B = {
    "name": "Llama 3.1 405B",
    "params": 405.9e9,
    "layers": 126,
    "hidden": 16384,
    "heads": 128,
    "kv_heads": 8,
    "intermediate": 53248,
    "vocab": 128256,
    "mlp": "swiglu",
    "context": 8192,
}


def _llama2_70b_gpu_hours() -> float:
    """Llama 2 paper Table 2: 7B took 184,320 A100-80GB GPU-hours on 2T tokens. Calibrate the
    utilisation on the 7B run, predict the 70B run (published: 1,720,320 GPU-hours)."""

    def hours(preset: str, util: float) -> float:
        w = {"task": "train", "model": preset, "sequence": 4096, "data": {"tokens": 2e12}}
        r = size(w, A100_SXM, n_gpus=1, utilization=util)
        assert r.time_hours is not None
        return r.time_hours

    util_7b = hours("llama-2-7b", 1.0) / 184_320
    return hours("llama-2-70b", util_7b)


@dataclass(frozen=True)
class Case:
    id: str
    kind: str  # weights | inference | training | flops | time
    what: str
    published: float
    unit: str
    tolerance: float
    source: str
    estimate: Callable[[], float]


REFERENCE_CASES: list[Case] = [
    Case(
        "zero-baseline",
        "training",
        "ZeRO Fig. 1: 7.5B params, mixed-precision Adam, model states per GPU (DDP)",
        120.0,
        "GB",
        0.15,
        ZERO_SRC,
        lambda: _model_states_gb(0, 64),
    ),
    Case(
        "zero-stage1",
        "training",
        "ZeRO Fig. 1: same, P_os on 64 GPUs",
        31.4,
        "GB",
        0.15,
        ZERO_SRC,
        lambda: _model_states_gb(1, 64),
    ),
    Case(
        "zero-stage2",
        "training",
        "ZeRO Fig. 1: same, P_os+g on 64 GPUs",
        16.6,
        "GB",
        0.15,
        ZERO_SRC,
        lambda: _model_states_gb(2, 64),
    ),
    Case(
        "zero-stage3",
        "training",
        "ZeRO Fig. 1: same, P_os+g+p on 64 GPUs",
        1.9,
        "GB",
        0.15,
        ZERO_SRC,
        lambda: _model_states_gb(3, 64),
    ),
    Case(
        "bert-large-b4",
        "training",
        "BERT-large fine-tune, fp32 AdamW, batch 4 × 512, V100 (nvidia-smi)",
        14949.0,
        "MiB",
        0.15,
        ANATOMY_SRC,
        lambda: _bert_large(4),
    ),
    Case(
        "bert-large-b1",
        "training",
        "BERT-large fine-tune, fp32 AdamW, batch 1 × 512 (gradient accumulation 4), V100",
        8681.0,
        "MiB",
        0.15,
        "https://huggingface.co/docs/transformers/v4.27.2/en/perf_train_gpu_one",
        lambda: _bert_large(1),
    ),
    Case(
        "octocoder-bf16",
        "inference",
        "OctoCoder 15.5B bf16 generate, peak allocated",
        29.0260648727417,
        "GiB",
        0.05,
        OCTO_SRC,
        lambda: _octo("bf16"),
    ),
    Case(
        "octocoder-int8",
        "inference",
        "OctoCoder 15.5B LLM.int8() generate, peak allocated",
        15.219234466552734,
        "GiB",
        0.05,
        OCTO_SRC,
        lambda: _octo("int8"),
    ),
    Case(
        "octocoder-int4",
        "inference",
        "OctoCoder 15.5B bnb 4-bit (FP4, fp32 absmax per 64: 4.5 bits) generate, peak allocated",
        9.543574333190918,
        "GiB",
        0.10,
        OCTO_SRC,
        lambda: _octo("int4", quant_bits=4.5),
    ),
    Case(
        "llama31-8b-kv-128k",
        "inference",
        "Llama 3.1 8B KV cache, 128k tokens, 16-bit",
        15.62,
        "GiB",
        0.05,
        "https://huggingface.co/blog/llama31",
        lambda: _kv_gib("llama-3.1-8b", 128_000),
    ),
    Case(
        "llama31-70b-kv-128k",
        "inference",
        "Llama 3.1 70B KV cache, 128k tokens, 16-bit",
        39.06,
        "GiB",
        0.05,
        "https://huggingface.co/blog/llama31",
        lambda: _kv_gib("llama-3.1-70b", 128_000),
    ),
    Case(
        "opt-13b-kv-token",
        "inference",
        "OPT-13B KV cache per token (vLLM paper §3)",
        800.0,
        "KiB",
        0.05,
        "https://arxiv.org/abs/2309.06180",
        lambda: (
            kv_cache_bytes(
                load_workload(
                    {
                        "task": "inference",
                        "model": {
                            "params": 12.85e9,
                            "layers": 40,
                            "hidden": 5120,
                            "heads": 40,
                            "vocab": 50272,
                        },
                    }
                ),
                context=1,
                batch=1,
            )
            / 1024
        ),
    ),
    Case(
        "llama31-70b-fp16",
        "weights",
        "Llama 3.1 70B weights in FP16",
        140.0,
        "GB",
        0.05,
        "https://huggingface.co/blog/llama31",
        lambda: _weights_gb("llama-3.1-70b", "fp16"),
    ),
    Case(
        "llama31-8b-fp16",
        "weights",
        "Llama 3.1 8B weights in FP16",
        16.0,
        "GB",
        0.05,
        "https://huggingface.co/blog/llama31",
        lambda: _weights_gb("llama-3.1-8b", "fp16"),
    ),
    Case(
        "llmc-gpt2-124m",
        "time",
        "llm.c GPT-2 124M, 10B tokens, 8×A100 80GB SXM at ~60% MFU",
        90.0,
        "min",
        0.01,
        "https://github.com/karpathy/llm.c/discussions/481",
        _llmc_gpt2_minutes,
    ),
    Case(
        "gpt3-175b-flops",
        "flops",
        "GPT-3 175B, 300B tokens: training compute (Table D.1)",
        3.14e23,
        "FLOPs",
        0.05,
        "https://arxiv.org/abs/2005.14165",
        lambda: _train_flops(GPT3_175B, 300e9, 2048),
    ),
    Case(
        "llama3-405b-flops",
        "flops",
        "Llama 3 405B, 15.6T tokens: training compute",
        3.8e25,
        "FLOPs",
        0.05,
        "https://arxiv.org/abs/2407.21783",
        # Meta's 3.8e25 is 6·N·D (no attention term), dlrig's FLOPs count attention as PaLM does
        lambda: _train_flops(LLAMA3_405B, 15.6e12, 8192) * _six_nd_share(LLAMA3_405B, 8192),
    ),
    Case(
        "llama2-70b-gpu-hours",
        "training",
        "Llama 2 70B GPU-hours (Table 2, A100-80GB), utilisation calibrated on the 7B's 184,320",
        1_720_320.0,
        "GPU-h",
        0.15,
        "https://arxiv.org/abs/2307.09288",
        _llama2_70b_gpu_hours,
    ),
]


# --- issue 13: frameworks, QLoRA, autocast, encoder-decoder, multi-GPU replication ----------
LITGPT_SRC = "https://github.com/Lightning-AI/litgpt/blob/main/tutorials/resource-tables.md"
PEFT_SRC = "https://github.com/huggingface/peft/blob/main/README.md"
BERT_SRC = "https://huggingface.co/docs/transformers/v4.27.2/en/perf_train_gpu_one"
# LitGPT resource tables (commit 8641822, A100-SXM4-40GB, --precision bf16-true, Alpaca): the
# longest training example sets the padded length of the first batch; finetune/lora.py
# defaults r=8, alpha 16, dropout 0.05 on query and value; multi-GPU runs use FSDP with
# activation checkpointing per Block. "Max GPU RAM" is torch.cuda.max_memory_allocated in GB.
LITGPT_SEQ = {"phi-1.5": 1044, "stablelm-alpha-3b": 1034, "llama-2-7b": 1304, "llama-2-13b": 1304}


def litgpt_lora(model: str, batch: int = 1, quant: str | None = None, gpus: int = 1) -> dict:  # type: ignore[type-arg]
    """The workload of one LitGPT resource-table LoRA row (quant: None, 'nf4' or 'nf4-dq')."""
    w: dict[str, object] = {
        "framework": "litgpt",
        "task": "qlora" if quant else "lora",
        "model": model,
        "precision": "int4" if quant else "bf16",
        "micro_batch": batch,
        "sequence": LITGPT_SEQ[model],
        "gradient_checkpointing": gpus > 1,
        "zero_stage": 3 if gpus > 1 else 0,
        "lora": {"rank": 8, "targets": ["q_proj", "v_proj"], "dropout": 0.05},
    }
    if quant == "nf4":
        w["quant_bits"] = 4.5  # NF4 without double quantisation: fp32 absmax per 64 weights
    return w


def litgpt_generate(model: str, quant: str | None = None) -> dict:  # type: ignore[type-arg]
    """LitGPT generate/base.py: one short prompt, 50 new tokens (default max_new_tokens)."""
    w: dict[str, object] = {
        "framework": "litgpt",
        "task": "inference",
        "model": model,
        "precision": "int4" if quant else "bf16",
        "inference": {"prompt_tokens": 16, "new_tokens": 50},
    }
    if quant == "nf4":
        w["quant_bits"] = 4.5
    return w


# PEFT README "Use Cases" table: examples/conditional_generation/peft_lora_seq2seq_accelerate_*
# (fp32 model, batch 8, inputs padded to 64 tokens, labels of the twitter_complaints classes
# padded to the longest label: 8 tokens here), LoRA r=8 on the default q/v targets with
# dropout 0.1; peak torch.cuda.max_memory_allocated, read as decimal GB.
PEFT_RUN = {
    "framework": "hf-trainer",
    "precision": "fp32",
    "micro_batch": 8,
    "sequence": 64,
    "lora": {"rank": 8, "targets": ["q_proj", "v_proj"], "dropout": 0.1},
}


def _alloc_gb(workload: dict, gpus: int = 1) -> float:  # type: ignore[type-arg]
    return _gb(memory_bytes(load_workload(workload), gpus).allocated)


def _peft(model: str, task: str) -> float:
    w: dict[str, object] = {**PEFT_RUN, "task": task, "model": model}
    if task != "lora":
        w.pop("lora")
    if model in ("t0-3b", "mt0-xxl"):
        w["decoder_sequence"] = 8
    return _alloc_gb(w)


def _lit(model: str, measured: float, what: str, **kw: object) -> Case:
    gpus = int(kw.get("gpus", 1))  # type: ignore[call-overload]
    quant = kw.get("quant")
    batch = int(kw.get("batch", 1))  # type: ignore[call-overload]
    cid = f"litgpt-{model}-{quant or 'bf16'}-b{batch}" + (f"-{gpus}gpu" if gpus > 1 else "")
    wl = litgpt_lora(model, batch, quant, gpus)  # type: ignore[arg-type]
    return Case(
        cid, "training", what, measured, "GB", 0.15, LITGPT_SRC, lambda: _alloc_gb(wl, gpus)
    )


def _lit_inf(model: str, measured: float, what: str, quant: str | None = None) -> Case:
    wl = litgpt_generate(model, quant)
    cid = f"litgpt-generate-{model}-{quant or 'bf16'}"
    return Case(cid, "inference", what, measured, "GB", 0.05, LITGPT_SRC, lambda: _alloc_gb(wl))


ISSUE13_CASES: list[Case] = [
    _lit("phi-1.5", 4.82, "LitGPT LoRA Phi-1.5, bf16-true, batch 1 × 1044, 1×A100"),
    _lit("phi-1.5", 3.78, "LitGPT QLoRA Phi-1.5 (bnb.nf4), batch 1", quant="nf4"),
    _lit("phi-1.5", 3.72, "LitGPT QLoRA Phi-1.5 (bnb.nf4-dq), batch 1", quant="nf4-dq"),
    _lit("phi-1.5", 6.76, "LitGPT LoRA Phi-1.5, batch 2", batch=2),
    _lit("phi-1.5", 10.68, "LitGPT LoRA Phi-1.5, batch 4", batch=4),
    _lit("stablelm-alpha-3b", 9.69, "LitGPT LoRA StableLM-Alpha 3B, batch 1 × 1034"),
    _lit("stablelm-alpha-3b", 6.19, "LitGPT QLoRA StableLM 3B (nf4-dq), batch 1", quant="nf4-dq"),
    _lit("stablelm-alpha-3b", 16.92, "LitGPT LoRA StableLM 3B, batch 4", batch=4),
    _lit("llama-2-7b", 21.30, "LitGPT LoRA Llama 2 7B, batch 1 × 1304"),
    _lit("llama-2-7b", 14.14, "LitGPT QLoRA Llama 2 7B (bnb.nf4), batch 1", quant="nf4"),
    _lit("llama-2-7b", 13.84, "LitGPT QLoRA Llama 2 7B (bnb.nf4-dq), batch 1", quant="nf4-dq"),
    _lit("llama-2-7b", 29.07, "LitGPT LoRA Llama 2 7B, batch 2", batch=2),
    _lit("llama-2-13b", 38.12, "LitGPT LoRA Llama 2 13B, batch 1 × 1304"),
    _lit("llama-2-13b", 22.55, "LitGPT QLoRA Llama 2 13B (nf4-dq), batch 1", quant="nf4-dq"),
    _lit("phi-1.5", 5.88, "LitGPT LoRA Phi-1.5 on 2×A100 (FSDP), batch 4", batch=4, gpus=2),
    _lit("stablelm-alpha-3b", 12.75, "LitGPT LoRA StableLM 3B on 2×A100 (FSDP), batch 1", gpus=2),
    _lit("llama-2-7b", 22.18, "LitGPT LoRA Llama 2 7B on 2×A100 (FSDP), batch 1", gpus=2),
    _lit("llama-2-7b", 23.39, "LitGPT LoRA Llama 2 7B on 2×A100 (FSDP), batch 4", batch=4, gpus=2),
    _lit("llama-2-13b", 35.57, "LitGPT LoRA Llama 2 13B on 4×A100 (FSDP), batch 1", gpus=4),
    _lit_inf("stablelm-alpha-3b", 7.30, "LitGPT generate StableLM 3B, bf16"),
    _lit_inf("llama-2-7b", 13.52, "LitGPT generate Llama 2 7B, bf16"),
    _lit_inf("llama-2-7b", 4.26, "LitGPT generate Llama 2 7B, bnb.nf4-dq", "nf4-dq"),
    _lit_inf("llama-2-13b", 26.21, "LitGPT generate Llama 2 13B, bf16"),
    _lit_inf("llama-2-13b", 7.72, "LitGPT generate Llama 2 13B, bnb.nf4-dq", "nf4-dq"),
    _lit_inf("codellama-34b", 18.95, "LitGPT generate Code Llama 34B, bnb.nf4-dq", "nf4-dq"),
    _lit_inf("falcon-40b", 24.63, "LitGPT generate Falcon 40B, bnb.nf4-dq", "nf4-dq"),
    _lit_inf("llama-2-70b", 37.21, "LitGPT generate Llama 2 70B, bnb.nf4-dq", "nf4-dq"),
    Case(
        "bert-large-ckpt-b1",
        "training",
        "BERT-large, fp32, gradient checkpointing, batch 1 × 512, V100 (nvidia-smi)",
        6775.0,
        "MiB",
        0.15,
        BERT_SRC,
        lambda: _bert_large(1, gradient_checkpointing=True),
    ),
    Case(
        "bert-large-fp16-b4",
        "training",
        "BERT-large, Trainer fp16=True (autocast), batch 4 × 512, V100",
        13939.0,
        "MiB",
        0.15,
        BERT_SRC,
        lambda: _bert_large(4, precision="fp16"),
    ),
    Case(
        "bert-large-fp16-ckpt-b1",
        "training",
        "BERT-large, fp16 autocast + gradient checkpointing, batch 1 × 512, V100",
        7275.0,
        "MiB",
        0.15,
        BERT_SRC,
        lambda: _bert_large(1, precision="fp16", gradient_checkpointing=True),
    ),
    Case(
        "bert-large-adafactor-b4",
        "training",
        "BERT-large, fp32, Adafactor, batch 4 × 512, V100",
        12295.0,
        "MiB",
        0.15,
        BERT_SRC,
        lambda: _bert_large(4, optimizer="adafactor"),
    ),
    Case(
        "bert-large-fp16-ckpt-adafactor-b1",
        "training",
        "BERT-large, fp16 autocast + checkpointing + Adafactor, batch 1 × 512, V100",
        4847.0,
        "MiB",
        0.15,
        BERT_SRC,
        lambda: _bert_large(
            1, precision="fp16", gradient_checkpointing=True, optimizer="adafactor"
        ),
    ),
    Case(
        "bert-large-adam8bit-b4",
        "training",
        "BERT-large, fp32, bitsandbytes 8-bit Adam, batch 4 × 512, V100",
        13085.0,
        "MiB",
        0.15,
        BERT_SRC,
        lambda: _bert_large(4, optimizer="adamw8bit"),
    ),
    Case(
        "bert-large-fp16-ckpt-adam8bit-b1",
        "training",
        "BERT-large, fp16 autocast + checkpointing + 8-bit Adam, batch 1 × 512, V100",
        5363.0,
        "MiB",
        0.15,
        BERT_SRC,
        lambda: _bert_large(
            1, precision="fp16", gradient_checkpointing=True, optimizer="adamw8bit"
        ),
    ),
    Case(
        "peft-t0-3b-full",
        "training",
        "T0 3B (encoder-decoder) full fine-tune, fp32 AdamW, batch 8 × 64, A100 80GB",
        47.14,
        "GB",
        0.15,
        PEFT_SRC,
        lambda: _peft("t0-3b", "finetune"),
    ),
    Case(
        "peft-t0-3b-lora",
        "training",
        "T0 3B (encoder-decoder) PEFT LoRA r=8, fp32 base, batch 8 × 64, A100 80GB",
        14.4,
        "GB",
        0.15,
        PEFT_SRC,
        lambda: _peft("t0-3b", "lora"),
    ),
    Case(
        "peft-mt0-xxl-lora",
        "training",
        "mT0-XXL 13B (encoder-decoder) PEFT LoRA r=8, fp32 base, batch 8 × 64, A100 80GB",
        56.0,
        "GB",
        0.15,
        PEFT_SRC,
        lambda: _peft("mt0-xxl", "lora"),
    ),
    Case(
        "peft-bloomz-7b1-lora",
        "training",
        "BLOOMZ 7B1 PEFT LoRA r=8, fp32 base, batch 8 × 64, A100 80GB",
        32.0,
        "GB",
        0.15,
        PEFT_SRC,
        lambda: _peft("bloomz-7b1", "lora"),
    ),
]
DS_SRC = "https://huggingface.co/docs/transformers/main/en/deepspeed"
# T5Model (AutoModel: no LM head) of T0 3B, 2,783M parameters, fp16 ZeRO-3 on one GPU;
# DeepSpeed's estimate_zero3_model_states_mem_needs_all_live, as printed in the HF docs (GiB).
T0_NO_HEAD = {"preset": "t0-3b", "tie_embeddings": True}


def _ds_t0(offload: str) -> float:
    w = {
        "framework": "deepspeed",
        "task": "finetune",
        "model": T0_NO_HEAD,
        "precision": "fp16",
        "zero_stage": 3,
        "cpu_offload": offload,
    }
    m = memory_bytes(load_workload(w))
    return _gib(m.weights + m.gradients + m.optimizer)


def _vllm_weights_gib(preset: str, gpus: int) -> float:
    w = load_workload({"framework": "vllm", "task": "inference", "model": preset})
    return _gib(memory_bytes(w, gpus).weights)


ISSUE13_CASES += [
    Case(
        "vllm-llama31-8b-tp2-2nodes",
        "inference",
        "vLLM Llama 3.1 8B Instruct bf16, tensor parallel 2 across two nodes (1 L40S each, "
        "EFA): 'Loading model weights took 7.5100 GB' per GPU (vLLM prints GiB)",
        7.51,
        "GiB",
        0.05,
        "https://github.com/aws-ia/terraform-aws-eks-blueprints/blob/main/docs/patterns/"
        "multi-node-vllm.md",
        lambda: _vllm_weights_gib("llama-3.1-8b", 2),
    ),
    Case(
        "deepspeed-t0-3b-zero3",
        "training",
        "DeepSpeed ZeRO-3 model states per GPU, T0 3B (2,783M), 1 GPU, no offload",
        46.91,
        "GiB",
        0.15,
        DS_SRC,
        lambda: _ds_t0("none"),
    ),
    Case(
        "deepspeed-t0-3b-offload-optimizer",
        "training",
        "DeepSpeed ZeRO-3 model states per GPU, T0 3B, offload_optimizer=cpu",
        5.43,
        "GiB",
        0.15,
        DS_SRC,
        lambda: _ds_t0("optimizer"),
    ),
    Case(
        "deepspeed-t0-3b-offload-params",
        "training",
        "DeepSpeed ZeRO-3 model states per GPU, T0 3B, offload_param=cpu + offload_optimizer=cpu",
        0.25,
        "GiB",
        0.15,
        DS_SRC,
        lambda: _ds_t0("params"),
    ),
    Case(
        "mixtral-8x7b-fp16",
        "weights",
        'Mixtral 8x7B (MoE: all 8 experts stored) weights in float16: "> 90 GB"',
        90.0,
        "GB",
        0.05,
        "https://huggingface.co/blog/mixtral",
        lambda: _weights_gb("mixtral-8x7b", "fp16"),
    ),
]
REFERENCE_CASES += ISSUE13_CASES


def error(case: Case) -> float:
    """Signed relative error of dlrig's estimate against the published figure."""
    return case.estimate() / case.published - 1.0


@pytest.mark.parametrize("case", REFERENCE_CASES, ids=lambda c: c.id)
def test_reference_case(case: Case) -> None:
    if case.id in KNOWN_MISSES:
        pytest.skip(f"known miss, reason in docs/sizing.md: {KNOWN_MISSES[case.id]}")
    err = error(case)
    assert abs(err) <= case.tolerance, (
        f"{case.id}: estimate {case.estimate():.4g} vs published {case.published:.4g} "
        f"{case.unit} ({err:+.1%}, tolerance ±{case.tolerance:.0%})"
    )


# Cases outside their tolerance, each listed with its reason in docs/sizing.md. The issue-13
# target is at least 90% of the new cases within tolerance (test below).
KNOWN_MISSES = {
    "litgpt-phi-1.5-bf16-b4": "activations of Phi-1.5 in LitGPT under-counted (~25%/sample)",
    "litgpt-generate-llama-2-7b-nf4-dq": "bitsandbytes 4-bit load/bookkeeping not modelled",
}


def test_issue13_cases_within_tolerance() -> None:
    """≥ 30 new measured cases, ≥ 90% within tolerance; a known miss that starts passing (or a
    new miss) fails here so the list in docs/sizing.md stays true."""
    assert len(ISSUE13_CASES) >= 30
    misses = {c.id for c in REFERENCE_CASES if abs(error(c)) > c.tolerance}
    assert misses == set(KNOWN_MISSES)
    new_misses = [c for c in ISSUE13_CASES if c.id in misses]
    assert len(new_misses) / len(ISSUE13_CASES) <= 0.10


def test_at_least_ten_cases_with_sources() -> None:
    assert len(REFERENCE_CASES) >= 10
    assert all(c.source for c in REFERENCE_CASES)
    kinds = {c.kind for c in REFERENCE_CASES}
    assert {"weights", "inference", "training", "time"} <= kinds


def test_docs_publish_every_case() -> None:
    from pathlib import Path

    doc = Path(__file__).parents[1] / "docs" / "sizing.md"
    text = doc.read_text(encoding="utf-8")
    for case in REFERENCE_CASES:
        assert f"`{case.id}`" in text, f"docs/sizing.md lacks reference case {case.id}"


if __name__ == "__main__":  # print the table for docs/sizing.md
    for c in REFERENCE_CASES:
        est = c.estimate()
        print(
            f"| `{c.id}` | {c.what} | {c.published:.4g} {c.unit} | {est:.4g} {c.unit} | "
            f"{est / c.published - 1:+.1%} | ±{c.tolerance:.0%} | {c.source} |"
        )
