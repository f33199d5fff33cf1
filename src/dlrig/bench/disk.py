"""Disk sequential read (and write) of a test file in each given directory.

The probe writes a file of ``disk_file_bytes`` (fsynced, so the write figure is real), drops it
from the page cache, reads it back with several threads in large blocks, and deletes it. The
page cache is bypassed with O_DIRECT where the file system allows it (Linux), else with
``posix_fadvise(POSIX_FADV_DONTNEED)`` after the fsync, else ``F_NOCACHE`` (macOS). When
nothing works the figure is marked "cached" and says so, because it measures RAM, not the disk.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import tempfile
import threading
import time
from pathlib import Path

from dlrig.bench.context import MIB, ProbeContext
from dlrig.bench.results import Measurement

ALIGN = 4096  # O_DIRECT needs block-aligned buffers, offsets and lengths


def run(ctx: ProbeContext) -> list[Measurement]:
    """Sequential read speed of each disk path given (``--disk``)."""
    out: list[Measurement] = []
    for path in ctx.disk_paths:
        ctx.step(f"disk read {path}")
        out.extend(
            measure_path(
                Path(path),
                ctx.sizes.disk_file_bytes,
                ctx.sizes.disk_block_bytes,
                ctx.sizes.disk_threads,
            )
        )
    return out


def _key(path: Path) -> str:
    return f"disk.read.{path}"


def measure_path(path: Path, file_bytes: int, block_bytes: int, threads: int) -> list[Measurement]:
    """Write, flush, and read back a test file under ``path``; returns write and read figures."""
    block = max(ALIGN, block_bytes // ALIGN * ALIGN)
    n_blocks = max(1, file_bytes // block)
    size = n_blocks * block
    label = f"disk sequential read ({path})"

    def failed(note: str) -> list[Measurement]:
        return [
            Measurement(
                key=_key(path),
                probe="disk",
                label=label,
                unit="MB/s",
                status="error",
                note=note,
                params={"path": str(path)},
            )
        ]

    if not path.is_dir():
        return failed(f"not a directory: {path}")
    fd, name = -1, ""
    try:
        fd, name = tempfile.mkstemp(prefix=".dlrig-bench-", dir=path)
        write_s = _write(fd, block, n_blocks)
        os.close(fd)
        fd = -1
        method, read_s = _read(Path(name), block, n_blocks, threads)
    except OSError as exc:
        return failed(f"failed: {exc}")
    finally:
        if fd >= 0:
            os.close(fd)
        if name:
            with contextlib.suppress(OSError):
                os.unlink(name)
    params = {"path": str(path), "bytes": size, "block_bytes": block, "threads": threads}
    return [
        Measurement(
            key=f"disk.write.{path}",
            probe="disk",
            label=f"disk sequential write ({path})",
            value=round(size / write_s / 1e6, 1),
            unit="MB/s",
            params={**params, "threads": 1, "fsync": True},
        ),
        Measurement(
            key=_key(path),
            probe="disk",
            label=label,
            value=round(size / read_s / 1e6, 1),
            unit="MB/s",
            params={**params, "cache_bypass": method},
            note=None
            if method != "cached"
            else "the page cache could not be bypassed (or the path is in RAM, e.g. tmpfs)",
        ),
    ]


def _write(fd: int, block: int, n_blocks: int) -> float:
    chunk = os.urandom(min(block, 4 * MIB))  # incompressible, so compressing drives don't cheat
    data = (chunk * (block // len(chunk) + 1))[:block]
    t0 = time.perf_counter()
    for _ in range(n_blocks):
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    os.fsync(fd)
    return time.perf_counter() - t0


RAM_FILESYSTEMS = frozenset({"tmpfs", "ramfs", "devtmpfs", "hugetlbfs"})


def fs_type(path: Path) -> str | None:
    """The file system type of ``path`` from /proc/self/mounts (Linux), else None."""
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return None
    target = str(path.resolve())
    best, kind = "", None
    for line in mounts:
        fields = line.split()
        if len(fields) < 3:
            continue
        mount = fields[1].replace("\\040", " ")
        inside = target == mount or target.startswith(mount.rstrip("/") + "/")
        if inside and len(mount) >= len(best):
            best, kind = mount, fields[2]
    return kind


def _open_uncached(name: Path) -> tuple[int, str]:
    """A read-only fd that bypasses the page cache where possible, and how it does."""
    if fs_type(name.parent) in RAM_FILESYSTEMS:  # the "disk" is RAM: nothing to bypass
        return os.open(name, os.O_RDONLY), "cached"
    o_direct = getattr(os, "O_DIRECT", 0)
    if o_direct:
        try:
            return os.open(name, os.O_RDONLY | o_direct), "o_direct"
        except OSError:  # tmpfs, some network and overlay file systems
            pass
    fd = os.open(name, os.O_RDONLY)
    if hasattr(os, "posix_fadvise"):
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            return fd, "fadvise_dontneed"
        except OSError:
            pass
    try:
        import fcntl

        f_nocache = getattr(fcntl, "F_NOCACHE", None)
        if f_nocache is not None:
            fcntl.fcntl(fd, f_nocache, 1)
            return fd, "f_nocache"
    except (ImportError, OSError):
        pass
    return fd, "cached"


def _read(name: Path, block: int, n_blocks: int, threads: int) -> tuple[str, float]:
    fd, method = _open_uncached(name)
    threads = max(1, min(threads, n_blocks))
    errors: list[BaseException] = []

    def reader(worker: int) -> None:
        buf = mmap.mmap(-1, block)  # page-aligned, as O_DIRECT requires
        try:
            for i in range(worker, n_blocks, threads):
                got = os.preadv(fd, [buf], i * block)
                if got <= 0:
                    raise OSError(f"short read at block {i}")
        except BaseException as exc:
            errors.append(exc)
        finally:
            buf.close()

    try:
        pool = [threading.Thread(target=reader, args=(w,)) for w in range(threads)]
        t0 = time.perf_counter()
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        seconds = time.perf_counter() - t0
    finally:
        os.close(fd)
    if errors:
        raise OSError(str(errors[0]))
    return method, seconds
