"""Workloads: what the user wants to run (task, model, precision, optimizer, batch, data).

A workload is a YAML file or a mapping with the same fields as the ``dlrig size`` flags::

    task: lora                 # train | finetune | lora | qlora | inference
    model: llama-3.1-8b        # a preset id/name, or a mapping of raw numbers (ModelSpec)
    precision: bf16            # fp32 | bf16 | fp16 | fp8 | int8 | int4 (alias 4bit, nf4)
    optimizer: adamw           # adamw | adamw8bit | sgd | adafactor
    micro_batch: 4             # sequences (or images) per GPU per step
    sequence: 2048             # tokens per sequence (context for inference)
    gradient_checkpointing: true
    zero_stage: 0              # 0-3 (DeepSpeed ZeRO); fsdp: true is stage 3
    lora: {rank: 16, targets: [q_proj, k_proj, v_proj, o_proj]}
    data: {tokens: 1e9, epochs: 1}   # or samples: 1281167
    framework: torchtune       # named profile of defaults (sizing_data/frameworks.yaml)

Framework-dependent settings (mixed_precision, adapter_dtype, loss, ...) default to None: the
framework profile fills them (docs/sizing.md lists each profile's defaults and sources).

Model presets (``sizing_data/models.yaml``) carry the numbers of each model's published config
and a source. Bad input raises :class:`~dlrig.errors.WorkloadError` with a hint.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from dlrig.errors import WorkloadError, validation_problem
from dlrig.textfile import load_data_yaml

Task = Literal["train", "finetune", "lora", "qlora", "inference"]
Precision = Literal["fp32", "bf16", "fp16", "fp8", "int8", "int4"]
Optimizer = Literal["adamw", "adamw8bit", "sgd", "adafactor"]
ModelKind = Literal["transformer", "vision", "diffusion"]
Framework = Literal[
    "hf-trainer", "torchtune", "deepspeed", "fsdp", "litgpt", "unsloth", "vllm", "llama.cpp"
]
MixedPrecision = Literal["amp", "master", "pure"]
AdapterDtype = Literal["fp32", "bf16", "fp16"]
LossImpl = Literal["full", "chunked", "fused"]
Offload = Literal["none", "optimizer", "params"]

FRAMEWORKS: tuple[str, ...] = (
    "hf-trainer",
    "torchtune",
    "deepspeed",
    "fsdp",
    "litgpt",
    "unsloth",
    "vllm",
    "llama.cpp",
)

TASKS: tuple[str, ...] = ("train", "finetune", "lora", "qlora", "inference")
PRECISIONS: tuple[str, ...] = ("fp32", "bf16", "fp16", "fp8", "int8", "int4")
OPTIMIZERS: tuple[str, ...] = ("adamw", "adamw8bit", "sgd", "adafactor")

# Spellings users write → canonical names.
_PRECISION_ALIASES = {
    "float32": "fp32",
    "tf32": "fp32",
    "bfloat16": "bf16",
    "float16": "fp16",
    "half": "fp16",
    "mixed": "bf16",
    "amp": "bf16",
    "4bit": "int4",
    "4-bit": "int4",
    "nf4": "int4",
    "q4": "int4",
    "8bit": "int8",
    "8-bit": "int8",
    "e4m3": "fp8",
}
_OPTIMIZER_ALIASES = {
    "adam": "adamw",
    "adamw_torch": "adamw",
    "adam8bit": "adamw8bit",
    "adamw-8bit": "adamw8bit",
    "adamw_8bit": "adamw8bit",
    "paged_adamw_8bit": "adamw8bit",
    "paged_adamw_32bit": "adamw",
    "paged_adamw": "adamw",
    "sgd-momentum": "sgd",
    "sgdm": "sgd",
}
_TASK_ALIASES = {
    "pretrain": "train",
    "training": "train",
    "full-finetune": "finetune",
    "fine-tune": "finetune",
    "sft": "finetune",
    "infer": "inference",
    "serve": "inference",
    "generate": "inference",
}
_FRAMEWORK_ALIASES = {
    "hf": "hf-trainer",
    "transformers": "hf-trainer",
    "trainer": "hf-trainer",
    "huggingface": "hf-trainer",
    "peft": "hf-trainer",
    "trl": "hf-trainer",
    "lit-gpt": "litgpt",
    "ds": "deepspeed",
    "llamacpp": "llama.cpp",
    "llama-cpp": "llama.cpp",
    "ollama": "llama.cpp",
    "pytorch-fsdp": "fsdp",
}
# Linear modules LoRA can target in a transformer block (HF / PEFT names).
LORA_MODULES: tuple[str, ...] = (
    "q_proj",
    "k_proj",
    "v_proj",
    "o_proj",
    "gate_proj",
    "up_proj",
    "down_proj",
)
_LORA_ALIASES = {"all-linear": LORA_MODULES, "all": LORA_MODULES, "attention": LORA_MODULES[:4]}


# Upper bounds on workload numbers: far above any real model or run (our judgement), low enough
# that every product the sizing formulas form stays a finite float. A number field not listed
# here is bounded by MAX_WORKLOAD_NUMBER (dimensions, head counts, ranks, parallel degrees).
MAX_WORKLOAD_NUMBER = 10_000_000
_UPPER: dict[str, float] = {
    "params": 1e15,  # 1,000x the largest published dense models
    "vision_params": 1e15,
    "tokens": 1e18,
    "samples": 1e18,
    "epochs": 1e6,
    "context": 1e8,
    "sequence": 1e8,
    "decoder_sequence": 1e8,
    "prompt_tokens": 1e8,
    "new_tokens": 1e8,
    "micro_batch": 1e6,
    "layers": 1e5,
    "decoder_layers": 1e5,
    "forward_gflops": 1e12,
    "activation_mib_per_sample": 1e9,
    "cuda_context_gib": 1024,
}
MAX_WORKLOAD_VALUES = 5_000  # values in a workload file after alias expansion


class _Strict(BaseModel):
    """Fields forbid unknown keys; numbers are finite and bounded, whole numbers strict
    (``micro_batch: true`` or ``4.5`` is refused, not read as 1 or 4)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _plain_number(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        if field is None:
            return value
        kinds = set(get_args(field.annotation)) or {field.annotation}
        if not kinds & {int, float}:
            return value
        if isinstance(value, bool):
            raise ValueError(f"must be a number, not {str(value).lower()}")
        if isinstance(value, int | float):
            limit = _UPPER.get(info.field_name or "", MAX_WORKLOAD_NUMBER)
            if abs(value) > limit:  # also NaN is refused (allow_inf_nan), after this check
                raise ValueError(f"must be at most {limit:,.0f}")
        return value


class ModelSpec(_Strict):
    """A model's shape. Presets fill every field; raw specs need params or the transformer shape.

    Counts are plain numbers (decimal): ``params`` is the total parameter count.
    """

    id: str = "custom"
    name: str = "custom model"
    aliases: tuple[str, ...] = ()
    kind: ModelKind = "transformer"
    arch: Literal["gpt2", "bert", "llama", "qwen2", "t5", "generic"] = "generic"
    params: float | None = Field(default=None, gt=0)
    layers: int | None = Field(default=None, ge=1)
    hidden: int | None = Field(default=None, ge=1)
    heads: int | None = Field(default=None, ge=1)
    kv_heads: int | None = Field(default=None, ge=1)
    intermediate: int | None = Field(default=None, ge=1)
    vocab: int | None = Field(default=None, ge=1)
    context: int | None = Field(default=None, ge=1)
    mlp: Literal["gelu", "swiglu"] = "gelu"
    tie_embeddings: bool = False
    decoder_layers: int | None = Field(
        default=None, ge=1, description="encoder-decoder: decoder blocks (layers = encoder)"
    )
    experts: int | None = Field(default=None, ge=1, description="MoE: experts per MoE layer")
    experts_per_token: int | None = Field(default=None, ge=1, description="MoE: routed top-k")
    vision_params: float | None = Field(
        default=None, gt=0, description="vision-language: vision tower + projector parameters"
    )
    image_tokens: int | None = Field(
        default=None, ge=1, description="vision-language: LLM tokens one image becomes"
    )
    forward_gflops: float | None = Field(
        default=None, gt=0, description="FLOPs per sample, forward (vision/diffusion)"
    )
    image_size: int | None = Field(default=None, ge=1)
    activation_mib_per_sample: float | None = Field(default=None, gt=0)
    source: str = "user input"

    @model_validator(mode="after")
    def _complete(self) -> ModelSpec:
        if self.kind == "transformer":
            if self.params is None and None in (self.layers, self.hidden, self.vocab):
                raise ValueError(
                    "a transformer model needs params, or layers + hidden + vocab to count them"
                )
            if self.heads is not None and self.hidden is not None and self.hidden % self.heads:
                raise ValueError(f"hidden {self.hidden} is not divisible by heads {self.heads}")
            if self.kv_heads is not None and self.heads is not None and self.kv_heads > self.heads:
                raise ValueError(f"kv_heads {self.kv_heads} exceeds heads {self.heads}")
            if self.experts_per_token is not None and (
                self.experts is None or self.experts_per_token > self.experts
            ):
                raise ValueError("experts_per_token needs experts and must not exceed it")
        elif self.params is None:
            raise ValueError(f"a {self.kind} model needs params")
        return self

    @property
    def is_moe(self) -> bool:
        """Whether the model is a mixture of experts."""
        return (self.experts or 1) > 1

    @property
    def active_experts(self) -> int:
        """Experts each token passes through (1 for a dense model)."""
        if not self.is_moe:
            return 1
        return self.experts_per_token or 1

    @property
    def ffn(self) -> int:
        """Feed-forward width (intermediate size); 4 x hidden when not given (GPT-2, BERT)."""
        if self.intermediate is not None:
            return self.intermediate
        return 4 * (self.hidden or 0)

    @property
    def n_kv_heads(self) -> int:
        """Key/value heads (the attention heads when not grouped)."""
        return self.kv_heads or self.heads or 1

    @property
    def head_dim(self) -> int:
        """Hidden size per attention head."""
        return (self.hidden or 0) // (self.heads or 1)

    @property
    def kv_dim(self) -> int:
        """Width of the K (or V) projection: kv_heads x head_dim (hidden for plain MHA)."""
        if self.kv_heads is None or self.heads is None:
            return self.hidden or 0
        return self.kv_heads * self.head_dim


class LoraSpec(_Strict):
    """LoRA adapter settings: rank, alpha, dropout, target modules."""

    rank: int = Field(default=16, ge=1)
    alpha: float | None = None
    dropout: float = Field(default=0.0, ge=0, lt=1, description="lora_dropout (PEFT default 0)")
    targets: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj")


class DataSpec(_Strict):
    """The training data: tokens or samples per epoch, and epochs."""

    tokens: float | None = Field(default=None, gt=0, description="training tokens per epoch")
    samples: float | None = Field(default=None, gt=0, description="samples (images) per epoch")
    epochs: float = Field(default=1.0, gt=0)


class InferenceSpec(_Strict):
    """Inference settings: prompt and new tokens, KV-cache precision, full logits."""

    prompt_tokens: int = Field(default=512, ge=1)
    new_tokens: int = Field(default=256, ge=1)
    kv_precision: Precision | None = None
    full_logits: bool | None = Field(
        default=None,
        description="prefill computes logits for every prompt token (None: framework default)",
    )


class Workload(_Strict):
    """One workload. ``model`` is resolved to a :class:`ModelSpec` (preset or raw numbers)."""

    task: Task = "train"
    model: ModelSpec
    precision: Precision = "bf16"
    optimizer: Optimizer = "adamw"
    micro_batch: int = Field(default=1, ge=1)
    sequence: int | None = Field(default=None, ge=1, description="tokens per sequence")
    gradient_checkpointing: bool = False
    attention: Literal["flash", "sdpa", "eager"] = "flash"
    dropout: bool = False
    vocab_logits: bool = Field(
        default=True, description="language-model head over the vocabulary (False: classifier)"
    )
    zero_stage: int = Field(default=0, ge=0, le=3)
    master_weights: bool = True
    framework: Framework | None = None
    mixed_precision: MixedPrecision | None = None
    adapter_dtype: AdapterDtype | None = None
    paged_optimizer: bool = False
    loss: LossImpl | None = None
    cpu_offload: Offload = "none"
    optimizer_in_backward: bool = False
    activation_offload: bool | None = None
    tensor_parallel: int = Field(default=1, ge=1)
    pipeline_parallel: int = Field(default=1, ge=1)
    decoder_sequence: int | None = Field(
        default=None, ge=1, description="encoder-decoder: target tokens per sample"
    )
    images: int = Field(default=0, ge=0, description="vision-language: images per sample")
    lora: LoraSpec | None = None
    data: DataSpec = DataSpec()
    inference: InferenceSpec = InferenceSpec()
    quant_bits: float | None = Field(
        default=None,
        gt=0,
        le=16,
        description="bits per quantized weight incl. scales (default: NF4 + double quant 4.127)",
    )
    cuda_context_gib: float | None = Field(default=None, ge=0)
    name: str | None = None

    @property
    def seq_len(self) -> int:
        """Sequence length used for sizing: the workload's, else the model's context, else 2048.

        A vision-language model's images add ``images × image_tokens`` tokens to the text.
        """
        return self.text_len + self.images * (self.model.image_tokens or 0)

    @property
    def text_len(self) -> int:
        """Tokens per sequence: the given length, else prompt + new tokens for inference, else
        the model's context up to 2,048."""
        if self.sequence is not None:
            return self.sequence
        if self.task == "inference":
            return self.inference.prompt_tokens + self.inference.new_tokens
        return min(self.model.context or 2048, 2048)

    @property
    def trains(self) -> bool:
        """Whether the task trains (anything but inference)."""
        return self.task != "inference"

    @property
    def adapters(self) -> bool:
        """Whether the task trains adapters (LoRA, QLoRA)."""
        return self.task in ("lora", "qlora")

    def describe(self) -> str:
        """One line for tables: 'lora Llama 3.1 8B, bf16, batch 4 x 2048'."""
        unit = "tokens" if self.model.kind == "transformer" else "px"
        size = self.seq_len if self.model.kind == "transformer" else self.model.image_size
        return f"{self.task} {self.model.name}, {self.precision}, batch {self.micro_batch}" + (
            f" × {size} {unit}" if size else ""
        )


# --- presets ------------------------------------------------------------------------------


@cache
def model_presets() -> dict[str, ModelSpec]:
    """Preset id → ModelSpec, from ``sizing_data/models.yaml``."""
    text = (resources.files("dlrig") / "sizing_data" / "models.yaml").read_text(encoding="utf-8")
    rows = load_data_yaml(text) or []
    return {row["id"]: ModelSpec.model_validate(row) for row in rows}


def _norm(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum() or ch == ".")


def resolve_model(name: str) -> ModelSpec:
    """The preset ``name`` refers to (id, name or alias; case and punctuation ignored)."""
    presets = model_presets()
    key = _norm(name)
    for spec in presets.values():
        if key in {_norm(spec.id), _norm(spec.name), *(_norm(a) for a in spec.aliases)}:
            return spec
    from rapidfuzz import fuzz, process

    labels = {spec.id: spec.id for spec in presets.values()}
    for spec in presets.values():
        for alias in spec.aliases:
            labels[alias] = spec.id
    hits = process.extract(name.lower(), list(labels), scorer=fuzz.WRatio, limit=6)
    close: list[str] = []
    for label, score, _ in hits:
        if score >= 60 and labels[label] not in close:
            close.append(labels[label])
    hint = (
        "did you mean " + " or ".join(f"'{c}'" for c in close[:3]) + "?"
        if close
        else "list presets with `dlrig size --list-models`, or give raw numbers "
        "(model: {params: 7e9, layers: 32, hidden: 4096, ...})"
    )
    raise WorkloadError(f"unknown model preset '{name}'", hint)


# --- loading ------------------------------------------------------------------------------

_FIELD_HINTS = {
    "micro_batch": "micro_batch must be a whole number ≥ 1 (sequences per GPU per step)",
    "sequence": "sequence must be a whole number of tokens ≥ 1",
    "zero_stage": "zero_stage is 0, 1, 2 or 3",
    "task": "task is one of: " + ", ".join(TASKS),
    "precision": "precision is one of: " + ", ".join(PRECISIONS),
    "optimizer": "optimizer is one of: " + ", ".join(OPTIMIZERS),
    "data.tokens": "give a token count above 0, e.g. 10B, 125M or 1e9 (a count, not bytes)",
    "data.samples": "give a sample count above 0, e.g. 1281167 or 1.2M",
    "data.epochs": "give a number of epochs above 0, e.g. 1 or 0.5",
    "lora.rank": "give a LoRA rank of 1 or more, e.g. 16",
    "framework": "framework is one of: " + ", ".join(FRAMEWORKS),
    "mixed_precision": "mixed_precision is amp, master or pure (see docs/sizing.md)",
    "adapter_dtype": "adapter_dtype is fp32, bf16 or fp16",
    "loss": "loss is full, chunked or fused",
    "cpu_offload": "cpu_offload is none, optimizer or params",
    "tensor_parallel": "tensor_parallel must be a whole number ≥ 1",
    "pipeline_parallel": "pipeline_parallel must be a whole number ≥ 1",
}


@cache
def framework_profiles() -> dict[str, dict[str, Any]]:
    """Framework name → its profile of defaults (``sizing_data/frameworks.yaml``)."""
    text = (resources.files("dlrig") / "sizing_data" / "frameworks.yaml").read_text("utf-8")
    data = load_data_yaml(text) or {}
    return {k: v for k, v in data.items() if isinstance(v, dict)}


def load_workload(
    path_or_mapping: str | Path | Mapping[str, Any] | Workload, base_dir: str | Path | None = None
) -> Workload:
    """A validated :class:`Workload` from a YAML file path, a preset-bearing mapping, or a Workload.

    ``base_dir`` resolves a relative path (e.g. the folder of the build file that names it).
    Raises :class:`WorkloadError` with the file, the field at fault and a fix.
    """
    if isinstance(path_or_mapping, Workload):
        return path_or_mapping
    if isinstance(path_or_mapping, str | Path):
        path = Path(path_or_mapping)
        if base_dir is not None and not path.is_absolute():
            path = Path(base_dir) / path
        return workload_from_mapping(_read_workload_file(path), where=str(path))
    return workload_from_mapping(_mapping(path_or_mapping, "workload"), where="workload")


def _read_workload_file(
    path: str | Path,
    hint: str = "give the path of a YAML workload file (see examples/workloads/)",
) -> dict[str, Any]:
    """The fields in the workload file at ``path`` (not yet validated).

    WorkloadError when the file is missing, a directory, not UTF-8 text or not a YAML mapping;
    ``hint`` is the fix offered for a missing file.
    """
    from dlrig.textfile import read_text

    p = Path(path)
    text = read_text(
        p, "workload file (YAML)", lambda message, h: WorkloadError(f"{p}: {message}", h), hint
    )
    return parse_workload_text(text, str(p))


def parse_workload_text(text: str, where: str = "workload") -> dict[str, Any]:
    """The fields in the YAML text of a workload file (empty text: no fields).

    WorkloadError (``where:LINE: not valid YAML``) on bad YAML, or when the text is not a
    mapping. Never reads a file, whatever the text says.
    """
    from dlrig.textfile import TextError, parse_yaml

    try:
        data = parse_yaml(text, max_nodes=MAX_WORKLOAD_VALUES).data
    except TextError as exc:
        line = f":{exc.line}" if exc.line is not None else ""
        message = exc.message
        if message.startswith("invalid YAML: "):
            message = f"not valid YAML ({message.removeprefix('invalid YAML: ')})"
        raise WorkloadError(f"{where}{line}: {message}", exc.hint) from None
    return _mapping({} if data is None else data, where)


def _mapping(data: Any, where: str) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise WorkloadError(
            f"{where}: a workload must be a mapping of fields",
            "write e.g. 'task: lora' and 'model: llama-3.1-8b' on separate lines",
        )
    return dict(data)


def workload_from_flags(
    path: str | Path | Mapping[str, Any] | None = None,
    *,
    task: str | None = None,
    model: str | None = None,
    precision: str | None = None,
    optimizer: str | None = None,
    batch: int | None = None,
    seq: int | None = None,
    checkpointing: bool | None = None,
    zero: int | None = None,
    lora_rank: int | None = None,
    tokens: str | None = None,
    samples: str | None = None,
    epochs: float | None = None,
    framework: str | None = None,
) -> Workload:
    """The workload of the ``dlrig size`` / ``dlrig gpus`` flags: the workload file at ``path``
    (or the workload-file fields ``path`` maps) with every flag that is not None laid over.

    Every front door of ``size`` and ``gpus`` builds its workload here (see dlrig.app).
    """
    data: dict[str, Any] = {}
    where = "workload"
    if isinstance(path, Mapping):
        data = dict(path)
    elif path is not None:
        where = str(path)
        data = _read_workload_file(
            path, "give a YAML workload file (see examples/workloads/), or --model PRESET"
        )
        workload_from_mapping(data, where)  # the file must be valid on its own (file errors)
    flags: dict[str, Any] = {
        "task": task,
        "model": model,
        "precision": precision,
        "optimizer": optimizer,
        "micro_batch": batch,
        "sequence": seq,
        "gradient_checkpointing": checkpointing,
        "zero_stage": zero,
        "framework": framework,
    }
    data.update({k: v for k, v in flags.items() if v is not None})
    if lora_rank is not None:
        # `lora: 16` in a file is shorthand for the rank; the flag overrides the rank only
        existing = data.get("lora")
        data["lora"] = {**(existing if isinstance(existing, Mapping) else {}), "rank": lora_rank}
    extra = {"tokens": tokens, "samples": samples, "epochs": epochs}
    extra = {k: v for k, v in extra.items() if v is not None}
    existing_data = data.get("data")
    if extra and existing_data is not None and not isinstance(existing_data, Mapping):
        raise WorkloadError(
            f"{where}: data must be a mapping, found {type(existing_data).__name__}",
            "write e.g. data: {tokens: 1e9, epochs: 1}",
        )
    if extra:
        data["data"] = {**(existing_data or {}), **extra}
    if "model" not in data:
        raise WorkloadError(
            "no workload given", "pass a workload file, or --model PRESET (see --list-models)"
        )
    return workload_from_mapping(data, where=where)


def workload_from_mapping(data: dict[str, Any], where: str = "workload") -> Workload:
    """Normalise aliases, resolve the model preset, validate, and check feasibility."""
    data = dict(data)
    if "model" not in data and "parts" in data:
        raise WorkloadError(
            f"{where}: this is a build file (it lists parts), not a workload",
            "check a build with `dlrig check FILE`; size a workload with a file that has "
            "model: and task: (see examples/workloads/)",
        )
    if "model" not in data:
        raise WorkloadError(
            f"{where}: no model given", "add 'model: <preset>' (e.g. llama-3.1-8b) or raw numbers"
        )
    data["model"] = _model(data["model"], where)
    _canon(data, "task", _TASK_ALIASES)
    _canon(data, "precision", _PRECISION_ALIASES)
    optimizer = data.get("optimizer")
    if isinstance(optimizer, str) and optimizer.strip().lower().startswith("paged"):
        data.setdefault("paged_optimizer", True)  # paged_adamw_8bit / paged_adamw_32bit
    _canon(data, "optimizer", _OPTIMIZER_ALIASES)
    _canon(data, "framework", _FRAMEWORK_ALIASES)
    for key in ("batch", "batch_size"):
        if key in data and "micro_batch" not in data:
            data["micro_batch"] = data.pop(key)
    for key in ("seq_len", "sequence_length", "context"):
        if key in data and "sequence" not in data:
            data["sequence"] = data.pop(key)
    if data.pop("fsdp", False):
        data["zero_stage"] = 3
    for key in ("micro_batch", "sequence"):
        value = data.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and value <= 0:
            raise WorkloadError(f"{where}: {key} is {value}", _FIELD_HINTS[key])
    lora = data.get("lora")
    if isinstance(lora, int) and not isinstance(lora, bool):
        data["lora"] = {"rank": lora}
    elif isinstance(lora, Mapping):
        lora = dict(lora)
        targets = lora.get("targets")
        if isinstance(targets, str):
            lora["targets"] = _LORA_ALIASES.get(targets, (targets,))
        data["lora"] = lora
    if data.get("task") in ("lora", "qlora") and data.get("lora") is None:
        data["lora"] = {}
    if data.get("task") == "qlora" and "precision" not in data:
        data["precision"] = "int4"
    if data.get("task") == "qlora" and "gradient_checkpointing" not in data:
        # QLoRA paper setup (artidoro/qlora: gradient_checkpointing=True by default)
        data["gradient_checkpointing"] = True
    profile = framework_profiles().get(str(data.get("framework")), {})
    for key, value in (profile.get("workload") or {}).items():
        data.setdefault(key, value)
    data_spec = data.get("data")
    if isinstance(data_spec, Mapping):
        data["data"] = {k: _number(v) for k, v in data_spec.items()}
    try:
        workload = Workload.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(exc, where) from exc
    _check_feasible(workload, where)
    return workload


def _model(value: Any, where: str) -> ModelSpec:
    if isinstance(value, ModelSpec):
        return value
    if isinstance(value, str):
        return resolve_model(value)
    if isinstance(value, Mapping):
        raw = dict(value)
        base: dict[str, Any] = {}
        if "preset" in raw:  # a preset with overrides
            base = resolve_model(str(raw.pop("preset"))).model_dump()
        for key in ("params", "forward_gflops"):
            if key in raw:
                raw[key] = _number(raw[key])
        for key, val in raw.items():
            if isinstance(val, int | float) and not isinstance(val, bool) and val <= 0:
                raise WorkloadError(
                    f"{where}: model.{key} is {val}", f"model.{key} must be a positive number"
                )
        try:
            return ModelSpec.model_validate({**base, **raw})
        except ValidationError as exc:
            raise _validation_error(exc, where, prefix="model.") from exc
    raise WorkloadError(
        f"{where}: model must be a preset name or a mapping of numbers",
        "write 'model: llama-3.1-8b' or 'model: {params: 7e9, layers: 32, hidden: 4096}'",
    )


def _number(value: Any) -> Any:
    """Accept '1e9', '10B', '1.5T', '125M' as numbers."""
    if isinstance(value, str):
        text = value.strip().replace("_", "").replace(",", "")
        scale = {"k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12}.get(text[-1:].lower())
        try:
            return float(text[:-1]) * scale if scale else float(text)
        except ValueError:
            return value
    return value


def _canon(data: dict[str, Any], key: str, aliases: dict[str, str]) -> None:
    value = data.get(key)
    if isinstance(value, str):
        low = value.strip().lower()
        data[key] = aliases.get(low, low)


def _validation_error(exc: ValidationError, where: str, prefix: str = "") -> WorkloadError:
    first = exc.errors()[0]
    loc = ".".join(str(x) for x in first["loc"])
    field = str(first["loc"][0]) if first["loc"] else ""
    msg = validation_problem(first)
    if first["type"] == "extra_forbidden":
        known = ModelSpec.model_fields if prefix else Workload.model_fields
        from rapidfuzz import process

        close = process.extractOne(field, list(known))
        hint = (
            f"did you mean '{prefix}{close[0]}'?"
            if close and close[1] > 70
            else "known fields: " + ", ".join(known)
        )
        return WorkloadError(f"{where}: unknown field '{prefix}{loc}'", hint)
    hint = _FIELD_HINTS.get(loc) or _FIELD_HINTS.get(
        field, "see docs/sizing.md for the workload fields"
    )
    return WorkloadError(f"{where}: {prefix}{loc}: {msg}", hint)


def _check_feasible(w: Workload, where: str) -> None:
    """Reject combinations that cannot run (with the fix)."""
    quantized = w.precision in ("int8", "int4")
    if w.trains and quantized and not w.adapters:
        raise WorkloadError(
            f"{where}: {w.precision} {w.task} without LoRA is not possible: quantized weights "
            "cannot be trained directly",
            "use task: qlora (4-bit base + LoRA adapters), or precision bf16 for full training",
        )
    if w.task == "qlora" and not quantized:
        raise WorkloadError(
            f"{where}: qlora needs a quantized base (precision int4 or int8), got {w.precision}",
            "drop precision (qlora defaults to int4), or use task: lora for a 16-bit base",
        )
    if w.lora is not None and w.model.kind == "transformer":
        hidden = w.model.hidden
        if hidden is not None and w.lora.rank > hidden:
            raise WorkloadError(
                f"{where}: LoRA rank {w.lora.rank} exceeds the hidden size {hidden}",
                f"choose a rank well below {hidden} (8-64 is typical)",
            )
        unknown = [t for t in w.lora.targets if t not in LORA_MODULES]
        if unknown:
            raise WorkloadError(
                f"{where}: unknown LoRA target module(s) {', '.join(unknown)}",
                "targets are: " + ", ".join(LORA_MODULES) + " (or 'all-linear')",
            )
    if w.adapters and w.model.kind != "transformer":
        raise WorkloadError(
            f"{where}: LoRA sizing is supported for transformer models only",
            "use task: finetune for vision and diffusion models",
        )
    _check_parallel(w, where)
    ctx = w.model.context
    seq = w.sequence
    if w.model.kind == "transformer" and seq is not None and ctx is not None and seq > ctx:
        raise WorkloadError(
            f"{where}: sequence {seq} exceeds {w.model.name}'s context {ctx}",
            f"use a sequence of at most {ctx} tokens",
        )


def _check_parallel(w: Workload, where: str) -> None:
    """Offload, parallelism and multimodal inputs that cannot apply to this workload."""
    if w.task == "inference" and (w.cpu_offload != "none" or w.paged_optimizer):
        raise WorkloadError(
            f"{where}: cpu_offload / paged_optimizer apply to training, not inference",
            "drop them, or use a smaller precision (int8, int4) to fit the weights",
        )
    if w.optimizer_in_backward and w.zero_stage >= 2:
        raise WorkloadError(
            f"{where}: optimizer_in_backward cannot be combined with ZeRO stage {w.zero_stage}",
            "use zero_stage 0 or 1 with optimizer_in_backward, or drop it",
        )
    heads = w.model.heads
    if heads is not None and heads % w.tensor_parallel:
        raise WorkloadError(
            f"{where}: tensor_parallel {w.tensor_parallel} does not divide "
            f"{w.model.name}'s {heads} attention heads",
            "choose a tensor-parallel size that divides the head count (1, 2, 4, 8)",
        )
    layers = w.model.layers
    if layers is not None and w.pipeline_parallel > layers:
        raise WorkloadError(
            f"{where}: pipeline_parallel {w.pipeline_parallel} exceeds {layers} layers",
            f"use at most {layers} pipeline stages",
        )
    if w.images and not w.model.image_tokens:
        raise WorkloadError(
            f"{where}: images given, but {w.model.name} has no image_tokens",
            "use a vision-language preset, or add model.image_tokens",
        )
    if w.decoder_sequence is not None and w.model.decoder_layers is None:
        raise WorkloadError(
            f"{where}: decoder_sequence given, but {w.model.name} is not an encoder-decoder",
            "drop decoder_sequence, or give model.decoder_layers",
        )
