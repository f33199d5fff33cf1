"""The performance model: precisions, provenance, scaling, the planner's objective (issue 12)."""

from __future__ import annotations

import pytest

from dlrig.catalog import open_catalog
from dlrig.errors import WorkloadError
from dlrig.parts import GpuChip
from dlrig.perf import chips as C
from dlrig.perf import roofline as M
from dlrig.perf.estimate import estimate, scaling_efficiency
from dlrig.sizing import objective_coefficient as coefficient
from dlrig.sizing import size, work_of
from dlrig.workload import load_workload

CAT = open_catalog()


def chip(cid: str) -> GpuChip:
    return CAT.chip(cid)


QLORA_8B = {
    "task": "qlora",
    "model": "llama-3.1-8b",
    "precision": "int4",
    "micro_batch": 4,
    "sequence": 2048,
    "gradient_checkpointing": True,
}


# --- what a chip's figures mean ------------------------------------------------------------


def test_turing_has_no_bf16_and_fp16_stays() -> None:
    titan = chip("titan-rtx")
    assert C.tensor_tflops(titan, "bf16") is None
    assert C.tensor_tflops(titan, "fp16") == pytest.approx(130.5)
    assert "no bf16" in C.why_no_rate(titan, "bf16")
    assert coefficient(titan, 2, None, "bf16") is None
    assert coefficient(titan, 2, None, "fp16") is not None


def test_geforce_accumulate_and_tf32_rates() -> None:
    g = chip("rtx-4090")
    assert C.tensor_tflops(g, "bf16") == pytest.approx(165.2)  # FP32 accumulate (training)
    assert C.tensor_tflops(g, "fp16", accumulate="fp16") == pytest.approx(330.4)
    assert C.tensor_tflops(chip("rtx-6000-ada"), "fp16", accumulate="fp16") == pytest.approx(364.2)
    assert C.tensor_tflops(g, "tf32") == pytest.approx(82.6)
    assert C.tensor_tflops(chip("v100-sxm2-16gb"), "tf32") == pytest.approx(15.7)  # fp32 rate
    assert C.tensor_tflops(g, "int4") == pytest.approx(165.2)  # dequantised to bf16


def test_segments_and_memory_kinds() -> None:
    assert C.segment(chip("rtx-3090")) == "consumer"
    assert C.segment(chip("titan-rtx")) == "consumer"
    assert C.segment(chip("rtx-6000-ada")) == "workstation"
    assert C.segment(chip("rtx-pro-6000-blackwell")) == "workstation"
    assert C.segment(chip("h100-pcie")) == "datacenter"
    assert C.memory_kind(chip("a100-pcie-40gb")) == "hbm"
    assert C.memory_kind(chip("rtx-4090")) == "gddr"
    assert C.power_class(chip("rtx-3090")) == C.power_class(chip("a100-sxm4-80gb")) == "ampere"
    assert C.power_class(chip("rtx-6000-ada")) == C.power_class(chip("h100-pcie")) == "tsmc-4n"
    assert C.power_class(chip("rtx-pro-6000-blackwell")) == "tsmc-4n"
    assert C.power_class(chip("v100-sxm2-16gb")) == "tsmc-12"


def test_power_cap_binds_for_full_rate_workstation_boards_not_geforce() -> None:
    p = M.fitted()
    ada = chip("rtx-6000-ada")
    assert M.achievable_tflops(ada, 364.2, p) < 0.8 * 364.2  # 300 W, full-rate tensor cores
    g = chip("rtx-4090")
    assert M.achievable_tflops(g, 165.2, p) == pytest.approx(165.2)  # half-rate FP32 accumulate


def test_every_catalog_chip_gets_a_speed_or_says_why() -> None:
    for c in CAT.chips:
        value = coefficient(c, 1, None, "bf16" if c.bf16_tflops else "fp16")
        if value is None:
            assert C.why_no_rate(c, "fp16"), c.id
        else:
            assert value > 0, c.id
    assert coefficient(chip("rtx-pro-6000-blackwell"), 1) is not None


def test_a10g_resolves_and_has_no_training_rate() -> None:
    a10g = chip("a10g")
    assert a10g.memory_bandwidth_gb_s == pytest.approx(600.2)
    w = load_workload({"task": "inference", "model": "llama-3.1-8b", "precision": "int4"})
    assert estimate(a10g, work_of(w)).rate is not None  # decode: bandwidth-bound
    train = estimate(a10g, work_of(load_workload(QLORA_8B)))
    assert train.rate is None and train.reason and "publishes no dense tensor rate" in train.reason


# --- the issue's examples ---------------------------------------------------------------


def test_qlora_l4_and_a10_not_faster_than_3090() -> None:
    rate = {c: size(QLORA_8B, chip(c)).training_tokens_per_s for c in ("rtx-3090", "l4", "a10")}
    assert rate["l4"] is not None and rate["a10"] is not None and rate["rtx-3090"] is not None
    assert rate["l4"] < rate["rtx-3090"] and rate["a10"] < rate["rtx-3090"]


def test_bert_large_fp16_h100_vs_v100_is_the_measured_ratio() -> None:
    w = {"task": "finetune", "model": "bert-large", "precision": "fp16", "micro_batch": 8,
         "sequence": 384}  # fmt: skip
    h100 = size(w, chip("h100-sxm")).performance
    v100 = size(w, chip("v100-sxm2-16gb")).performance
    assert h100 is not None and v100 is not None and h100.rate and v100.rate
    assert h100.provenance == v100.provenance == "measured"
    assert h100.rate / v100.rate == pytest.approx(301 / 57, rel=1e-6)  # Lambda 2023 table
    ada = size(w, chip("rtx-6000-ada")).performance
    g = size(w, chip("rtx-4090")).performance
    assert ada is not None and g is not None and ada.rate and g.rate
    assert ada.rate / g.rate == pytest.approx(79 / 93, rel=1e-6)


def test_decode_plan_example_5090_beats_rtx_5000_ada() -> None:
    """issue 12: 2x RTX 5000 Ada ($9.8k) vs 2x RTX 5090 ($6k) for Llama 3 70B int4 inference."""
    w = "examples/workloads/llama3-70b-inference.yaml"
    a = coefficient(chip("rtx-5000-ada"), 2, w)
    b = coefficient(chip("rtx-5090"), 2, w)
    assert a is not None and b is not None and b > 2 * a


def _decode_work(precision: str, weight_gb: float) -> M.Work:
    """Batch-1 decode of a LLaMA-7B shape (6.74 B weights, 32 layers) stored in ``weight_gb``."""
    return M.Work(
        cls="decode-b1",
        precision=precision,
        flops_per_item=2 * 6.74e9,
        layers=32,
        weight_bytes=weight_gb * 1e9,
        weight_count=6.74e9,
    )


def test_decode_reads_at_the_slower_of_memory_and_what_the_sms_issue() -> None:
    """Batch-1 decode reads at the lesser of bandwidth × efficiency and what the SMs issue:
    (bytes ÷ bytes per SM-cycle + weights × SM-cycles per weight) ÷ (SMs × clock). HBM boards
    (much bandwidth per SM) are held by their SMs, GDDR boards by their memory; a chip
    without SM facts (AMD) only by its memory."""
    p = M.fitted()
    d = p["decode"]
    eff = float(d["bandwidth_efficiency"])
    work = _decode_work("fp16", 13.475)
    h100 = chip("h100-sxm")
    assert h100.sm_count == 132 and h100.boost_clock_mhz == 1980
    sm_s = 13.475e9 / float(d["sm_bytes_per_cycle"]) + 6.74e9 * float(d["sm_cycles_per_weight"])
    sm_s /= 132 * 1980e6
    assert M.decode_sm_seconds(h100, work, p) == pytest.approx(sm_s)
    assert M.decode_read_seconds(h100, work, p) == pytest.approx(sm_s)
    assert 13.475e9 / sm_s < 0.6 * 3350e9  # the SMs, not HBM3, hold the H100 SXM
    g = chip("rtx-3070")  # 46 SMs for 448 GB/s: memory-bound
    assert M.decode_read_seconds(g, work, p) == pytest.approx(13.475e9 / (448e9 * eff))
    amd = chip("radeon-rx-7900-xtx")
    assert amd.sm_count is None and M.decode_sm_seconds(amd, work, p) is None
    expected = 13.475e9 / (amd.memory_bandwidth_gb_s * 1e9 * eff)
    assert M.decode_read_seconds(amd, work, p) == pytest.approx(expected)


def test_quantised_decode_costs_sm_cycles_per_weight() -> None:
    """Unpacking and multiplying a weight costs SM instructions whatever its bits, so a 4-bit
    file (a quarter of FP16's bytes) keeps its per-weight SM work: on a board its SMs hold
    (V100 PCIe: 80 SMs × 1.38 GHz for 900 GB/s) Q4 gains less over F16 than bytes alone
    say; on one its memory holds (RTX 3070: 46 × 1.73 GHz for 448 GB/s) nothing changes.
    The fit chooses a per-weight cost above zero."""
    p = M.fitted()
    assert float(p["decode"]["sm_cycles_per_weight"]) > 0
    p0 = {**p, "decode": {**p["decode"], "sm_cycles_per_weight": 0.0}}
    f16, q4 = _decode_work("fp16", 13.475), _decode_work("int4", 3.823)

    def gain(chip_id: str, params: dict[str, object]) -> float:
        c = chip(chip_id)
        return (M.rate_per_gpu(c, q4, params) or 0.0) / (M.rate_per_gpu(c, f16, params) or 1.0)

    assert gain("v100-pcie-16gb", p) < gain("v100-pcie-16gb", p0)
    assert gain("rtx-3070", p) == pytest.approx(gain("rtx-3070", p0))


def test_every_nvidia_chip_has_its_sm_count_and_clock() -> None:
    missing = [
        c.id for c in CAT.chips if c.vendor == "nvidia" and not (c.sm_count and c.boost_clock_mhz)
    ]
    assert not missing


# --- provenance and expected error ------------------------------------------------------


def test_provenance_measured_interpolated_modelled() -> None:
    base = {"task": "finetune", "model": "bert-large", "precision": "fp16", "sequence": 384}
    m = size(base, chip("rtx-4090")).performance
    assert m is not None and m.provenance == "measured" and m.expected_error == 0.07
    # other sequence length: the 4090 was measured in the class -> interpolated
    i = size({**base, "sequence": 128}, chip("rtx-4090")).performance
    assert i is not None and i.provenance == "interpolated" and i.expected_error
    # the 5090 has no measurement in the class -> modelled, with a wider error
    o = size(base, chip("rtx-5090")).performance
    assert o is not None and o.provenance == "modelled"
    assert o.expected_error is not None and o.expected_error >= i.expected_error
    given = size(base, chip("rtx-4090"), utilization=0.5).performance
    assert given is not None and given.provenance == "given" and given.mfu == 0.5


def test_amd_statement_is_modelled_with_wide_error() -> None:
    e = size(QLORA_8B | {"precision": "int4"}, chip("radeon-rx-7900-xtx")).performance
    assert e is not None
    if e.rate is not None:
        assert e.provenance == "modelled" and e.expected_error == 0.5
        assert "ROCm" in e.basis


# --- scaling ------------------------------------------------------------------------------


def test_scaling_from_measured_tables() -> None:
    fit = M.fitted()["scaling"]
    g = chip("rtx-4090")  # no P2P: the pcie table
    assert scaling_efficiency(g, 2, "pcie") == pytest.approx(fit["pcie"][2])
    a6000 = chip("rtx-a6000")  # P2P
    assert scaling_efficiency(a6000, 4, "pcie") == pytest.approx(fit["pcie-p2p"][4])
    sxm = chip("a100-sxm4-80gb")
    assert scaling_efficiency(sxm, 8, "nvlink") == pytest.approx(fit["nvswitch"][8])
    # beyond the measured counts the figure is held, never compounded per doubling
    assert scaling_efficiency(g, 16, "pcie") <= scaling_efficiency(g, 8, "pcie")
    big = scaling_efficiency(sxm, 2048, "nvlink")
    assert 0.6 < big < 1.0  # the old per-doubling rule gave 0.167
    with pytest.raises(WorkloadError):
        scaling_efficiency(g, 2, "infiniband")


def test_llama_65b_time_on_2048_gpus_close_to_published() -> None:
    """LLaMA 65B: 1.4T tokens on 2,048 A100 80GB in ~21 days (the old rule gave +618 %)."""
    w = {
        "task": "train",
        "model": {"name": "LLaMA 65B", "params": 65.2e9, "layers": 80, "hidden": 8192,
                  "heads": 64, "intermediate": 22016, "vocab": 32000, "mlp": "swiglu",
                  "arch": "llama"},
        "sequence": 2048,
        "micro_batch": 1,
        "zero_stage": 3,
        "data": {"tokens": 1.4e12},
    }  # fmt: skip
    r = size(w, chip("a100-sxm4-80gb"), n_gpus=2048, interconnect="network")
    assert r.time_hours is not None
    assert r.time_hours / 24 == pytest.approx(21, rel=0.35)


# --- the planner's objective --------------------------------------------------------------


def test_objective_follows_the_workloads_figure_of_merit() -> None:
    infer = {"task": "inference", "model": "llama-3.1-8b", "precision": "int4"}
    # decode is bandwidth-bound: the 3090 (936 GB/s) beats the 4000 Ada (360 GB/s) by far
    a = coefficient(chip("rtx-3090"), 1, infer)
    b = coefficient(chip("rtx-4000-ada"), 1, infer)
    assert a is not None and b is not None and a > 1.5 * b
    # proportional to tokens/s for one workload
    w = load_workload(infer)
    rate = estimate(chip("rtx-3090"), work_of(w)).rate
    assert rate is not None
    assert a == pytest.approx(rate * work_of(w).flops_per_item / 1e12)


def test_objective_figure_follows_the_chips_facts_not_its_id() -> None:
    """An edited chip that keeps a built-in id (an overlay, a test catalog) gets its own figure;
    it must not be served the built-in chip's (or poison it for later plans)."""
    real = open_catalog().chip("rtx-3090")
    slow = real.model_copy(
        update={k: v / 4 for k, v in real.model_dump().items() if k.endswith("_tflops") and v}
        | {"memory_bandwidth_gb_s": real.memory_bandwidth_gb_s / 4}
    )
    before = coefficient(real)
    assert before is not None
    edited = coefficient(slow)
    assert edited is not None and edited < 0.8 * before
    assert coefficient(real) == before
