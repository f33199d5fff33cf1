"""Compare measured with expected figures and explain each gap in plain language.

Every message names the GPU or path and the numbers, and ends with what to check. The system
facts (NVML: PCIe link, power limit, temperatures, throttle reasons) pick the likely cause:
a GEMM shortfall on a GPU that NVML saw throttling for heat says so, rather than a generic
"check the power limit".
"""

from __future__ import annotations

from dlrig.bench.expected import Baseline, expectations, gpu_link, resolve_chip
from dlrig.bench.results import (
    BenchFinding,
    BenchReport,
    BenchResult,
    BenchSeverity,
    Comparison,
    Expectation,
    GpuFacts,
    Measurement,
)

# Our own judgement, not published figures (no vendor states these limits):
# - a card that holds its boost clock loses only a few % over a long run as it warms; losing
#   more than 15% of its burst means it throttled;
SUSTAINED_DROP = 0.85  # sustained / burst GEMM below this means the GPU throttled under load
# - 5 °C below NVML's slowdown threshold leaves no headroom for a warmer room or a longer run;
TEMP_MARGIN_C = 5  # within this of the slowdown temperature counts as "hot"
# - vendors' default limits are whole watts; 5% tolerates rounding and board-partner defaults
#   while catching a deliberate cap (e.g. 450 W → 300 W);
POWER_LIMIT_LOWERED = 0.95  # power limit below 95% of the default counts as lowered
# - decode-and-augment is embarrassingly parallel, so workers on free cores should give well
#   over half the ideal speed-up; less means the cores are busy or starved of memory bandwidth.
LOADER_MIN_SCALING = 0.5  # best speed-up below half the worker count (up to the cores) is poor
THERMAL = ("hw_thermal_slowdown", "sw_thermal_slowdown")
HW_SLOWDOWN = ("hw_slowdown", "hw_power_brake_slowdown")
HEAT_FIX = "improve case airflow, leave a free slot between cards, or use blower-style cards"


def compare(result: BenchResult, baseline: Baseline, catalog: object | None = None) -> BenchReport:
    """The report: each measurement next to its expected value, and the findings."""
    exps = expectations(result, baseline)
    facts = {g.index: g for g in result.gpus}
    comparisons: list[Comparison] = []
    findings: list[BenchFinding] = []
    findings += _gpu_inventory(result, baseline, catalog)
    for g in result.gpus:
        findings += _link_findings(g, baseline)
        findings += _thermal_power_findings(g)
    for m in result.measurements:
        comparisons.append(_compare_one(m, exps.get(m.key), facts, baseline, findings))
    findings += _sustained_findings(result)
    findings += _loader_findings(result)
    findings += _disk_cache_findings(result)
    findings += _nothing_measured(result)
    order: dict[BenchSeverity, int] = {"error": 0, "warning": 1, "info": 2}
    findings.sort(key=lambda f: order[f.severity])
    return BenchReport(
        result=result, expected_from=baseline.source, comparisons=comparisons, findings=findings
    )


def _nothing_measured(result: BenchResult) -> list[BenchFinding]:
    """A run in which every probe was skipped or failed is no pass (the base install without
    PyTorch and NumPy measures nothing)."""
    if any(m.status == "ok" and m.value is not None for m in result.measurements):
        return []
    reasons = sorted({m.note for m in result.measurements if m.note})
    why = f" ({'; '.join(reasons)})" if reasons else ""
    return [
        BenchFinding(
            severity="error",
            message=f"nothing was measured: every probe was skipped or failed{why}. "
            "Install the probes' dependencies with pip install 'dlrig[bench]'.",
            keys=[m.key for m in result.measurements],
        )
    ]


def _pct(ratio: float) -> str:
    return f"{ratio * 100:.0f}%"


def _compare_one(
    m: Measurement,
    e: Expectation | None,
    facts: dict[int, GpuFacts],
    baseline: Baseline,
    findings: list[BenchFinding],
) -> Comparison:
    if m.status != "ok" or m.value is None:
        if m.status == "error":
            # a probe that failed measured nothing: say so instead of "everything within range"
            findings.append(
                BenchFinding(
                    severity="warning",
                    message=f"{m.label}: the probe failed ({m.note or 'no reason given'}); "
                    "this figure was not measured.",
                    keys=[m.key],
                )
            )
        return Comparison(
            measurement=m, verdict="skipped" if m.status == "skipped" else "error", diagnosis=m.note
        )
    if e is None:
        return Comparison(measurement=m, verdict="unknown")
    ratio = m.value / e.value
    comp = Comparison(
        measurement=m,
        expected=round(e.value, 3),
        expected_source=e.source,
        ratio=round(ratio, 3),
        verdict="ok" if ratio >= e.ok_ratio else "low",
    )
    if ratio >= e.ok_ratio:
        return comp
    text = _explain(m, e, ratio, facts.get(m.gpu) if m.gpu is not None else None, baseline)
    severity: BenchSeverity = "error" if ratio < e.bad_ratio else "warning"
    findings.append(BenchFinding(severity=severity, message=text, keys=[m.key]))
    return comp.model_copy(update={"diagnosis": text})


def _explain(
    m: Measurement, e: Expectation, ratio: float, g: GpuFacts | None, baseline: Baseline
) -> str:
    gpu = f"GPU {m.gpu}"
    head = (
        f"{m.label} at {_pct(ratio)} of expected ({m.value:,.1f} of {e.value:,.1f} {m.unit}, "
        f"{e.source})"
    )
    if m.probe == "gemm":
        dtype = m.params.get("dtype", "")
        sustained = "sustained " if m.key.startswith("gemm.sustained.") else ""
        head = (
            f"{sustained}{dtype} GEMM on {gpu} at {_pct(ratio)} of peak ({m.value:,.1f} of "
            f"{e.value:,.1f} TFLOPS, {e.source})"
        )
        return f"{head}: {_gemm_cause(g, m.gpu)}"
    if m.key.startswith("membw.device."):
        return (
            f"{head}: check memory clocks and throttling (`nvidia-smi -q -d CLOCK,"
            "PERFORMANCE`); ECC on a workstation card costs a little bandwidth"
        )
    if ".pinned." in m.key and m.gpu is not None:
        return f"{head}: {_link_cause(g, baseline, m.gpu)}"
    if m.key.startswith("membw.p2p."):
        return (
            f"{head}: check `nvidia-smi topo -m` (GPUs on different CPU sockets or behind "
            "the chipset are slower), each GPU's PCIe width, and IOMMU/ACS settings in the BIOS"
        )
    if m.probe == "allreduce":
        return (
            f"{head}: check peer-to-peer support (`nvidia-smi topo -m`; GeForce cards have "
            "no P2P), that NCCL_P2P_DISABLE is not set, and every GPU's PCIe width"
        )
    if m.probe == "disk":
        path = m.params.get("path", "?")
        drive = e.source.removesuffix(" sequential read spec")
        return (
            f"{path} reads at {m.value:,.0f} MB/s, {_pct(ratio)} of the {e.value:,.0f} MB/s "
            f"spec of {drive}: check that the path is on that drive, that its M.2 slot gives it "
            "all its PCIe lanes (chipset slots and lane sharing halve them), and the drive's "
            "temperature (an NVMe drive without a heatsink throttles)"
        )
    return head


def _gemm_cause(g: GpuFacts | None, index: int | None) -> str:
    i = "" if index is None else f" -i {index}"
    if g is not None:
        if any(r in g.throttle_reasons for r in THERMAL) or _hot(g):
            temp = f" at {g.temperature_c:.0f} °C" if g.temperature_c is not None else ""
            return f"it throttles for heat{temp} — {HEAT_FIX} in multi-GPU builds"
        if _power_lowered(g):
            return (
                f"its power limit is {g.power_limit_w:.0f} W (default "
                f"{g.power_limit_default_w:.0f} W) — raise it with `sudo nvidia-smi{i} -pl "
                f"{g.power_limit_default_w:.0f}`"
            )
        if "sw_power_cap" in g.throttle_reasons:
            return (
                "it runs at its power limit — check the PSU and that every PCIe power "
                "connector is plugged in (`nvidia-smi -q -d PERFORMANCE,POWER`)"
            )
        if _hw_slowdown(g):
            return (
                "NVML reports hardware slowdown — check the PCIe power cables (one cable "
                "per connector, no daisy-chain) and that the PSU is large enough"
            )
    return (
        "check the power limit and throttling (`nvidia-smi -q -d PERFORMANCE,POWER,"
        "TEMPERATURE`), and that no other process uses the GPU"
    )


def _hot(g: GpuFacts) -> bool:
    return (
        g.temperature_c is not None
        and g.temperature_slowdown_c is not None
        and g.temperature_c >= g.temperature_slowdown_c - TEMP_MARGIN_C
    )


def _hw_slowdown(g: GpuFacts) -> bool:
    return any(r in g.throttle_reasons for r in HW_SLOWDOWN)


def _power_lowered(g: GpuFacts) -> bool:
    return (
        g.power_limit_w is not None
        and g.power_limit_default_w is not None
        and g.power_limit_w < POWER_LIMIT_LOWERED * g.power_limit_default_w
    )


def _link_cause(g: GpuFacts | None, baseline: Baseline, index: int) -> str:
    link = gpu_link(baseline, g, index)
    if g is not None and g.pcie_width_current and link and g.pcie_width_current < link[1]:
        return (
            f"GPU {index} runs at PCIe x{g.pcie_width_current}: check its slot, or lane "
            "sharing with an M.2 drive"
        )
    if (
        g is not None
        and g.pcie_gen_current
        and link
        and g.sampled_under_load
        and g.pcie_gen_current < link[0]
    ):
        return (
            f"GPU {index}'s link runs at PCIe gen {g.pcie_gen_current} under load: set "
            "the slot to Gen4/Auto in the BIOS, and check any riser cable"
        )
    return (
        "the card may run at fewer lanes or a lower PCIe generation than planned — check "
        "`nvidia-smi -q | grep -A 2 -i 'link width'`, its slot, and lane sharing with M.2 drives"
    )


def _gpu_inventory(
    result: BenchResult, baseline: Baseline, catalog: object | None
) -> list[BenchFinding]:
    out: list[BenchFinding] = []
    if not baseline.from_build:
        for g, p in zip(result.gpus, baseline.gpus, strict=False):
            if p.chip is None:
                out.append(
                    BenchFinding(
                        severity="info",
                        keys=[f"gpu{g.index}"],
                        message=(
                            f"GPU {g.index} ('{g.name}') is not in the chip table: its figures "
                            "have no expected value — pass the build file with --build, or add "
                            "the chip"
                        ),
                    )
                )
        return out
    planned = len(baseline.gpus)
    if result.device == "cpu":
        if planned:
            out.append(
                BenchFinding(
                    severity="info",
                    message=(
                        f"the build lists {planned} GPU(s) but this run used the CPU: rerun with "
                        "--device cuda to measure them"
                    ),
                )
            )
        return out
    if len(result.gpus) != planned:
        out.append(
            BenchFinding(
                severity="error",
                keys=["gpus"],
                message=(
                    f"the build lists {planned} GPU(s) but {len(result.gpus)} were detected: check "
                    "that each card is seated and has every PCIe power cable, 'Above 4G decoding' "
                    "in the BIOS, and `nvidia-smi -L`"
                ),
            )
        )
    for g, p in zip(result.gpus, baseline.gpus, strict=False):
        if p.chip is None or catalog is None:
            continue
        seen = resolve_chip(g.name, catalog)
        if seen is not None and seen.id != p.chip.id:
            out.append(
                BenchFinding(
                    severity="warning",
                    keys=[f"gpu{g.index}"],
                    message=(
                        f"GPU {g.index} is a {g.name}, but the build plans a {p.chip.name}: the "
                        "figures are compared with the build's chip"
                    ),
                )
            )
    return out


def _link_findings(g: GpuFacts, baseline: Baseline) -> list[BenchFinding]:
    out: list[BenchFinding] = []
    key = [f"gpu{g.index}.pcie"]
    planned = baseline.gpus[g.index] if g.index < len(baseline.gpus) else None
    want = planned.pcie_lanes if planned and not planned.lanes_assumed else None
    width, max_link = g.pcie_width_current, g.pcie_width_max_link
    if width:
        if want and width < want:
            out.append(
                BenchFinding(
                    severity="error" if width <= want // 4 else "warning",
                    keys=key,
                    message=f"GPU {g.index} runs at PCIe x{width} (the card has "
                    f"x{want}): check its slot, or lane sharing with an M.2 drive",
                )
            )
        elif want is None and width < 8:
            out.append(
                BenchFinding(
                    severity="warning",
                    keys=key,
                    message=(
                        f"GPU {g.index} runs at PCIe x{width}: check its slot, or lane sharing "
                        "with an "
                        "M.2 drive (deep-learning cards are x8 or x16)"
                    ),
                )
            )
        elif max_link and width < max_link:
            out.append(
                BenchFinding(
                    severity="warning",
                    keys=key,
                    message=(
                        f"GPU {g.index} links at x{width} although card and slot allow "
                        f"x{max_link}: "
                        "reseat the card, and check any riser cable"
                    ),
                )
            )
    gen, gen_link = g.pcie_gen_current, g.pcie_gen_max_link
    card_gen = g.pcie_gen_max_gpu or (planned.pcie_gen if planned else None)
    if gen_link and card_gen and gen_link < card_gen:
        out.append(
            BenchFinding(
                severity="warning",
                keys=key,
                message=(
                    f"GPU {g.index} can link at PCIe gen {gen_link} at most (the card does gen "
                    f"{card_gen}): the slot may hang off the chipset, the BIOS may force a lower "
                    "generation, or a riser cable limits it"
                ),
            )
        )
    elif gen and gen_link and g.sampled_under_load and gen < gen_link:
        out.append(
            BenchFinding(
                severity="warning",
                keys=key,
                message=(
                    f"GPU {g.index} linked at PCIe gen {gen} under load (gen {gen_link} "
                    "possible): set "
                    f"the slot's PCIe mode to Auto or Gen{gen_link} in the BIOS, check any riser "
                    "cable"
                ),
            )
        )
    return out


def _thermal_power_findings(g: GpuFacts) -> list[BenchFinding]:
    out: list[BenchFinding] = []
    key = [f"gpu{g.index}.nvml"]
    thermal = [r for r in g.throttle_reasons if r in THERMAL]
    if thermal:
        temp = f" at {g.temperature_c:.0f} °C" if g.temperature_c is not None else ""
        limit = (
            f"slowdown at {g.temperature_slowdown_c:.0f} °C; "
            if g.temperature_slowdown_c is not None
            else ""
        )
        reasons = ", ".join(thermal)
        message = f"GPU {g.index} throttles for heat{temp} ({limit}NVML: {reasons}): {HEAT_FIX}"
        out.append(BenchFinding(severity="warning", keys=key, message=message))
    elif _hot(g):
        message = (
            f"GPU {g.index} runs at {g.temperature_c:.0f} °C, within {TEMP_MARGIN_C} °C of its "
            f"{g.temperature_slowdown_c:.0f} °C slowdown point: {HEAT_FIX}"
        )
        out.append(BenchFinding(severity="warning", keys=key, message=message))
    if _power_lowered(g):
        out.append(
            BenchFinding(
                severity="warning",
                keys=key,
                message=(
                    f"GPU {g.index}'s power limit is {g.power_limit_w:.0f} W, below its default "
                    f"{g.power_limit_default_w:.0f} W: GEMM throughput drops with it — "
                    f"`sudo nvidia-smi -i {g.index} -pl {g.power_limit_default_w:.0f}` restores it"
                ),
            )
        )
    if _hw_slowdown(g):
        out.append(
            BenchFinding(
                severity="warning",
                keys=key,
                message=(
                    f"GPU {g.index} reports hardware slowdown: check the PCIe power cables (one "
                    "cable "
                    "per connector) and that the PSU covers every GPU at full power"
                ),
            )
        )
    return out


def _sustained_findings(result: BenchResult) -> list[BenchFinding]:
    out = []
    for m in result.measurements:
        if not m.key.startswith("gemm.sustained.") or m.value is None or m.gpu is None:
            continue
        burst = result.get(f"gemm.{m.params.get('dtype', 'bf16')}.gpu{m.gpu}")
        ref = burst.value if burst and burst.value else m.params.get("best_window_tflops")
        if ref and m.value < SUSTAINED_DROP * ref:
            out.append(
                BenchFinding(
                    severity="warning",
                    keys=[m.key],
                    message=(
                        f"GPU {m.gpu} drops to {m.value:,.1f} TFLOPS under sustained load with "
                        "every GPU "
                        f"busy, {_pct(m.value / ref)} of its {ref:,.1f} TFLOPS burst: it "
                        "throttles — "
                        "improve airflow or spacing, and check its temperature and power limit"
                    ),
                )
            )
    return out


def _loader_findings(result: BenchResult) -> list[BenchFinding]:
    m = result.get("loader.knee")
    if m is None or m.value is None:
        return []
    p = m.params
    k, cpus = int(p["knee_workers"]), int(p.get("cpu_count") or 1)
    per_gpu = ""
    if result.gpus:
        per_gpu = f"; {cpus} CPU(s) allow {max(1, cpus // len(result.gpus))} per GPU"
    message = (
        f"the data loader levels off at {k} worker(s) ({m.value:,.0f} samples/s on the "
        f"synthetic decode-and-augment set): num_workers={max(k, 1)} per training process "
        f"is enough{per_gpu}"
    )
    out = [BenchFinding(severity="info", keys=[m.key], message=message)]
    speedup = p.get("speedup_over_one_worker")
    cores = result.host.cpu_cores or cpus  # SMT siblings do not double decode throughput
    ideal = min(int(p.get("best_workers") or 1), cores)
    if speedup is not None and ideal >= 2 and speedup < LOADER_MIN_SCALING * ideal:
        out.append(
            BenchFinding(
                severity="warning",
                keys=[m.key],
                message=(
                    f"the data loader speeds up only {speedup:.1f}× with {ideal} workers: the CPU "
                    "cores "
                    "are busy or share little memory bandwidth — close other jobs, check the CPU's "
                    "power/thermal limits, or pre-decode data to a faster format"
                ),
            )
        )
    return out


def _disk_cache_findings(result: BenchResult) -> list[BenchFinding]:
    return [
        BenchFinding(
            severity="warning",
            keys=[m.key],
            message=(
                f"{m.params.get('path')}: the page cache could not be bypassed, so the read figure "
                "may measure RAM, not the disk"
            ),
        )
        for m in result.measurements
        if m.key.startswith("disk.read.") and m.params.get("cache_bypass") == "cached"
    ]
