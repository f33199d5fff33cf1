"""DataLoader throughput against the number of workers, on a synthetic decode-and-augment set.

Each sample is "decoded" (zlib-inflating a compressed 8-bit RGB image, roughly the CPU cost of
decoding a small JPEG) and augmented (random crop, horizontal flip, normalise to float32 CHW),
the per-sample CPU work of an image-classification input pipeline. The probe reports
samples/s for each worker count and the *knee*: the fewest workers reaching
:data:`KNEE_FRACTION` of the best throughput.
"""

from __future__ import annotations

import itertools
import time
import zlib
from typing import Any

from dlrig.bench.context import ProbeContext, cpu_count, import_numpy
from dlrig.bench.results import Measurement

# Our own judgement: the last 10% of throughput rarely pays for the extra workers' RAM and cores.
KNEE_FRACTION = 0.9
ROUNDS = 3  # timed rounds of one batch per worker, after the start-up round (at least)


class SyntheticImages:
    """A map-style dataset (works with torch's DataLoader without importing torch here)."""

    def __init__(self, length: int, image_hw: tuple[int, int], crop_hw: tuple[int, int]) -> None:
        np = import_numpy()
        if np is None:  # pragma: no cover - torch depends on numpy
            raise RuntimeError("the loader probe needs numpy")
        h, w = image_hw
        rng = np.random.default_rng(0)
        yy, xx = np.mgrid[0:h, 0:w]
        base = (yy[..., None] * 3 + xx[..., None] * 5 + np.arange(3) * 40) % 256
        noise = rng.integers(0, 24, size=(h, w, 3))
        image = ((base + noise) % 256).astype(np.uint8)
        self.blob = zlib.compress(image.tobytes(), 6)
        self.length = length
        self.image_hw = image_hw
        self.crop_hw = crop_hw

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> tuple[Any, int]:
        import numpy as np

        h, w = self.image_hw
        ch, cw = self.crop_hw
        image = np.frombuffer(zlib.decompress(self.blob), dtype=np.uint8).reshape(h, w, 3)
        rng = np.random.default_rng(index)
        y = int(rng.integers(0, h - ch + 1))
        x = int(rng.integers(0, w - cw + 1))
        crop = image[y : y + ch, x : x + cw]
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        # the ImageNet channel mean and std that torchvision's classification recipes normalise by
        mean = np.array([0.485, 0.456, 0.406], dtype=np.float32)
        std = np.array([0.229, 0.224, 0.225], dtype=np.float32)
        out = (crop.astype(np.float32) / 255.0 - mean) / std
        return np.ascontiguousarray(out.transpose(2, 0, 1)), index % 1000


def worker_counts(ctx: ProbeContext) -> list[int]:
    """0, 1, 2, 4, ... up to the CPU count (and the CPU count itself), capped by the sizes."""
    if ctx.sizes.loader_workers is not None:
        return list(ctx.sizes.loader_workers)
    top = min(cpu_count(), ctx.sizes.loader_max_workers)
    counts = [0, 1]
    while counts[-1] * 2 <= top:
        counts.append(counts[-1] * 2)
    if counts[-1] != top:
        counts.append(top)
    return counts


def knee(throughput: dict[int, float], fraction: float = KNEE_FRACTION) -> int:
    """The fewest workers whose throughput reaches ``fraction`` of the best."""
    best = max(throughput.values())
    return min(w for w, t in throughput.items() if t >= fraction * best)


def run(ctx: ProbeContext) -> list[Measurement]:
    """Samples per second a PyTorch DataLoader decodes and augments, per worker count (its knee)."""
    torch = ctx.torch()
    if torch is None:
        return [
            Measurement(
                key="loader.knee",
                probe="loader",
                label="DataLoader knee",
                unit="samples/s",
                status="skipped",
                note="skipped: needs torch (pip install 'dlrig[bench]')",
            )
        ]
    from torch.utils.data import DataLoader

    s = ctx.sizes
    out: list[Measurement] = []
    rates: dict[int, float] = {}
    for workers in worker_counts(ctx):
        ctx.step(f"DataLoader, {workers} worker(s)")
        per_round = max(1, workers)
        rounds = max(ROUNDS, -(-s.loader_batches // per_round))
        n_batches = per_round * (rounds + 1)
        ds = SyntheticImages(n_batches * s.loader_batch_size, s.loader_image_hw, s.loader_crop_hw)
        dl: Any = DataLoader(
            ds,  # type: ignore[arg-type]  # map-style: __len__ + __getitem__ suffice
            batch_size=s.loader_batch_size,
            num_workers=workers,
            shuffle=False,
        )
        arrivals: list[float] = []
        for _batch in dl:
            arrivals.append(time.perf_counter())
        # The first round includes worker start-up and arrives as a burst: skip it, then take
        # the best of the timed rounds (one batch per worker each), like the GEMM probe.
        ends = arrivals[per_round - 1 :: per_round]
        round_s = [b - a for a, b in itertools.pairwise(ends) if b > a]
        samples = per_round * s.loader_batch_size
        rate = samples / min(round_s) if round_s else float("nan")
        rates[workers] = rate
        out.append(
            Measurement(
                key=f"loader.workers{workers}",
                probe="loader",
                label=f"DataLoader, {workers} worker(s)",
                value=round(rate, 1),
                unit="samples/s",
                params={
                    "workers": workers,
                    "batch_size": s.loader_batch_size,
                    "rounds": len(round_s),
                },
            )
        )
    k = knee(rates)
    best_w = max(rates, key=lambda w: rates[w])
    one = rates.get(1) or rates.get(0)
    out.append(
        Measurement(
            key="loader.knee",
            probe="loader",
            label=f"DataLoader knee ({k} workers)",
            value=round(rates[k], 1),
            unit="samples/s",
            params={
                "knee_workers": k,
                "best_workers": best_w,
                "best_samples_per_s": round(rates[best_w], 1),
                "speedup_over_one_worker": round(rates[best_w] / one, 2) if one else None,
                "cpu_count": cpu_count(),
                "image_hw": list(s.loader_image_hw),
                "crop_hw": list(s.loader_crop_hw),
                "knee_fraction": KNEE_FRACTION,
            },
        )
    )
    return out
