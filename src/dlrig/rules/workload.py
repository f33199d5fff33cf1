"""Workload rule: the build's GPUs must hold the build file's ``workload:`` (issue 4)."""

from __future__ import annotations

from collections.abc import Iterator

from dlrig.build import Build
from dlrig.rules.base import Hit, RuleContext, Severity, Unchecked, error, rule


def _fmt(x: float) -> str:
    return f"{x:,.1f}"


@rule("D020", "workload-fits", Severity.ERROR, "deep-learning", planner="workload-fits")
def workload_fits(build: Build, ctx: RuleContext) -> Iterator[Hit]:
    """Each GPU's memory must hold the build's workload (VRAM per GPU ≥ the requirement).

    Why: a training or inference job that needs more memory than one GPU has fails with
    "CUDA out of memory"; the requirement (weights, gradients, optimizer states, activations,
    KV cache, CUDA context and fragmentation, sharded by ZeRO across the build's GPUs) comes
    from `dlrig size` (docs/sizing.md).
    Bad: full fine-tuning of Llama 3.1 8B (about 140 GiB per GPU) on one 24 GB RTX 3090.
    Good: QLoRA on Llama 3.1 8B with gradient checkpointing on one 24 GB RTX 3090.
    """
    if build.workload is None:
        return
    if not build.gpus:
        raise Unchecked("the build has no GPU to run the workload on")
    from dlrig.sizing import fit_options, memory_bytes, scale_out
    from dlrig.units import BYTES_PER_GIB

    w = build.workload_spec
    assert w is not None  # build.workload is set
    n = build.gpu_count
    mem = memory_bytes(w, n)
    need = mem.total / BYTES_PER_GIB
    smallest = min(build.gpus, key=lambda g: g.vram_gib)
    have = smallest.vram_gib
    if have >= need:
        return
    parts = [
        ("weights", mem.weights),
        ("gradients", mem.gradients),
        ("optimizer", mem.optimizer),
        ("activations", mem.activations),
        ("KV cache", mem.kv_cache),
        ("overhead", mem.overhead),
    ]
    detail = ", ".join(f"{k} {_fmt(v / BYTES_PER_GIB)}" for k, v in parts if v > 0)
    on = f"{n} GPUs" if n > 1 else "one GPU"
    options = fit_options(w, n)
    layout = scale_out(w, have)
    if layout is not None and layout[0] > n:
        more = f"{layout[0]} × {_fmt(have)} GiB GPUs ({layout[1]})"
        options = [more if o.startswith("more GPUs") else o for o in options]
    yield error(
        f"{w.describe()} needs {_fmt(need)} GiB per GPU on {on} ({detail}), but "
        f"{smallest.name} has {_fmt(have)} GiB: {_fmt(need - have)} GiB short.",
        "Use " + ", or ".join(options) + ".",
        *build.gpus,
    )
