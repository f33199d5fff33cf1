"""The bench data model: what a probe measured, the machine it ran on, and the comparison.

A :class:`BenchResult` holds only measurements and system facts, so it can be recorded as JSON
and compared again later (tests do this with saved runs of healthy and faulty machines).
The comparison with the baseline lives in :class:`Comparison` / :class:`BenchFinding`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["ok", "skipped", "error"]
Verdict = Literal["ok", "low", "unknown", "skipped", "error"]
BenchSeverity = Literal["error", "warning", "info"]

SCHEMA_VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Measurement(_Model):
    """One figure from one probe, e.g. bf16 GEMM on GPU 0 in TFLOPS.

    ``key`` is unique within a run and stable across runs ("gemm.bf16.gpu0"), so a recorded
    run can be compared with a new one. A skipped or failed probe has ``value`` None and says
    why in ``note``.
    """

    key: str
    probe: str
    label: str
    value: float | None = None
    unit: str = ""
    status: Status = "ok"
    device: str = "cpu"
    gpu: int | None = Field(default=None, description="GPU index for per-GPU figures")
    params: dict[str, Any] = Field(default_factory=dict)
    note: str | None = None
    higher_is_better: bool = True


class GpuFacts(_Model):
    """What NVML (or torch) tells about one GPU. Unknown facts are None."""

    index: int
    name: str
    compute_capability: str | None = None
    memory_gib: float | None = None
    pcie_gen_current: int | None = None
    pcie_width_current: int | None = None
    pcie_gen_max_gpu: int | None = Field(default=None, description="what the card supports")
    pcie_width_max_gpu: int | None = None
    pcie_gen_max_link: int | None = Field(default=None, description="card and slot together")
    pcie_width_max_link: int | None = None
    sampled_under_load: bool = False
    power_limit_w: float | None = None
    power_limit_default_w: float | None = None
    power_draw_w: float | None = None
    temperature_c: float | None = None
    temperature_slowdown_c: float | None = None
    sm_clock_mhz: float | None = None
    sm_clock_max_mhz: float | None = None
    throttle_reasons: list[str] = Field(default_factory=list)


class HostFacts(_Model):
    """What the machine's CPU, memory and software are (unknown ones None)."""

    cpu_model: str | None = None
    cpu_cores: int | None = None
    cpu_threads: int | None = None
    memory_gib: float | None = None
    os: str | None = None
    python: str | None = None
    torch: str | None = None
    numpy: str | None = None
    cuda: str | None = None
    nvml: bool = False


class BenchResult(_Model):
    """Everything a run measured: host and GPU facts plus every measurement."""

    schema_version: int = SCHEMA_VERSION
    mode: Literal["quick", "full", "custom"] = "quick"
    device: Literal["cpu", "cuda"] = "cpu"
    started: str | None = None
    duration_s: float | None = None
    host: HostFacts = Field(default_factory=HostFacts)
    gpus: list[GpuFacts] = Field(default_factory=list)
    measurements: list[Measurement] = Field(default_factory=list)

    def get(self, key: str) -> Measurement | None:
        """The measurement with this key, or None."""
        return next((m for m in self.measurements if m.key == key), None)


class Expectation(_Model):
    """What a figure should be, and where that number comes from."""

    key: str
    value: float
    source: str
    ok_ratio: float = Field(description="ratio at or above which the figure is fine")
    bad_ratio: float = Field(description="ratio below which a shortfall is an error")


class Comparison(_Model):
    """A measurement next to its expected value."""

    measurement: Measurement
    expected: float | None = None
    expected_source: str | None = None
    ratio: float | None = None
    verdict: Verdict = "unknown"
    diagnosis: str | None = None


class BenchFinding(_Model):
    """A plain-language diagnosis; ``keys`` names the measurements or facts behind it."""

    severity: BenchSeverity
    message: str
    keys: list[str] = Field(default_factory=list)


class BenchReport(_Model):
    """A result compared with what the machine should deliver."""

    result: BenchResult
    expected_from: str = Field(description="'build file X', 'detected GPUs' or 'nothing'")
    comparisons: list[Comparison] = Field(default_factory=list)
    findings: list[BenchFinding] = Field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        """Whether a finding is an error (``dlrig bench`` then exits 1)."""
        return any(f.severity == "error" for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        """``dlrig bench --json``: machine, every figure with its comparison, findings."""
        report = self
        r = report.result
        figures = []
        for c in report.comparisons:
            m = c.measurement
            figures.append(
                {
                    "key": m.key,
                    "probe": m.probe,
                    "label": m.label,
                    "value": m.value,
                    "unit": m.unit,
                    "status": m.status,
                    "gpu": m.gpu,
                    "expected": c.expected,
                    "expected_source": c.expected_source,
                    "ratio": c.ratio,
                    "verdict": c.verdict,
                    "diagnosis": c.diagnosis,
                    "note": m.note,
                    "params": m.params,
                }
            )
        counts = {
            v: sum(c.verdict == v for c in report.comparisons)
            for v in ("ok", "low", "unknown", "skipped", "error")
        }
        return {
            "schema_version": SCHEMA_VERSION,
            "mode": r.mode,
            "device": r.device,
            "started": r.started,
            "duration_s": r.duration_s,
            "expected_from": report.expected_from,
            "host": r.host.model_dump(mode="json"),
            "gpus": [g.model_dump(mode="json") for g in r.gpus],
            "summary": {
                "errors": sum(f.severity == "error" for f in report.findings),
                "warnings": sum(f.severity == "warning" for f in report.findings),
                "figures": counts,
            },
            "findings": [f.model_dump(mode="json") for f in report.findings],
            "figures": figures,
        }
