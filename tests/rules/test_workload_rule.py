"""Rule D020 workload-fits beyond its case file: registration, file paths, bad workloads.

The pass/fail builds live in tests/rules/cases/workload-fits.yaml (run by test_rules_cases.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dlrig.buildfile import load_build
from dlrig.rules import check, get_rule

EXAMPLES = Path(__file__).parents[2] / "examples"


def test_rule_registered_with_docstring() -> None:
    r = get_rule("workload-fits")
    assert r.code == "D020" and r.severity.value == "error"
    assert all(r.sections[k] for k in ("why", "bad", "good"))


def _build_file(tmp_path: Path, workload: str) -> Path:
    text = (EXAMPLES / "warmachine.yaml").read_text(encoding="utf-8")
    path = tmp_path / "rig.yaml"
    path.write_text(text + f"\nworkload: {workload}\n", encoding="utf-8")
    return path


def test_workload_file_relative_to_build_file(tmp_path: Path) -> None:
    (tmp_path / "w").mkdir()
    src = EXAMPLES / "workloads" / "llama3-8b-full-finetune.yaml"
    (tmp_path / "w" / "ft.yaml").write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    result = check(load_build(_build_file(tmp_path, "w/ft.yaml")), rules=["workload-fits"])
    [finding] = result.findings
    assert "needs" in finding.message and "GiB short" in finding.message
    assert "micro-batch" in finding.hint and "gradient checkpointing" in finding.hint
    assert "LoRA or QLoRA" in finding.hint
    assert len(finding.parts) == 1  # the four identical cards, named once


def test_bad_workload_in_build_is_input_error(tmp_path: Path) -> None:
    """A bad workload section fails when the build file is read, at its file and line."""
    from dlrig.errors import BuildFileError

    path = _build_file(tmp_path, "{task: train, model: llama-3.1-8b, precision: int4}")
    with pytest.raises(BuildFileError, match="without LoRA") as err:
        load_build(path)
    assert err.value.path == str(path) and err.value.line is not None


def test_rule_uses_the_workload_parsed_at_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build file's workload is parsed once, when it is read; checking (even a copy with
    fewer GPUs) does not parse it again."""
    import dlrig.workload

    build = load_build(_build_file(tmp_path, "{task: finetune, model: llama-3.1-8b}"))
    assert build.workload_spec is not None and build.workload_spec.task == "finetune"

    def no_reparse(*_: object, **__: object) -> None:
        raise AssertionError("workload parsed again")

    monkeypatch.setattr(dlrig.workload, "load_workload", no_reparse)
    for b in (build, build.with_gpu_count(1)):
        [finding] = check(b, rules=["workload-fits"]).findings
        assert "GiB short" in finding.message
    # a new workload is parsed anew, not served from the old one
    other = build.replace(workload={"task": "qlora", "model": "llama-3.1-8b"})
    with pytest.raises(AssertionError, match="parsed again"):
        other.workload_spec  # noqa: B018
