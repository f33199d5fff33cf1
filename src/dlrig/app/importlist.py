"""``dlrig import-list``: a PCPartPicker plain-text parts list turned into a build.

Front doors: ``dlrig import-list FILE``, ``POST /api/import-list`` (the body is the list's
text), and :func:`dlrig.import_list`. The result is :class:`~dlrig.importlist.ImportListResult`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from dlrig.app.base import Cli, Command, Request, check_text_size

if TYPE_CHECKING:
    from dlrig.catalog import Catalog
    from dlrig.importlist import ImportListResult

__all__ = ["ImportListRequest", "run"]

# The name a list pasted into the browser (or read from stdin) goes by.
PASTED = "parts list"


class ImportListRequest(Request):
    """What ``dlrig import-list`` takes."""

    # a file path ('-' for stdin), or (on the web) the list's text
    parts_list: Annotated[Any, Cli(argument=True, metavar="FILE")] = Field(
        description="PCPartPicker plain-text list ('-' for stdin); on the web, its text."
    )
    name: Annotated[str | None, Cli("--name")] = Field(None, description="Build name.")


def run(req: ImportListRequest, catalog: Catalog, read_files: bool = True) -> ImportListResult:
    """Resolve every line of the list against ``catalog``; unresolved lines are listed."""
    from dlrig.importlist import import_list

    text, default_name, source = _list_text(req.parts_list, read_files)
    return import_list(text, catalog, name=req.name or default_name, source=source)


def _list_text(value: Any, read_files: bool) -> tuple[str, str, str]:
    """(text, default build name, source) of the list a request names."""
    if not read_files:
        text = str(value)
        check_text_size(text, "parts list")
        return text, PASTED, "<list>"
    from dlrig.errors import InputError
    from dlrig.textfile import read_stream, read_text

    if str(value) == "-":
        import sys

        text = read_stream(
            sys.stdin,
            "parts list (PCPartPicker: Markup → Text)",
            lambda message, hint: InputError(f"stdin: {message}", hint),
        )
        return text, PASTED, "-"

    path = Path(value)
    text = read_text(
        path,
        "parts list (PCPartPicker: Markup → Text)",
        lambda message, hint: InputError(f"{path}: {message}", hint),
        "check the path of the exported parts list",
    )
    return text, path.stem, str(path)


COMMAND = Command(
    "import-list",
    ImportListRequest,
    run,
    "A PCPartPicker parts list turned into a build.",
    text_field="parts_list",
)
