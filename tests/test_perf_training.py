"""Time to train with the source's own MFU reproduces published training runs (issue 12).

Each run in perf/data/measurements.yaml (training_runs) is reproduced from its tokens, its GPUs
and the MFU its source states, counted in the FLOPs accounting the source itself uses
(dlrig.perfcal.training): within ±3 % of the published time or GPU-hours.
"""

from __future__ import annotations

import pytest

from dlrig.perfcal import training as T

UNIT_HOURS = {"minutes": 1 / 60, "days": 24.0}


def _runs_with_mfu() -> list[dict[str, object]]:
    return [r for r in T.training_runs() if "accounting" in r]


@pytest.mark.parametrize("run", _runs_with_mfu(), ids=lambda r: str(r["id"]))
def test_published_run_reproduced_within_3_percent(run: dict[str, object]) -> None:
    t = T.run_time(run)  # type: ignore[arg-type]
    pub = run["published"]
    assert isinstance(pub, dict)
    got = t["gpu_hours"] if pub["unit"] == "gpu-hours" else t["hours"] / UNIT_HOURS[pub["unit"]]
    assert got == pytest.approx(float(pub["value"]), rel=0.03), run["id"]


def test_expected_runs_are_present() -> None:
    ids = {r["id"] for r in _runs_with_mfu()}
    assert {"llmc-gpt2-124m", "megatron-gpt3-175b", "llama-65b", "llama31-405b"} <= ids


def test_llmc_accounting_differs_from_palm() -> None:
    # llm.c counts attention as 6·L·C·T, PaLM as 12·L·C·T: its 60 % is ~64 % in dlrig's terms
    mfu = T.convert_mfu(0.60, "gpt2-124m", 1024, "llmc")
    assert mfu == pytest.approx(0.60 * 1.07, rel=0.02)
    assert T.flops_per_token("gpt2-124m", 1024, "6n") == pytest.approx(6 * 124_439_808)


def test_llmc_run_in_palm_accounting_gives_the_same_time() -> None:
    run = next(r for r in T.training_runs() if r["id"] == "llmc-gpt2-124m")
    own = T.run_time(run)["hours"]
    assert T.run_time(run, accounting="palm")["hours"] == pytest.approx(own, rel=1e-9)


def test_llama31_405b_mfu_range_brackets_the_card() -> None:
    """Table 4's 38-43 % bracket the card's 30.84M GPU-hours from below: at 43 % the hours come
    out 13 % short, the card includes interruptions and the long-context stage."""
    run = dict(next(r for r in T.training_runs() if r["id"] == "llama31-405b"))
    lo, hi = run["mfu_range"]
    at_hi = T.run_time({**run, "mfu": hi})["gpu_hours"]
    at_lo = T.run_time({**run, "mfu": lo})["gpu_hours"]
    assert at_hi < 30.84e6 <= at_lo * 1.03


def test_llama2_gpu_hours_scale_across_sizes() -> None:
    """Llama 2 publishes GPU-hours but no MFU: the 7B run's MFU predicts 13B and 70B within 6 %
    (same data, same A100 cluster; 70B uses grouped-query attention)."""
    from dlrig.catalog import open_catalog
    from dlrig.sizing import size

    a100 = open_catalog().chip("a100-sxm4-80gb")
    runs = {r["id"]: r for r in T.training_runs()}

    def hours(model: str, mfu: float) -> float:
        w = {"task": "train", "model": model, "sequence": 4096, "data": {"tokens": 2e12}}
        t = size(w, a100, utilization=mfu).time_hours
        assert t is not None
        return t

    mfu = hours("llama-2-7b", 1.0) / runs["llama2-7b"]["published"]["value"]
    assert 0.40 < mfu < 0.50  # ~45 % MFU on A100-80GB, PaLM accounting
    for rid, model in (("llama2-13b", "llama-2-13b"), ("llama2-70b", "llama-2-70b")):
        pub = runs[rid]["published"]["value"]
        assert hours(model, mfu) == pytest.approx(pub, rel=0.06), rid
