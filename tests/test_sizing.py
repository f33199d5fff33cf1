"""Sizing formulas: parameter counts, memory components, ZeRO, FLOPs, throughput."""

from __future__ import annotations

import math

import pytest

from dlrig.parts import GpuChip
from dlrig.sizing import (
    MEMORY_KEYS,
    count_params,
    effective_tflops,
    lora_params,
    memory_bytes,
    size,
    transformer_activation_bytes,
    vram_required_gib,
)
from dlrig.units import BYTES_PER_GIB
from dlrig.workload import load_workload, model_presets

RTX_4090 = GpuChip(
    id="rtx-4090",
    name="GeForce RTX 4090",
    vendor="nvidia",
    architecture="Ada",
    bf16_tflops=165.2,
    fp16_tflops=165.2,
    fp32_tflops=82.6,
    memory_bandwidth_gb_s=1008,
    vram_gib=24,
    tdp_w=450,
    launch_price_usd=1599,
    source="https://www.nvidia.com/en-us/geforce/graphics-cards/40-series/",
)
NO_TC = GpuChip(
    id="gtx",
    name="GTX",
    vendor="nvidia",
    architecture="Pascal",
    fp32_tflops=11.3,
    vram_gib=11,
    source="x",
)


def test_param_counts_match_published_configs() -> None:
    for m in model_presets().values():
        computed = count_params(m)
        if computed is not None:
            assert m.params is not None
            assert abs(computed / m.params - 1) < 0.01, m.id


def test_lora_params_match_peft_llama7b() -> None:
    # PEFT prints "trainable params: 4,194,304" for LLaMA-7B, r=8 on q_proj and v_proj.
    w = load_workload(
        {
            "task": "lora",
            "model": "llama-2-7b",
            "lora": {"rank": 8, "targets": ["q_proj", "v_proj"]},
        }
    )
    assert lora_params(w) == 4_194_304


def test_korthikanti_formula_is_recovered() -> None:
    # GPT block, 16-bit, dropout, materialised scores: sbh(34 + 5as/h) per layer.
    s, b, h, a, layers = 1024, 4, 768, 12, 12
    w = load_workload(
        {
            "model": "gpt2-124m",
            "micro_batch": b,
            "sequence": s,
            "attention": "eager",
            "dropout": True,
            "vocab_logits": False,
        }
    )
    per_layer = s * b * h * (34 + 5 * a * s / h)
    expected = layers * per_layer + 2 * s * b * h * 2
    assert transformer_activation_bytes(w) == pytest.approx(expected)


def test_checkpointing_and_flash_cut_activations() -> None:
    base = {"task": "finetune", "model": "llama-2-7b", "micro_batch": 2, "sequence": 4096}
    eager = transformer_activation_bytes(load_workload({**base, "attention": "eager"}))
    flash = transformer_activation_bytes(load_workload(base))
    ckpt = transformer_activation_bytes(load_workload({**base, "gradient_checkpointing": True}))
    assert ckpt < flash < eager
    assert ckpt < flash / 5


def test_zero_stages_shard_in_order() -> None:
    totals = []
    for z in range(4):
        m = memory_bytes(load_workload({"model": "llama-2-7b", "zero_stage": z}), 8)
        totals.append((m.weights, m.gradients, m.optimizer))
    (w0, g0, o0), (w1, g1, o1), (w2, g2, _), (w3, _, _) = totals
    assert o1 == pytest.approx(o0 / 8) and g1 == g0 and w1 == w0
    assert g2 == pytest.approx(g0 / 8) and w2 == w0
    assert w3 == pytest.approx(w0 / 8)


def test_mixed_precision_adam_is_16_bytes_per_param() -> None:
    m = memory_bytes(load_workload({"model": {"params": 1e9}, "precision": "bf16"}))
    assert (m.weights + m.gradients + m.optimizer) / 1e9 == pytest.approx(16)
    m32 = memory_bytes(load_workload({"model": {"params": 1e9}, "precision": "fp32"}))
    assert (m32.weights + m32.gradients + m32.optimizer) / 1e9 == pytest.approx(16)
    m8 = memory_bytes(load_workload({"model": {"params": 1e9}, "optimizer": "adamw8bit"}))
    assert (m8.weights + m8.gradients + m8.optimizer) / 1e9 == pytest.approx(10)


def test_qlora_below_lora_below_full() -> None:
    base = {
        "model": "llama-3.1-8b",
        "micro_batch": 1,
        "sequence": 1024,
        "gradient_checkpointing": True,
    }
    full = vram_required_gib({**base, "task": "finetune"})
    lora = vram_required_gib({**base, "task": "lora"})
    qlora = vram_required_gib({**base, "task": "qlora"})
    assert qlora < lora < full
    assert qlora < 16 < lora < 24 < full


def test_result_shape_and_fit() -> None:
    r = size(
        {
            "task": "lora",
            "model": "llama-3.1-8b",
            "micro_batch": 1,
            "sequence": 1024,
            "gradient_checkpointing": True,
            "data": {"tokens": 1e8},
        },
        RTX_4090,
    )
    d = r.to_dict()
    assert set(d["memory_gib"]) == set(MEMORY_KEYS)
    parts = sum(v for k, v in d["memory_gib"].items() if k != "total_per_gpu")
    assert parts == pytest.approx(d["memory_gib"]["total_per_gpu"], abs=0.01)
    assert d["fits"] is True and r.fits is True
    assert d["time_hours"] is not None and d["time_hours"] > 0
    # 4N + 6·L·s·h per token; N excludes the untied input embedding (a lookup, not a matmul)
    n_matmul = 8_030_261_248 - 128_256 * 4096
    assert d["flops"] == pytest.approx(1e8 * (4 * n_matmul + 6 * 32 * 1024 * 4096), rel=1e-6)
    assert d["system"]["cpu_threads"] >= 2 and d["system"]["ram_gib"] >= 24


def test_does_not_fit_reports_shortfall_and_gpus_needed() -> None:
    r = size(
        {
            "task": "finetune",
            "model": "llama-3.1-8b",
            "micro_batch": 1,
            "sequence": 1024,
            "gradient_checkpointing": True,
        },
        RTX_4090,
    )
    assert r.fits is False and r.shortfall_gib is not None and r.shortfall_gib > 50
    assert r.gpus_needed is not None and r.gpus_needed >= 8
    assert any("ZeRO-3" in n for n in r.notes)


def test_effective_tflops() -> None:
    assert effective_tflops(RTX_4090) == pytest.approx(165.2 * 0.40)
    two = effective_tflops(RTX_4090, 2, interconnect="pcie")
    assert two == pytest.approx(2 * 165.2 * 0.40 * 0.92)
    assert effective_tflops(RTX_4090, 4, utilization=0.5) == pytest.approx(4 * 165.2 * 0.5)
    assert effective_tflops(NO_TC, precision="bf16") is None
    assert effective_tflops(NO_TC, precision="fp32") == pytest.approx(11.3 * 0.4)
    assert effective_tflops(RTX_4090, precision="int4") == pytest.approx(165.2 * 0.4)


def test_time_scales_inversely_with_gpus_and_utilization() -> None:
    w = {
        "task": "train",
        "model": "gpt2-124m",
        "micro_batch": 16,
        "sequence": 1024,
        "data": {"tokens": 1e9},
    }
    t1 = size(w, RTX_4090, utilization=0.5).time_hours
    t4 = size(w, RTX_4090, n_gpus=4, utilization=0.5).time_hours
    assert t1 is not None and t4 is not None and t4 == pytest.approx(t1 / 4)
    ckpt = size({**w, "gradient_checkpointing": True}, RTX_4090, utilization=0.5).time_hours
    assert ckpt == pytest.approx(t1 * 4 / 3, rel=1e-3)


def test_inference_decode_is_bandwidth_bound() -> None:
    r = size({"task": "inference", "model": "llama-3.1-8b", "precision": "bf16"}, RTX_4090)
    assert r.fits is True
    # 16.06 GB of weights + KV read per token at 80% of 1008 GB/s: about 50 tokens/s.
    assert r.decode_tokens_per_s == pytest.approx(1008e9 * 0.8 / 16.15e9, rel=0.02)
    assert r.prefill_tokens_per_s is not None and r.prefill_tokens_per_s > 1000
    q = size({"task": "inference", "model": "llama-3.1-8b", "precision": "int4"}, RTX_4090)
    assert q.decode_tokens_per_s is not None and q.decode_tokens_per_s > 2.5 * 49


def test_inference_kv_cache_grows_with_batch_and_shards_over_gpus() -> None:
    w = {"task": "inference", "model": "llama-3.1-70b", "precision": "int4", "sequence": 8192}
    one = size({**w, "micro_batch": 1}).memory_gib["kv_cache"]
    eight = size({**w, "micro_batch": 8}).memory_gib["kv_cache"]
    assert eight == pytest.approx(8 * one)
    assert one == pytest.approx(2 * 80 * 1024 * 2 * 8192 / BYTES_PER_GIB)
    assert size({**w, "micro_batch": 8}, n_gpus=2).memory_gib["kv_cache"] == pytest.approx(
        eight / 2
    )


def test_vision_training_time() -> None:
    w = {
        "task": "train",
        "model": "resnet-50",
        "precision": "fp16",
        "optimizer": "sgd",
        "micro_batch": 256,
        "data": {"samples": 1_281_167, "epochs": 90},
    }
    r = size(w, RTX_4090)
    assert r.flops == pytest.approx(3 * 8.18e9 * 1_281_167 * 90)
    assert r.time_hours is not None and math.isfinite(r.time_hours)
    assert r.system["dataset_gb"] == pytest.approx(147, rel=0.01)
    assert r.system["cpu_threads"] == 10


def test_bad_interconnect_and_gpu_count() -> None:
    from dlrig.errors import WorkloadError

    with pytest.raises(WorkloadError, match="interconnect"):
        size({"model": "gpt2"}, interconnect="infiniband-ish")
    with pytest.raises(WorkloadError):
        size({"model": "gpt2"}, n_gpus=0)
    with pytest.raises(WorkloadError, match="utilization"):
        effective_tflops(RTX_4090, utilization=1.5)


def test_every_sizing_constant_has_a_source_and_the_file_a_date() -> None:
    import datetime as dt
    from importlib import resources

    import yaml

    from dlrig.sizing import constants

    doc = yaml.safe_load(
        (resources.files("dlrig") / "sizing_data" / "constants.yaml").read_text("utf-8")
    )
    assert isinstance(doc["as_of"], dt.date)
    assert len(constants()) >= 15
    for name, row in constants().items():
        assert "value" in row, name
        assert len(str(row.get("source", ""))) > 10, name
