"""Generate docs/rules.md from the registry (``python -m dlrig.rules.docs`` rewrites it)."""

from __future__ import annotations

import sys
from pathlib import Path

from dlrig.rules.base import TOPICS, iter_rules

HEADER = """# Rule reference

<!-- Generated from the rule registry by `python -m dlrig.rules.docs`; do not edit by hand.
     tests/test_rules_engine.py (test_docs_are_current) fails when this file is stale. -->

`dlrig check` runs every rule below. Each rule has a stable code and slug (used in `--json`
output), the worst severity it reports (`error`: will not work or fit; `warning`: works but hurts;
`info`: advice), and reports itself *unchecked* when the catalog lacks the data it needs.
Explain one from the command line with `dlrig rules SLUG`.
"""

TOPIC_TITLES = {
    "power": "Power",
    "platform": "Platform",
    "fit": "Fit",
    "cooling": "Cooling",
    "deep-learning": "Deep learning",
}


def render() -> str:
    """docs/rules.md, generated from the rule registry."""
    rules = list(iter_rules())
    out = [HEADER, "| code | slug | severity | checks |", "|---|---|---|---|"]
    for r in sorted(rules, key=lambda r: (list(TOPICS).index(r.topic), r.code)):
        out.append(f"| {r.code} | [`{r.slug}`](#{r.slug}) | {r.severity.value} | {r.title} |")
    for topic in TOPICS:
        group = sorted((r for r in rules if r.topic == topic), key=lambda r: r.code)
        if not group:
            continue
        out.append(f"\n## {TOPIC_TITLES[topic]}\n")
        for r in group:
            s = r.sections
            out.append(f"### {r.slug}\n")
            out.append(f"**{r.code}** · {r.severity.value} · {r.title}\n")
            out.append(f"- **Why:** {' '.join(s['why'].split())}")
            out.append(f"- **Bad:** {' '.join(s['bad'].split())}")
            out.append(f"- **Good:** {' '.join(s['good'].split())}\n")
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    """``python -m dlrig.rules.docs [OUTPUT.md]``: write the rule reference."""
    args = sys.argv[1:] if argv is None else argv
    if args and args[0].startswith("-"):
        print("usage: python -m dlrig.rules.docs [OUTPUT.md]  (default: docs/rules.md)")
        return 0 if args[0] in ("-h", "--help") else 2
    target = Path(args[0]) if args else Path(__file__).resolve().parents[3] / "docs" / "rules.md"
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
