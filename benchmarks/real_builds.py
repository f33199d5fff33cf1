"""Agreement of `dlrig check` with what happened to published deep-learning builds.

Run: python benchmarks/real_builds.py [--markdown] [DIR]   (default: tests/data/real_builds)
(--markdown prints the verdict table kept in that folder's README instead of the report)

Each file there is one published build with its outcome (worked / marginal / failed), the rules
its facts can judge and, for a failure or a marginal build, the rule that should report it (see the
README there). A `worked` build agrees when no judged rule reports an error; a `failed` build
agrees when its `expect` rule reports an error (without `expect`, when any judged rule does); a
`marginal` build (it ran, but its builder or vendor judged it unfit: too close to a limit,
throttling) agrees when its `expect` rule flags it - an error or a warning, both are a "do not
build it this way" - and is a miss when that rule is silent. Prints one line per build, the
known reason under each miss (the file's `miss:`: a cause outside the rules, PSU quality no
wattage rule can see, or a description the sources leave incomplete) and the agreement; exits 1
when a file cannot be read.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEFAULT_DIR = Path(__file__).resolve().parents[1] / "tests" / "data" / "real_builds"
OUTCOMES = ("worked", "marginal", "failed")


@dataclass(frozen=True)
class Verdict:
    case: str
    outcome: str
    errors: tuple[str, ...]  # judged rules that report an error
    agrees: bool
    why: str = ""  # the case file's `miss:` - why the checker and reality disagree
    warnings: tuple[str, ...] = ()  # judged rules that warn (no effect on agreement)
    unchecked: tuple[str, ...] = ()  # judged rules the facts given could not check


def load_cases(folder: Path = DEFAULT_DIR) -> list[tuple[str, dict[str, Any]]]:
    """(file stem, parsed file) of every case, sorted by name."""
    out = []
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for key in ("source", "outcome", "judge", "build"):
            if key not in data:
                raise ValueError(f"{path.name}: no '{key}'")
        if data["outcome"] not in OUTCOMES:
            raise ValueError(f"{path.name}: outcome must be one of {OUTCOMES}")
        if data["outcome"] == "marginal" and not (
            data.get("expect") and data.get("marginal_because")
        ):
            raise ValueError(
                f"{path.name}: a marginal build names the rule that should flag it (expect:) and "
                "quotes who judged it unfit and why (marginal_because:)"
            )
        out.append((path.stem, data))
    return out


def judge(name: str, case: dict[str, Any], catalog: Any) -> Verdict:
    """Check the case's build and compare the judged rules' errors with what happened."""
    from dlrig.buildfile import parse_build
    from dlrig.rules import check

    build = parse_build(case["build"], catalog)
    result = check(build)
    judged = case["judge"]

    def is_judged(slug: str) -> bool:
        return judged == "all" or slug in judged

    errors = tuple(sorted({f.slug for f in result.errors if is_judged(f.slug)}))
    warnings = tuple(sorted({f.slug for f in result.warnings if is_judged(f.slug)} - set(errors)))
    # "all" judges what the facts can check; a listed rule the facts cannot check is reported
    listed = set(judged) if judged != "all" else set()
    unchecked = tuple(sorted(u.slug for u in result.unchecked if u.slug in listed))
    if case["outcome"] == "worked":
        agrees = not errors
    elif case["outcome"] == "marginal":
        # ran, but judged unfit: the named rule must flag it, as an error or a warning
        agrees = case["expect"] in errors or case["expect"] in warnings
    elif case.get("expect"):
        agrees = case["expect"] in errors
    else:
        agrees = bool(errors)
    why = str(case.get("miss") or "")
    return Verdict(name, case["outcome"], errors, agrees, why, warnings, unchecked)


def agreement(verdicts: list[Verdict]) -> float:
    return sum(v.agrees for v in verdicts) / len(verdicts) if verdicts else 0.0


def summary(verdicts: list[Verdict]) -> str:
    """'40/44 = 91% (worked 25/25, marginal 3/3, failed 12/16)': each outcome type apart."""
    per = []
    for outcome in OUTCOMES:
        some = [v for v in verdicts if v.outcome == outcome]
        if some:
            per.append(f"{outcome} {sum(v.agrees for v in some)}/{len(some)}")
    return (
        f"{sum(v.agrees for v in verdicts)}/{len(verdicts)} = {agreement(verdicts):.0%} "
        f"({', '.join(per)})"
    )


def markdown(verdicts: list[Verdict]) -> str:
    """The README's table: build, outcome, what check reports, the verdict (a miss: its kind)."""
    rows = ["| build | outcome | check | verdict |", "|---|---|---|---|"]
    for v in verdicts:
        found = ", ".join(v.errors) or "no error"
        if v.warnings:
            found += f" (warns: {', '.join(v.warnings)})"
        verdict = "agree" if v.agrees else "miss: " + v.why.split(":")[0]
        rows.append(f"| {v.case} | {v.outcome} | {found} | {verdict} |")
    return "\n".join([f"agreement: {summary(verdicts)}", "", *rows])


def main(argv: list[str]) -> int:
    from dlrig.catalog import open_catalog

    as_markdown = "--markdown" in argv
    args = [a for a in argv if a != "--markdown"]
    folder = Path(args[0]) if args else DEFAULT_DIR
    catalog = open_catalog()
    verdicts = [judge(name, case, catalog) for name, case in load_cases(folder)]
    if as_markdown:
        print(markdown(verdicts))
        return 0
    for v in verdicts:
        mark = "agree" if v.agrees else "MISS "
        found = ", ".join(v.errors) or "no error"
        if v.warnings:
            found += f" (warns: {', '.join(v.warnings)})"
        print(f"{mark}  {v.outcome:8}  {v.case:44}  check: {found}")
        if not v.agrees:
            print(f"       why: {v.why or '(not yet explained: add miss: to the case file)'}")
    print(f"\nagreement: {summary(verdicts)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
