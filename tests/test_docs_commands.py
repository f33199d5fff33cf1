"""Every `dlrig` command in a code block of the README and docs/*.md still parses against the CLI
(each option exists, takes that value, the arguments are complete) and names example files that
exist; the quick ones (check, size, gpus, power, cost, catalog, rules) run as written and answer
with exit code 0 or 1 — so a renamed option or a moved example breaks a test, not a reader."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
GENERATED = {"cli.md"}  # the CLI reference is --help's own text (tests/test_docs.py)
# Commands that run a machine or a server, import ~24k parts, or solve: parsed, not run here
# (their own tests run them).
NOT_RUN = ("serve", "bench", "plan", "catalog import", "prices import", "import-list")
# Files the docs let the reader supply (their own build, quotes, store): parsed, not run.
READER_FILES = {"build.yaml", "run.yaml", "quotes.csv", "list.txt", "my.sqlite", "rig.sqlite"}


_SYNOPSIS = re.compile(r"^[A-Z_]+$|[\[\]|<>]|^\.\.\.$|…|/")
_ELLIPSES = {"...", "…"}


@dataclass(frozen=True)
class DocCommand:
    where: str  # "docs/plan.md:5"
    argv: list[str]  # without the leading "dlrig"
    fenced: bool = True  # in a code block (run where quick), else named in prose (parsed)

    def __str__(self) -> str:
        return f"{self.where}: dlrig {shlex.join(self.argv)}"


def _doc_commands() -> list[DocCommand]:
    """`dlrig ...` lines (or `$ dlrig ...`) inside fenced code blocks, continuations joined."""
    found: list[DocCommand] = []
    for doc in DOCS:
        if doc.name in GENERATED:
            continue
        lines = doc.read_text(encoding="utf-8").splitlines()
        fenced, i = False, 0
        while i < len(lines):
            line, start = lines[i].strip(), i + 1
            i += 1
            if line.startswith("```"):
                fenced = not fenced
                continue
            if not fenced:
                for text in re.findall(r"`dlrig ([^`]+)`", line):  # in prose: parsed, not run
                    try:
                        argv = shlex.split(text)
                    except ValueError:
                        continue
                    if not any(_SYNOPSIS.search(a) or a in _ELLIPSES for a in argv):
                        found.append(DocCommand(f"{doc.relative_to(REPO)}:{start}", argv, False))
                continue
            line = line.removeprefix("$ ")
            if not line.startswith("dlrig "):
                continue
            while line.endswith("\\") and i < len(lines):
                line = line[:-1] + " " + lines[i].strip()
                i += 1
            argv = shlex.split(line, comments=True)[1:]
            if any(_SYNOPSIS.search(a) for a in argv):
                continue  # a synopsis ("dlrig check FILE [--json]"), not a command
            found.append(DocCommand(f"{doc.relative_to(REPO)}:{start}", argv))
    return found


COMMANDS = _doc_commands()


def test_the_docs_have_commands_to_check() -> None:
    assert len(COMMANDS) >= 20
    assert any(c.argv[:1] == ["plan"] for c in COMMANDS)


def _parse(argv: list[str]) -> None:
    """Parse ``argv`` as `dlrig` would, down to the leaf command, without running it."""
    import typer

    from dlrig.cli.app import app

    group: Any = typer.main.get_command(app)
    ctx = group.make_context("dlrig", list(argv))
    while hasattr(group, "get_command"):
        protected = getattr(ctx, "_protected_args", None)  # click ≥ 8.2 (protected_args before)
        if protected is None:
            protected = ctx.protected_args
        rest = [*protected, *ctx.args]
        if not rest:
            return
        name, rest = rest[0], rest[1:]
        sub = group.get_command(ctx, name)
        assert sub is not None, f"no command '{name}'"
        ctx = sub.make_context(name, rest, parent=ctx)
        group = sub


def _example_paths(argv: list[str]) -> list[str]:
    return [a for a in argv if a.startswith("examples/")]


@pytest.mark.parametrize("cmd", COMMANDS, ids=str)
def test_a_documented_command_parses(cmd: DocCommand) -> None:
    # the CLI's click may be Typer's bundled copy: its exceptions are told apart by name
    try:
        _parse(cmd.argv)
    except Exception as exc:
        kind = type(exc).__name__
        if kind == "Exit":  # --help, --version
            pass
        elif kind == "MissingParameter" and not cmd.fenced:
            pass  # prose names a command without its file ("`dlrig check` says ...")
        elif hasattr(exc, "format_message"):  # an option renamed or removed, a bad value
            pytest.fail(f"{cmd}: {exc.format_message()}")
        else:
            raise
    for path in _example_paths(cmd.argv):
        assert (REPO / path).exists(), f"{cmd}: {path} does not exist"


def _runnable(cmd: DocCommand) -> bool:
    if not cmd.fenced:
        return False
    text = " ".join(cmd.argv)
    if any(text == n or text.startswith(n + " ") for n in NOT_RUN):
        return False
    return not any(Path(a).name in READER_FILES for a in cmd.argv)


@pytest.mark.parametrize("cmd", [c for c in COMMANDS if _runnable(c)], ids=str)
def test_a_documented_command_runs_as_written(
    cmd: DocCommand, run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "examples").symlink_to(REPO / "examples")
    monkeypatch.chdir(tmp_path)  # outputs (--plot cost.svg, -o ...) land here
    monkeypatch.delenv("DLRIG_CATALOG", raising=False)
    monkeypatch.setenv("DLRIG_PRICES", str(tmp_path / "prices.sqlite"))
    if cmd.argv[:2] in (["catalog", "stats"], ["catalog", "sources"]):
        pytest.skip("about an imported store (docs/catalog.md imports one first)")
    r = run_cli(*cmd.argv)
    assert r.exit_code in (0, 1), f"{cmd}: exit {r.exit_code}: {r.stderr.strip()[-300:]}"
    assert "Traceback" not in r.stderr
    assert re.search(r"\S", r.stdout), f"{cmd}: printed nothing"
