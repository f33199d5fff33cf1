"""GEMM throughput per dtype: TFLOPS = 2·M·N·K / t, best of several timed runs after warm-up.

On GPUs: fp32 (TF32 off), tf32, fp16, bf16 (tensor cores, FP32 accumulate, as cuBLAS does for
PyTorch) and fp8 e4m3 through ``torch._scaled_mm`` on sm_89 and newer, timed with CUDA events.
On the CPU: fp32 and bf16 with PyTorch, or fp32 with NumPy when PyTorch is absent.
Full mode adds a sustained bf16 run on every GPU at once, which is what shows thermal throttling
(cards side by side heat each other; a short burst does not).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from dlrig.bench.context import ProbeContext, best_time, cuda_seconds, import_numpy
from dlrig.bench.results import Measurement

GPU_DTYPES = ("fp32", "tf32", "fp16", "bf16", "fp8")
CPU_DTYPES = ("fp32", "bf16")
FP8_MIN_CAPABILITY = (8, 9)  # Ada / Hopper and newer have FP8 tensor cores
BF16_MIN_CAPABILITY = (8, 0)  # Ampere
TF32_MIN_CAPABILITY = (8, 0)


def gemm_flops(m: int, n: int, k: int) -> float:
    """Floating-point operations of one (M×K)·(K×N) product: a multiply and an add per term."""
    return 2.0 * m * n * k


def run(ctx: ProbeContext) -> list[Measurement]:
    """Dense matmul TFLOPS per dtype on the GPU (or the CPU without one)."""
    torch = ctx.torch()
    if ctx.device == "cuda":
        if torch is None:
            return [_skipped(f"gemm.{d}.gpu0", d, "skipped: needs torch") for d in GPU_DTYPES]
        out: list[Measurement] = []
        for gpu in range(ctx.gpu_count):
            for dtype in GPU_DTYPES:
                ctx.step(f"{dtype} GEMM on GPU {gpu}")
                out.append(_gpu_dtype(torch, ctx, gpu, dtype))
        if ctx.sizes.gemm_soak_s > 0:
            soak = ctx.sizes.gemm_soak_s
            ctx.step(f"sustained bf16 GEMM on {ctx.gpu_count} GPU(s), {soak:.0f} s")
            out.extend(sustained_gpu(torch, ctx))
        return out
    if torch is not None:
        out = []
        for dtype in CPU_DTYPES:
            ctx.step(f"{dtype} GEMM on the CPU")
            out.append(_cpu_torch(torch, ctx, dtype))
        return out
    np = import_numpy()
    if np is None:
        return [_skipped("gemm.fp32.cpu", "fp32", "skipped: needs numpy or torch")]
    ctx.step("fp32 GEMM on the CPU (NumPy)")
    return [_cpu_numpy(np, ctx)]


def _skipped(key: str, dtype: str, note: str, gpu: int | None = None) -> Measurement:
    return Measurement(
        key=key,
        probe="gemm",
        label=_label(dtype, gpu),
        unit="TFLOPS",
        status="skipped",
        device="cpu" if gpu is None else f"cuda:{gpu}",
        gpu=gpu,
        note=note,
        params={"dtype": dtype},
    )


def _label(dtype: str, gpu: int | None) -> str:
    return f"{dtype} GEMM" + ("" if gpu is None else f" (GPU {gpu})")


def _measurement(
    dtype: str, gpu: int | None, per_shape: list[tuple[tuple[int, int, int], float]], backend: str
) -> Measurement:
    best_shape, best = max(per_shape, key=lambda st: st[1])
    return Measurement(
        key=f"gemm.{dtype}.{'cpu' if gpu is None else f'gpu{gpu}'}",
        probe="gemm",
        label=_label(dtype, gpu),
        value=float(f"{best:.4g}"),
        unit="TFLOPS",
        device="cpu" if gpu is None else f"cuda:{gpu}",
        gpu=gpu,
        params={
            "dtype": dtype,
            "backend": backend,
            "best_shape_mnk": list(best_shape),
            "tflops_by_shape": {"x".join(map(str, s)): float(f"{t:.4g}") for s, t in per_shape},
        },
    )


def _cpu_numpy(np: Any, ctx: ProbeContext) -> Measurement:
    rng = np.random.default_rng(0)

    def operands(m: int, n: int, k: int) -> tuple[Any, Any, Any]:
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        return a, b, np.empty((m, n), dtype=np.float32)

    return _measurement("fp32", None, _cpu_per_shape(ctx, operands, np.matmul), "numpy")


def _cpu_torch(torch: Any, ctx: ProbeContext, dtype: str) -> Measurement:
    tdtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype]

    def operands(m: int, n: int, k: int) -> tuple[Any, Any, Any]:
        a = torch.randn(m, k).to(tdtype)
        b = torch.randn(k, n).to(tdtype)
        return a, b, torch.empty(m, n, dtype=tdtype)

    per_shape = _cpu_per_shape(ctx, operands, torch.matmul)
    return _measurement(dtype, None, per_shape, f"torch-cpu ({torch.get_num_threads()} threads)")


def _cpu_per_shape(
    ctx: ProbeContext, operands: Callable[[int, int, int], tuple[Any, Any, Any]], matmul: Any
) -> list[tuple[tuple[int, int, int], float]]:
    """TFLOPS of ``matmul(a, b, out=c)`` per CPU shape, host-clock timed (best of the repeats)."""
    per_shape = []
    for m, n, k in ctx.sizes.gemm_shapes_cpu:
        a, b, c = operands(m, n, k)

        def once(a: Any = a, b: Any = b, c: Any = c) -> float:
            t0 = time.perf_counter()
            matmul(a, b, out=c)
            return time.perf_counter() - t0

        t = best_time(once, ctx.sizes.gemm_warmup, ctx.sizes.gemm_repeats)
        per_shape.append(((m, n, k), gemm_flops(m, n, k) / t / 1e12))
    return per_shape


def _gpu_dtype(torch: Any, ctx: ProbeContext, gpu: int, dtype: str) -> Measurement:
    key = f"gemm.{dtype}.gpu{gpu}"
    cap = torch.cuda.get_device_capability(gpu)
    if dtype == "fp8" and (cap < FP8_MIN_CAPABILITY or not hasattr(torch, "_scaled_mm")):
        return _skipped(key, dtype, f"skipped: fp8 needs sm_89+ (sm_{cap[0]}{cap[1]})", gpu)
    if dtype == "bf16" and cap < BF16_MIN_CAPABILITY:
        return _skipped(key, dtype, f"skipped: bf16 needs sm_80+ (sm_{cap[0]}{cap[1]})", gpu)
    if dtype == "tf32" and cap < TF32_MIN_CAPABILITY:
        return _skipped(key, dtype, f"skipped: tf32 needs sm_80+ (sm_{cap[0]}{cap[1]})", gpu)
    dev = torch.device("cuda", gpu)
    matmul_flags = torch.backends.cuda.matmul
    old_tf32 = matmul_flags.allow_tf32
    matmul_flags.allow_tf32 = dtype == "tf32"
    try:
        per_shape = []
        for m, n, k in ctx.sizes.gemm_shapes_gpu:
            fn = _gpu_kernel(torch, dev, dtype, m, n, k)
            inner = ctx.sizes.gemm_inner_gpu
            t = best_time(
                lambda fn=fn, inner=inner: cuda_seconds(torch, dev, fn, inner),  # type: ignore[misc]
                ctx.sizes.gemm_warmup,
                ctx.sizes.gemm_repeats,
            )
            per_shape.append(((m, n, k), gemm_flops(m, n, k) / t / 1e12))
            del fn
        torch.cuda.empty_cache()
    except RuntimeError as exc:  # out of memory, an unsupported dtype on this build
        return _skipped(key, dtype, f"failed: {str(exc).splitlines()[0][:160]}", gpu)
    finally:
        matmul_flags.allow_tf32 = old_tf32
    return _measurement(dtype, gpu, per_shape, "torch-cuda")


def _gpu_kernel(torch: Any, dev: Any, dtype: str, m: int, n: int, k: int) -> Any:
    """A zero-argument callable that queues one GEMM of ``dtype`` on ``dev``."""
    if dtype == "fp8":
        f8 = torch.float8_e4m3fn
        a = torch.randn(m, k, device=dev).to(f8)
        b = torch.randn(n, k, device=dev).to(f8).t()  # _scaled_mm wants B column-major
        one = torch.tensor(1.0, device=dev)
        return lambda: torch._scaled_mm(a, b, scale_a=one, scale_b=one, out_dtype=torch.bfloat16)
    tdtype = {
        "fp32": torch.float32,
        "tf32": torch.float32,
        "fp16": torch.float16,
        "bf16": torch.bfloat16,
    }[dtype]
    a = torch.randn(m, k, device=dev).to(tdtype)
    b = torch.randn(k, n, device=dev).to(tdtype)
    c = torch.empty(m, n, device=dev, dtype=tdtype)
    return lambda: torch.matmul(a, b, out=c)


def sustained_gpu(torch: Any, ctx: ProbeContext, dtype: str = "bf16") -> list[Measurement]:
    """bf16 GEMM on every GPU at once for ``gemm_soak_s`` seconds, in ~1 s windows.

    Reports the slowest window per GPU as "sustained" TFLOPS, plus the first window, so a card
    that starts fast and then throttles shows the drop.
    """
    m, n, k = ctx.sizes.gemm_shapes_gpu[-1]
    devs = [torch.device("cuda", i) for i in range(ctx.gpu_count)]
    if dtype == "bf16" and any(
        torch.cuda.get_device_capability(d) < BF16_MIN_CAPABILITY for d in devs
    ):
        dtype = "fp16"
    fns = [_gpu_kernel(torch, d, dtype, m, n, k) for d in devs]
    # calibrate calls per ~1 s window on each GPU
    per_call = [cuda_seconds(torch, d, f, 3) for d, f in zip(devs, fns, strict=True)]
    calls = [max(1, int(1.0 / max(t, 1e-6))) for t in per_call]
    windows: list[list[float]] = [[] for _ in devs]
    deadline = time.monotonic() + ctx.sizes.gemm_soak_s
    while time.monotonic() < deadline:
        events = []
        for d, f, c in zip(devs, fns, calls, strict=True):
            with torch.cuda.device(d):
                s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                s.record()
                for _ in range(c):
                    f()
                e.record()
                events.append((s, e))
        for i, (s, e) in enumerate(events):
            e.synchronize()
            t = float(s.elapsed_time(e)) / 1000.0 / calls[i]
            windows[i].append(gemm_flops(m, n, k) / t / 1e12)
    out = []
    for i, w in enumerate(windows):
        if not w:
            continue
        out.append(
            Measurement(
                key=f"gemm.sustained.{dtype}.gpu{i}",
                probe="gemm",
                label=f"sustained {dtype} GEMM, all GPUs busy (GPU {i})",
                value=round(min(w), 4),
                unit="TFLOPS",
                device=f"cuda:{i}",
                gpu=i,
                params={
                    "dtype": dtype,
                    "seconds": ctx.sizes.gemm_soak_s,
                    "first_window_tflops": round(w[0], 4),
                    "best_window_tflops": round(max(w), 4),
                    "windows": len(w),
                    "shape_mnk": [m, n, k],
                },
            )
        )
    return out


def queue_load(torch: Any, gpu_count: int, seconds: float = 0.5) -> None:
    """Queue roughly ``seconds`` of GEMMs on every GPU without waiting (for NVML sampling).

    Kernel launches are asynchronous, so the GPUs stay busy while the host reads NVML; the
    caller synchronizes afterwards.
    """
    for i in range(gpu_count):
        dev = torch.device("cuda", i)
        fn = _gpu_kernel(torch, dev, "fp16", 4096, 4096, 4096)
        t = cuda_seconds(torch, dev, fn, 2)
        for _ in range(max(1, int(seconds / max(t, 1e-6)))):
            fn()
