"""Memory bandwidth: device memory (a copy kernel), host↔device (pinned and pageable) and
peer-to-peer between GPUs. On the CPU: main-memory copy bandwidth.

Copy bandwidth counts the bytes read plus the bytes written (2 × buffer size per copy), the
STREAM "copy" convention, which is how GPU memory bandwidth specs compare. Host↔device and
peer-to-peer figures count the buffer size once (one direction), like PCIe link specs.
"""

from __future__ import annotations

import time
from typing import Any

from dlrig.bench.context import ProbeContext, best_time, cuda_seconds, import_numpy
from dlrig.bench.results import Measurement


def run(ctx: ProbeContext) -> list[Measurement]:
    """Device memory bandwidth, host-device copies (pinned and pageable) and GPU peer copies;
    memory bandwidth on the CPU."""
    torch = ctx.torch()
    if ctx.device == "cuda":
        if torch is None:
            return [_skip("membw.device.gpu0", "device memory copy", "skipped: needs torch")]
        out: list[Measurement] = []
        for gpu in range(ctx.gpu_count):
            ctx.step(f"memory bandwidth of GPU {gpu}")
            out.append(_device_copy(torch, ctx, gpu))
            for pinned in (True, False):
                for direction in ("h2d", "d2h"):
                    ctx.step(f"{direction} {'pinned' if pinned else 'pageable'} GPU {gpu}")
                    out.append(_host_device(torch, ctx, gpu, direction, pinned))
        if ctx.gpu_count > 1:
            for src in range(ctx.gpu_count):
                for dst in range(ctx.gpu_count):
                    if src != dst:
                        ctx.step(f"peer-to-peer GPU {src} → GPU {dst}")
                        out.append(_p2p(torch, ctx, src, dst))
        return out
    ctx.step("main-memory copy bandwidth")
    return [_cpu_copy(torch, ctx)]


def _skip(key: str, label: str, note: str, gpu: int | None = None) -> Measurement:
    return Measurement(
        key=key, probe="membw", label=label, unit="GB/s", status="skipped", note=note, gpu=gpu
    )


def _gb_s(n_bytes: float, seconds: float) -> float:
    return round(n_bytes / seconds / 1e9, 3)


def _cpu_copy(torch: Any, ctx: ProbeContext) -> Measurement:
    n = ctx.sizes.membw_bytes_cpu
    if torch is not None:
        src = torch.ones(n // 4, dtype=torch.float32)
        dst = torch.empty_like(src)
        backend = f"torch-cpu ({torch.get_num_threads()} threads)"

        def once() -> float:
            t0 = time.perf_counter()
            dst.copy_(src)
            return time.perf_counter() - t0

    else:
        np = import_numpy()
        if np is None:
            return _skip("membw.host", "main-memory copy", "skipped: needs numpy or torch")
        src = np.ones(n // 4, dtype=np.float32)
        dst = np.empty_like(src)
        backend = "numpy (1 thread)"

        def once() -> float:
            t0 = time.perf_counter()
            np.copyto(dst, src)
            return time.perf_counter() - t0

    t = best_time(once, 1, ctx.sizes.bw_repeats)
    return Measurement(
        key="membw.host",
        probe="membw",
        label="main-memory copy",
        value=_gb_s(2 * n, t),
        unit="GB/s",
        params={"bytes": n, "backend": backend, "counts": "read + write"},
    )


def _device_copy(torch: Any, ctx: ProbeContext, gpu: int) -> Measurement:
    dev = torch.device("cuda", gpu)
    n = ctx.sizes.membw_bytes_gpu
    src = torch.ones(n // 4, dtype=torch.float32, device=dev)
    dst = torch.empty_like(src)

    def copy() -> None:
        dst.copy_(src)

    t = best_time(lambda: cuda_seconds(torch, dev, copy), 2, ctx.sizes.bw_repeats)
    return Measurement(
        key=f"membw.device.gpu{gpu}",
        probe="membw",
        label=f"device memory copy (GPU {gpu})",
        value=_gb_s(2 * n, t),
        unit="GB/s",
        device=f"cuda:{gpu}",
        gpu=gpu,
        params={"bytes": n, "counts": "read + write"},
    )


def _host_device(
    torch: Any, ctx: ProbeContext, gpu: int, direction: str, pinned: bool
) -> Measurement:
    dev = torch.device("cuda", gpu)
    n = ctx.sizes.hostdev_bytes
    host = torch.ones(n, dtype=torch.uint8, pin_memory=pinned)
    device = torch.empty(n, dtype=torch.uint8, device=dev)

    def copy() -> None:
        if direction == "h2d":
            device.copy_(host, non_blocking=pinned)
        else:
            host.copy_(device, non_blocking=pinned)

    t = best_time(lambda: cuda_seconds(torch, dev, copy), 1, ctx.sizes.bw_repeats)
    kind = "pinned" if pinned else "pageable"
    arrow = "host → device" if direction == "h2d" else "device → host"
    return Measurement(
        key=f"membw.{direction}.{kind}.gpu{gpu}",
        probe="membw",
        label=f"{arrow}, {kind} (GPU {gpu})",
        value=_gb_s(n, t),
        unit="GB/s",
        device=f"cuda:{gpu}",
        gpu=gpu,
        params={"bytes": n, "direction": direction, "pinned": pinned},
    )


def _p2p(torch: Any, ctx: ProbeContext, src: int, dst: int) -> Measurement:
    n = ctx.sizes.p2p_bytes
    peer = bool(torch.cuda.can_device_access_peer(src, dst))
    a = torch.ones(n, dtype=torch.uint8, device=torch.device("cuda", src))
    b = torch.empty(n, dtype=torch.uint8, device=torch.device("cuda", dst))

    def once() -> float:
        torch.cuda.synchronize(src)
        torch.cuda.synchronize(dst)
        t0 = time.perf_counter()
        b.copy_(a)
        torch.cuda.synchronize(src)
        torch.cuda.synchronize(dst)
        return time.perf_counter() - t0

    t = best_time(once, 1, ctx.sizes.bw_repeats)
    return Measurement(
        key=f"membw.p2p.gpu{src}.gpu{dst}",
        probe="membw",
        label=f"GPU {src} → GPU {dst}" + ("" if peer else " (no P2P: through host memory)"),
        value=_gb_s(n, t),
        unit="GB/s",
        device=f"cuda:{src}",
        gpu=src,
        params={"bytes": n, "src": src, "dst": dst, "peer_access": peer},
    )
