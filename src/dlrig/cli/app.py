"""The `dlrig` command line. Each command lives in its own module and registers itself here.

Commands are thin: their options come from the command's request model (dlrig.app), they call
its run function and render its result. A command of dlrig.app without a module here gets a
generic one (cli/generic.py). Heavy libraries are imported inside the commands so
`dlrig --help` stays instant.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from dlrig import __version__
from dlrig.cli import bench as bench_cmd
from dlrig.cli import catalog as catalog_cmd
from dlrig.cli import check as check_cmd
from dlrig.cli import cost as cost_cmd
from dlrig.cli import plan as plan_cmd
from dlrig.cli import prices as prices_cmd
from dlrig.cli import serve as serve_cmd
from dlrig.cli import size as size_cmd
from dlrig.cli.generic import register_generic
from dlrig.cli.output import stderr
from dlrig.errors import DlrigError

app = typer.Typer(
    name="dlrig",
    help="Plan, check, size, cost and benchmark a self-built deep-learning machine.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dlrig {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    """dlrig: will these parts work, what does my workload need, what should I buy?"""
    _state["debug"] = debug


bench_cmd.register(app)
catalog_cmd.register(app)
check_cmd.register(app)
cost_cmd.register(app)
plan_cmd.register(app)
prices_cmd.register(app)
serve_cmd.register(app)
size_cmd.register(app)
register_generic(app)  # every other command of dlrig.app, with options from its request


def main() -> None:
    """Entry point: run the app, turning dlrig errors into one message and exit code 2."""
    debug = "--debug" in sys.argv
    try:
        # Without standalone mode click returns the code of typer.Exit(n) instead of exiting.
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except DlrigError as exc:
        if debug:
            raise
        report_error(exc)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        stderr.print("aborted")
        sys.exit(130)
    except Exception as exc:  # click usage errors and anything unexpected
        # Usage errors from Typer's bundled click: they know how to show themselves.
        exit_code = getattr(exc, "exit_code", None)
        if hasattr(exc, "show") and isinstance(exit_code, int):
            exc.show()
            sys.exit(exit_code)
        if debug:
            raise
        from rich.markup import escape

        from dlrig.textfile import one_line

        stderr.print(
            f"[red]internal error:[/red] {type(exc).__name__}: {escape(one_line(str(exc)))}",
            highlight=False,
            soft_wrap=True,
        )
        stderr.print("  → rerun with --debug for the traceback, and please report it")
        sys.exit(3)


def report_error(exc: DlrigError) -> None:
    """A dlrig error as the CLI prints it: "error: MESSAGE" and "→ HINT" on stderr."""
    from rich.markup import escape

    from dlrig.textfile import one_line

    # Messages quote user input and shell commands ('dlrig[web]'): never read them as markup.
    # One line each, however long the terminal or the input (no wrapping, no embedded newlines).
    stderr.print(
        f"[bold red]error:[/bold red] {escape(one_line(exc.message))}",
        highlight=False,
        soft_wrap=True,
    )
    if exc.hint:
        stderr.print(f"  → {escape(one_line(exc.hint))}", highlight=False, soft_wrap=True)
