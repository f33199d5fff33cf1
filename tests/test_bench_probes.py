"""Every bench probe runs on the CPU at tiny sizes and returns sane, positive figures."""

from __future__ import annotations

import math
import time
from dataclasses import replace
from pathlib import Path

import pytest

from dlrig.bench import allreduce, context, disk, gemm, loader, membw, nvml, runner
from dlrig.bench.context import ProbeContext, tiny_sizes
from dlrig.bench.runner import BenchOptions, choose_device, run_bench
from dlrig.errors import InputError

torch = pytest.importorskip("torch")


def cpu_ctx(**kw: object) -> ProbeContext:
    return ProbeContext(device="cpu", sizes=tiny_sizes(), **kw)  # type: ignore[arg-type]


def values(ms: list) -> dict[str, float]:  # type: ignore[type-arg]
    return {m.key: m.value for m in ms}


def test_gemm_cpu_torch_fp32_and_bf16() -> None:
    got = values(gemm.run(cpu_ctx()))
    assert set(got) == {"gemm.fp32.cpu", "gemm.bf16.cpu"}
    # Sane: above 10 MFLOPS (a 2-core VM's MKL manages ~0.5 GFLOPS at 128³), below 100 TFLOPS.
    assert all(1e-5 < v < 100 for v in got.values()), got


def test_gemm_numpy_path_without_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(context, "import_torch", lambda: None)
    [m] = gemm.run(cpu_ctx())
    assert m.key == "gemm.fp32.cpu" and m.params["backend"] == "numpy"
    assert m.value is not None and 1e-5 < m.value < 100


def test_gemm_flops_formula() -> None:
    assert gemm.gemm_flops(8192, 8192, 8192) == 2 * 8192**3


def test_membw_cpu_copy_both_backends(monkeypatch: pytest.MonkeyPatch) -> None:
    [m] = membw.run(cpu_ctx())
    assert m.key == "membw.host" and m.unit == "GB/s"
    assert m.value is not None and 0.1 < m.value < 2000
    monkeypatch.setattr(context, "import_torch", lambda: None)
    [n] = membw.run(cpu_ctx())
    assert n.params["backend"].startswith("numpy") and n.value is not None and n.value > 0.1


def test_loader_rates_and_knee() -> None:
    ms = loader.run(cpu_ctx())
    rates = {m.params["workers"]: m.value for m in ms if m.key.startswith("loader.workers")}
    assert set(rates) == {0, 1}
    assert all(r is not None and r > 10 for r in rates.values()), rates
    knee = ms[-1]
    assert knee.key == "loader.knee" and knee.params["knee_workers"] in (0, 1)


def test_loader_skips_without_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(context, "import_torch", lambda: None)
    [m] = loader.run(cpu_ctx())
    assert m.status == "skipped" and "needs torch" in (m.note or "")


def test_knee_is_fewest_workers_near_the_best() -> None:
    assert loader.knee({0: 100, 1: 90, 2: 170, 4: 330, 8: 600, 16: 640}) == 8
    assert loader.knee({0: 500, 1: 300, 2: 480}) == 0


def test_worker_counts_power_of_two_up_to_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader, "cpu_count", lambda: 12)
    ctx = ProbeContext(device="cpu", sizes=replace(tiny_sizes(), loader_workers=None))
    assert loader.worker_counts(ctx) == [0, 1, 2, 4, 8, 12]


def test_disk_writes_reads_and_cleans_up(tmp_path: Path) -> None:
    ms = disk.run(cpu_ctx(disk_paths=(str(tmp_path),)))
    got = values(ms)
    assert got[f"disk.read.{tmp_path}"] > 1 and got[f"disk.write.{tmp_path}"] > 1
    read = ms[1]
    assert read.params["bytes"] == tiny_sizes().disk_file_bytes
    assert read.params["cache_bypass"] in ("o_direct", "fadvise_dontneed", "f_nocache", "cached")
    assert list(tmp_path.iterdir()) == []  # the test file is gone


def test_disk_on_tmpfs_is_marked_cached() -> None:
    shm = Path("/dev/shm")
    if disk.fs_type(shm) != "tmpfs":
        pytest.skip("no tmpfs at /dev/shm")
    read = disk.measure_path(shm, 2 << 20, 1 << 20, 2)[1]
    assert read.params["cache_bypass"] == "cached" and "page cache" in (read.note or "")


def test_disk_missing_dir_is_an_error_figure(tmp_path: Path) -> None:
    [m] = disk.measure_path(tmp_path / "nope", 1 << 20, 1 << 20, 1)
    assert m.status == "error" and m.value is None
    assert (
        m.key == f"disk.read.{tmp_path / 'nope'}"
        and m.note == f"not a directory: {tmp_path / 'nope'}"
    )


def test_disk_unwritable_dir_is_an_error_figure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(disk.tempfile, "mkstemp", refuse)
    [m] = disk.measure_path(tmp_path, 1 << 20, 1 << 20, 1)
    assert m.status == "error" and m.note == "failed: [Errno 13] Permission denied"


def test_bus_bandwidth_convention() -> None:
    # nccl-tests: busbw = algbw × 2(n−1)/n; 2 ranks → ×1, 8 ranks → ×1.75
    assert allreduce.bus_bandwidth(10.0, 2) == pytest.approx(10.0)
    assert allreduce.bus_bandwidth(10.0, 8) == pytest.approx(17.5)


def test_gloo_allreduce_across_two_processes() -> None:
    t0 = time.perf_counter()
    m = allreduce.run_local(2, "gloo", (256 * 1024,), 3)
    assert time.perf_counter() - t0 < 30
    assert m.params["ranks"] == 2 and m.params["backend"] == "gloo"
    row = m.params["by_size"][0]
    assert row["bytes"] == 256 * 1024 and 0 < row["seconds"] < 10
    # algbw = bytes / seconds; over loopback even a loaded 2-core box moves well over 1 MB/s
    # algbw is rounded to 4 decimals (allreduce.py): at a loaded box's ~0.03 GB/s that is 0.2 %
    assert row["algbw_gb_s"] == pytest.approx(row["bytes"] / row["seconds"] / 1e9, abs=5e-5)
    assert m.value == pytest.approx(row["busbw_gb_s"]) and m.value > 1e-3
    assert row["busbw_gb_s"] == pytest.approx(row["algbw_gb_s"])  # n = 2


def test_torchrun_detection(monkeypatch: pytest.MonkeyPatch) -> None:
    for k in allreduce.TORCHRUN_ENV:
        monkeypatch.delenv(k, raising=False)
    assert not allreduce.launched_by_torchrun()
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("LOCAL_RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "16")
    assert allreduce.launched_by_torchrun()


def test_throttle_reason_bits() -> None:
    assert nvml.decode_throttle_reasons(0x44) == ["sw_power_cap", "hw_thermal_slowdown"]
    assert nvml.decode_throttle_reasons(0) == []


def test_nvml_absent_gives_torch_facts_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nvml, "import_pynvml", lambda: None)
    facts, have = nvml.gpu_facts(None)
    assert facts == [] and have is False


def test_run_bench_cpu_end_to_end(tmp_path: Path) -> None:
    opts = BenchOptions(
        device="cpu",
        sizes=tiny_sizes(),
        disk_paths=(str(tmp_path),),
        probes=("gemm", "membw", "loader", "disk"),
    )
    r = run_bench(opts)
    assert r.device == "cpu" and r.mode == "custom" and r.gpus == []
    assert r.host.cpu_threads and r.host.cpu_threads >= 1 and r.host.torch
    assert [m.key for m in r.measurements] == [
        "gemm.fp32.cpu",
        "gemm.bf16.cpu",
        "membw.host",
        "loader.workers0",
        "loader.workers1",
        "loader.knee",
        f"disk.write.{tmp_path}",
        f"disk.read.{tmp_path}",
    ]
    assert all(m.status == "ok" for m in r.measurements)
    assert all(
        m.value is not None and math.isfinite(m.value) and m.value > 0 for m in r.measurements
    )


def test_run_bench_rejects_bad_input(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown probe"):
        run_bench(BenchOptions(device="cpu", probes=("gpu-burn",)))
    with pytest.raises(InputError, match="not a directory"):
        run_bench(BenchOptions(device="cpu", disk_paths=(str(tmp_path / "x"),)))


def test_read_only_disk_path_is_refused_before_measuring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner.os, "access", lambda path, mode: path != str(tmp_path))
    with pytest.raises(InputError, match="not writable") as info:
        run_bench(BenchOptions(device="cpu", disk_paths=(str(tmp_path),), probes=("gemm",)))
    assert info.value.message == f"--disk {tmp_path}: the directory is not writable (read-only?)"


def test_cuda_requested_without_gpu_is_input_error() -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(InputError, match="no CUDA GPU"):
        choose_device("cuda")
    assert choose_device(None) == "cpu"


@pytest.mark.gpu
def test_gpu_probes_tiny() -> None:
    n = torch.cuda.device_count()
    ctx = ProbeContext(device="cuda", sizes=tiny_sizes(), gpu_count=n)
    got = {m.key: m for m in gemm.run(ctx) + membw.run(ctx)}
    assert got["gemm.fp16.gpu0"].value and got["gemm.fp16.gpu0"].value > 1
    assert got["membw.device.gpu0"].value and got["membw.device.gpu0"].value > 10
    assert got["membw.h2d.pinned.gpu0"].value and got["membw.h2d.pinned.gpu0"].value > 0.5
    cap = torch.cuda.get_device_capability(0)
    assert (got["gemm.fp8.gpu0"].status == "ok") == (cap >= (8, 9))
    facts, _ = nvml.gpu_facts(torch, load=lambda: gemm.queue_load(torch, n, 0.1))
    assert len(facts) == n and facts[0].name
