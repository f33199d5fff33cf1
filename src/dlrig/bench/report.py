"""A bench report as Markdown, and the number formats its tables share with the CLI (the JSON
shape is :meth:`dlrig.bench.results.BenchReport.to_dict`)."""

from __future__ import annotations

from dlrig.bench.results import BenchReport, Comparison

PROBE_TITLES = {
    "gemm": "GEMM throughput",
    "membw": "Memory and PCIe bandwidth",
    "loader": "Data loader",
    "disk": "Disk",
    "allreduce": "All-reduce",
}


def fmt_value(value: float | None, unit: str = "") -> str:
    """3 significant digits, thousands separators: 1,234 / 98.5 / 0.312 / 0.000412 (a small
    figure, e.g. bf16 TFLOPS on a CPU without bf16 units, is never printed as 0.000)."""
    if value is None:
        return "—"
    a = abs(value)
    if 0 < a < 0.1:
        return f"{value:.3g}" + (f" {unit}" if unit else "")
    digits = 0 if a >= 100 else 1 if a >= 10 else 2 if a >= 1 else 3
    return f"{value:,.{digits}f}" + (f" {unit}" if unit else "")


def fmt_ratio(ratio: float | None) -> str:
    """A measured/expected ratio as a percentage ("87%"; None as a dash)."""
    return "—" if ratio is None else f"{ratio * 100:.0f}%"


def verdict_text(c: Comparison) -> str:
    """The verdict column of a figure: ok, LOW, unknown, skipped or error."""
    return {
        "ok": "ok",
        "low": "LOW",
        "unknown": "—",
        "skipped": c.measurement.note or "skipped",
        "error": c.measurement.note or "failed",
    }[c.verdict]


def to_markdown(report: BenchReport, title: str = "dlrig bench report") -> str:
    """The report as Markdown (``dlrig bench -o report.md``)."""
    r = report.result
    h = r.host
    lines = [f"# {title}", ""]
    lines.append(
        f"- Run: {r.mode} mode on {r.device}, started {r.started or '?'}, "
        f"{fmt_value(r.duration_s)} s"
    )
    lines.append(
        f"- CPU: {h.cpu_model or '?'} ({h.cpu_cores or '?'} cores, "
        f"{h.cpu_threads or '?'} threads usable), {fmt_value(h.memory_gib)} GiB RAM"
    )
    lines.append(
        f"- Software: {h.os}, Python {h.python}, PyTorch {h.torch or 'not installed'}, "
        f"NumPy {h.numpy or 'not installed'}"
        + (f", CUDA {h.cuda}" if h.cuda else "")
        + (", NVML" if h.nvml else "")
    )
    lines.append(f"- Expected values from: {report.expected_from}")
    lines.append("")
    if r.gpus:
        lines += [
            "## GPUs",
            "",
            "| # | name | PCIe now | PCIe max (card+slot) | power limit | temp | throttle |",
            "|---|---|---|---|---|---|---|",
        ]
        for g in r.gpus:
            now = f"gen {g.pcie_gen_current or '?'} x{g.pcie_width_current or '?'}" + (
                " (under load)" if g.sampled_under_load else ""
            )
            top = f"gen {g.pcie_gen_max_link or '?'} x{g.pcie_width_max_link or '?'}"
            power = f"{fmt_value(g.power_limit_w)} W" if g.power_limit_w else "—"
            if g.power_limit_default_w and g.power_limit_w != g.power_limit_default_w:
                power += f" (default {fmt_value(g.power_limit_default_w)} W)"
            temp = f"{g.temperature_c:.0f} °C" if g.temperature_c is not None else "—"
            lines.append(
                f"| {g.index} | {g.name} | {now} | {top} | {power} | {temp} | "
                f"{', '.join(g.throttle_reasons) or '—'} |"
            )
        lines.append("")
    lines += ["## Findings", ""]
    if report.findings:
        lines += [f"- **{f.severity}**: {f.message}" for f in report.findings]
    else:
        lines.append("- none: every figure with an expected value is within range")
    lines.append("")
    for probe, heading in PROBE_TITLES.items():
        rows = [c for c in report.comparisons if c.measurement.probe == probe]
        if not rows:
            continue
        lines += [
            f"## {heading}",
            "",
            "| figure | measured | expected | ratio | verdict |",
            "|---|---|---|---|---|",
        ]
        for c in rows:
            m = c.measurement
            exp = fmt_value(c.expected, m.unit) if c.expected is not None else "—"
            if c.expected_source:
                exp += f" ({c.expected_source})"
            lines.append(
                f"| {m.label} | {fmt_value(m.value, m.unit)} | {exp} | "
                f"{fmt_ratio(c.ratio)} | {verdict_text(c)} |"
            )
        lines.append("")
        lines += _details(probe, rows)
    return "\n".join(lines).rstrip() + "\n"


def _details(probe: str, rows: list[Comparison]) -> list[str]:
    out: list[str] = []
    for c in rows:
        p = c.measurement.params
        if probe == "gemm" and p.get("best_shape_mnk"):
            out.append(
                f"- {c.measurement.label}: best shape M×N×K = "
                f"{'×'.join(map(str, p['best_shape_mnk']))}, backend {p.get('backend')}"
            )
        if probe == "loader" and "knee_workers" in p:
            out.append(
                f"- knee: {p['knee_workers']} worker(s) reach {p['knee_fraction']:.0%} of "
                f"the best {fmt_value(p['best_samples_per_s'])} samples/s "
                f"({p['best_workers']} workers, {p.get('speedup_over_one_worker')}× one "
                f"worker); images {p['image_hw'][0]}×{p['image_hw'][1]} cropped to "
                f"{p['crop_hw'][0]}×{p['crop_hw'][1]}"
            )
        if probe == "disk" and "cache_bypass" in p:
            out.append(
                f"- {p['path']}: {p['bytes'] / 1e6:,.0f} MB file, "
                f"{p['block_bytes'] // 1024} KiB blocks, {p['threads']} reader thread(s), "
                f"page cache bypass: {p['cache_bypass']}"
            )
        if probe == "allreduce" and "by_size" in p:
            out.append(
                f"- {p['backend']}, {p['ranks']} ranks on {p['nodes']} node(s), "
                f"{p.get('convention', 'busbw = algbw × 2(n−1)/n')}"
            )
            for row in p["by_size"]:
                out.append(
                    f"  - {row['bytes'] / 2**20:,.1f} MiB: {row['seconds'] * 1e3:,.2f} ms, "
                    f"algbw {fmt_value(row['algbw_gb_s'])} GB/s, "
                    f"busbw {fmt_value(row['busbw_gb_s'])} GB/s"
                )
    return [*out, ""] if out else []
