"""Writes the GPU scenario fixtures in this folder (run: python tests/bench_data/make_scenarios.py).

No GPU machine was available when these were made, so the GPU runs are *constructed*: figures
typical of each machine (public RTX 4090 / RTX 3090 benchmark results), bent where the fault
would bend them. ``slow_disk.json`` is constructed too: the CPU recording with made-up disk
figures. Only ``cpu_2core_quick.json`` is a real recording (``dlrig bench --quick`` on a
2-core CPU box). README.md lists each file's origin. Every fixture validates as a BenchResult.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dlrig.bench.results import BenchResult

HERE = Path(__file__).parent
HOST = {
    "cpu_model": "AMD Ryzen Threadripper 7960X 24-Cores",
    "cpu_cores": 24,
    "cpu_threads": 48,
    "memory_gib": 251.0,
    "os": "Linux 6.8.0",
    "python": "3.11.9",
    "torch": "2.5.1+cu124",
    "numpy": "2.1.3",
    "cuda": "12.4",
    "nvml": True,
}


def gpu(i: int, name: str = "NVIDIA GeForce RTX 4090", **kw: Any) -> dict[str, Any]:
    facts = {
        "index": i,
        "name": name,
        "compute_capability": "8.9",
        "memory_gib": 23.99,
        "pcie_gen_current": 4,
        "pcie_width_current": 16,
        "pcie_gen_max_gpu": 4,
        "pcie_gen_max_link": 4,
        "pcie_width_max_link": 16,
        "sampled_under_load": True,
        "power_limit_w": 450.0,
        "power_limit_default_w": 450.0,
        "power_draw_w": 430.0,
        "temperature_c": 66.0,
        "temperature_slowdown_c": 88.0,
        "sm_clock_mhz": 2610.0,
        "sm_clock_max_mhz": 3120.0,
        "throttle_reasons": ["sw_power_cap"],
    }
    facts.update(kw)
    return facts


def m(key: str, value: float, unit: str, gpu: int | None = None, **params: Any) -> dict[str, Any]:
    probe = key.split(".")[0]
    return {
        "key": key,
        "probe": probe,
        "label": key,
        "value": value,
        "unit": unit,
        "device": "cpu" if gpu is None else f"cuda:{gpu}",
        "gpu": gpu,
        "params": params,
    }


def gemm_set(i: int, scale: float = 1.0, ada: bool = True) -> list[dict[str, Any]]:
    peaks = (
        {"fp32": 52.0, "tf32": 74.0, "fp16": 158.0, "bf16": 156.0, "fp8": 290.0}
        if ada
        else {"fp32": 23.5, "tf32": 33.0, "fp16": 68.0, "bf16": 67.0}
    )
    return [
        m(f"gemm.{d}.gpu{i}", round(v * scale, 1), "TFLOPS", i, dtype=d) for d, v in peaks.items()
    ]


def bw_set(i: int, pinned: float, device: float = 935.0) -> list[dict[str, Any]]:
    return [
        m(f"membw.device.gpu{i}", device, "GB/s", i),
        m(f"membw.h2d.pinned.gpu{i}", pinned, "GB/s", i, direction="h2d", pinned=True),
        m(
            f"membw.d2h.pinned.gpu{i}",
            round(pinned * 1.03, 1),
            "GB/s",
            i,
            direction="d2h",
            pinned=True,
        ),
        m(
            f"membw.h2d.pageable.gpu{i}",
            round(pinned * 0.45, 1),
            "GB/s",
            i,
            direction="h2d",
            pinned=False,
        ),
    ]


def loader(rates: dict[int, float], cpus: int = 48) -> list[dict[str, Any]]:
    best = max(rates, key=lambda w: rates[w])
    knee = min(w for w, r in rates.items() if r >= 0.9 * rates[best])
    out = [m(f"loader.workers{w}", r, "samples/s", workers=w) for w, r in rates.items()]
    out.append(
        m(
            "loader.knee",
            rates[knee],
            "samples/s",
            knee_workers=knee,
            best_workers=best,
            best_samples_per_s=rates[best],
            speedup_over_one_worker=round(rates[best] / rates[1], 2),
            cpu_count=cpus,
            image_hw=[256, 256],
            crop_hw=[224, 224],
            knee_fraction=0.9,
        )
    )
    return out


def allreduce(busbw: float, ranks: int) -> dict[str, Any]:
    return m(
        "allreduce.busbw",
        busbw,
        "GB/s",
        None,
        backend="nccl",
        ranks=ranks,
        nodes=1,
        launched="spawn",
        by_size=[],
    )


def write(name: str, data: dict[str, Any]) -> None:
    result = BenchResult.model_validate({"mode": "quick", "device": "cuda", "host": HOST, **data})
    (HERE / f"{name}.json").write_text(result.model_dump_json(indent=2) + "\n")


def main() -> None:
    # A healthy single RTX 4090 at PCIe 4.0 x16.
    write(
        "rtx4090_healthy",
        {
            "gpus": [gpu(0)],
            "measurements": [
                *gemm_set(0),
                *bw_set(0, 25.6),
                *loader(
                    {
                        0: 610.0,
                        1: 590.0,
                        2: 1150.0,
                        4: 2240.0,
                        8: 4300.0,
                        16: 7900.0,
                        32: 8300.0,
                        48: 8250.0,
                    }
                ),
            ],
        },
    )
    # Two RTX 3090s; GPU 1 sits in a slot wired x4 (lane sharing with an M.2 drive).
    write(
        "x4_link",
        {
            "gpus": [
                gpu(
                    0,
                    "NVIDIA GeForce RTX 3090",
                    compute_capability="8.6",
                    temperature_slowdown_c=93.0,
                    power_limit_w=350.0,
                    power_limit_default_w=350.0,
                ),
                gpu(
                    1,
                    "NVIDIA GeForce RTX 3090",
                    compute_capability="8.6",
                    temperature_slowdown_c=93.0,
                    power_limit_w=350.0,
                    power_limit_default_w=350.0,
                    pcie_width_current=4,
                    pcie_width_max_link=4,
                ),
            ],
            "measurements": [
                *gemm_set(0, ada=False),
                *gemm_set(1, ada=False),
                *bw_set(0, 24.9, 840.0),
                *bw_set(1, 6.3, 838.0),
                m("membw.p2p.gpu0.gpu1", 5.9, "GB/s", 0, src=0, dst=1, peer_access=False),
                allreduce(5.2, 2),
            ],
        },
    )
    # Four RTX 4090s side by side: GPU 2 (between two cards) throttles for heat; GPU 3 had its
    # power limit lowered to 300 W.
    write(
        "thermal_throttle",
        {
            "gpus": [
                gpu(0),
                gpu(1, temperature_c=83.0),
                gpu(
                    2,
                    temperature_c=88.0,
                    throttle_reasons=["sw_thermal_slowdown", "hw_thermal_slowdown"],
                    sm_clock_mhz=1420.0,
                    power_draw_w=265.0,
                ),
                gpu(3, power_limit_w=300.0, power_draw_w=298.0),
            ],
            "measurements": [
                *gemm_set(0),
                *gemm_set(1, 0.97),
                *[x for x in gemm_set(2) if not x["key"].startswith("gemm.bf16")],
                m("gemm.bf16.gpu2", 74.3, "TFLOPS", 2, dtype="bf16"),
                *[x for x in gemm_set(3) if not x["key"].startswith("gemm.bf16")],
                m("gemm.bf16.gpu3", 93.1, "TFLOPS", 3, dtype="bf16"),
                m(
                    "gemm.sustained.bf16.gpu1",
                    149.0,
                    "TFLOPS",
                    1,
                    dtype="bf16",
                    seconds=60,
                    first_window_tflops=153.0,
                    best_window_tflops=153.4,
                ),
                m(
                    "gemm.sustained.bf16.gpu2",
                    51.2,
                    "TFLOPS",
                    2,
                    dtype="bf16",
                    seconds=60,
                    first_window_tflops=150.2,
                    best_window_tflops=151.0,
                ),
                *bw_set(0, 25.4),
                *bw_set(1, 25.3),
                *bw_set(2, 25.1),
                *bw_set(3, 25.5),
                allreduce(17.8, 4),
            ],
        },
    )
    # A CPU-side run whose NVMe drive reads at SATA speed (chipset M.2 slot sharing lanes, or
    # a hot drive), and a second path on tmpfs where the page cache could not be bypassed.
    slow = json.loads((HERE / "cpu_2core_quick.json").read_text())
    slow["measurements"] = [x for x in slow["measurements"] if x["probe"] != "disk"] + [
        m(
            "disk.read./data",
            455.0,
            "MB/s",
            path="/data",
            bytes=1073741824,
            block_bytes=8388608,
            threads=4,
            cache_bypass="o_direct",
        ),
        m(
            "disk.read./dev/shm",
            6120.0,
            "MB/s",
            path="/dev/shm",
            bytes=1073741824,
            block_bytes=8388608,
            threads=4,
            cache_bypass="cached",
        ),
    ]
    (HERE / "slow_disk.json").write_text(
        BenchResult.model_validate(slow).model_dump_json(indent=2) + "\n"
    )


if __name__ == "__main__":
    main()
