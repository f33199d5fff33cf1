"""Typer options generated from a command's request model, and the options every command shares.

``@from_request(CheckRequest, JSON, CATALOG)`` turns ``def check_cmd(req, json_, catalog)`` into
a Typer command whose options are the request model's fields (names, help and defaults from
the model; flags from each field's :class:`~dlrig.app.base.Cli`). Values reach the model as the
user typed them, so the model parses and validates them with the messages every front door
shows (``--budget-usd 7k``, ``--gpus 0``). The shared ``--json`` and ``--catalog`` options are
declared once here.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from dlrig.app.base import Cli, Request
from dlrig.errors import DlrigError

__all__ = [
    "CATALOG",
    "JSON",
    "CatalogOpt",
    "JsonOpt",
    "cli_fields",
    "from_request",
    "option",
    "output_option",
]


def option(name: str, annotation: Any, default: Any = None) -> inspect.Parameter:
    """A CLI-only parameter (not a request field): ``annotation`` carries its typer.Option."""
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                             annotation=annotation)  # fmt: skip


JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]
CatalogOpt = Annotated[
    str | None,
    typer.Option(
        "--catalog",
        help="Catalog store to use (default: $DLRIG_CATALOG, else the built-in catalog).",
    ),
]
JSON = option("json_", JsonOpt, False)
CATALOG = option("catalog", CatalogOpt)


def output_option(help_text: str) -> inspect.Parameter:
    """The ``-o/--output FILE`` option of a command that writes a file (a build, a report)."""
    return option("output", Annotated[Path | None, typer.Option("--output", "-o", help=help_text)])


def cli_fields(model: type[BaseModel]) -> dict[str, tuple[FieldInfo, Cli]]:
    """The request fields that have a CLI option or argument, with their :class:`Cli`: the
    model's own fields first, then those it inherits (e.g. the workload flags)."""
    own = set(model.__annotations__)
    names = sorted(model.model_fields, key=lambda n: n not in own)  # stable: field order kept
    out: dict[str, tuple[FieldInfo, Cli]] = {}
    for name in names:
        info = model.model_fields[name]
        cli = next((m for m in info.metadata if isinstance(m, Cli)), None)
        if cli is not None:
            out[name] = (info, cli)
    return out


def _value_kind(annotation: Any) -> tuple[str, bool]:
    """("bool" | "int" | "float" | "text", is a list) for a field's type."""
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _value_kind(args[0])
    if origin in (typing.Union, types.UnionType):
        kinds = [_value_kind(a) for a in args if a is not type(None)]
        return next((k for k in kinds if k[0] != "text" or k[1]), kinds[0])
    if origin in (list, tuple, dict):
        return "text", True
    if annotation is bool:
        return "bool", False
    if annotation is int:
        return "int", False
    if annotation is float:
        return "float", False
    return "text", False


_METAVAR = {"int": "<int>", "float": "<float>", "text": "<str>"}


def _parameter(name: str, info: FieldInfo, cli: Cli) -> inspect.Parameter:
    kind, many = _value_kind(info.annotation)
    default = info.get_default(call_default_factory=True)
    required = info.is_required()
    help_text = info.description or ""
    if not (required or default in (None, [], {}) or kind == "bool"):
        help_text += f"  [default: {default}]"
    # Everything but a flag reaches the model as typed: the model parses it (one message).
    value_type: Any = bool if kind == "bool" else (list[str] if many else str)
    metavar = cli.metavar or (None if kind == "bool" else _METAVAR[kind])
    if cli.argument:
        spec: Any = typer.Argument(help=help_text, metavar=metavar, show_default=False)
    else:
        spec = typer.Option(*cli.flags, help=help_text, metavar=metavar, show_default=False)
    optional: Any = value_type if required else value_type | None
    annotation: Any = Annotated[optional, spec]
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY,
                             default=inspect.Parameter.empty if required else None,
                             annotation=annotation)  # fmt: skip


def _flag(cli: Cli) -> str | None:
    """The long option of a field ("--explain" of "--explain/--no-explain"); None for an
    argument (a positional value has no name on the command line)."""
    longs = [f.split("/")[0] for f in cli.flags if f.startswith("--")]
    return longs[0] if longs else None


def from_request(
    model: type[Request], *extra: inspect.Parameter
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate ``body(req, **extra)`` into a Typer command taking ``model``'s fields as options
    (arguments first, then options in field order) and the ``extra`` CLI-only options."""
    fields = cli_fields(model)
    params = [_parameter(n, info, cli) for n, (info, cli) in fields.items()]
    params.sort(key=lambda p: p.default is not inspect.Parameter.empty)  # required first
    params += extra

    def decorate(body: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(body)
        def command(**kwargs: Any) -> Any:
            values = {n: kwargs.pop(n) for n in fields}
            given = {n: v for n, v in values.items() if v not in (None, [])}
            try:
                return body(model.parse(given), **kwargs)
            except DlrigError as exc:  # name the field as the user typed it: --gpus, not gpus
                flag = _flag(fields[exc.field][1]) if exc.field in fields else None
                if flag is None:
                    raise
                raise exc.naming(flag) from None

        command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        return command

    return decorate
