"""Workload loading: presets, aliases, YAML files, and clear errors for bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlrig.errors import WorkloadError
from dlrig.workload import load_workload, model_presets, resolve_model

EXAMPLES = Path(__file__).parents[1] / "examples" / "workloads"


def test_presets_have_sources_and_required_families() -> None:
    presets = model_presets()
    for pid in (
        "gpt2-124m",
        "gpt2-355m",
        "gpt2-774m",
        "gpt2-1.5b",
        "llama-2-7b",
        "llama-2-13b",
        "llama-2-70b",
        "llama-3.1-8b",
        "llama-3.1-70b",
        "mistral-7b",
        "qwen2.5-0.5b",
        "qwen2.5-72b",
        "bert-base",
        "bert-large",
        "resnet-50",
        "vit-b-16",
        "sd15-unet",
        "sdxl-unet",
    ):
        assert pid in presets
    assert all(m.source.startswith("https://") for m in presets.values())


def test_resolve_model_by_alias_and_case() -> None:
    assert resolve_model("Llama-3-8B").id == "llama-3.1-8b"
    assert resolve_model("gpt2").id == "gpt2-124m"
    assert resolve_model("BERT-Large-Uncased").id == "bert-large"


def test_unknown_preset_did_you_mean() -> None:
    with pytest.raises(WorkloadError) as exc:
        load_workload({"model": "llama-3.1-8", "task": "lora"})
    assert "unknown model preset" in exc.value.message
    assert "did you mean" in exc.value.hint and "llama-3.1-8b" in exc.value.hint


def test_every_example_loads() -> None:
    files = sorted(EXAMPLES.glob("*.yaml"))
    assert len(files) >= 5
    for f in files:
        w = load_workload(f)
        assert w.model.id != "custom"


def test_aliases_and_number_suffixes() -> None:
    w = load_workload(
        {
            "task": "SFT",
            "model": "mistral",
            "precision": "bfloat16",
            "optimizer": "paged_adamw_8bit",
            "batch_size": 2,
            "seq_len": 1024,
            "data": {"tokens": "1.5B"},
        }
    )
    assert (w.task, w.precision, w.optimizer) == ("finetune", "bf16", "adamw8bit")
    assert (w.micro_batch, w.seq_len) == (2, 1024)
    assert w.data.tokens == 1.5e9


def test_qlora_defaults_to_int4_and_lora_all_linear() -> None:
    w = load_workload({"task": "qlora", "model": "llama-2-7b", "lora": {"targets": "all-linear"}})
    assert w.precision == "int4" and w.lora is not None and len(w.lora.targets) == 7


def test_fsdp_means_zero3_and_raw_model() -> None:
    w = load_workload(
        {"model": {"params": "7B", "layers": 32, "hidden": 4096, "vocab": 32000}, "fsdp": True}
    )
    assert w.zero_stage == 3 and w.model.params == 7e9


@pytest.mark.parametrize(
    ("data", "message", "hint"),
    [
        ({"model": "gpt2", "micro_batch": 0}, "micro_batch is 0", "≥ 1"),
        ({"model": "gpt2", "sequence": -5}, "sequence is -5", "≥ 1"),
        ({"model": {"params": -1e9}}, "model.params is -1000000000", "positive"),
        (
            {"model": "llama-2-7b", "task": "lora", "lora": {"rank": 8192}},
            "LoRA rank 8192 exceeds the hidden size 4096",
            "rank",
        ),
        ({"model": "llama-2-7b", "task": "train", "precision": "4bit"}, "without LoRA", "qlora"),
        ({"model": "llama-2-7b", "task": "finetune", "precision": "int8"}, "without LoRA", "qlora"),
        ({"model": "llama-2-7b", "task": "qlora", "precision": "bf16"}, "quantized base", "lora"),
        (
            {"model": "gpt2", "micro_batchh": 4},
            "unknown field 'micro_batchh'",
            "did you mean 'micro_batch'",
        ),
        ({"model": "gpt2", "task": "pretraining"}, "task", "train"),
        ({"model": "gpt2", "sequence": 4096}, "exceeds GPT-2 124M's context 1024", "1024"),
        ({"task": "train"}, "no model given", "model"),
        (
            {"model": "llama-2-7b", "task": "lora", "lora": {"targets": ["qkv"]}},
            "unknown LoRA target",
            "q_proj",
        ),
        ({"model": {"layers": 12}}, "needs params", "see docs"),
    ],
)
def test_bad_input_is_a_workload_error(data: dict, message: str, hint: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(WorkloadError) as exc:
        load_workload(data)
    assert message in exc.value.message
    assert hint in exc.value.hint


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(WorkloadError, match="file not found"):
        load_workload(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("task: lora\nmodel: [llama\n", encoding="utf-8")
    with pytest.raises(WorkloadError) as exc:
        load_workload(bad)
    assert str(bad) in exc.value.message and "not valid YAML" in exc.value.message


def test_relative_path_uses_base_dir() -> None:
    w = load_workload("llama3-8b-lora.yaml", base_dir=EXAMPLES)
    assert w.task == "lora"


def test_workload_from_flags_lays_flags_over_the_file() -> None:
    from dlrig.workload import workload_from_flags

    w = workload_from_flags(
        EXAMPLES / "llama3-8b-lora.yaml", batch=2, seq=512, lora_rank=32, tokens="1B"
    )
    assert (w.task, w.micro_batch, w.sequence) == ("lora", 2, 512)
    assert w.lora is not None and w.lora.rank == 32 and w.data.tokens == 1e9
    base = load_workload(EXAMPLES / "llama3-8b-lora.yaml")
    assert w.lora.targets == base.lora.targets  # type: ignore[union-attr]  # the file's, kept
    flags_only = workload_from_flags(model="llama-3.1-8b", task="qlora", checkpointing=True)
    assert flags_only.precision == "int4" and flags_only.gradient_checkpointing is True
    with pytest.raises(WorkloadError, match="no workload given"):
        workload_from_flags(task="lora")
    with pytest.raises(WorkloadError, match="file not found"):
        workload_from_flags("nope.yaml", model="llama-3.1-8b")


def test_parse_workload_text_never_opens_a_path(tmp_path: Path) -> None:
    from dlrig.workload import parse_workload_text

    secret = tmp_path / "secret.yaml"
    secret.write_text("model: llama-3.1-8b\n", encoding="utf-8")
    with pytest.raises(WorkloadError, match="must be a mapping"):
        parse_workload_text(str(secret))
    assert parse_workload_text("model: x\ntask: lora\n") == {"model": "x", "task": "lora"}
    assert parse_workload_text("") == {}
    with pytest.raises(WorkloadError, match=r"^workload:2: not valid YAML"):
        parse_workload_text("model: x\n  task: [\n")


def test_lora_rank_flag_overrides_shorthand_rank(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from dlrig.workload import workload_from_flags

    path = tmp_path / "w.yaml"
    path.write_text("task: lora\nmodel: llama-3.1-8b\nlora: 16\n", encoding="utf-8")
    assert workload_from_flags(path, lora_rank=8).lora.rank == 8
    assert workload_from_flags(path).lora.rank == 16
