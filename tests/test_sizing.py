"""Sizing formulas: parameter counts, memory components, ZeRO, FLOPs, throughput."""

from __future__ import annotations

import math

import pytest

from dlrig.errors import WorkloadError
from dlrig.parts import GpuChip
from dlrig.perf.roofline import fitted
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
    # stage 3: the 1/8 shard plus two all-gathered blocks (computing + prefetched), 32 blocks
    assert w3 == pytest.approx(w0 / 8 + 2 * w0 / 32)


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
    assert d["flops"] == pytest.approx(1e8 * (4 * n_matmul + 12 * 32 * 1024 * 4096), rel=1e-6)
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
    # a given utilisation is MFU of the dense peak of the precision's matmul dtype
    assert effective_tflops(RTX_4090, 4, utilization=0.5) == pytest.approx(4 * 165.2 * 0.5)
    assert effective_tflops(RTX_4090, utilization=0.5, precision="int4") == pytest.approx(
        165.2 * 0.5
    )
    assert effective_tflops(NO_TC, precision="bf16") is None
    assert effective_tflops(NO_TC, precision="fp32", utilization=0.4) == pytest.approx(11.3 * 0.4)
    # without one, the performance model's default mix: two cards do more than one, less than 2x
    one, two = effective_tflops(RTX_4090), effective_tflops(RTX_4090, 2, interconnect="pcie")
    assert one is not None and two is not None and one < two < 2 * one


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
    # MFU counts model FLOPs: at a given MFU recomputation does not change the time...
    ckpt = size({**w, "gradient_checkpointing": True}, RTX_4090, utilization=0.5).time_hours
    assert ckpt == pytest.approx(t1, rel=1e-9)
    # ...but the model's own estimate pays for the extra forward pass
    base = size(w, RTX_4090).time_hours
    slow = size({**w, "gradient_checkpointing": True}, RTX_4090).time_hours
    assert base is not None and slow is not None and slow > base * 1.1


def test_inference_decode_is_bandwidth_bound() -> None:
    r = size({"task": "inference", "model": "llama-3.1-8b", "precision": "bf16"}, RTX_4090)
    assert r.fits is True
    # 16.06 GB of weights + KV read per token at the fitted decode efficiency of 1008 GB/s
    # (0.86; the 4090's 128 SMs stream more than that, so memory binds) plus 32 layers x the
    # fitted latency, x the 4090's own decode residual (it was measured at fp16): ~53 tokens/s.
    fit = fitted()
    per_token_s = 16.15e9 / (1008e9 * fit["decode"]["bandwidth_efficiency"])
    per_token_s += 32 * fit["decode"]["layer_latency_us"] * 1e-6
    residual = fit["chip_residuals"]["decode-b1"]["rtx-4090"]
    assert r.decode_tokens_per_s == pytest.approx(residual / per_token_s, rel=0.02)
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


@pytest.mark.parametrize(("model", "gpu_gib"), [("llama-1-33b", 24.0), ("llama-1-65b", 48.0)])
def test_qlora_paper_runs_fit(model: str, gpu_gib: float) -> None:
    # QLoRA (Dettmers et al. 2023): Guanaco 33B on one 24 GB GPU, 65B on one 48 GB GPU, with
    # artidoro/qlora's setup: NF4 + double quant, r=64 on all linear layers, bf16 adapters,
    # paged 32-bit AdamW, gradient checkpointing, batch 1, 16 + 512 tokens.
    w = {
        "framework": "hf-trainer",
        "task": "qlora",
        "model": model,
        "optimizer": "paged_adamw_32bit",
        "adapter_dtype": "bf16",
        "micro_batch": 1,
        "sequence": 528,
        "lora": {"rank": 64, "targets": "all-linear", "dropout": 0.05},
    }
    need = vram_required_gib(w)
    assert need <= gpu_gib
    # without paging and with fp32 adapters the same run needs more memory
    assert vram_required_gib({**w, "optimizer": "adamw", "adapter_dtype": "fp32"}) > need


LLAMA_405B = {
    "name": "Llama 3.1 405B",
    "arch": "llama",
    "params": 405.85e9,
    "layers": 126,
    "hidden": 16384,
    "heads": 128,
    "kv_heads": 8,
    "intermediate": 53248,
    "vocab": 128256,
    "mlp": "swiglu",
    "context": 131072,
}


@pytest.mark.parametrize(
    ("model", "published_gb"),
    [("mistral-7b", 19), ("llama-3.1-8b", 22), ("llama-3.1-70b", 164), (LLAMA_405B, 950)],
)
def test_lora_matches_unsloths_minimum(model: object, published_gb: float) -> None:
    # Unsloth requirements table, "LoRA (16-bit) VRAM" (docs.unsloth.ai, unsloth-requirements),
    # with Unsloth's notebook defaults: batch 2 x 2048, r=16 on all linear layers, 8-bit AdamW.
    w = {
        "framework": "unsloth",
        "task": "lora",
        "model": model,
        "micro_batch": 2,
        "sequence": 2048,
        "optimizer": "adamw8bit",
        "lora": {"rank": 16, "targets": "all-linear"},
    }
    need_gb = memory_bytes(load_workload(w)).total / 1e9
    # within the training tolerance (the table gives no batch or sequence: a minimum, not a
    # measurement of one configuration)
    assert 0.85 * published_gb <= need_gb <= 1.15 * published_gb


def test_tensor_and_pipeline_parallel_split_memory() -> None:
    # Korthikanti et al. 2022 §4.2.2-4.2.3: with sequence parallelism TP divides activations by
    # t; the first pipeline stage holds p micro-batches of L/p layers (= L layers of one);
    # model states divide by t x p (Megatron-LM), ZeRO then works over the data-parallel rest.
    base = {"model": "llama-2-7b", "micro_batch": 1, "sequence": 2048, "vocab_logits": False}
    one = load_workload(base)
    tp4 = load_workload({**base, "tensor_parallel": 4})
    pp2 = load_workload({**base, "pipeline_parallel": 2})
    assert transformer_activation_bytes(tp4) == pytest.approx(transformer_activation_bytes(one) / 4)
    assert transformer_activation_bytes(pp2) == pytest.approx(transformer_activation_bytes(one))
    m1, m4, m8 = memory_bytes(one), memory_bytes(tp4, 4), memory_bytes(tp4, 8)
    assert m4.weights == pytest.approx(m1.weights / 4)
    assert m8.weights == pytest.approx(m4.weights)  # 8 GPUs = TP 4 x DP 2, no ZeRO
    assert memory_bytes(pp2, 2).weights == pytest.approx(m1.weights / 2)
    with pytest.raises(WorkloadError, match="cannot be split"):
        memory_bytes(tp4, 6)


def test_moe_stores_all_experts_and_activates_top_k() -> None:
    from dlrig.sizing import param_breakdown

    mixtral = load_workload({"task": "inference", "model": "mixtral-8x7b"})
    pb = param_breakdown(mixtral.model)
    assert pb.total == pytest.approx(46.7e9, rel=0.01)
    dense = {**mixtral.model.model_dump(), "experts": None, "experts_per_token": None}
    dense.pop("params")
    moe_train = load_workload({"model": "mixtral-8x7b", "sequence": 1024, "vocab_logits": False})
    dense_train = load_workload({"model": dense, "sequence": 1024, "vocab_logits": False})
    # two of eight experts run per token: the MLP activations double, not eightfold
    ratio = transformer_activation_bytes(moe_train) / transformer_activation_bytes(dense_train)
    assert 1.5 < ratio < 2.0


def test_encoder_decoder_and_vision_language_inputs() -> None:
    t0 = load_workload({"task": "finetune", "model": "t0-3b", "sequence": 512})
    short = load_workload({**t0.model_dump(), "model": "t0-3b", "decoder_sequence": 8})
    assert transformer_activation_bytes(short) < transformer_activation_bytes(t0)
    llava = load_workload({"task": "inference", "model": "llava-1.5-7b", "images": 1})
    assert llava.seq_len == 512 + 256 + 576
    # the vision tower stays 16-bit when the language model is quantized
    q = memory_bytes(
        load_workload({"task": "inference", "model": "llava-1.5-7b", "precision": "int4"})
    )
    assert q.weights > 324.5e6 * 2
    with pytest.raises(WorkloadError, match="image_tokens"):
        load_workload({"task": "inference", "model": "llama-2-7b", "images": 1})


def test_framework_profiles_change_memory_the_documented_way() -> None:
    base = {"task": "lora", "model": "llama-3.1-8b", "micro_batch": 2, "sequence": 2048}
    hf = memory_bytes(load_workload({**base, "framework": "hf-trainer"}))
    tt = memory_bytes(load_workload({**base, "framework": "torchtune"}))
    un = memory_bytes(load_workload({**base, "framework": "unsloth"}))
    assert tt.gradients == pytest.approx(hf.gradients / 2)  # bf16 vs fp32 adapters
    assert tt.activations < hf.activations  # chunked loss
    assert un.activations < tt.activations  # fused loss, offloaded checkpoints
    ds = load_workload({**base, "task": "finetune", "framework": "deepspeed"})
    off = memory_bytes(ds.model_copy(update={"cpu_offload": "optimizer"}))
    assert off.optimizer == 0 and off.gradients < memory_bytes(ds).gradients
    obw = memory_bytes(ds.model_copy(update={"optimizer_in_backward": True}))
    assert obw.gradients < memory_bytes(ds).gradients / 10
    assert load_workload({**base, "framework": "torchtune"}).zero_stage == 3
    assert load_workload({**base, "framework": "ollama"}).framework == "llama.cpp"


def test_system_ram_follows_the_workload_not_the_total_vram() -> None:
    from dlrig.sizing import system_requirements

    a100 = RTX_4090.model_copy(update={"id": "a100", "name": "A100", "vram_gib": 80})
    gpt2 = load_workload(
        {"model": "gpt2-124m", "micro_batch": 64, "sequence": 1024, "data": {"tokens": "10B"}}
    )
    ram = system_requirements(gpt2, memory_bytes(gpt2, 8), 8, a100)["ram_gib"]
    assert 80 < ram < 160  # largest GPU + base + workers + dataset cache; was 656 (8 x 80 + 16)
    serve = load_workload({"task": "inference", "model": "llama-3.1-70b", "precision": "int4"})
    ram = system_requirements(serve, memory_bytes(serve, 2), 2, RTX_4090)["ram_gib"]
    assert 38 < ram < 64  # one copy of the 4-bit weights + base; was 147
    ft = load_workload({"task": "finetune", "model": "llama-3.1-8b", "framework": "deepspeed"})
    off = ft.model_copy(update={"cpu_offload": "optimizer"})
    plain = system_requirements(ft, memory_bytes(ft), 1, RTX_4090)["ram_gib"]
    offloaded = system_requirements(off, memory_bytes(off), 1, RTX_4090)["ram_gib"]
    assert offloaded - plain > 8e9 * 12 / BYTES_PER_GIB  # fp32 master + Adam states on the CPU


def test_qlora_ram_need_does_not_grow_with_the_gpu_count() -> None:
    # issue 13: "total VRAM + 16 GiB" dropped a fourth GPU from a $20,000 QLoRA plan
    from dlrig.sizing import system_requirements

    w = load_workload({"model": "llama-3.1-8b", "task": "qlora"})
    ram = [system_requirements(w, memory_bytes(w, n), n, RTX_4090)["ram_gib"] for n in (1, 4)]
    assert ram[1] - ram[0] < 8  # only loader workers and staging grow with the GPU count
    assert ram[1] < 64


def test_vllm_notes_its_up_front_reservation() -> None:
    big = RTX_4090.model_copy(update={"vram_gib": 80})
    w = {"framework": "vllm", "task": "inference", "model": "llama-3.1-8b"}
    r = size(w, big)
    note = next(n for n in r.notes if "reserves 90%" in n)
    assert "72.0 GiB" in note and "KV cache" in note
    assert not any("reserves" in n for n in size({**w, "framework": "hf-trainer"}, big).notes)
