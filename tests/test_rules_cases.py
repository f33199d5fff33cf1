"""Every rule's case file (tests/rules/cases/<slug>.yaml): each case passes, fails or is
unchecked exactly as it says, and every rule has at least one passing and one failing build."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from dlrig.buildfile import parse_build
from dlrig.rules import RULES, check

ROOT = Path(__file__).resolve().parents[1]
CASES_DIR = ROOT / "tests" / "rules" / "cases"
FAILING = ("error", "warning", "info")


def _load(slug: str) -> dict[str, Any]:
    """A case file as {rule, base, cases}. Two layouts are accepted: that mapping, or a plain
    list of cases that each carry a whole ``build`` (the rule is then the file's stem)."""
    doc = yaml.safe_load((CASES_DIR / f"{slug}.yaml").read_text(encoding="utf-8"))
    if isinstance(doc, list):
        return {"rule": slug, "base": None, "cases": doc}
    return doc  # type: ignore[no-any-return]


def _all_cases() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        doc = _load(path.stem)
        for case in doc["cases"]:
            out.append((doc["rule"], {**case, "_base": doc.get("base")}))
    return out


def build_for(case: dict[str, Any], catalog: Any) -> Any:
    if "build" in case:
        return parse_build(case["build"], catalog, source=str(CASES_DIR / "case.yaml"))
    data: dict[str, Any] = {"name": case["name"], "parts": {}}
    if case.get("_base"):
        base = yaml.safe_load((ROOT / "examples" / f"{case['_base']}.yaml").read_text())
        data["parts"] = dict(base["parts"])
        if "site" in base:
            data["site"] = base["site"]
    data["parts"].update(case.get("parts") or {})
    if "site" in case:
        data["site"] = case["site"]
    if "workload" in case:  # the build file's optional workload: section (rule workload-fits)
        data["workload"] = case["workload"]
    build = parse_build(data, catalog, source=f"case {case['name']}")
    if "gpus" in case:
        build = build.with_gpu_count(case["gpus"])
    return build


def test_every_rule_has_a_passing_and_a_failing_case() -> None:
    missing = []
    for slug in RULES:
        path = CASES_DIR / f"{slug}.yaml"
        if not path.exists():
            missing.append(f"{slug}: no case file")
            continue
        doc = _load(slug)
        assert doc["rule"] == slug
        expects = {c["expect"] for c in doc["cases"]}
        if "pass" not in expects:
            missing.append(f"{slug}: no passing case")
        if not expects & set(FAILING):
            missing.append(f"{slug}: no failing case")
    assert not missing, missing


def test_no_case_file_for_an_unknown_rule() -> None:
    assert {p.stem for p in CASES_DIR.glob("*.yaml")} <= set(RULES)


@pytest.mark.parametrize(
    ("slug", "case"), _all_cases(), ids=[f"{s}:{c['name']}" for s, c in _all_cases()]
)
def test_case(slug: str, case: dict[str, Any], catalog: Any) -> None:
    build = build_for(case, catalog)
    result = check(build, rules=[slug])
    unchecked = [u.slug for u in result.unchecked]
    expect = case["expect"]
    if expect == "unchecked":
        assert unchecked == [slug], result.findings
        return
    if expect == "pass":
        assert result.findings == [], result.findings
        assert unchecked == [], result.unchecked
        return
    assert result.findings, f"expected {expect}, got nothing (unchecked: {result.unchecked})"
    worst = result.findings[0]
    assert worst.severity.value == expect, result.findings
    assert all(f.slug == slug for f in result.findings)
    needles = case.get("contains", [])
    for needle in [needles] if isinstance(needles, str) else needles:
        texts = [f.message + " " + f.hint for f in result.findings]
        assert any(needle in t for t in texts), (needle, texts)
    for f in result.findings:
        assert f.hint and f.parts
        assert set(f.parts) <= build.part_ids
