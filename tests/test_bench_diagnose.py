"""Comparison and diagnosis on bench runs saved as JSON (tests/bench_data/): a healthy RTX 4090,
an x4 link, thermal throttling and a lowered power limit, a slow disk. The GPU runs and the
slow disk are constructed, not recorded (see tests/bench_data/README.md); the CPU run is real."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlrig.bench.diagnose import compare
from dlrig.bench.expected import (
    Baseline,
    PlannedGpu,
    baseline_from_detected,
    expectations,
    pcie_gb_s,
    resolve_chip,
)
from dlrig.bench.report import to_markdown
from dlrig.bench.results import BenchReport, BenchResult
from dlrig.parts import GpuChip, Storage

DATA = Path(__file__).parent / "bench_data"

# Dense specs from NVIDIA's Ada (RTX 4090) and Ampere GA102 (RTX 3090) architecture whitepapers;
# fp16/bf16 are tensor rates with FP32 accumulate. Inline so these tests do not move when the
# shipped chip table is edited.
RTX_4090 = GpuChip(
    id="rtx-4090",
    name="GeForce RTX 4090",
    vendor="nvidia",
    architecture="Ada",
    fp32_tflops=82.6,
    tf32_tflops=82.6,
    fp16_tflops=165.2,
    bf16_tflops=165.2,
    fp8_tflops=330.3,
    memory_bandwidth_gb_s=1008.0,
    source="Ada whitepaper",
)
RTX_3090 = GpuChip(
    id="rtx-3090",
    name="GeForce RTX 3090",
    vendor="nvidia",
    architecture="Ampere",
    fp32_tflops=35.6,
    tf32_tflops=35.6,
    fp16_tflops=71.0,
    bf16_tflops=71.0,
    memory_bandwidth_gb_s=936.0,
    nvlink=True,
    source="GA102 whitepaper",
)
SSD = Storage(
    id="samsung-990-pro-2tb",
    name="Samsung 990 PRO 2TB",
    brand="Samsung",
    kind="nvme",
    interface="PCIe 4.0 x4",
    capacity_gb=2000,
    seq_read_mb_s=7450,
    form_factor="M.2 2280",
    pcie_gen=4,
    source="samsung.com",
)


def load(name: str) -> BenchResult:
    return BenchResult.model_validate_json((DATA / f"{name}.json").read_text())


def build_baseline(chip: GpuChip, n: int, lanes: int | None = 16) -> Baseline:
    gpus = [PlannedGpu(name=chip.name, chip=chip, pcie_gen=4, pcie_lanes=lanes) for _ in range(n)]
    return Baseline(source="build file test.yaml", gpus=gpus, storage=[SSD], from_build=True)


def messages(report: BenchReport, severity: str | None = None) -> list[str]:
    return [f.message for f in report.findings if severity in (None, f.severity)]


def test_pcie_bandwidth_table() -> None:
    assert pcie_gb_s(4, 16) == pytest.approx(31.5, abs=0.01)
    assert pcie_gb_s(3, 16) == pytest.approx(15.76, abs=0.01)
    assert pcie_gb_s(4, 4) == pytest.approx(7.88, abs=0.01)


def test_healthy_4090_has_no_warnings() -> None:
    report = compare(load("rtx4090_healthy"), build_baseline(RTX_4090, 1))
    assert not report.has_errors and messages(report, "warning") == []
    by_key = {c.measurement.key: c for c in report.comparisons}
    bf16 = by_key["gemm.bf16.gpu0"]
    assert bf16.expected == 165.2 and bf16.ratio == pytest.approx(156 / 165.2, abs=1e-3)
    assert bf16.verdict == "ok"
    assert by_key["membw.h2d.pinned.gpu0"].expected == pytest.approx(31.5, abs=0.01)
    assert by_key["membw.h2d.pageable.gpu0"].verdict == "unknown"  # no spec for pageable
    [info] = messages(report, "info")
    assert "levels off at 16 worker(s)" in info and "48 per GPU" in info


def test_x4_link_is_named_with_its_fix() -> None:
    report = compare(load("x4_link"), build_baseline(RTX_3090, 2))
    assert report.has_errors
    text = "\n".join(messages(report))
    assert (
        "GPU 1 runs at PCIe x4 (the card has x16): check its slot, or lane sharing with an "
        "M.2 drive" in text
    )
    pinned = next(c for c in report.comparisons if c.measurement.key == "membw.h2d.pinned.gpu1")
    assert pinned.verdict == "low" and pinned.ratio == pytest.approx(6.3 / 31.5, abs=1e-3)
    assert pinned.diagnosis == (
        "membw.h2d.pinned.gpu1 at 20% of expected (6.3 of 31.5 GB/s, PCIe 4.0 x16): GPU 1 runs "
        "at PCIe x4: check its slot, or lane sharing with an M.2 drive"
    )
    # GPU 0 is fine; all-reduce is bound by the x4 card and far below one x16 link
    gpu0 = next(c for c in report.comparisons if c.measurement.key == "membw.h2d.pinned.gpu0")
    assert gpu0.verdict == "ok"
    ar = next(c for c in report.comparisons if c.measurement.key == "allreduce.busbw")
    assert ar.verdict == "low" and ar.ratio == pytest.approx(5.2 / 31.5, abs=1e-3)
    assert ar.diagnosis == (
        "allreduce.busbw at 17% of expected (5.2 of 31.5 GB/s, slowest GPU link: PCIe 4.0 x16): "
        "check peer-to-peer support (`nvidia-smi topo -m`; GeForce cards have no P2P), that "
        "NCCL_P2P_DISABLE is not set, and every GPU's PCIe width"
    )
    # no P2P: the peer copy has no expectation rather than a false alarm
    p2p = next(c for c in report.comparisons if c.measurement.key.startswith("membw.p2p"))
    assert p2p.verdict == "unknown"


def test_x4_link_without_build_still_flagged() -> None:
    result = load("x4_link")
    baseline = baseline_from_detected(result.gpus, None)
    report = compare(result, baseline)
    assert messages(report, "warning") == [
        "GPU 1 runs at PCIe x4: check its slot, or lane sharing with an M.2 drive "
        "(deep-learning cards are x8 or x16)"
    ]
    assert messages(report, "info") == [
        f"GPU {i} ('NVIDIA GeForce RTX 3090') is not in the chip table: its figures have no "
        "expected value — pass the build file with --build, or add the chip"
        for i in (0, 1)
    ]
    # the PCIe rates need no chip: x16 is assumed, and the message says so
    low = {c.measurement.key: c.ratio for c in report.comparisons if c.verdict == "low"}
    assert low == {
        "membw.h2d.pinned.gpu1": pytest.approx(6.3 / 31.5, abs=1e-3),
        "membw.d2h.pinned.gpu1": pytest.approx(6.5 / 31.5, abs=1e-3),
        "allreduce.busbw": pytest.approx(5.2 / 31.5, abs=1e-3),
    }
    assert "(6.3 of 31.5 GB/s, PCIe 4.0 x16 (x16 assumed))" in messages(report, "error")[0]


def test_thermal_throttle_and_power_limit() -> None:
    report = compare(load("thermal_throttle"), build_baseline(RTX_4090, 4))
    by_key = {c.measurement.key: c for c in report.comparisons}
    hot = by_key["gemm.bf16.gpu2"]
    assert hot.ratio == pytest.approx(0.45, abs=0.005) and hot.verdict == "low"
    assert hot.diagnosis is not None
    assert hot.diagnosis.startswith("bf16 GEMM on GPU 2 at 45% of peak (74.3 of 165.2 TFLOPS")
    assert "throttles for heat at 88 °C" in hot.diagnosis
    capped = by_key["gemm.bf16.gpu3"]
    assert capped.verdict == "low" and "power limit is 300 W (default 450 W)" in (
        capped.diagnosis or ""
    )
    assert "nvidia-smi -i 3 -pl 450" in (capped.diagnosis or "")
    text = "\n".join(messages(report, "warning"))
    assert (
        "GPU 2 throttles for heat at 88 °C (slowdown at 88 °C; NVML: sw_thermal_slowdown, "
        "hw_thermal_slowdown)" in text
    )
    assert "GPU 1 runs at 83 °C, within 5 °C of its 88 °C slowdown point" in text
    assert "GPU 2 drops to 51.2 TFLOPS under sustained load" in text
    assert "GPU 1 drops" not in text  # 149 of 156 burst is normal
    assert "GPU 3's power limit is 300 W, below its default 450 W" in text
    assert not any("GPU 0" in m for m in messages(report))
    # 45% of peak is a warning; the sustained 51 TFLOPS (31%) falls below 40%: an error
    [err] = messages(report, "error")
    assert err.startswith("sustained bf16 GEMM on GPU 2 at 31% of peak")


def test_gpu_count_mismatch_is_an_error() -> None:
    report = compare(load("rtx4090_healthy"), build_baseline(RTX_4090, 4))
    assert messages(report, "error") == [
        "the build lists 4 GPU(s) but 1 were detected: check that each card is seated and has "
        "every PCIe power cable, 'Above 4G decoding' in the BIOS, and `nvidia-smi -L`"
    ]


def test_slow_disk_and_cached_disk() -> None:
    result = load("slow_disk")
    baseline = Baseline(source="build", storage=[SSD], from_build=True)
    report = compare(result, baseline)
    slow = next(c for c in report.comparisons if c.measurement.key == "disk.read./data")
    assert slow.expected == 7450 and slow.ratio == pytest.approx(455 / 7450, abs=1e-3)
    assert slow.verdict == "low"
    assert messages(report, "error") == [
        "/data reads at 455 MB/s, 6% of the 7,450 MB/s spec of Samsung 990 PRO 2TB: check that "
        "the path is on that drive, that its M.2 slot gives it all its PCIe lanes (chipset slots "
        "and lane sharing halve them), and the drive's temperature (an NVMe drive without a "
        "heatsink throttles)"
    ]
    assert messages(report, "warning") == [
        "/dev/shm: the page cache could not be bypassed, so the read figure may measure RAM, "
        "not the disk"
    ]


def test_disk_without_a_known_drive_has_no_expectation() -> None:
    result = load("slow_disk")
    two = Baseline(
        source="build", storage=[SSD, SSD.model_copy(update={"id": "other"})], from_build=True
    )
    assert "disk.read./data" not in expectations(result, two)
    two.disks["/data"] = SSD  # --disk /data=samsung-990-pro-2tb
    assert expectations(result, two)["disk.read./data"].value == 7450


def test_recorded_cpu_run_compares_cleanly() -> None:
    report = compare(load("cpu_2core_quick"), baseline_from_detected([], None))
    assert not report.has_errors
    assert all(c.verdict in ("unknown", "skipped") for c in report.comparisons)
    assert report.expected_from.startswith("nothing")


def test_report_json_and_markdown() -> None:
    report = compare(load("x4_link"), build_baseline(RTX_3090, 2))
    data = report.to_dict()
    assert data["summary"] == {
        "errors": 4,  # the x4 link itself, both pinned copies on GPU 1, and the all-reduce
        "warnings": 0,
        "figures": {"ok": 12, "low": 3, "unknown": 3, "skipped": 0, "error": 0},
    }
    fig = next(f for f in data["figures"] if f["key"] == "gemm.bf16.gpu0")
    assert fig["expected"] == 71.0 and fig["verdict"] == "ok" and fig["unit"] == "TFLOPS"
    md = to_markdown(report)
    assert "## GPUs" in md and "| 1 | NVIDIA GeForce RTX 3090 | gen 4 x4 (under load)" in md
    assert "**error**: GPU 1 runs at PCIe x4" in md
    assert "| membw.h2d.pinned.gpu1 | 6.30 GB/s | 31.5 GB/s (PCIe 4.0 x16) | 20% | LOW |" in md


def test_detected_names_resolve_against_the_chip_table(catalog) -> None:  # type: ignore[no-untyped-def]
    if not catalog.chips:
        pytest.skip("the chip table is empty")

    def chip_id(device_name: str) -> str | None:
        chip = resolve_chip(device_name, catalog)
        return None if chip is None else chip.id

    assert chip_id("NVIDIA GeForce RTX 4090") == "rtx-4090"
    # driver spellings differ from the table's; SXM modules never match a PCIe card's entry
    assert chip_id("NVIDIA A100 80GB PCIe") == "a100-pcie-80gb"
    assert chip_id("NVIDIA A100-SXM4-80GB") == "a100-sxm4-80gb"
    assert chip_id("NVIDIA H100 80GB HBM3") == "h100-sxm"
    assert chip_id("Totally Unknown GPU 9000") is None


@pytest.mark.parametrize(
    ("facts", "warning"),
    [
        (
            {"pcie_width_current": 8},
            "GPU 0 links at x8 although card and slot allow x16: reseat the card, and check any "
            "riser cable",
        ),
        (
            {"pcie_gen_current": 3},
            "GPU 0 linked at PCIe gen 3 under load (gen 4 possible): set the slot's PCIe mode to "
            "Auto or Gen4 in the BIOS, check any riser cable",
        ),
        (
            {"pcie_gen_max_link": 3},
            "GPU 0 can link at PCIe gen 3 at most (the card does gen 4): the slot may hang off the "
            "chipset, the BIOS may force a lower generation, or a riser cable limits it",
        ),
        (
            {"throttle_reasons": ["hw_power_brake_slowdown"]},
            "GPU 0 reports hardware slowdown: check the PCIe power cables (one cable per "
            "connector) and that the PSU covers every GPU at full power",
        ),
    ],
)
def test_nvml_facts_alone_are_diagnosed(facts: dict[str, object], warning: str) -> None:
    healthy = load("rtx4090_healthy")
    result = healthy.model_copy(update={"gpus": [healthy.gpus[0].model_copy(update=facts)]})
    report = compare(result, build_baseline(RTX_4090, 1, lanes=None))  # lanes not in the build
    assert messages(report, "warning") == [warning] and not report.has_errors


def test_poor_loader_scaling_is_a_warning() -> None:
    healthy = load("rtx4090_healthy")
    knee = healthy.get("loader.knee")
    assert knee is not None and knee.params["best_workers"] == 32
    slow = knee.model_copy(update={"params": {**knee.params, "speedup_over_one_worker": 3.1}})
    measurements = [slow if m.key == "loader.knee" else m for m in healthy.measurements]
    report = compare(
        healthy.model_copy(update={"measurements": measurements}), build_baseline(RTX_4090, 1)
    )
    # 32 workers on 24 physical cores: the ideal is 24×, and 3.1× is below half of it
    assert messages(report, "warning") == [
        "the data loader speeds up only 3.1× with 24 workers: the CPU cores are busy or share "
        "little memory bandwidth — close other jobs, check the CPU's power/thermal limits, or "
        "pre-decode data to a faster format"
    ]


def test_failed_probe_is_a_finding_not_a_clean_bill() -> None:
    from dlrig.bench.diagnose import compare
    from dlrig.bench.expected import Baseline
    from dlrig.bench.results import BenchResult, Measurement

    failed = Measurement(
        key="disk.read./data",
        probe="disk",
        label="disk read /data",
        unit="MB/s",
        status="error",
        note="PermissionError: /data",
    )
    result = BenchResult(mode="quick", device="cpu", measurements=[failed])
    report = compare(result, Baseline(source="test"))
    assert [(f.severity, f.keys) for f in report.findings] == [
        ("error", ["disk.read./data"]),  # and as it was the only probe, nothing was measured
        ("warning", ["disk.read./data"]),
    ]
    assert "the probe failed (PermissionError: /data)" in report.findings[1].message


def test_nothing_measured_is_no_clean_bill() -> None:
    """The base install (no PyTorch, no NumPy) skips every probe: an error, not 'all fine'."""
    from dlrig.bench.diagnose import compare
    from dlrig.bench.expected import Baseline
    from dlrig.bench.results import BenchResult, Measurement

    skipped = [
        Measurement(
            key=k,
            probe=k.split(".")[0],
            label=k,
            unit="x",
            status="skipped",
            note="skipped: needs torch",
        )
        for k in ("gemm.fp32.cpu", "membw.host", "allreduce.busbw")
    ]
    report = compare(
        BenchResult(mode="quick", device="cpu", measurements=skipped), Baseline(source="t")
    )
    assert report.has_errors
    assert report.findings[0].message == (
        "nothing was measured: every probe was skipped or failed (skipped: needs torch). "
        "Install the probes' dependencies with pip install 'dlrig[bench]'."
    )


def test_small_figures_keep_their_digits() -> None:
    from dlrig.bench.report import fmt_value

    assert fmt_value(0.000412, "TFLOPS") == "0.000412 TFLOPS"  # was '0.000 TFLOPS' (CPU bf16)
    assert fmt_value(0.0784) == "0.0784"
    assert fmt_value(0.312) == "0.312" and fmt_value(1234.5) == "1,234"


def test_allreduce_entry_point_does_not_warn() -> None:
    """`python -m dlrig.bench.allreduce` printed runpy's RuntimeWarning once per process."""
    import subprocess
    import sys

    code = "import sys, dlrig.bench; print('dlrig.bench.allreduce' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    run = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-m", "dlrig.bench.allreduce", "--help"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0 and "RuntimeWarning" not in run.stderr
