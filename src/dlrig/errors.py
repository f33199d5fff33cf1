"""Errors raised by dlrig. Every error carries a ``hint`` telling the user how to fix it.

Tree::

    DlrigError                      base; CLI prints "error: <message>\\n  → <hint>", exit 2
    ├── InputError                  bad user input (flags, values)
    │   ├── BuildFileError          a build file is malformed (file, line, fix)
    │   ├── WorkloadError           a workload is malformed or impossible
    │   └── PriceListError          a user price list is malformed
    ├── PartNotFoundError           a part name or id resolves to nothing ("did you mean")
    │   └── AmbiguousPartError      a part name matches several parts equally well
    ├── CatalogError                the catalog data or store is invalid
    │   └── ImportError_            an import from a public dataset failed (catalog unchanged)
    └── MissingExtraError           an optional extra (torch, ortools, fastapi...) is not installed
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any


class DlrigError(Exception):
    """Base of every error dlrig raises on purpose; the CLI turns it into exit code 2.

    ``field``: the request field the bad value came in, where one did (``gpus``). Its message
    then starts with the field's name as the Python and JSON APIs spell it ("gpus: 0 is below
    1"); the CLI and the web pages name it in their own words instead (:meth:`naming`): the
    option the user typed, the label of the form field the user filled in.
    """

    def __init__(self, message: str, hint: str = "", *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.field = field

    def naming(self, words: str) -> DlrigError:
        """This error with its field called ``words`` ("--gpus", "GPUs now")."""
        import copy

        if self.field is None or not self.message.startswith(f"{self.field}:"):
            return self
        renamed = copy.copy(self)
        renamed.message = words + self.message[len(self.field) :]
        renamed.args = (renamed.message,)
        return renamed

    def __str__(self) -> str:
        return self.message


class InputError(DlrigError):
    """Bad user input: a flag, a value or a file."""


class BuildFileError(InputError):
    """A build file is malformed. ``path`` and ``line`` locate the problem where known."""

    def __init__(
        self, message: str, hint: str = "", path: str | None = None, line: int | None = None
    ) -> None:
        where = path or ""
        if path and line is not None:
            where = f"{path}:{line}"
        super().__init__(f"{where}: {message}" if where else message, hint)
        self.path = path
        self.line = line


class WorkloadError(InputError):
    """A workload is malformed or impossible (batch 0, 4-bit training without LoRA, ...)."""


class PriceListError(InputError):
    """A user-supplied price list is malformed."""


class PartNotFoundError(DlrigError):
    """A part name resolves to nothing. ``candidates`` are the closest names."""

    def __init__(
        self,
        message: str,
        hint: str = "",
        candidates: list[str] | None = None,
        *,
        field: str | None = None,
    ) -> None:
        super().__init__(message, hint, field=field)
        self.candidates = candidates or []


class AmbiguousPartError(PartNotFoundError):
    """A part name matches several parts equally well."""


class CatalogError(DlrigError):
    """The catalog data or store is invalid."""


class CatalogImportError(CatalogError):
    """An import from a public dataset failed; the catalog is left as it was."""


class MissingExtraError(DlrigError):
    """An optional dependency is not installed."""

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(
            f"this command needs {package}, which is not installed",
            f"install it with: pip install 'dlrig[{extra}]'",
        )


_TYPE_WORDS = {
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
    "dict_type": "a mapping",
    "string_type": "text",
    "date_from_datetime_parsing": "a date (YYYY-MM-DD)",
    "date_parsing": "a date (YYYY-MM-DD)",
    "date_type": "a date (YYYY-MM-DD)",
}


def validation_problem(err: Mapping[str, Any]) -> str:
    """A pydantic validation error (one item of ``errors()``) in words: "must be a whole number,
    found 'lots'", else its own text without pydantic's "Value error, " prefix."""
    kind, given, limits = str(err.get("type", "")), err.get("input"), err.get("ctx") or {}
    if kind.startswith("int_"):
        return f"must be a whole number, found {given!r}"
    if kind.startswith("float_"):
        return f"must be a number, found {given!r}"
    if kind.startswith("bool_"):
        return f"must be true or false, found {given!r}"
    if kind in _TYPE_WORDS:
        return f"must be {_TYPE_WORDS[kind]}, found {given!r}"
    if kind == "string_pattern_mismatch":  # a route's choice, e.g. format=^(yaml|json)$
        choices = re.fullmatch(r"\^\(?([\w|-]+)\)?\$", str(limits.get("pattern", "")))
        if choices:
            return f"must be one of {', '.join(choices.group(1).split('|'))}, found {given!r}"
    if kind == "literal_error":
        return f"must be one of {limits.get('expected')}, found {given!r}"
    if kind == "finite_number":
        return f"must be a finite number, found {given!r}"
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("above", "gt"),
        "less_than_equal": ("at most", "le"),
        "less_than": ("below", "lt"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        return f"must be {words} {limits.get(key)}, found {given!r}"
    if kind == "extra_forbidden":
        return "no such field"
    return str(err.get("msg", "invalid value")).removeprefix("Value error, ")
