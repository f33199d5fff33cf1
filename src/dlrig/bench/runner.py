"""Run the probes in order with progress reporting, collect host and GPU facts, and time it.

Probes are independent: one that fails (out of memory, a driver error) is recorded as an error
figure and the others still run. Progress goes to a :class:`BenchProgress` (the CLI passes
:class:`RichProgress`, which draws bars on stderr); the library itself prints nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, Protocol

from dlrig.bench import allreduce, disk, gemm, loader, membw, nvml
from dlrig.bench.context import (
    ProbeContext,
    Sizes,
    cpu_count,
    full_sizes,
    import_numpy,
    import_torch,
    quick_sizes,
)
from dlrig.bench.results import BenchResult, HostFacts, Measurement
from dlrig.errors import InputError, MissingExtraError
from dlrig.units import BYTES_PER_GIB

PROBES: dict[str, ModuleType] = {
    "gemm": gemm,
    "membw": membw,
    "loader": loader,
    "disk": disk,
    "allreduce": allreduce,
}


class BenchProgress(Protocol):
    """What the runner reports while probes run (the CLI draws bars; the API may pass none)."""

    def probe_started(self, name: str, index: int, total: int) -> None:
        """Probe ``name`` (``index`` of ``total``) starts."""

    def step(self, text: str) -> None:
        """What the current probe is doing now."""

    def probe_done(self, name: str, measurements: list[Measurement], seconds: float) -> None:
        """Probe ``name`` finished with these measurements after ``seconds``."""


class NullProgress:
    """A progress sink that shows nothing."""

    def probe_started(self, name: str, index: int, total: int) -> None:
        """Shows nothing."""
        return None

    def step(self, text: str) -> None:
        """Shows nothing."""
        return None

    def probe_done(self, name: str, measurements: list[Measurement], seconds: float) -> None:
        """Shows nothing."""
        return None


# The disk test file may take at most this share of the free space where it is written: the
# drive under test stays usable while the probe runs (our margin, not a measured figure).
DISK_FILE_MAX_SHARE_OF_FREE = 0.9


@dataclass
class BenchOptions:
    """What to measure and how long: mode, device, disks, probes, sizes."""

    mode: Literal["quick", "full"] = "quick"
    device: Literal["cpu", "cuda"] | None = None  # None: cuda when a GPU is visible
    disk_paths: tuple[str, ...] = ()
    probes: tuple[str, ...] = tuple(PROBES)
    sizes: Sizes | None = None  # overrides the mode's sizes (tests use tiny_sizes())
    disk_file_bytes: int | None = None


def choose_device(requested: str | None) -> Literal["cpu", "cuda"]:
    """The device to bench: as requested, or CUDA when PyTorch sees a GPU."""
    if requested not in (None, "cpu", "cuda"):
        raise InputError(f"unknown device '{requested}'", "use --device cpu or --device cuda")
    torch = import_torch()
    if requested == "cuda":
        if torch is None:
            raise MissingExtraError("PyTorch", "bench")
        if not torch.cuda.is_available():
            raise InputError(
                "no CUDA GPU is visible to PyTorch",
                "check `nvidia-smi`, install a CUDA build of PyTorch, or use --device cpu",
            )
        return "cuda"
    if requested == "cpu":
        return "cpu"
    return "cuda" if torch is not None and torch.cuda.is_available() else "cpu"


def check_disk_path(path: str, file_bytes: int | None = None) -> None:
    """InputError unless ``path`` is a directory this process may write its test file in, with
    room for a test file of ``file_bytes`` (a test file larger than the free space would fill
    the drive before failing)."""
    import shutil

    hint = "give a directory on the drive to test; a temporary file is written there and removed"
    if not Path(path).is_dir():
        raise InputError(f"--disk {path}: not a directory", hint)
    if not os.access(path, os.W_OK | os.X_OK):
        raise InputError(f"--disk {path}: the directory is not writable (read-only?)", hint)
    free = shutil.disk_usage(path).free
    if file_bytes is not None and file_bytes > free * DISK_FILE_MAX_SHARE_OF_FREE:
        raise InputError(
            f"--disk {path}: a {file_bytes / 1e6:,.0f} MB test file does not fit in the "
            f"{free / 1e6:,.0f} MB free there",
            f"give --disk-size-mb {int(free * DISK_FILE_MAX_SHARE_OF_FREE / 1e6)} or less, "
            "or free some space",
        )


def run_bench(options: BenchOptions, progress: BenchProgress | None = None) -> BenchResult:
    """Run the selected probes and return what they measured (no comparison yet)."""
    unknown = [p for p in options.probes if p not in PROBES]
    if unknown:
        raise InputError(f"unknown probe '{unknown[0]}'", "choose from: " + ", ".join(PROBES))
    if "disk" in options.probes and not options.disk_paths and set(options.probes) != set(PROBES):
        # asked for by name, it was dropped silently ("nothing was measured ... install")
        raise InputError(
            "the disk probe needs a directory to test", "give --disk DIR (e.g. --disk /data)"
        )
    sizes = options.sizes or (full_sizes() if options.mode == "full" else quick_sizes())
    if options.disk_file_bytes:
        sizes = replace(sizes, disk_file_bytes=options.disk_file_bytes)
    for path in options.disk_paths:
        check_disk_path(path, sizes.disk_file_bytes if "disk" in options.probes else None)
    progress = progress or NullProgress()
    device = choose_device(options.device)
    torch = import_torch()
    gpu_count = torch.cuda.device_count() if device == "cuda" and torch is not None else 0
    ctx = ProbeContext(
        device=device,
        sizes=sizes,
        disk_paths=options.disk_paths,
        step=progress.step,
        gpu_count=gpu_count,
    )
    started = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    measurements: list[Measurement] = []
    selected = [p for p in PROBES if p in options.probes]
    if not options.disk_paths and "disk" in selected:
        selected.remove("disk")
    for i, name in enumerate(selected):
        progress.probe_started(name, i, len(selected))
        p0 = time.perf_counter()
        try:
            found = PROBES[name].run(ctx)
        except Exception as exc:  # one broken probe must not lose the others' figures
            found = [
                Measurement(
                    key=f"{name}.error",
                    probe=name,
                    label=f"{name} probe",
                    status="error",
                    note=f"failed: {type(exc).__name__}: {exc}",
                )
            ]
        measurements.extend(found)
        progress.probe_done(name, found, time.perf_counter() - p0)
    gpus: list[Any] = []
    have_nvml = False
    if device == "cuda" and torch is not None:
        progress.step("reading GPU facts (NVML) under load")
        load: Callable[[], None] = lambda: gemm.queue_load(torch, gpu_count)  # noqa: E731
        gpus, have_nvml = nvml.gpu_facts(torch, load=load)
    mode: Literal["quick", "full", "custom"] = "custom" if options.sizes else options.mode
    return BenchResult(
        mode=mode,
        device=device,
        started=started.isoformat(timespec="seconds"),
        duration_s=round(time.perf_counter() - t0, 1),
        host=host_facts(torch, have_nvml),
        gpus=gpus,
        measurements=measurements,
    )


def host_facts(torch: Any | None = None, have_nvml: bool = False) -> HostFacts:
    """The machine's CPU, memory and software versions (unknown ones None)."""
    np = import_numpy()
    cuda = None
    if torch is not None and torch.version.cuda and torch.cuda.is_available():
        cuda = str(torch.version.cuda)
    return HostFacts(
        cpu_model=_cpu_model(),
        cpu_cores=_physical_cores(),
        cpu_threads=cpu_count(),
        memory_gib=_memory_gib(),
        os=f"{platform.system()} {platform.release()}",
        python=platform.python_version(),
        torch=None if torch is None else str(torch.__version__),
        numpy=None if np is None else str(np.__version__),
        cuda=cuda,
        nvml=have_nvml,
    )


def _cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []


def _cpu_model() -> str | None:
    for line in _cpuinfo():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or None


def _physical_cores() -> int | None:
    pairs = set()
    phys = core = ""
    for line in _cpuinfo():
        if line.startswith("physical id"):
            phys = line.split(":", 1)[1].strip()
        elif line.startswith("core id"):
            core = line.split(":", 1)[1].strip()
            pairs.add((phys, core))
    return len(pairs) or None


def _memory_gib() -> float | None:
    try:
        pages = os.sysconf("SC_PHYS_PAGES")
        page = os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
    return round(pages * page / BYTES_PER_GIB, 1)


def run_torchrun_allreduce(sizes: Sizes) -> BenchResult | None:
    """Under torchrun: only the all-reduce across every rank; the result on rank 0, else None."""
    t0 = time.perf_counter()
    started = dt.datetime.now(dt.UTC)
    m = allreduce.run_torchrun(sizes.allreduce_bytes, sizes.allreduce_iters)
    if m is None:
        return None
    torch = import_torch()
    return BenchResult(
        mode="custom",
        device="cuda" if m.params.get("backend") == "nccl" else "cpu",
        started=started.isoformat(timespec="seconds"),
        duration_s=round(time.perf_counter() - t0, 1),
        host=host_facts(torch),
        measurements=[m],
    )


class RichProgress:
    """Progress bars on stderr: one bar over the probes, the current step beside it."""

    def __init__(self, console: Any | None = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )
        from rich.progress import Progress as RichBar

        self.console = console or Console(stderr=True)
        self.bar = RichBar(
            SpinnerColumn(),
            TextColumn("[bold]{task.fields[probe]:<9}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=self.console,
            transient=True,
        )
        self.task: Any = None

    def __enter__(self) -> RichProgress:
        return self  # the bar starts with the first probe: bad input leaves no blank line

    def __exit__(self, *exc: object) -> None:
        if self.task is not None:
            self.bar.stop()

    def probe_started(self, name: str, index: int, total: int) -> None:
        """Move the bar to probe ``name``."""
        if self.task is None:
            self.bar.start()
            self.task = self.bar.add_task("", total=total, probe=name)
        self.bar.update(self.task, probe=name, description="", completed=index)

    def step(self, text: str) -> None:
        """Show the current step beside the bar."""
        if self.task is not None:
            self.bar.update(self.task, description=text)

    def probe_done(self, name: str, measurements: list[Measurement], seconds: float) -> None:
        """Print one line for the finished probe: its figures that ran and why others did not."""
        ok = sum(m.status == "ok" for m in measurements)
        notes = {m.note for m in measurements if m.status != "ok" and m.note}
        extra = f" ({'; '.join(sorted(notes))})" if notes else ""
        self.console.print(f"  {name}: {ok} figure(s) in {seconds:.1f} s{extra}", highlight=False)
        if self.task is not None:
            self.bar.advance(self.task)
