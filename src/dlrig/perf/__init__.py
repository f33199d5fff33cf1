"""Throughput that matches measurements: dlrig's performance model.

- :mod:`dlrig.perf.chips`: what a chip's figures mean for a precision (achievable rates);
- :mod:`dlrig.perf.model`: the roofline per workload class (below :mod:`dlrig.sizing`);
- :mod:`dlrig.perf.estimate`: a figure with its provenance (measured / interpolated /
  modelled), expected error and multi-GPU scaling;
- :mod:`dlrig.perfcal.calibrate`: the fit to ``data/measurements.yaml`` and its
  leave-one-source-out validation;
- :mod:`dlrig.perf.objective`: the planner's per-card objective coefficient.

See docs/performance.md.
"""
