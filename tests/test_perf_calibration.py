"""The committed fit is what the calibration computes from the committed measurements."""

from __future__ import annotations

import pytest

from dlrig.perf import roofline as M
from dlrig.perfcal import calibrate as K


def test_every_point_names_a_known_source_bench_and_chip() -> None:
    data = K.measurements()
    for row in data["points"]:
        assert row["source"] in data["sources"], row
        assert row["bench"] in data["benches"], row
        assert row["precision"] in ("fp32", "tf32", "fp16", "bf16", "fp8", "int8", "int4")
    for src in data["sources"].values():
        assert src["url"].startswith("https://") and src["date"] and src["software"]
    assert len(K.points()) == len(data["points"])  # every chip resolves in the catalog


@pytest.mark.slow
def test_committed_fit_equals_a_fresh_fit() -> None:
    committed = M.fitted()
    fresh = K.fit(list(K.points()))
    for key in ("classes", "memory", "decode", "tflops_per_watt"):
        assert fresh[key] == committed[key], key
    pts = list(K.points())
    assert K.scaling_table(pts) == {
        k: {int(n): v for n, v in by_n.items()} for k, by_n in committed["scaling"].items()
    }
    assert K.chip_residuals(fresh, pts) == committed["chip_residuals"]


def test_validation_section_is_present_for_every_calibrated_class() -> None:
    summary = M.model_data()["validation"]["summary"]
    assert {"encoder-finetune", "cnn-train", "llm-train", "prefill", "decode-b1"} <= set(summary)
    for row in summary.values():
        assert 0 <= row["max_median_abs_error"] < 1


def test_leave_one_source_out_fits_without_the_held_out_source(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No leakage: every held-out source is predicted by a fit that never saw its points, and
    that fit carries no per-chip term (chip residuals are computed only for the shipped fit)."""
    pts = [p for p in K.points() if p.bench == "bert-large-squad"]
    seen: list[set[str]] = []
    real_fit = K.fit

    def recording_fit(points: list[K.Point], rounds: int = 3) -> dict[str, object]:
        seen.append({p.source for p in points})
        out = real_fit(points, rounds=1)
        assert "chip_residuals" not in out
        return out

    monkeypatch.setattr(K, "fit", recording_fit)
    loso = K.leave_one_source_out(pts)
    held = sorted(loso["encoder-finetune"])
    assert held == ["lambda-2020", "lambda-2023"]
    assert seen == [{"lambda-2023"}, {"lambda-2020"}]


def test_lambda_points_run_at_lambdas_batch_sizes() -> None:
    by = {(p.source, p.bench, p.chip.id, p.precision): p for p in K.points() if p.gpus == 1}
    assert by[("lambda-2023", "bert-large-squad", "v100-sxm2-16gb", "fp16")].micro_batch == 16
    assert by[("lambda-2023", "bert-large-squad", "h100-sxm", "fp16")].micro_batch == 112
    assert by[("lambda-2020", "bert-large-squad", "rtx-2080-ti", "fp16")].micro_batch == 4
    assert by[("lambda-2020", "transformerxl-base", "rtx-3080", "tf32")].micro_batch == 2
    # Lambda's fp32 rows of Ampere and later ran TF32 tensor cores: modelled at that rate
    assert K.bench_work("bert-base-squad", "tf32", 48).precision == "tf32"


def test_small_batches_cost_more_per_item() -> None:
    """The optimizer step is spread over the step's items: the same chip at a quarter of the
    batch runs fewer items per second."""
    chip = next(p.chip for p in K.points() if p.chip.id == "rtx-3090")
    big = M.rate_per_gpu(chip, K.bench_work("bert-large-squad", "fp16", 28), ceiling=False)
    small = M.rate_per_gpu(chip, K.bench_work("bert-large-squad", "fp16", 4), ceiling=False)
    assert big is not None and small is not None and small < 0.97 * big


def test_source_agreement_ranks_one_sources_gpus_by_anothers_measurements() -> None:
    """The two llama.cpp tables order their common GPUs differently: f16 prefill agrees
    (3090 < A6000 < 6000 Ada < 4090 < H100 PCIe in both), Q4 prefill swaps two pairs."""
    pre = [p for p in K.points() if p.cls == "prefill"]
    agree = K.source_agreement(pre)["prefill"]
    assert set(agree) == {"llamacpp-xd-2023", "llamacpp-xd-2024"}
    for row in agree.values():
        assert row["gpus_in_common"] == 5
        assert row["spearman"] == pytest.approx((1.0 + 0.8) / 2)


def test_decode_fit_arithmetic_is_the_models() -> None:
    """The decode fit evaluates its grids with its own arithmetic (calibrate._decode_rate);
    it must give what the model itself (roofline.rate_per_gpu) gives, point for point."""
    p = M.fitted()
    d = {k: float(v) for k, v in p["decode"].items()}
    checked = 0
    for pt in K.points():
        if pt.cls != "decode-b1":
            continue
        terms = K._decode_terms(p, pt)
        assert terms is not None
        work = K.bench_work(pt.bench, pt.precision, pt.micro_batch)
        assert K._decode_rate(d, terms) == pytest.approx(M.rate_per_gpu(pt.chip, work, p))
        checked += 1
    assert checked >= 75  # every decode point of the six sources


def test_scoreboard_source_is_one_profile_with_a_build_per_row() -> None:
    """The llama.cpp CUDA scoreboard rows all ran the one Llama 2 7B Q4_0 file (tg128, no
    FlashAttention); each row names the device and the build it ran."""
    data = K.measurements()
    rows = [r for r in data["points"] if r["source"] == "llamacpp-cuda-scoreboard"]
    assert {r["bench"] for r in rows} == {"lcppsb-7b-q4_0-tg"}
    tg = {r["chip"]: r["value"] for r in rows}
    assert len(tg) == len(rows) == 15
    assert tg["rtx-5090"] == 290.02 and tg["rtx-3060-12gb"] == 75.57
    assert all(", build " in r["note"] for r in rows)


def test_scoreboard_is_predicted_when_held_out() -> None:
    """Fitted without it, the model ranks the scoreboard's fifteen GPUs (RTX 3060 to RTX 5090
    and PRO 6000 Blackwell) for batch-1 decode at Spearman >= 0.95, median error <= 5 %."""
    row = M.model_data()["validation"]["leave_one_source_out"]["decode-b1"][
        "llamacpp-cuda-scoreboard"
    ]
    assert row["points"] == 15
    assert row["spearman"] >= 0.95 and row["median_abs_error"] <= 0.05


def test_held_out_fits_are_the_same_in_parallel_and_memoised() -> None:
    """perf_validate.py --jobs N runs the held-out fits in forked processes and reuses fits
    it already did: the parameters are exactly those of a plain fit() in this process."""
    import yaml

    pts = [p for p in K.points() if p.bench in ("bert-large-squad", "resnet50")]
    sources = ["lambda-2020", "lambda-2023"]
    K._FITS.clear()
    parallel = K.held_out_fits(pts, sources, jobs=2)
    again = K.held_out_fits(pts, sources, jobs=2)  # memoised: no refit
    K._FITS.clear()
    plain = {s: K.fit([p for p in pts if p.source != s]) for s in sources}
    assert parallel == again == plain
    # the deep copy the fit's grid steps use is the YAML round trip it replaced, keys sorted
    p = plain["lambda-2020"]
    assert K._copy(p) == yaml.safe_load(yaml.safe_dump(p))
    assert list(K._copy(p)["classes"]) == sorted(p["classes"])
