"""Dettmers' desktop-vs-cloud break-even through `dlrig cost` end to end (issue 12).

timdettmers.com, "Which GPU(s) to Get for Deep Learning" (2023), cloud vs desktop: a $2,200
RTX 3090 desktop (GPU 350 W + CPU 100 W, $0.12/kWh) against an AWS V100 on demand at $2.14/h,
used 15 % of the time: break-even "about 300 days". The cloud hours are normalised to the same
work with the performance model (3090 vs V100), so this holds only if the model ranks them as
the measurements do (the old fixed-MFU model gave 527 days).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dlrig.cost import estimate_cost

BUILD = """\
name: Dettmers desktop
parts:
  cpu: null
  motherboard: null
  memory: null
  gpu: {part: nvidia-rtx-3090-fe, count: 1}
  storage: null
  psu: null
  cooler: null
  case: null
cost: {price_usd: 2200, electricity_usd_per_kwh: 0.12, psu_efficiency: 1.0, load_fraction: 1.0}
"""
PRICES = """\
provider,offering,chip,gpus,on_demand_usd_per_hour,source,as_of
AWS,p3.2xlarge (2023),v100-sxm2-16gb,1,2.14,https://timdettmers.com/2023/01/30/which-gpu-for-deep-learning/,2023-01-30
"""


def test_dettmers_break_even_through_dlrig_cost(tmp_path: Path) -> None:
    build = tmp_path / "dettmers.yaml"
    build.write_text(BUILD, encoding="utf-8")
    prices = tmp_path / "aws2023.csv"
    prices.write_text(PRICES, encoding="utf-8")
    r = estimate_cost(build, hours_per_day=0.15 * 24, years=3, price_files=[prices])
    d = r.to_dict()
    # the build file has only the GPU (350 W); Dettmers adds a 100 W CPU, a few days later
    assert d["build"]["peak_power_w"] >= 350
    opt = next(o for o in d["options"] if o["label"] == "cloud: AWS p3.2xlarge (2023)")
    # the model puts a 3090 and a V100 within ~15 % of each other, as Lambda measured them
    assert 0.85 < opt["speed_ratio"] < 1.3
    days = opt["break_even"]["days"]
    assert days == pytest.approx(300, rel=0.15)
