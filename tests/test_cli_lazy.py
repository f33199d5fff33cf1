"""The lazy root command group: `dlrig --help` without importing the commands, same listing."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import typer
from typer.testing import CliRunner

from dlrig.cli import app as cli_app
from dlrig.cli.generic import register_generic

EXAMPLE = str(Path(__file__).resolve().parents[1] / "examples" / "warmachine.yaml")


def _eager_group() -> typer.core.TyperGroup:
    """Every command registered up front, the way the CLI was built before it was lazy."""
    eager = typer.Typer()
    for module in dict.fromkeys(e.module for e in cli_app.COMMANDS.values()):
        if module != cli_app.GENERIC:
            __import__(module, fromlist=["register"]).register(eager)
    register_generic(eager)
    return typer.main.get_group(eager)


def test_listing_table_matches_the_registered_commands() -> None:
    eager = _eager_group()
    assert list(cli_app.COMMANDS) == list(eager.commands), (
        "cli/app.py COMMANDS must list every command, in registration order"
    )
    for name, cmd in eager.commands.items():
        first = inspect.cleandoc(cmd.help or "").split("\n\n")[0].strip()
        assert cli_app.COMMANDS[name].help == first, f"help of '{name}' in COMMANDS is stale"


def test_help_output_is_the_same_as_with_every_command_loaded() -> None:
    runner = CliRunner()
    lazy = runner.invoke(cli_app.app, ["--help"], env={"COLUMNS": "100"})
    assert lazy.exit_code == 0
    group = typer.main.get_command(cli_app.app)
    assert isinstance(group, cli_app.LazyGroup)
    group.commands  # noqa: B018 - loads every command
    ctx = group.make_context("dlrig", ["--help"], resilient_parsing=True)
    loaded = [n for n in group.list_commands(ctx)]
    assert loaded == list(cli_app.COMMANDS)
    for name in ("plan", "check", "catalog", "power"):
        assert name in lazy.stdout
    # Every command's listed help, read from the loaded commands, shows in the lazy listing.
    flat = " ".join(lazy.stdout.replace("│", " ").split())
    for name in cli_app.COMMANDS:
        cmd = group.get_command(ctx, name)
        words = " ".join(inspect.cleandoc(cmd.help).split("\n\n")[0].split())
        assert words[:60] in flat, name


def _modules_after(argv: list[str]) -> set[str]:
    code = (
        "import sys\n"
        f"sys.argv = {['dlrig', *argv]!r}\n"
        "from dlrig.cli.app import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return set(proc.stderr.split())


def test_help_imports_no_command() -> None:
    mods = _modules_after(["--help"])
    for heavy in (
        "pydantic",
        "dlrig.parts",
        "dlrig.app",
        "dlrig.cli.output",
        "yaml",
        "ortools",
        "pandas",
        "numpy",
    ):
        assert heavy not in mods, f"`dlrig --help` imports {heavy}"


def test_check_imports_no_solver_nor_pandas() -> None:
    mods = _modules_after(["check", EXAMPLE])
    assert "dlrig.cli.check" in mods
    for heavy in ("ortools", "pandas", "dlrig.cli.plan", "dlrig.cli.bench", "dlrig.web"):
        assert heavy not in mods, f"`dlrig check` imports {heavy}"


def test_an_unlisted_application_command_still_runs(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    table = dict(cli_app.COMMANDS)
    del table["power"]
    monkeypatch.setattr(cli_app, "COMMANDS", table)
    assert "power" in cli_app._unlisted_commands()
    result = CliRunner().invoke(cli_app.app, ["power", "--help"])
    assert result.exit_code == 0
    assert "power budget" in result.stdout


def test_a_typo_still_gets_a_suggestion() -> None:
    result = CliRunner().invoke(cli_app.app, ["chekc"])
    assert result.exit_code == 2
    assert "Did you mean 'check'" in result.output
