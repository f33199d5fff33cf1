"""Docs generated from code stay in sync: the CLI reference and the rule reference."""

from __future__ import annotations

from pathlib import Path

from dlrig.cli.docgen import command_paths, render

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_cli_reference_is_current() -> None:
    expected = render()
    actual = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert actual == expected, "docs/cli.md is stale: python -m dlrig.cli.docgen > docs/cli.md"


def test_every_command_documented() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    for path in command_paths():
        assert f"## `{path}`" in text, path
    for cmd in ("check", "size", "gpus", "cost", "bench", "plan", "catalog list", "rules"):
        assert f"## `dlrig {cmd}`" in text, cmd
