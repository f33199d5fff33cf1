"""The CLI's options are the request models' fields: a field without its option, an option
without its field, or a flag that differs from the model's fails here."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
import typer
from pydantic import Field

from dlrig.app import commands
from dlrig.app.base import Cli, Request
from dlrig.cli.app import app
from dlrig.cli.options import cli_fields

# Options only the terminal has: output format and files, the catalog store, chart, table size.
CLI_ONLY = {"json_", "catalog", "output", "plot", "slot_map", "top", "list_models", "help"}


def _subcommand(group: Any, name: str) -> Any:
    cmd = group.get_command(group.make_context("dlrig", [], resilient_parsing=True), name)
    assert cmd is not None, name
    return cmd


def _mismatches(command: Any, request: type[Request]) -> list[str]:
    """How a click command's parameters differ from the request model's CLI fields."""
    params = {p.name: p for p in command.params}
    fields = cli_fields(request)
    out = []
    for field, (_, cli) in fields.items():
        param = params.get(field)
        if param is None:
            out.append(f"no option for {field}")
        elif cli.argument != (param.param_type_name == "argument"):
            out.append(f"{field}: argument vs option")
        elif not cli.argument:
            declared = sorted(d for flag in cli.flags for d in flag.split("/") if d)
            if sorted(param.opts + param.secondary_opts) != declared:
                out.append(f"{field}: {param.opts} is not {declared}")
    out += [f"option outside the model: {n}" for n in set(params) - set(fields) - CLI_ONLY]
    return out


@pytest.mark.parametrize("name", [n for n in commands() if n != "catalog"])
def test_options_match_the_request_model(name: str) -> None:
    cmd = _subcommand(typer.main.get_command(app), name)
    assert _mismatches(cmd, commands()[name].request) == []


def test_catalog_list_options_match_the_parts_request() -> None:
    from dlrig.app.catalog import PartsRequest

    listing = _subcommand(_subcommand(typer.main.get_command(app), "catalog"), "list")
    opts = {o for p in listing.params for o in p.opts}
    for field, (_, cli) in cli_fields(PartsRequest).items():
        assert set(cli.flags) <= opts, field


def test_a_hand_written_option_that_drifted_is_caught() -> None:
    class Demo(Request):
        budget_usd: Annotated[float | None, Cli("--budget-usd")] = Field(None, description="x")
        gpus: Annotated[int | None, Cli("--gpus")] = Field(None, description="y")

    def drifted(
        budget: Annotated[str | None, typer.Option("--budget")] = None,
        gpus: Annotated[int | None, typer.Option("--gpus")] = None,
    ) -> None:
        """A command written by hand that renamed an option."""

    sub = typer.Typer()
    sub.command("drifted")(drifted)
    sub.command("other")(drifted)
    cmd = _subcommand(typer.main.get_command(sub), "drifted")
    assert _mismatches(cmd, Demo) == [
        "no option for budget_usd",
        "option outside the model: budget",
    ]
