"""Calibration and validation of the performance model (:mod:`dlrig.perf`).

- :mod:`dlrig.perfcal.calibrate`: the fit to ``perf/data/measurements.yaml``, the per-chip
  residuals, the scaling tables, the default mix's reference rates and the
  leave-one-source-out validation (``python -m dlrig.perfcal.calibrate --write``);
- :mod:`dlrig.perfcal.training`: published training runs reproduced from their own MFU.

It sits above :mod:`dlrig.sizing` and :mod:`dlrig.catalog` (it builds each benchmark's
workload and reads the chip table), so the model itself (:mod:`dlrig.perf`) stays below them.
"""
