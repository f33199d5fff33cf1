"""Cumulative cost over time, one line per option (matplotlib, imported lazily)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from dlrig.cost.economics import Option
from dlrig.errors import InputError, MissingExtraError

PLOT_SUFFIXES = (".png", ".svg")


def plot_cumulative(report: object, path: str | Path, max_cloud: int = 6) -> Path:
    """Write the cumulative-cost chart of a :class:`~dlrig.cost.tco.CostReport` to ``path``
    (.png or .svg).

    Shows the build, every prebuilt and the ``max_cloud`` cheapest cloud options at the horizon,
    with a marker at each break-even.
    """
    out = Path(path)
    if out.suffix.lower() not in PLOT_SUFFIXES:
        raise InputError(
            f"cannot write a plot to '{out.name}'", "give a file ending in .png or .svg"
        )
    fig, plt = _figure(report, max_cloud)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out)
    except OSError as exc:  # a folder that cannot be made or written: bad input, not a crash
        raise InputError(
            f"cannot write the plot {out}: {exc.strerror or exc}",
            "choose a file in a folder you can write to",
        ) from None
    finally:
        plt.close(fig)
    return out


def cumulative_svg(report: object, max_cloud: int = 6) -> str:
    """The chart :func:`plot_cumulative` draws, as SVG text (no file is written)."""
    fig, plt = _figure(report, max_cloud)
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    plt.close(fig)
    return buf.getvalue()


def _figure(report: object, max_cloud: int) -> tuple[Any, Any]:
    """The chart's matplotlib figure and the pyplot module (to close it with)."""
    from dlrig.cost.tco import CostReport

    assert isinstance(report, CostReport)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingExtraError("matplotlib", "cost") from None
    usage = report.usage
    clouds = sorted(
        (o for o in report.options if o.kind in ("cloud", "cloud-spot")),
        key=lambda o: o.cost_usd(usage.months, usage),
    )[:max_cloud]
    shown: list[Option] = [
        report.own,
        *(o for o in report.options if o.kind == "prebuilt"),
        *clouds,
    ]
    steps = max(int(usage.months * 4), 8)
    months = [usage.months * i / steps for i in range(steps + 1)]
    # constrained layout makes room for the legend below the axes, so it never covers a line
    fig, ax = plt.subplots(figsize=(9, 6.5), layout="constrained")
    for opt in shown:
        style = "-" if opt.kind in ("own", "prebuilt") else "--"
        width = 2.6 if opt.kind == "own" else 1.4
        ax.plot(months, [opt.cost_usd(m, usage) for m in months], style, lw=width, label=opt.label)
        be = report.break_even.get(opt.label)
        if be is not None and 0 < be.months <= usage.months:
            ax.plot([be.months], [opt.cost_usd(be.months, usage)], "o", color="black", ms=4)
    ax.set_xlabel(f"months (at {usage.hours_per_day:g} h/day)")
    ax.set_ylabel("cumulative cost (USD)")
    ax.set_title(f"{report.inputs.name}: own vs prebuilt vs cloud (same work)")
    ax.grid(alpha=0.3)
    fig.legend(fontsize=8, loc="outside lower center", ncols=2, frameon=False)
    return fig, plt
