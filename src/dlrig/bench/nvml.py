"""System facts through NVML (the ``nvidia-ml-py`` package, imported as ``pynvml``) when present:
PCIe link generation and width (sampled while the GPUs are busy, since idle GPUs drop to a low
link generation to save power), power limit, temperatures, clocks and throttle reasons.

Without NVML the GPU facts come from torch (name, compute capability, memory) and the PCIe and
thermal facts stay unknown.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from dlrig.bench.results import GpuFacts
from dlrig.units import BYTES_PER_GIB

# Clock throttle ("clock event") reason bits, from nvml.h (NVIDIA NVML API reference,
# "Clocks Event Reasons" / nvmlClocksThrottleReason*).
THROTTLE_REASONS: dict[int, str] = {
    0x1: "gpu_idle",
    0x2: "applications_clocks_setting",
    0x4: "sw_power_cap",
    0x8: "hw_slowdown",
    0x10: "sync_boost",
    0x20: "sw_thermal_slowdown",
    0x40: "hw_thermal_slowdown",
    0x80: "hw_power_brake_slowdown",
    0x100: "display_clock_setting",
}
NVML_TEMPERATURE_GPU = 0
NVML_TEMPERATURE_THRESHOLD_SLOWDOWN = 1
NVML_CLOCK_SM = 1


def decode_throttle_reasons(mask: int) -> list[str]:
    """Names of the set bits, e.g. 0x44 → ['sw_power_cap', 'hw_thermal_slowdown']."""
    return [name for bit, name in THROTTLE_REASONS.items() if mask & bit]


def import_pynvml() -> Any | None:
    """pynvml, or None when it is not installed."""
    try:
        import pynvml
    except ImportError:
        return None
    return pynvml


def _call(fn: Callable[..., Any], *args: Any) -> Any | None:
    """An NVML query, or None when this GPU or driver does not support it."""
    try:
        return fn(*args)
    except Exception:  # pynvml raises NVMLError_NotSupported and friends
        return None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def gpu_facts(
    torch: Any | None, load: Callable[[], None] | None = None
) -> tuple[list[GpuFacts], bool]:
    """Facts about every visible CUDA GPU, in CUDA order; ``True`` when NVML answered.

    ``load`` queues work on every GPU without waiting; NVML is read while it runs, so the
    PCIe link generation is the one under load.
    """
    base = _torch_facts(torch)
    nv = import_pynvml()
    if nv is None or not _init(nv):
        return base, False
    try:
        handles = _handles_in_cuda_order(nv, torch, len(base))
        if load is not None:
            load()
        facts = [
            _nvml_facts(
                nv,
                h,
                base[i] if i < len(base) else GpuFacts(index=i, name="?"),
                under_load=load is not None,
            )
            for i, h in enumerate(handles)
        ]
        if torch is not None and load is not None:
            torch.cuda.synchronize()
        return facts, True
    finally:
        with contextlib.suppress(Exception):
            nv.nvmlShutdown()


def _init(nv: Any) -> bool:
    try:
        nv.nvmlInit()
    except Exception:  # no driver, no GPU, or a container without NVML
        return False
    return True


def _torch_facts(torch: Any | None) -> list[GpuFacts]:
    if torch is None or not torch.cuda.is_available():
        return []
    out = []
    for i in range(torch.cuda.device_count()):
        p = torch.cuda.get_device_properties(i)
        out.append(
            GpuFacts(
                index=i,
                name=p.name,
                compute_capability=f"{p.major}.{p.minor}",
                memory_gib=round(p.total_memory / BYTES_PER_GIB, 2),
            )
        )
    return out


def _handles_in_cuda_order(nv: Any, torch: Any | None, cuda_count: int) -> list[Any]:
    """NVML handles matched to CUDA indices by UUID (NVML counts in PCI order, CUDA may not)."""
    count = _call(nv.nvmlDeviceGetCount) or 0
    handles = [nv.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
    if torch is None or cuda_count == 0:
        return handles
    by_uuid = {_text(_call(nv.nvmlDeviceGetUUID, h) or "").removeprefix("GPU-"): h for h in handles}
    ordered = []
    for i in range(cuda_count):
        uuid = str(getattr(torch.cuda.get_device_properties(i), "uuid", ""))
        if uuid in by_uuid:
            ordered.append(by_uuid[uuid])
        elif i < len(handles):
            ordered.append(handles[i])
    return ordered


def _nvml_facts(nv: Any, h: Any, base: GpuFacts, under_load: bool) -> GpuFacts:
    def watts(mw: Any) -> float | None:
        return None if mw is None else round(mw / 1000.0, 1)

    reasons_fn = getattr(nv, "nvmlDeviceGetCurrentClocksEventReasons", None) or getattr(
        nv, "nvmlDeviceGetCurrentClocksThrottleReasons", None
    )
    mask = _call(reasons_fn, h) if reasons_fn else None
    gpu_max_gen = getattr(nv, "nvmlDeviceGetGpuMaxPcieLinkGeneration", None)
    return base.model_copy(
        update={
            "name": base.name if base.name != "?" else _text(_call(nv.nvmlDeviceGetName, h)),
            "pcie_gen_current": _call(nv.nvmlDeviceGetCurrPcieLinkGeneration, h),
            "pcie_width_current": _call(nv.nvmlDeviceGetCurrPcieLinkWidth, h),
            "pcie_gen_max_gpu": _call(gpu_max_gen, h) if gpu_max_gen else None,
            "pcie_gen_max_link": _call(nv.nvmlDeviceGetMaxPcieLinkGeneration, h),
            "pcie_width_max_link": _call(nv.nvmlDeviceGetMaxPcieLinkWidth, h),
            "sampled_under_load": under_load,
            "power_limit_w": watts(_call(nv.nvmlDeviceGetPowerManagementLimit, h)),
            "power_limit_default_w": watts(_call(nv.nvmlDeviceGetPowerManagementDefaultLimit, h)),
            "power_draw_w": watts(_call(nv.nvmlDeviceGetPowerUsage, h)),
            "temperature_c": _call(nv.nvmlDeviceGetTemperature, h, NVML_TEMPERATURE_GPU),
            "temperature_slowdown_c": _call(
                nv.nvmlDeviceGetTemperatureThreshold, h, NVML_TEMPERATURE_THRESHOLD_SLOWDOWN
            ),
            "sm_clock_mhz": _call(nv.nvmlDeviceGetClockInfo, h, NVML_CLOCK_SM),
            "sm_clock_max_mhz": _call(nv.nvmlDeviceGetMaxClockInfo, h, NVML_CLOCK_SM),
            "throttle_reasons": [] if mask is None else decode_throttle_reasons(int(mask)),
        }
    )
