"""The CLI command of an application-layer command that has no hand-written one: options from its
request model, ``--json`` and ``--catalog``, and its result as tables (``--json`` for all of it).

So a new module in ``dlrig/app/`` is a working ``dlrig NAME`` without any CLI code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from dlrig.cli.options import CATALOG, JSON, from_request
from dlrig.cli.output import print_json, stdout, table

if TYPE_CHECKING:
    from dlrig.app.base import Command, Request

__all__ = ["register_command", "register_generic", "render_data"]


def register_generic(app: typer.Typer) -> None:
    """A generic command for every application-layer command the CLI has no command for."""
    from dlrig.app import commands

    taken = {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}
    for command in commands().values():
        if command.name not in taken:
            register_command(app, command)


def register_command(app: typer.Typer, command: Command) -> None:
    """``dlrig NAME`` for the application-layer command ``command``."""
    app.command(command.name)(_generic(command))


def _generic(command: Command) -> Any:
    def body(req: Request, json_: bool = False, catalog: str | None = None) -> None:
        from dlrig.catalog import open_catalog

        result = command.run(req, open_catalog(catalog))
        if json_:
            print_json(result)
        else:
            render_data(result.to_dict(), f"dlrig {command.name}")

    body.__doc__ = f"{command.summary}\n\nSee docs/cli.md; --json prints everything."
    body.__name__ = f"{command.name.replace('-', '_')}_cmd"
    return from_request(command.request, JSON, CATALOG)(body)


def render_data(data: Any, title: str) -> None:
    """A result's JSON as tables: its plain fields as one table, each list of objects as another."""
    if isinstance(data, list):
        data = {"items": data}
    fields: list[list[Any]] = []
    lists: list[tuple[str, list[dict[str, Any]]]] = []
    for key, value in data.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            lists.append((key, value))
        elif isinstance(value, dict):
            fields += [[f"{key}.{k}", _text(v)] for k, v in value.items()]
        else:
            fields.append([key, _text(value)])
    if fields:
        stdout.print(table(title, ["field", "value"], fields))
    for key, rows in lists:
        columns = list(dict.fromkeys(k for row in rows for k in row))
        stdout.print(table(key, columns, [[_text(r.get(c)) for c in columns] for r in rows]))


def _text(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) if value else None
    if isinstance(value, bool) or value is None:
        return value if value is None else ("yes" if value else "no")
    return value
