"""Throughput that matches measurements: dlrig's performance model.

- :mod:`dlrig.perf.chips`: what a chip's figures mean for a precision (achievable rates);
- :mod:`dlrig.perf.roofline`: the roofline per workload class (below :mod:`dlrig.sizing`);
- :mod:`dlrig.perf.estimate`: a figure with its provenance (measured / interpolated /
  modelled), expected error and multi-GPU scaling;
- :mod:`dlrig.perfcal.calibrate`: the fit to ``data/measurements.yaml`` and its
  leave-one-source-out validation;
- :func:`dlrig.sizing.objective_coefficient`: the planner's per-card objective coefficient (in
  sizing, which knows the workload).

See docs/performance.md.
"""

# Interconnect names a caller may give. pcie resolves by the chip's P2P support; nvlink means
# NVSwitch/NVLink for SXM parts and the 2-card bridge otherwise; network = between nodes.
# Declared here, in the light package init, so dlrig.sizing can name them without importing
# the model (start-up time).
INTERCONNECTS = (
    "pcie",
    "pcie-p2p",
    "pcie-switch",
    "nvlink",
    "nvlink-bridge",
    "nvswitch",
    "network",
)
