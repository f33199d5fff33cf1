"""CP-SAT loaded without pandas (optimize/cpsat.py): same solver, pandas helpers still work."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("ortools")


def _run(code: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return proc.stdout.strip()


def test_cp_model_loads_and_solves_without_pandas() -> None:
    out = _run(
        """
        import sys
        from dlrig.optimize.cpsat import load_cp_model
        cp = load_cp_model()
        from ortools.sat.python import cp_model
        assert cp is cp_model and sys.modules["ortools.sat.python.cp_model"] is cp
        m = cp.CpModel()
        x = m.new_int_var(0, 10, "x")
        y = m.new_bool_var("y")
        m.add(x + 3 * y <= 7)
        m.maximize(2 * x + 5 * y)
        s = cp.CpSolver()
        print(s.status_name(s.solve(m)), s.value(x), s.value(y), "pandas" in sys.modules)
        """
    )
    # 2x + 5y with x + 3y <= 7: y=1 gives x=4 (13); y=0 gives x=7 (14).
    assert out == "OPTIMAL 7 0 False"


def test_the_pandas_helpers_still_work() -> None:
    out = _run(
        """
        import sys
        from dlrig.optimize.cpsat import load_cp_model
        cp = load_cp_model()
        import pandas as pd
        m = cp.CpModel()
        v = m.new_int_var_series("v", pd.Index(["a", "b", "c"]), 0, 5)
        m.add(sum(v) == 9)
        m.maximize(v["a"])
        s = cp.CpSolver()
        s.solve(m)
        vals = s.values(v)
        print(type(vals).__name__, list(vals.index), int(vals.sum()), int(vals["a"]))
        """
    )
    assert out == "Series ['a', 'b', 'c'] 9 5"


def test_with_pandas_already_imported_it_is_the_ordinary_module() -> None:
    out = _run(
        """
        import pandas
        from dlrig.optimize.cpsat import load_cp_model
        cp = load_cp_model()
        print(cp.pd is pandas)
        """
    )
    assert out == "True"


def test_plan_does_not_import_pandas() -> None:
    out = _run(
        """
        import sys
        from dlrig.optimize import plan
        result = plan(budget_usd=3000, time_limit_s=10)
        print(result.status, "pandas" in sys.modules)
        """
    )
    assert out.endswith(" False") and out.split()[0] in ("OPTIMAL", "FEASIBLE")
