"""Generate docs/cli.md from the live command tree, so the CLI reference never drifts.

    python -m dlrig.cli.docgen > docs/cli.md

``tests/test_docs.py`` fails when docs/cli.md differs from this output, i.e. when a command or
option is added or changed without regenerating the reference.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import typer

from dlrig.cli.app import app

HEADER = """# CLI reference

Generated from the code by `python -m dlrig.cli.docgen > docs/cli.md`; do not edit by hand.
Every data command takes `--json`; exit codes are 0 (fine), 1 (the check found errors) and 2
(bad input).
"""


def _walk(cmd: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, cmd
    for name in sorted(getattr(cmd, "commands", {}) or {}):
        sub = cmd.commands[name]
        if not getattr(sub, "hidden", False):
            yield from _walk(sub, (*path, name))


def _help_text(cmd: Any, path: tuple[str, ...]) -> str:
    ctx = cmd.make_context(" ".join(path), [], resilient_parsing=True)
    usage = cmd.get_usage(ctx).strip()
    lines = [usage, ""]
    if cmd.help:
        lines += [_clean(cmd.help), ""]
    params = [p for p in cmd.get_params(ctx) if p.get_help_record(ctx)]
    if params:
        lines.append("Options and arguments:")
        for p in params:
            name, text = p.get_help_record(ctx)
            lines.append(f"  {name}\n      {_clean(text)}")
    return "\n".join(lines).rstrip()


def _clean(text: str) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def render() -> str:
    """docs/cli.md: every command's ``--help``, as plain text."""
    root = typer.main.get_command(app)
    out = [HEADER]
    for path, cmd in _walk(root, ("dlrig",)):
        out.append(f"## `{' '.join(path)}`\n")
        out.append("```text\n" + _help_text(cmd, path) + "\n```\n")
    return "\n".join(out)


def command_paths() -> list[str]:
    """Every command path, e.g. 'dlrig catalog list' (used by the docs test)."""
    root = typer.main.get_command(app)
    return [" ".join(p) for p, _ in _walk(root, ("dlrig",))]


if __name__ == "__main__":
    print(render(), end="")
