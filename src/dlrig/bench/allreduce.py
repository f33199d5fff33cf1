"""All-reduce bus bandwidth with torch.distributed: NCCL on GPUs, gloo on the CPU.

Bandwidths follow the nccl-tests convention (github.com/NVIDIA/nccl-tests, doc/PERFORMANCE.md):
algbw = S / t for a buffer of S bytes, and bus bandwidth busbw = algbw × 2(n−1)/n for n ranks,
which is comparable with the slowest link's speed whatever n is.

Three ways to run it:

* inside ``dlrig bench``: one process per local GPU (or 2 CPU processes), spawned here;
* ``python -m dlrig.bench.allreduce --nprocs N``: the same, on its own;
* under torchrun across nodes: ``torchrun --nnodes 2 --nproc-per-node 8 ... -m
  dlrig.bench.allreduce`` (or ``torchrun ... --no-python dlrig bench``); rank 0 prints.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from dlrig.bench.context import MIB, ProbeContext
from dlrig.bench.results import Measurement

TORCHRUN_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK")


def bus_bandwidth(algbw: float, ranks: int) -> float:
    """nccl-tests bus bandwidth of an all-reduce: algbw × 2(n−1)/n."""
    return algbw * 2 * (ranks - 1) / ranks


def launched_by_torchrun() -> bool:
    """True inside a process started by torchrun (or any launcher setting RANK/WORLD_SIZE)."""
    return all(k in os.environ for k in TORCHRUN_ENV) and int(os.environ["WORLD_SIZE"]) > 1


def _time_sizes(
    torch: Any, dist: Any, device: Any, sizes: tuple[int, ...], iters: int
) -> list[dict[str, float]]:
    """Per buffer size: seconds per all-reduce (slowest rank), algbw and busbw in GB/s."""
    world = dist.get_world_size()
    rows = []

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for n_bytes in sizes:
        buf = torch.ones(max(1, n_bytes // 4), dtype=torch.float32, device=device)
        for _ in range(2):
            dist.all_reduce(buf)
        sync()
        dist.barrier()
        t0 = time.perf_counter()
        for _ in range(iters):
            dist.all_reduce(buf)
        sync()
        seconds = torch.tensor([(time.perf_counter() - t0) / iters], device=device)
        dist.all_reduce(seconds, op=dist.ReduceOp.MAX)
        t = float(seconds.item())
        size = buf.numel() * 4
        algbw = size / t / 1e9
        rows.append(
            {
                "bytes": size,
                "seconds": t,
                "algbw_gb_s": round(algbw, 4),
                "busbw_gb_s": round(bus_bandwidth(algbw, world), 4),
            }
        )
        del buf
    return rows


def _measurement(
    rows: list[dict[str, float]], backend: str, world: int, nodes: int, how: str
) -> Measurement:
    last = rows[-1]  # the largest buffer: closest to the link's bandwidth
    return Measurement(
        key="allreduce.busbw",
        probe="allreduce",
        label=f"all-reduce bus bandwidth ({backend}, {world} ranks"
        + (f", {nodes} nodes)" if nodes > 1 else ")"),
        value=last["busbw_gb_s"],
        unit="GB/s",
        device="cuda" if backend == "nccl" else "cpu",
        params={
            "backend": backend,
            "ranks": world,
            "nodes": nodes,
            "launched": how,
            "convention": "nccl-tests: busbw = algbw × 2(n−1)/n",
            "by_size": rows,
        },
    )


def _worker(
    rank: int,
    world: int,
    backend: str,
    init_file: str,
    sizes: tuple[int, ...],
    iters: int,
    queue: Any,
) -> None:
    import torch
    import torch.distributed as dist

    if backend == "gloo" and sys.platform.startswith("linux"):
        os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    device = torch.device("cuda", rank) if backend == "nccl" else torch.device("cpu")
    if backend == "nccl":
        torch.cuda.set_device(device)
    dist.init_process_group(backend, init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        rows = _time_sizes(torch, dist, device, sizes, iters)
        if rank == 0:
            queue.put(rows)
    finally:
        dist.destroy_process_group()


def run_local(nprocs: int, backend: str, sizes: tuple[int, ...], iters: int) -> Measurement:
    """Spawn ``nprocs`` local processes (one per GPU for NCCL) and all-reduce between them."""
    import torch.multiprocessing as tmp

    mp = tmp.get_context("spawn")
    queue = mp.SimpleQueue()
    with tempfile.TemporaryDirectory(prefix="dlrig-allreduce-") as tmpdir:
        init_file = str(Path(tmpdir) / "rendezvous")
        tmp.spawn(
            _worker,
            args=(nprocs, backend, init_file, sizes, iters, queue),
            nprocs=nprocs,
            join=True,
        )
    rows = queue.get()
    return _measurement(rows, backend, nprocs, 1, "spawn")


def run_torchrun(
    sizes: tuple[int, ...], iters: int, backend: str | None = None
) -> Measurement | None:
    """All-reduce in the process group torchrun set up; the measurement on rank 0, else None."""
    import torch
    import torch.distributed as dist

    use_cuda = torch.cuda.is_available() and backend != "gloo"
    backend = backend or ("nccl" if use_cuda else "gloo")
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device("cuda", local_rank) if backend == "nccl" else torch.device("cpu")
    if backend == "nccl":
        torch.cuda.set_device(device)
    dist.init_process_group(backend)
    try:
        rows = _time_sizes(torch, dist, device, sizes, iters)
        world = dist.get_world_size()
        local = int(os.environ.get("LOCAL_WORLD_SIZE", str(world)))
        nodes = max(1, world // max(1, local))
        return (
            _measurement(rows, backend, world, nodes, "torchrun") if dist.get_rank() == 0 else None
        )
    finally:
        dist.destroy_process_group()


def run(ctx: ProbeContext) -> list[Measurement]:
    """Multi-GPU all-reduce bus bandwidth (NCCL, or gloo across CPU processes)."""
    torch = ctx.torch()
    skipped = Measurement(
        key="allreduce.busbw",
        probe="allreduce",
        label="all-reduce bus bandwidth",
        unit="GB/s",
        status="skipped",
    )
    if torch is None:
        return [skipped.model_copy(update={"note": "skipped: needs torch"})]
    import torch.distributed as dist

    if not dist.is_available():
        return [skipped.model_copy(update={"note": "skipped: torch built without distributed"})]
    if ctx.device == "cuda":
        if ctx.gpu_count < 2:
            return [skipped.model_copy(update={"note": "skipped: needs 2 or more GPUs"})]
        if not dist.is_nccl_available():
            return [skipped.model_copy(update={"note": "skipped: torch built without NCCL"})]
        ctx.step(f"NCCL all-reduce across {ctx.gpu_count} GPUs")
        return [
            run_local(ctx.gpu_count, "nccl", ctx.sizes.allreduce_bytes, ctx.sizes.allreduce_iters)
        ]
    n = ctx.sizes.allreduce_cpu_procs
    ctx.step(f"gloo all-reduce across {n} CPU processes")
    return [run_local(n, "gloo", ctx.sizes.allreduce_bytes, ctx.sizes.allreduce_iters)]


def main(argv: list[str] | None = None) -> int:
    """``python -m dlrig.bench.allreduce``: spawn N local ranks, or join torchrun's group."""
    p = argparse.ArgumentParser(
        prog="python -m dlrig.bench.allreduce",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--nprocs",
        type=int,
        default=None,
        help="local processes to spawn (default: one per GPU, else 2)",
    )
    p.add_argument("--backend", choices=("nccl", "gloo"), default=None)
    p.add_argument(
        "--size-mb", type=float, nargs="+", default=[8, 64, 256], help="buffer sizes in MiB"
    )
    p.add_argument("--iters", type=int, default=20)
    p.add_argument("--json", action="store_true", help="print the measurement as JSON")
    args = p.parse_args(argv)
    sizes = tuple(int(s * MIB) for s in args.size_mb)
    if launched_by_torchrun():
        m = run_torchrun(sizes, args.iters, args.backend)
    else:
        import torch

        gpus = torch.cuda.device_count()
        backend = args.backend or ("nccl" if gpus > 1 else "gloo")
        nprocs = args.nprocs or (gpus if backend == "nccl" else 2)
        m = run_local(nprocs, backend, sizes, args.iters)
    if m is None:
        return 0
    if args.json:
        print(json.dumps(m.model_dump(mode="json"), indent=2))
    else:
        print(f"{m.label}: busbw {m.value} GB/s")
        for row in m.params["by_size"]:
            print(
                f"  {row['bytes'] / MIB:>8.1f} MiB  {row['seconds'] * 1e3:8.2f} ms  "
                f"algbw {row['algbw_gb_s']:8.2f} GB/s  busbw {row['busbw_gb_s']:8.2f} GB/s"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
