"""The `dlrig` command line. Each command lives in its own module and registers itself here.

Commands are thin: their options come from the command's request model (dlrig.app), they call
its run function and render its result. A command of dlrig.app without a module here gets a
generic one (cli/generic.py). Heavy libraries are imported inside the commands so
`dlrig --help` stays instant.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import os
import sys
from typing import Annotated, Any, NamedTuple

import typer
from typer.core import TyperGroup

from dlrig import __version__
from dlrig.errors import DlrigError

GENERIC = "dlrig.cli.generic"


class Entry(NamedTuple):
    """A command of the top-level listing: the CLI module that registers it and its help line."""

    module: str
    help: str


# Every top-level command, in the order `dlrig --help` lists them, with the help text the listing
# shows (the first paragraph of the command's docstring). `dlrig --help` renders from this table
# without importing any command (so without pydantic, the request models or the catalog); running
# a command imports only its module. tests/test_cli_lazy.py fails when the table drifts from the
# commands the modules register.
COMMANDS: dict[str, Entry] = {
    "bench": Entry(
        "dlrig.cli.bench",
        "Measure GEMM TFLOPS per dtype, memory/PCIe bandwidth, data loading, disks and "
        "all-reduce,\nand explain every shortfall against the build.",
    ),
    "check": Entry(
        "dlrig.cli.check",
        "Check a build for deep-learning compatibility: every finding with its fix.",
    ),
    "rules": Entry(
        "dlrig.cli.check",
        "List the compatibility rules, or explain one (why, a bad build, a good build).",
    ),
    "import-list": Entry(
        "dlrig.cli.check", "Turn a PCPartPicker plain-text parts list into a build file."
    ),
    "cost": Entry(
        "dlrig.cli.cost",
        "Total cost of owning a build vs prebuilt workstations and cloud GPUs (same work).",
    ),
    "plan": Entry(
        "dlrig.cli.plan", "The best compatible build for a budget (and workload), proved optimal."
    ),
    "serve": Entry(
        "dlrig.cli.serve",
        "Serve the web app: the same checks, sizing, costs and plans in a browser, plus a "
        "JSON API.",
    ),
    "size": Entry(
        "dlrig.cli.size",
        "GPU memory, compute, time and system needs of a training or inference workload.",
    ),
    "gpus": Entry(
        "dlrig.cli.size",
        "Every GPU chip in the catalog ranked for a workload: fit, speed, price, perf/$ and "
        "perf/W.",
    ),
    "power": Entry(GENERIC, "A build's power budget: PSU, wall draw, circuit, GPU limits."),
    "catalog": Entry(
        "dlrig.cli.catalog",
        "Browse the parts catalog (built-in, or an imported store with --catalog); import public "
        "datasets into a store.",
    ),
    "prices": Entry(
        "dlrig.cli.prices",
        "Dated price offers (new, used) beside the catalog: import your quotes and marketplace "
        "prices, list them, find stale prices. `dlrig plan --used` buys from them.",
    ),
}


class LazyGroup(TyperGroup):
    """The root command group: it imports a command's module only when that command runs.

    The listing (``dlrig --help``) is drawn from :data:`COMMANDS`; ``.commands`` (the whole
    tree, as docgen walks it) loads every module.
    """

    def __init__(self, **kwargs: Any) -> None:
        self._listing = False
        super().__init__(**kwargs)

    @property  # type: ignore[override]
    def commands(self) -> dict[str, Any]:
        """Every command, each module imported (click reads this for completion and docs)."""
        for name in COMMANDS:
            self._load(name)
        for name in _unlisted_commands():
            self._load(name)
        return self._loaded

    @commands.setter
    def commands(self, value: Any) -> None:
        """Click's constructor sets the commands: keep them as the loaded ones."""
        self._loaded: dict[str, Any] = dict(value)

    def list_commands(self, ctx: Any) -> list[str]:
        """Every command name, without importing any command module."""
        return [*COMMANDS, *(n for n in self._loaded if n not in COMMANDS)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        """The command ``cmd_name``, its module imported on first use."""
        if cmd_name in self._loaded:
            return self._loaded[cmd_name]
        entry = COMMANDS.get(cmd_name)
        if entry is not None and self._listing:
            return typer.core.TyperCommand(name=cmd_name, help=entry.help)
        return self._load(cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        """``dlrig --help``: the command list from the names and summaries alone."""
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def _load(self, name: str) -> Any:
        """Import the module of command ``name`` and add the commands it registers."""
        if name in self._loaded:
            return self._loaded[name]
        entry = COMMANDS.get(name)
        sub = typer.Typer()
        if entry is not None and entry.module != GENERIC:
            importlib.import_module(entry.module).register(sub)
        else:  # an application-layer command without CLI code (or not listed yet)
            from dlrig.app import commands
            from dlrig.cli.generic import register_command

            command = commands().get(name)
            if command is None:
                return None
            register_command(sub, command)
        for sub_name, cmd in typer.main.get_group(sub).commands.items():
            self._loaded.setdefault(sub_name, cmd)
        return self._loaded.get(name)


def _unlisted_commands() -> list[str]:
    """Application-layer commands missing from :data:`COMMANDS` (they still run, generically)."""
    from dlrig.app import commands

    return [name for name in commands() if name not in COMMANDS]


app = typer.Typer(
    name="dlrig",
    help="Plan, check, size, cost and benchmark a self-built deep-learning machine.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    cls=LazyGroup,
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


def main() -> None:
    """Entry point: run the app, turning dlrig errors into one message and exit code 2."""
    # Pydantic looks for plugins (importlib.metadata entry points: importing it and reading every
    # installed package's metadata, ~0.05 s) the first time any model validates. dlrig uses
    # none, so its own process skips the search, as Typer does while it builds its adapters.
    # A value the user set (an empty one turns plugins back on) is kept.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "1")
    _freeze_at_exit()
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
        from dlrig.cli.output import stderr

        stderr.print("aborted")
        sys.exit(130)
    except Exception as exc:  # click usage errors and anything unexpected
        # Usage errors from Typer's bundled click: they know how to show themselves.
        exit_code = getattr(exc, "exit_code", None)
        if hasattr(exc, "show") and isinstance(exit_code, int):
            exc.show()
            if getattr(exc, "ctx", False) is None and exit_code == 2:
                # "Option '--gpus' requires an argument." comes without the usage and help
                # lines (the parser has no context yet): say where to look, as the others do
                typer.echo(f"Try '{_command_path(sys.argv)} -h' for help.", err=True)
            sys.exit(exit_code)
        if debug:
            raise
        from rich.markup import escape

        from dlrig.cli.output import stderr
        from dlrig.textfile import one_line

        stderr.print(
            f"[red]internal error:[/red] {type(exc).__name__}: {escape(one_line(str(exc)))}",
            highlight=False,
            soft_wrap=True,
        )
        stderr.print("  → rerun with --debug for the traceback, and please report it")
        sys.exit(3)


def _command_path(argv: list[str]) -> str:
    """``dlrig catalog list`` from argv: the leading words that name a (sub)command."""
    cmd: Any = typer.main.get_command(app)
    path = ["dlrig"]
    for word in argv[1:]:
        if word.startswith("-"):
            continue
        group = hasattr(cmd, "get_command")  # Typer's bundled click: no isinstance on click's
        sub = cmd.get_command(typer.Context(cmd), word) if group else None
        if sub is None:
            break
        cmd, path = sub, [*path, word]
    return " ".join(path)


def _freeze_at_exit() -> None:
    """At interpreter exit, move every object to the garbage collector's permanent generation.

    A command's process ends with it: the collections of Python's teardown would traverse every
    object it made (the modules, the catalog, the models) only to free memory the OS takes back
    anyway, a quarter of a `dlrig size` (~0.1 s of CPU). Reference counting still frees what it
    can, streams are flushed and every atexit handler runs; only garbage cycles are left to the
    OS. Registered once per process (tests call main() many times)."""
    if not _state.get("freeze_registered"):
        atexit.register(gc.freeze)
        _state["freeze_registered"] = True


def report_error(exc: DlrigError) -> None:
    """A dlrig error as the CLI prints it: "error: MESSAGE" and "→ HINT" on stderr."""
    from rich.markup import escape

    from dlrig.cli.output import stderr
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
