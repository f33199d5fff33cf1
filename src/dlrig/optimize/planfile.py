"""``plan -o``: the plan as an editable build file — block YAML, one part per line, the plan's
reasoning as comments (``dlrig check`` reads it back to the same parts)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from dlrig.optimize.results import PlannedBuild


def _scalar(value: Any) -> str:
    text = yaml.safe_dump(value, allow_unicode=True, width=10**6, default_flow_style=True)
    return text.removesuffix("\n...\n").strip()


def _entry_lines(key: str, value: Any, indent: str) -> list[str]:
    if value is None or not isinstance(value, dict | list):
        return [f"{indent}{key}: {_scalar(value)}"]
    block = yaml.safe_dump(
        {key: value}, allow_unicode=True, sort_keys=False, default_flow_style=False, width=100
    )
    return [indent + line for line in block.splitlines()]


def plan_file_text(pb: PlannedBuild, header: Sequence[str] = ()) -> str:
    """The build file of ``pb``: ``header`` lines and each part's reason as comments."""
    from dlrig.buildfile import build_to_dict

    data = build_to_dict(pb.build)
    lines = [f"# {h}" for h in header]
    for key, value in data.items():
        if key != "parts":
            lines += _entry_lines(key, value, "")
            continue
        lines.append("parts:")
        for cat, entry in value.items():
            why = pb.reasons.get(cat)
            if why:
                lines.append(f"  # {why}")
            lines += _entry_lines(cat, entry, "  ")
    return "\n".join(lines) + "\n"


def plan_header(pb: PlannedBuild, caveats: Sequence[str], unspent: str | None) -> list[str]:
    """The comment lines above the parts: totals, then what was not checked, then the budget."""
    out = [
        f"{pb.build.name}: ${pb.price_usd:,.0f}, {pb.tflops:,.1f} sustained TFLOPS, "
        f"{pb.vram_gib:g} GiB VRAM (written by dlrig plan; edit and run dlrig check)",
        *caveats,
    ]
    if pb.power_limit:
        out.insert(1, f"power limit: {pb.power_limit['text']} - set with nvidia-smi -pl")
    if unspent:
        out.append(unspent)
    return out
