"""The application layer: one module per command, between the front doors and the library.

Each module holds the command's request model (the only place its inputs are declared, parsed
and validated), a ``run(request, catalog)`` function, and the result it returns (whose
``to_dict()`` is the command's one JSON shape, serialised by :func:`dlrig.app.base.to_json`).
The CLI (``dlrig.cli``), the web app (``dlrig.web``) and ``import dlrig`` all call these
functions and nothing else, so every front door takes the same inputs, gives the same JSON and
the same message for the same bad input.

Layering: ``cli``, ``web`` → ``app`` → ``optimize | cost | bench`` → ``rules`` → ``build |
buildfile | sizing | catalog`` → ``parts | workload`` → ``units | errors`` (checked by
import-linter in ``make test``; see docs/architecture.md).
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dlrig.app.base import Command

__all__ = ["commands"]


@cache
def commands() -> dict[str, Command]:
    """Every command of the application layer by name: the ``COMMAND`` of each module here, so a
    new module is a new command in the CLI, the web app and the JSON API."""
    found: dict[str, Command] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        command = getattr(module, "COMMAND", None)
        if command is not None:
            found[command.name] = command
    return dict(sorted(found.items()))
