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
    for key in ("classes", "segment", "memory", "generation", "decode", "tflops_per_watt"):
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
