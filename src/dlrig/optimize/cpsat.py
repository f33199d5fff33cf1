"""OR-Tools' CP-SAT module without the pandas import it does not need for our models.

``ortools.sat.python.cp_model`` runs ``import pandas as pd`` at the top, although pandas is
used only by its ``*_series`` helpers and the ``values``/``*_values`` readers of pandas
objects; importing pandas costs ~0.35-0.5 s of CPU, a third of a whole ``dlrig plan``. OR-Tools
declares pandas a hard dependency (since 9.8, google/or-tools#3889) and offers no switch, so
:func:`load_cp_model` executes the unchanged ``cp_model`` module with its own ``__import__``
that hands it a stand-in for pandas: while the module body runs, the stand-in's ``Index`` and
``Series`` are placeholder classes (they appear only in type annotations there); afterwards any
attribute of it imports the real pandas, so the pandas helpers keep working (they pay the
import on first use). Nothing is patched in ortools, in pandas or in ``sys.modules['pandas']``,
so other code importing pandas is unaffected.

If pandas is already imported, or anything about this fails (a future ortools that uses pandas
differently at import time), the module is imported the ordinary way. ``tests/test_cpsat.py``
checks both the pandas-free import and the pandas helpers.
"""

from __future__ import annotations

import builtins
import importlib
import importlib.util
import sys
import threading
import types
from typing import Any

CP_MODEL = "ortools.sat.python.cp_model"
_LOCK = threading.Lock()

__all__ = ["CP_MODEL", "load_cp_model"]


class _Placeholder:
    """Stands for a pandas type in cp_model's annotations; nothing is an instance of it."""


class _LazyPandas(types.ModuleType):
    """cp_model's ``pd``: placeholders while the module loads, the real pandas afterwards."""

    def __init__(self) -> None:
        super().__init__("pandas")
        self.__dict__["_loading"] = True

    def __getattr__(self, name: str) -> Any:
        if self.__dict__.get("_loading") and name in ("Index", "Series"):
            return type(name, (_Placeholder,), {"__module__": "pandas"})
        import pandas  # first real use of a pandas helper of cp_model

        return getattr(pandas, name)


def load_cp_model() -> Any:
    """The ``cp_model`` module (the same object ``from ortools.sat.python import cp_model``
    gives afterwards), loaded without importing pandas where possible."""
    module = sys.modules.get(CP_MODEL)
    if module is not None:
        return module
    with _LOCK:
        module = sys.modules.get(CP_MODEL)
        if module is not None:
            return module
        if "pandas" not in sys.modules:
            try:
                return _load_without_pandas()
            except ImportError:
                raise
            except Exception:  # anything unexpected: the ordinary import below
                sys.modules.pop(CP_MODEL, None)
        return importlib.import_module(CP_MODEL)


def _load_without_pandas() -> Any:
    spec = importlib.util.find_spec(CP_MODEL)  # imports the ortools parent packages
    if spec is None or spec.loader is None:
        raise ImportError(f"No module named {CP_MODEL!r}", name=CP_MODEL)
    stand_in = _LazyPandas()
    real_import = builtins.__import__

    def hooked_import(
        name: str,
        globals: Any = None,
        locals: Any = None,
        fromlist: Any = (),
        level: int = 0,
    ) -> Any:
        if name == "pandas" and level == 0 and not fromlist:
            return stand_in
        return real_import(name, globals, locals, fromlist, level)

    module = importlib.util.module_from_spec(spec)
    module.__dict__["__builtins__"] = {**builtins.__dict__, "__import__": hooked_import}
    sys.modules[CP_MODEL] = module
    spec.loader.exec_module(module)
    stand_in.__dict__["_loading"] = False
    parent = sys.modules[CP_MODEL.rpartition(".")[0]]
    parent.cp_model = module  # type: ignore[attr-defined]
    return module
