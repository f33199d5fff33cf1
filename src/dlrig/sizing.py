"""Workload → requirements: GPU memory per GPU, FLOPs, time, inference throughput, system needs.

Every formula names its source next to it; every constant lives, with its source, in
``sizing_data/constants.yaml``. docs/sizing.md lists the formulas and the published reference
cases they are tested against (tests/test_sizing_reference.py).

Memory per GPU (bytes; n GPUs, ZeRO stage z)::

    weights     = P·w            (÷n when z = 3)        w: 4 fp32, 2 bf16/fp16, nf4 4.127 bits
    gradients   = P_train·g      (÷n when z ≥ 2)        g = w for full training, 4 for LoRA
    optimizer   = P_train·(k+m)  (÷n when z ≥ 1)        k: AdamW 8, 8-bit 2, SGD 4; m: master 4
    activations = L·sbh·(per-layer bytes) + logits      Korthikanti et al. 2022, generalised
    kv_cache    = 2·L·s·b·kv_dim·bytes (÷n)             inference only
    overhead    = CUDA context + fragmentation × allocated

ZeRO: Rajbhandari et al. 2020 (mixed-precision Adam = 2+2+12 = 16 bytes/param).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import yaml

from dlrig.errors import InputError, WorkloadError
from dlrig.parts import GpuChip
from dlrig.units import (
    BYTES_PER_GB,
    BYTES_PER_GIB,
    BYTES_PER_MIB,
    bytes_to_gb,
    bytes_to_gib,
    seconds_to_hours,
    tflops_to_flops,
)
from dlrig.workload import ModelSpec, Workload, load_workload

if TYPE_CHECKING:
    from dlrig.perf.estimate import Estimate
    from dlrig.perf.model import Work

INTERCONNECTS = (
    "pcie",
    "pcie-p2p",
    "pcie-switch",
    "nvlink",
    "nvlink-bridge",
    "nvswitch",
    "network",
)  # = dlrig.perf.estimate.INTERCONNECTS (kept here for importers that need no perf)

MEMORY_KEYS = (
    "weights",
    "gradients",
    "optimizer",
    "activations",
    "kv_cache",
    "overhead",
    "total_per_gpu",
)


# --- constants ----------------------------------------------------------------------------


@cache
def constants() -> dict[str, Any]:
    """The sourced constants of ``sizing_data/constants.yaml`` (name → {value, source, ...})."""
    text = (resources.files("dlrig") / "sizing_data" / "constants.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    return {k: v for k, v in data.items() if isinstance(v, dict)}


def const(name: str) -> Any:
    return constants()[name]["value"]


# --- parameters ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ParamBreakdown:
    """Where a transformer's parameters sit (counts, decimal)."""

    total: float
    linear: float  # matrices inside the transformer blocks (quantizable, LoRA-targetable)
    embedding: float  # input token (+ position) embeddings
    lm_head: float  # untied output projection (0 when tied)
    other: float  # norms, biases, pooler...

    @property
    def matmul(self) -> float:
        """Parameters that take part in a matmul per token (Kaplan et al. 2020 N, plus the head).

        Tied embeddings count once, as the output head; an untied input embedding is a lookup.
        """
        if self.lm_head:
            return self.total - self.embedding
        return self.total


def count_params(m: ModelSpec) -> float | None:
    """Parameter count from a transformer config, None when the shape is incomplete.

    Per block: attention q,o = h², k,v = h·kv_dim; MLP 2·h·f (GELU) or 3·h·f (SwiGLU); biases
    for GPT-2/BERT (all linears + layer norms) and Qwen2 (q,k,v). Embeddings V·h (+ learned
    positions for GPT-2/BERT); an untied head adds V·h. Matches the published counts of every
    preset within 1% (tests/test_sizing.py).
    """
    if m.kind != "transformer" or None in (m.layers, m.hidden, m.vocab):
        return None
    return _breakdown_from_shape(m).total


def _breakdown_from_shape(m: ModelSpec) -> ParamBreakdown:
    h, layers, vocab = m.hidden or 0, m.layers or 0, m.vocab or 0
    f, kv = m.ffn, m.kv_dim
    linear = 2 * h * h + 2 * h * kv + (3 if m.mlp == "swiglu" else 2) * h * f
    other = 0.0
    if m.arch in ("gpt2", "bert"):
        # biases of q, o (h each), k, v (kv each), MLP up (f) and down (h), plus two LayerNorms
        # (weight and bias, 4h): reproduces GPT-2 124M's 124,439,808 and BERT-base's 109,482,240
        other = 2 * h + 2 * kv + f + h + 4 * h
    elif m.arch == "qwen2":
        other = h + 2 * kv + 2 * h  # q,k,v biases + two RMSNorm weights
    else:
        other = 2 * h  # two RMSNorm weights
    embedding = vocab * h
    extra = 0.0
    if m.arch in ("gpt2", "bert"):
        embedding += (m.context or 0) * h
        extra += 2 * h  # final / embedding LayerNorm
    if m.arch == "bert":
        embedding += 2 * h  # token types
        extra += h * h + h  # pooler
    elif m.arch != "gpt2":
        extra += h  # final RMSNorm
    lm_head = 0.0 if m.tie_embeddings else vocab * h
    total = layers * (linear + other) + embedding + lm_head + extra
    return ParamBreakdown(total, layers * linear, embedding, lm_head, layers * other + extra)


def param_breakdown(m: ModelSpec) -> ParamBreakdown:
    """The model's parameters by role; the published ``params`` wins over the computed total."""
    if m.kind == "transformer" and None not in (m.layers, m.hidden, m.vocab):
        shape = _breakdown_from_shape(m)
        if m.params is None:
            return shape
        # Keep the published total; attribute any difference to norms/biases/extras.
        other = max(m.params - shape.linear - shape.embedding - shape.lm_head, 0.0)
        return ParamBreakdown(m.params, shape.linear, shape.embedding, shape.lm_head, other)
    total = m.params or 0.0
    return ParamBreakdown(total, total, 0.0, 0.0, 0.0)


def lora_params(w: Workload) -> float:
    """Trainable LoRA parameters: layers × Σ_targets r·(d_in + d_out) (Hu et al. 2021, §4)."""
    m, lora = w.model, w.lora
    if lora is None or m.hidden is None or m.layers is None:
        return 0.0
    h, kv, f = m.hidden, m.kv_dim, m.ffn
    dims = {
        "q_proj": (h, h),
        "k_proj": (h, kv),
        "v_proj": (h, kv),
        "o_proj": (h, h),
        "gate_proj": (h, f),
        "up_proj": (h, f),
        "down_proj": (f, h),
    }
    if m.mlp != "swiglu":  # GELU MLPs have one up and one down matrix
        dims.pop("gate_proj")
    per_layer = sum(lora.rank * (a + b) for t, (a, b) in dims.items() if t in lora.targets)
    return float(m.layers * per_layer)


# --- bytes per value ----------------------------------------------------------------------


def _wbytes(precision: str) -> float:
    return float(const("weight_bytes")[precision])


def compute_dtype(precision: str) -> str:
    """The matmul dtype a precision runs in: quantized weights are dequantized to bf16."""
    return {"int8": "bf16", "int4": "bf16"}.get(precision, precision)


def quantized_weight_bytes(w: Workload, pb: ParamBreakdown) -> float:
    """Bytes of stored weights at the workload precision.

    int4 is NF4 with double quantisation (QLoRA §3: 4.127 bits/param); int8 is LLM.int8()
    (1 byte). Quantisation applies to the linear layers inside the blocks: bitsandbytes, GPTQ
    and AWQ keep embeddings, the LM head and norms in 16-bit.
    """
    p = w.precision
    if p not in ("int4", "int8"):
        return pb.total * _wbytes(p)
    if w.quant_bits is not None:
        per_linear = w.quant_bits / 8
    elif p == "int4":
        per_linear = const("nf4_bits_per_param") / 8
    else:
        per_linear = 1.0
    return pb.linear * per_linear + (pb.total - pb.linear) * _wbytes("bf16")


def _act_bytes(w: Workload) -> float:
    """Bytes per stored activation: 4 in fp32 training, else 2 (fp8 recipes keep bf16 copies)."""
    return 4.0 if w.precision == "fp32" else 2.0


# --- memory -------------------------------------------------------------------------------


def transformer_activation_bytes(w: Workload) -> float:
    """Activation memory of one micro-batch on one GPU, in bytes.

    Korthikanti et al. 2022 ("Reducing Activation Recomputation in Large Transformer Models",
    arXiv:2205.05198, §4.1) give sbh(34 + 5as/h) bytes per layer for GPT with 16-bit
    activations, dropout and materialised attention scores. Generalised term by term:

    - layer norms: 2 inputs × sbh values;
    - attention: QKV input sbh, Q sbh, K and V 2·sb·kv_dim, output-projection input sbh;
      scores a·s²·b values (softmax output) plus, with dropout, a mask (1 byte) and the dropped
      scores — 5as²b bytes as in the paper; FlashAttention stores no scores (Dao et al. 2022);
    - MLP: input sbh, GELU input and output 2·sb·f (f = 4h gives the paper's 19sbh with the
      mask); SwiGLU keeps gate, up, SiLU(gate) and their product: 4·sb·f;
    - dropout masks: 2·sbh bytes per layer when dropout is on.

    With full recomputation (gradient checkpointing) only each layer's input (sbh values) is
    kept, plus one layer's activations while it is recomputed (Korthikanti §4.2). The LM head
    adds the logits s·b·V in 16-bit plus their fp32 upcast for the loss (4 bytes).
    """
    m = w.model
    s, b = w.seq_len, w.micro_batch
    h, layers, a = m.hidden or 0, m.layers or 0, m.heads or 1
    f, kv = m.ffn, m.kv_dim
    ab = _act_bytes(w)
    sb = s * b
    values = 2 * sb * h  # layer norm inputs
    values += sb * h + sb * h + 2 * sb * kv + sb * h  # qkv input, Q, K+V, out-proj input
    values += sb * h + (4 if m.mlp == "swiglu" else 2) * sb * f  # MLP
    per_layer = values * ab
    if w.attention == "eager":
        # softmax output, plus the dropout mask (1 byte) and dropped scores: 5 bytes in 16-bit
        per_layer += a * s * s * b * (ab + (1.0 + ab if w.dropout else 0.0))
    if w.dropout:
        per_layer += 2 * sb * h  # 1-byte masks after attention and MLP
    stored = layers * sb * h * ab + per_layer if w.gradient_checkpointing else layers * per_layer
    stored += 2 * sb * h * ab  # embedding output and final norm
    if w.vocab_logits and m.vocab:
        stored += sb * m.vocab * (ab + 4.0)
    return stored


def _vision_activation_bytes(w: Workload) -> float:
    m = w.model
    per_sample = (m.activation_mib_per_sample or 0.0) * BYTES_PER_MIB
    if w.precision == "fp32":
        per_sample *= 2
    if w.gradient_checkpointing:
        per_sample *= const("vision_checkpointing_fraction")
    return per_sample * w.micro_batch


def kv_cache_bytes(w: Workload, context: int | None = None, batch: int | None = None) -> float:
    """KV cache: 2 (K and V) × layers × kv_dim × bytes × tokens × sequences.

    vLLM (Kwon et al. 2023, §3, "Large KV cache"): "2 (key and value vectors) × 5120 (hidden
    state size) × 40 (number of layers) × 2 (bytes per FP16)" = 800 KB per token for OPT-13B.
    With grouped-query attention kv_dim = kv_heads × head_dim (Ainslie et al. 2023).
    """
    m = w.model
    if m.kind != "transformer":
        return 0.0
    kv_prec = w.inference.kv_precision or (
        w.precision if w.precision in ("fp32", "bf16", "fp16", "fp8") else "bf16"
    )
    tokens = context if context is not None else w.seq_len
    seqs = batch if batch is not None else w.micro_batch
    return 2.0 * (m.layers or 0) * m.kv_dim * _wbytes(kv_prec) * tokens * seqs


def _inference_activation_bytes(w: Workload) -> float:
    """Transient prefill buffers: one layer's MLP intermediate plus last-token logits in fp32.

    4-bit weights are dequantized to bf16 one matrix at a time before the matmul (bitsandbytes
    ``dequantize_4bit``; HF "Optimizing LLMs for Speed and Memory"), so the largest block
    matrix is live in 16-bit too.
    """
    m = w.model
    if m.kind != "transformer":
        return _vision_activation_bytes(w) / 3  # no stored graph: roughly the live forward
    tokens = w.micro_batch * w.inference.prompt_tokens
    live = tokens * ((m.hidden or 0) + 2 * m.ffn) * 2.0 + w.micro_batch * (m.vocab or 0) * 4.0
    if w.precision == "int4":
        live += (m.hidden or 0) * m.ffn * 2.0
    return live


@dataclass(frozen=True)
class MemoryBytes:
    weights: float
    gradients: float
    optimizer: float
    activations: float
    kv_cache: float
    context: float
    fragmentation: float

    @property
    def allocated(self) -> float:
        return self.weights + self.gradients + self.optimizer + self.activations + self.kv_cache

    @property
    def overhead(self) -> float:
        return self.context + self.fragmentation

    @property
    def total(self) -> float:
        return self.allocated + self.overhead


def memory_bytes(w: Workload, n_gpus: int = 1) -> MemoryBytes:
    """Memory per GPU, by component (see the module docstring for the formulas).

    ZeRO (Rajbhandari et al. 2020, §5): stage 1 shards optimizer states, stage 2 also
    gradients, stage 3 also the weights, each ÷ n. FSDP full-shard is stage 3. Inference with
    n GPUs is tensor parallel (Shoeybi et al. 2019): weights and KV cache ÷ n.
    """
    n = max(int(n_gpus), 1)
    z = w.zero_stage if n > 1 else 0
    pb = param_breakdown(w.model)
    weights = quantized_weight_bytes(w, pb)
    grads = opt = acts = kv = 0.0
    if w.task == "inference":
        weights /= n
        kv = kv_cache_bytes(w) / n
        acts = _inference_activation_bytes(w)
    else:
        if w.adapters:
            trainable = lora_params(w)
            adapter_bytes = 4.0  # PEFT keeps adapters in fp32 (autocast_adapter_dtype=True)
            weights += trainable * adapter_bytes
            grads = trainable * adapter_bytes
            opt = trainable * const("optimizer_state_bytes")[w.optimizer]
        else:
            wb = 4.0 if w.precision == "fp32" else 2.0
            master = const("mixed_precision_master_bytes") if wb < 4 and w.master_weights else 0.0
            grads = pb.total * wb
            opt = pb.total * (const("optimizer_state_bytes")[w.optimizer] + master)
        if z >= 3:
            weights /= n
        if z >= 2:
            grads /= n
        if z >= 1:
            opt /= n
        if w.model.kind == "transformer":
            acts = transformer_activation_bytes(w)
        else:
            acts = _vision_activation_bytes(w)
    context = (
        w.cuda_context_gib if w.cuda_context_gib is not None else const("cuda_context_gib")
    ) * BYTES_PER_GIB
    frag = const("fragmentation_fraction") * (weights + grads + opt + acts + kv)
    return MemoryBytes(weights, grads, opt, acts, kv, context, frag)


def vram_required_gib(workload: Workload | Any, n_gpus: int = 1) -> float:
    """GiB of GPU memory each of ``n_gpus`` GPUs needs for the workload (total per GPU)."""
    w = load_workload(workload)
    return bytes_to_gib(memory_bytes(w, n_gpus).total)


# --- compute ------------------------------------------------------------------------------


def scaling_efficiency(
    n_gpus: int, interconnect: str = "pcie", chip: GpuChip | None = None
) -> float:
    """Multi-GPU scaling efficiency from measured data per interconnect
    (:func:`dlrig.perf.estimate.scaling_efficiency`; docs/performance.md)."""
    from dlrig.perf.estimate import scaling_efficiency as measured_scaling

    return measured_scaling(chip, n_gpus, interconnect)


def effective_tflops(
    chip: GpuChip,
    n_gpus: int = 1,
    precision: str = "bf16",
    utilization: float | None = None,
    interconnect: str = "pcie",
) -> float | None:
    """Sustained model TFLOPS of ``n_gpus`` GPUs of ``chip`` (None: no figure, e.g. bf16 on
    Turing) for the performance model's default mix at ``precision``
    (:func:`dlrig.perf.objective.coefficient`).

    A given ``utilization`` is the job's MFU as papers report it (whole job, all GPUs, PaLM
    accounting): n × the dense peak of the precision's matmul dtype × utilization.
    """
    from dlrig.perf.chips import tensor_tflops
    from dlrig.perf.objective import coefficient

    n = max(int(n_gpus), 1)
    if utilization is not None:
        if not 0 < utilization <= 1:
            raise WorkloadError(
                f"utilization {utilization} is outside (0, 1]", "give a fraction, e.g. 0.4"
            )
        peak = tensor_tflops(chip, precision)
        return None if peak is None else n * peak * utilization
    return coefficient(chip, n, None, precision, interconnect)


def flops_per_token(w: Workload, training: bool = True) -> float:
    """Model FLOPs per token (PaLM/Megatron accounting, :func:`model_flops_per_token`)."""
    return model_flops_per_token(w, training)


def training_tokens(w: Workload) -> float | None:
    """Tokens processed in training: data.tokens (or samples × sequence) × epochs."""
    if w.data.tokens is not None:
        return w.data.tokens * w.data.epochs
    if w.data.samples is not None:
        return w.data.samples * w.seq_len * w.data.epochs
    return None


def training_flops(w: Workload) -> float | None:
    """Model FLOPs of the whole training run (None without a data size).

    Transformers: tokens × model FLOPs per token (6·N·D + attention, PaLM accounting).
    Vision/diffusion: 3 × forward FLOPs per sample × samples × epochs (backward ≈ 2 × forward).
    """
    if w.task == "inference":
        return None
    if w.model.kind == "transformer":
        tokens = training_tokens(w)
        return None if tokens is None else tokens * flops_per_token(w)
    per_sample = _vision_training_flops_per_sample(w.model)
    if w.data.samples is None or per_sample is None:
        return None
    return per_sample * w.data.samples * w.data.epochs


def _vision_training_flops_per_sample(m: ModelSpec) -> float | None:
    """3 × forward FLOPs per sample (backward ≈ 2 × forward); None without forward_gflops."""
    return None if m.forward_gflops is None else 3.0 * m.forward_gflops * 1e9


# --- the performance model's view of a workload (dlrig.perf) ---------------------------------


def workload_class(w: Workload) -> str:
    """The performance model's workload class (docs/performance.md)."""
    if w.task == "inference":
        return "decode-b1" if w.micro_batch == 1 else "decode"
    if w.task in ("lora", "qlora"):
        return w.task
    if w.model.kind != "transformer":
        return "cnn-train"
    return "encoder-finetune" if w.model.arch == "bert" else "llm-train"


def model_flops_per_token(w: Workload, training: bool = True, context: float | None = None) -> float:
    """Model FLOPs per token, attention counted as PaLM (Chowdhery et al. 2022, appendix B)
    and Megatron (Narayanan et al. 2021) do: training 6N + 12·L·h·s, LoRA/QLoRA 4N + 12·L·h·s
    (no weight gradients for the frozen matrices, Hu et al. 2021 §4.2), forward 2N + 4·L·h·s.
    N counts the matmul parameters (Kaplan et al. 2020); recomputation is not counted (MFU).
    """
    m = w.model
    n = param_breakdown(m).matmul
    s = float(context if context is not None else w.seq_len)
    attn_fwd = 4.0 * (m.layers or 0) * (m.hidden or 0) * s
    if not training:
        return 2 * n + attn_fwd
    return (4 if w.adapters else 6) * n + 3 * attn_fwd


def work_of(w: Workload, n_gpus: int = 1, phase: str = "decode") -> Work:
    """The numbers of ``w`` the performance model needs (:class:`dlrig.perf.model.Work`).

    Memory-bound traffic per step: the optimizer step (perf data: optimizer_step_bytes per
    trained parameter; one step per micro-batch, so gradient accumulation makes it smaller);
    QLoRA's NF4 → bf16 dequantisation of every base linear weight in the forward and the
    backward pass (and the recomputed forward); decode's weight and KV-cache reads. Weights
    and KV cache split across ``n_gpus`` for inference (tensor parallel). ``phase``: for an
    inference workload, "decode" (the generated tokens) or "prefill" (the prompt).
    """
    from dlrig.perf.model import Work, model_data

    m = w.model
    cls = workload_class(w)
    pb = param_breakdown(m)
    n = max(int(n_gpus), 1)
    if m.kind != "transformer":
        fwd = (m.forward_gflops or 0.0) * 1e9
        return Work(
            cls=cls if w.trains else "prefill",
            precision=w.precision,
            flops_per_item=3 * fwd if w.trains else fwd,
            item="samples",
            recompute=w.gradient_checkpointing,
            items_per_step=float(w.micro_batch),
            model=m.id,
        )
    perf = model_data()
    if w.task == "inference" and phase == "prefill":
        prompt = w.inference.prompt_tokens
        return Work(
            cls="prefill",
            precision=w.precision,
            flops_per_item=model_flops_per_token(w, training=False, context=prompt / 2),
            hidden=m.hidden,
            layers=m.layers or 0,
            items_per_step=float(w.micro_batch * prompt),
            weight_bytes=quantized_weight_bytes(w, pb) / n,
            model=m.id,
            sequence=prompt,
        )
    if w.task == "inference":
        ctx = w.inference.prompt_tokens + w.inference.new_tokens / 2
        return Work(
            cls=cls,
            precision=w.precision,
            flops_per_item=model_flops_per_token(w, training=False, context=ctx),
            hidden=m.hidden,
            layers=m.layers or 0,
            weight_bytes=quantized_weight_bytes(w, pb) / n,
            kv_bytes=kv_cache_bytes(w, context=int(ctx)) / n,
            batch=w.micro_batch,
            model=m.id,
            sequence=w.seq_len,
        )
    trained = lora_params(w) if w.adapters else pb.total
    step_bytes = perf["optimizer_step_bytes"]["value"][w.optimizer] * trained
    dequant = 0.0
    if w.task == "qlora" or (w.adapters and w.precision in ("int4", "int8")):
        per_weight = perf["dequant_bytes_per_weight"]["value"][
            "int4" if w.precision != "int8" else "int8"
        ]
        passes = 3 if w.gradient_checkpointing else 2
        dequant = pb.linear * per_weight * passes
    return Work(
        cls=cls,
        precision=w.precision,
        flops_per_item=model_flops_per_token(w),
        hidden=m.hidden,
        layers=m.layers or 0,
        recompute=w.gradient_checkpointing,
        items_per_step=float(w.micro_batch * w.seq_len),
        optimizer_bytes_per_step=step_bytes,
        dequant_bytes_per_step=dequant,
        model=m.id,
        sequence=w.seq_len,
    )


# --- result -------------------------------------------------------------------------------


@dataclass
class SizingResult:
    """What :func:`size` returns; ``as_dict()`` is the JSON shape of ``dlrig size --json``."""

    workload: Workload
    chip: GpuChip | None
    n_gpus: int
    interconnect: str
    memory: MemoryBytes
    params: float
    trainable_params: float
    flops: float | None
    time_hours: float | None
    effective_tflops: float | None
    utilization: float | None
    scaling_efficiency: float
    training_tokens_per_s: float | None = None
    prefill_tokens_per_s: float | None = None
    decode_tokens_per_s: float | None = None
    gpus_needed: int | None = None
    system: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # where the headline rate comes from (dlrig.perf.estimate.Estimate), and prefill's
    performance: Estimate | None = None
    prefill_performance: Estimate | None = None

    @property
    def memory_gib(self) -> dict[str, float]:
        m = self.memory
        values = (
            m.weights,
            m.gradients,
            m.optimizer,
            m.activations,
            m.kv_cache,
            m.overhead,
            m.total,
        )
        return {k: bytes_to_gib(v) for k, v in zip(MEMORY_KEYS, values, strict=True)}

    @property
    def vram_per_gpu_gib(self) -> float:
        return bytes_to_gib(self.memory.total)

    @property
    def fits(self) -> bool | None:
        """True when the chip's VRAM holds the per-GPU total; None without a chip or its VRAM."""
        if self.chip is None or self.chip.vram_gib is None:
            return None
        return self.chip.vram_gib >= self.vram_per_gpu_gib

    @property
    def shortfall_gib(self) -> float | None:
        if self.chip is None or self.chip.vram_gib is None:
            return None
        return max(self.vram_per_gpu_gib - self.chip.vram_gib, 0.0)

    @property
    def throughput(self) -> tuple[float | None, str]:
        """The headline rate: tokens/s (decode or training) or samples/s."""
        if self.workload.task == "inference":
            return self.decode_tokens_per_s, "tokens/s"
        return self.training_tokens_per_s, (
            "tokens/s" if self.workload.model.kind == "transformer" else "samples/s"
        )

    def as_dict(self) -> dict[str, Any]:
        w = self.workload
        rate, unit = self.throughput
        return {
            "workload": {
                "task": w.task,
                "model": w.model.id,
                "model_name": w.model.name,
                "precision": w.precision,
                "optimizer": w.optimizer if w.trains else None,
                "micro_batch": w.micro_batch,
                "sequence": w.seq_len if w.model.kind == "transformer" else None,
                "gradient_checkpointing": w.gradient_checkpointing,
                "zero_stage": w.zero_stage,
                "lora_rank": w.lora.rank if w.lora else None,
            },
            "gpu": None
            if self.chip is None
            else {"id": self.chip.id, "name": self.chip.name, "vram_gib": self.chip.vram_gib},
            "n_gpus": self.n_gpus,
            "interconnect": self.interconnect,
            "params": self.params,
            "trainable_params": self.trainable_params,
            "memory_gib": {k: round(v, 3) for k, v in self.memory_gib.items()},
            "vram_per_gpu_gib": round(self.vram_per_gpu_gib, 3),
            "fits": self.fits,
            "shortfall_gib": None if self.shortfall_gib is None else round(self.shortfall_gib, 3),
            "gpus_needed": self.gpus_needed,
            "flops": self.flops,
            "effective_tflops": self.effective_tflops,
            "utilization": self.utilization,
            "scaling_efficiency": round(self.scaling_efficiency, 4),
            "time_hours": self.time_hours,
            "throughput": rate,
            "throughput_unit": unit,
            "prefill_tokens_per_s": self.prefill_tokens_per_s,
            "decode_tokens_per_s": self.decode_tokens_per_s,
            "performance": None if self.performance is None else self.performance.as_dict(),
            "prefill_performance": None
            if self.prefill_performance is None
            else self.prefill_performance.as_dict(),
            "system": self.system,
            "notes": self.notes,
        }


def size(
    workload: Workload | Any,
    chip: GpuChip | None = None,
    n_gpus: int = 1,
    interconnect: str = "pcie",
    utilization: float | None = None,
) -> SizingResult:
    """Size ``workload`` (a Workload, a mapping or a YAML path) on ``n_gpus`` GPUs of ``chip``.

    Memory is per GPU. Throughput and time come from the performance model
    (:func:`dlrig.perf.estimate.estimate`: measured, interpolated or modelled, with its
    expected error); ``utilization`` is the job's MFU (PaLM/Megatron accounting) and replaces
    it. Time needs a data size (``data.tokens`` / ``data.samples``).
    """
    from dlrig.perf.estimate import estimate, validate_interconnect

    w = load_workload(workload)
    if n_gpus < 1:
        raise WorkloadError(f"n_gpus is {n_gpus}", "use at least 1 GPU")
    validate_interconnect(interconnect)
    if utilization is not None and not 0 < utilization <= 1:  # also without a chip
        raise WorkloadError(
            f"utilization {utilization} is outside (0, 1]", "give a fraction, e.g. 0.4"
        )
    mem = memory_bytes(w, n_gpus)
    pb = param_breakdown(w.model)
    trainable = 0.0 if w.task == "inference" else (lora_params(w) if w.adapters else pb.total)
    result = SizingResult(
        workload=w,
        chip=chip,
        n_gpus=n_gpus,
        interconnect=interconnect,
        memory=mem,
        params=pb.total,
        trainable_params=trainable,
        flops=training_flops(w),
        time_hours=None,
        effective_tflops=None,
        utilization=utilization,
        scaling_efficiency=1.0,
    )
    if chip is not None and (w.trains or w.model.kind == "transformer"):
        work = work_of(w, n_gpus)
        est = estimate(chip, work, n_gpus, interconnect, utilization)
        result.performance = est
        result.scaling_efficiency = est.scaling
        if est.rate is not None:
            result.effective_tflops = est.rate * work.flops_per_item / 1e12
            result.utilization = est.mfu
            if w.trains:
                result.training_tokens_per_s = est.rate
                items = training_tokens(w) if w.model.kind == "transformer" else None
                if w.model.kind != "transformer" and w.data.samples is not None:
                    items = w.data.samples * w.data.epochs
                if items is not None:
                    result.time_hours = seconds_to_hours(items / est.rate)
            else:
                result.decode_tokens_per_s = est.rate
                if w.data.tokens is not None:
                    result.time_hours = seconds_to_hours(w.data.tokens / est.rate)
        if w.task == "inference":
            pre = estimate(chip, work_of(w, n_gpus, phase="prefill"), n_gpus, interconnect)
            result.prefill_performance = pre
            result.prefill_tokens_per_s = pre.rate
    if chip is not None and chip.vram_gib is not None:
        result.gpus_needed = gpus_needed(w, chip.vram_gib)
    result.system = system_requirements(w, mem, n_gpus, chip)
    result.notes = _notes(w, chip, result)
    return result


def gpus_needed(w: Workload, vram_gib: float, max_gpus: int = 64) -> int | None:
    """Fewest GPUs of ``vram_gib`` each that hold the workload (training with ZeRO-3 when more
    than one is needed, inference tensor parallel); None when even ``max_gpus`` do not."""
    for n in (1, 2, 4, 8, 16, 32, 64):
        if n > max_gpus:
            break
        trial = w if n == 1 or not w.trains else w.model_copy(update={"zero_stage": 3})
        if bytes_to_gib(memory_bytes(trial, n).total) <= vram_gib:
            return n
    return None


def system_requirements(
    w: Workload, mem: MemoryBytes, n_gpus: int, chip: GpuChip | None
) -> dict[str, float]:
    """System RAM, CPU threads and storage (constants: cpu_threads_per_gpu, system_ram_base_gib,
    bytes_per_token_stored, bytes_per_image_stored, checkpoints_kept).

    RAM ≥ total VRAM (Dettmers' hardware guide: at least the GPU memory, for pinned staging and
    checkpoint loading) and ≥ the 16-bit weights, plus a base for the OS and data loaders.
    Storage: the dataset plus ``checkpoints_kept`` checkpoints (weights + optimizer states).
    """
    per_gpu_gib = bytes_to_gib(mem.total)
    vram_gib = chip.vram_gib if chip is not None and chip.vram_gib else per_gpu_gib
    pb = param_breakdown(w.model)
    weights16_gib = bytes_to_gib(pb.total * 2)
    ram = max(vram_gib * n_gpus, weights16_gib) + float(const("system_ram_base_gib"))
    threads = int(const("cpu_threads_per_gpu")[w.model.kind]) * n_gpus + 2
    dataset_gb = 0.0
    if w.trains:
        if w.model.kind == "transformer":
            tokens = w.data.tokens or (
                w.data.samples * w.seq_len if w.data.samples is not None else 0.0
            )
            per_tok = const("bytes_per_token_stored") * (2 if (w.model.vocab or 0) > 65536 else 1)
            dataset_gb = bytes_to_gb(tokens * per_tok)
        elif w.data.samples is not None:
            dataset_gb = bytes_to_gb(w.data.samples * const("bytes_per_image_stored"))
    if w.trains:
        # full training: 16 bytes/param (ZeRO); LoRA: fp32 adapters + AdamW states
        ckpt_bytes = lora_params(w) * (4 + 8) if w.adapters else pb.total * 16
    else:
        ckpt_bytes = quantized_weight_bytes(w, pb)
    checkpoints_gb = bytes_to_gb(ckpt_bytes * (const("checkpoints_kept") if w.trains else 1))
    return {
        "ram_gib": round(ram, 1),
        "cpu_threads": threads,
        "dataset_gb": round(dataset_gb, 1),
        "checkpoints_gb": round(checkpoints_gb, 1),
        "storage_gb": round(dataset_gb + checkpoints_gb, 1),
    }


def _notes(w: Workload, chip: GpuChip | None, r: SizingResult) -> list[str]:
    notes: list[str] = []
    if r.fits is False and r.shortfall_gib is not None:
        notes.append(
            f"needs {r.vram_per_gpu_gib:.1f} GiB per GPU, {r.shortfall_gib:.1f} GiB more than "
            f"the {chip.name if chip else 'GPU'}'s {chip.vram_gib if chip else 0:g} GiB; "
            + "; ".join(fit_options(w, r.n_gpus))
        )
    perf = r.performance
    if chip is not None and perf is not None and perf.rate is None:
        notes.append(f"no throughput: {perf.reason}")
    if w.trains and r.flops is None:
        notes.append("no data size given (data.tokens or data.samples): no time-to-train")
    if w.model.kind == "diffusion":
        notes.append("diffusion FLOPs and activation figures are estimates (see docs/sizing.md)")
    return notes


def fit_options(w: Workload, n_gpus: int = 1) -> list[str]:
    """Ways to cut memory per GPU, for messages (smaller batch, checkpointing, LoRA, ZeRO-3)."""
    opts: list[str] = []
    if w.micro_batch > 1 and w.trains:
        opts.append(f"a smaller micro-batch (now {w.micro_batch}) with gradient accumulation")
    elif w.micro_batch > 1:
        opts.append(f"fewer concurrent sequences (now {w.micro_batch}) or a shorter context")
    if w.trains and not w.gradient_checkpointing:
        opts.append("gradient checkpointing")
    if w.task in ("train", "finetune"):
        opts.append("LoRA or QLoRA instead of full fine-tuning")
    elif w.task == "lora":
        opts.append("QLoRA (4-bit base weights)")
    if w.trains and w.optimizer == "adamw":
        opts.append("8-bit AdamW")
    if w.task == "inference" and w.precision in ("fp32", "bf16", "fp16"):
        opts.append("8-bit or 4-bit weights")
    if w.trains and (w.zero_stage < 3 or n_gpus == 1):
        opts.append("more GPUs with ZeRO-3 / FSDP")
    elif w.task == "inference":
        opts.append("more GPUs with tensor parallelism")
    return opts


# --- ranking every chip for a workload (dlrig gpus) -------------------------------------------
RANK_SORT_KEYS = ("fit", "perf", "price", "perf-per-dollar", "perf-per-watt")


def rank_chips(
    chips: list[GpuChip],
    w: Workload | None,
    n_gpus: int = 1,
    interconnect: str = "pcie",
    utilization: float | None = None,
    sort: str = "fit",
) -> list[dict[str, Any]]:
    """One row per chip: fits, perf (tokens/s, samples/s or TFLOPS), price, perf/$ and perf/W.

    Without a workload, perf is the performance model's default mix in effective model TFLOPS
    (docs/performance.md). Every row says where its figure comes from (provenance: measured,
    interpolated, modelled, given) and its expected error. ``sort``: fit (fitting chips
    first, then fastest), perf, price (cheapest first), perf-per-dollar, perf-per-watt. Chips
    without a price sort last on the price keys.
    """
    if n_gpus < 1:
        raise InputError(f"gpus is {n_gpus}", "use at least 1 GPU")
    if sort not in RANK_SORT_KEYS:
        raise InputError(
            f"unknown sort key '{sort}'", "choose one of: " + ", ".join(RANK_SORT_KEYS)
        )
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
            from dlrig.perf.objective import mix_estimate

            est = mix_estimate(chip, n_gpus, interconnect)
            row.update(
                fits=None,
                vram_needed_gib=None,
                time_hours=None,
                perf=est.rate,
                perf_unit=est.unit,
            )
        else:
            r = size(w, chip, n_gpus, interconnect, utilization)
            rate, unit = r.throughput
            est = r.performance
            row.update(
                fits=r.fits,
                vram_needed_gib=round(r.vram_per_gpu_gib, 2),
                time_hours=r.time_hours,
                perf=rate,
                perf_unit=unit,
                gpus_needed=r.gpus_needed,
            )
        row.update(
            provenance=None if est is None else est.provenance,
            expected_error=None if est is None else est.expected_error,
            perf_note=None if est is None else (est.reason or est.basis),
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


def gpu_ranking(
    chips: list[GpuChip],
    w: Workload | None,
    n_gpus: int = 1,
    interconnect: str = "pcie",
    utilization: float | None = None,
    sort: str = "fit",
) -> dict[str, Any]:
    """The JSON ``dlrig gpus --json`` prints: the workload, the sort and the ranked rows."""
    rows = rank_chips(chips, w, n_gpus, interconnect, utilization, sort)
    return {
        "workload": None if w is None else w.describe(),
        "n_gpus": n_gpus,
        "sort": sort,
        "gpus": rows,
    }
