"""What every probe gets: the device, the sizes to use, a progress callback, and helpers.

Probe sizes are data, not code paths: quick and full mode differ only in :class:`Sizes`, and
tests run every probe with :func:`tiny_sizes` so the same code runs on a 2-core CI box.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from dlrig.units import BYTES_PER_GIB

MIB = 1024**2

# Sizes for each mode. GEMM shapes are (M, N, K). Bytes are binary (MiB/GiB) because they size
# buffers; bandwidths are reported in decimal GB/s like every spec sheet.


@dataclass(frozen=True)
class Sizes:
    """Buffer sizes, shapes and repeat counts of every probe (quick or full)."""

    gemm_shapes_gpu: tuple[tuple[int, int, int], ...]
    gemm_shapes_cpu: tuple[tuple[int, int, int], ...]
    gemm_warmup: int
    gemm_repeats: int
    gemm_inner_gpu: int  # matmuls between two CUDA events (amortises launch overhead)
    gemm_soak_s: float  # sustained bf16 GEMM on every GPU at once (0: skip); shows throttling
    membw_bytes_gpu: int
    membw_bytes_cpu: int
    hostdev_bytes: int
    p2p_bytes: int
    bw_repeats: int
    loader_workers: tuple[int, ...] | None  # None: 0, 1, 2, 4, ... up to the CPU count
    loader_max_workers: int
    loader_batches: int
    loader_batch_size: int
    loader_image_hw: tuple[int, int]
    loader_crop_hw: tuple[int, int]
    disk_file_bytes: int
    disk_block_bytes: int
    disk_threads: int
    allreduce_bytes: tuple[int, ...]
    allreduce_iters: int
    allreduce_cpu_procs: int


def quick_sizes() -> Sizes:
    """At most ~3 minutes on one machine (a 4-GPU box included)."""
    return Sizes(
        gemm_shapes_gpu=((8192, 8192, 8192),),
        gemm_shapes_cpu=((1024, 1024, 1024),),
        gemm_warmup=2,
        gemm_repeats=5,
        gemm_inner_gpu=5,
        gemm_soak_s=0.0,
        membw_bytes_gpu=1 * BYTES_PER_GIB,
        membw_bytes_cpu=256 * MIB,
        hostdev_bytes=256 * MIB,
        p2p_bytes=256 * MIB,
        bw_repeats=5,
        loader_workers=None,
        loader_max_workers=16,
        loader_batches=12,
        loader_batch_size=32,
        loader_image_hw=(256, 256),
        loader_crop_hw=(224, 224),
        disk_file_bytes=1 * BYTES_PER_GIB,
        disk_block_bytes=8 * MIB,
        disk_threads=4,
        allreduce_bytes=(64 * MIB,),
        allreduce_iters=10,
        allreduce_cpu_procs=2,
    )


def full_sizes() -> Sizes:
    """Several shapes, larger buffers, more repeats: a few more minutes for steadier figures."""
    return replace(
        quick_sizes(),
        gemm_shapes_gpu=((4096, 4096, 4096), (8192, 8192, 8192), (16384, 8192, 8192)),
        gemm_shapes_cpu=((1024, 1024, 1024), (2048, 2048, 2048)),
        gemm_warmup=3,
        gemm_repeats=10,
        gemm_inner_gpu=10,
        gemm_soak_s=60.0,
        membw_bytes_gpu=2 * BYTES_PER_GIB,
        membw_bytes_cpu=1 * BYTES_PER_GIB,
        hostdev_bytes=1 * BYTES_PER_GIB,
        p2p_bytes=1 * BYTES_PER_GIB,
        bw_repeats=10,
        loader_max_workers=64,
        loader_batches=30,
        disk_file_bytes=4 * BYTES_PER_GIB,
        allreduce_bytes=(8 * MIB, 64 * MIB, 256 * MIB),
        allreduce_iters=20,
    )


def tiny_sizes() -> Sizes:
    """For tests: every probe in well under a second (the loader and all-reduce excepted)."""
    return replace(
        quick_sizes(),
        gemm_shapes_gpu=((1024, 1024, 1024),),
        gemm_shapes_cpu=((128, 128, 128),),
        gemm_warmup=1,
        gemm_repeats=2,
        gemm_inner_gpu=2,
        membw_bytes_gpu=16 * MIB,
        membw_bytes_cpu=4 * MIB,
        hostdev_bytes=4 * MIB,
        p2p_bytes=4 * MIB,
        bw_repeats=2,
        loader_workers=(0, 1),
        loader_batches=3,
        loader_batch_size=4,
        loader_image_hw=(32, 32),
        loader_crop_hw=(24, 24),
        disk_file_bytes=4 * MIB,
        disk_block_bytes=1 * MIB,
        disk_threads=2,
        allreduce_bytes=(1 * MIB,),
        allreduce_iters=3,
    )


Step = Callable[[str], None]


def _no_step(_: str) -> None:
    return None


@dataclass
class ProbeContext:
    """Handed to every probe's ``run``."""

    device: Literal["cpu", "cuda"]
    sizes: Sizes
    disk_paths: tuple[str, ...] = ()
    step: Step = field(default=_no_step)  # report progress: step("bf16 GEMM on GPU 0")
    gpu_count: int = 0

    def torch(self) -> Any | None:
        """The torch module, or None when the bench extra is not installed."""
        return import_torch()


def import_torch() -> Any | None:
    """Import torch lazily; None when it is not installed (the NumPy path takes over)."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def import_numpy() -> Any | None:
    """numpy, or None when it is not installed."""
    try:
        import numpy
    except ImportError:
        return None
    return numpy


def best_time(fn: Callable[[], float], warmup: int, repeats: int) -> float:
    """Smallest of ``repeats`` timings after ``warmup`` untimed calls; ``fn`` returns seconds."""
    for _ in range(warmup):
        fn()
    return min(fn() for _ in range(max(1, repeats)))


def cuda_seconds(torch: Any, dev: Any, fn: Callable[[], Any], calls: int = 1) -> float:
    """Seconds per call of ``fn`` on ``dev``, timed with CUDA events around ``calls`` calls."""
    with torch.cuda.device(dev):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(calls):
            fn()
        end.record()
        end.synchronize()
        return float(start.elapsed_time(end)) / 1000.0 / calls


def cpu_count() -> int:
    """CPUs this process may use (respects affinity masks and containers on Linux)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
