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
