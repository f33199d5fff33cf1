"""The fast paths of issue 17 give the same answers: the gpus table's row limit is said, never
silent, and the planner's CP-SAT models do not depend on Python's string hashing."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

MODEL_HASH = """
import hashlib
import dlrig.optimize.planmodel as M
h = hashlib.sha256()
solve = M.PlanModel.solve
def hashed(self, *a, **k):
    h.update(str(self.m.proto).encode())
    return solve(self, *a, **k)
M.PlanModel.solve = hashed
from dlrig.optimize import plan
r = plan(7000, frontier=True)
print(h.hexdigest(), r.best.price_usd, [b.group for b in r.binding])
"""


def test_gpus_table_shows_the_first_rows_and_says_so(run_cli: Any) -> None:
    every = run_cli("gpus", "--model", "gpt2", "--json").json()["gpus"]
    r = run_cli("gpus", "--model", "gpt2", "--top", "5")
    assert r.exit_code == 0
    assert f"showing the first 5 of {len(every):,} chips" in r.stderr
    shown = [row["name"] for row in every[:5]]
    assert all(name in r.stdout for name in shown)
    assert every[5]["name"] not in r.stdout
    full = run_cli("gpus", "--model", "gpt2", "--top", "0")
    assert "showing" not in full.stderr and every[-1]["name"] in full.stdout


def test_plan_models_are_the_same_under_any_string_hash_seed() -> None:
    outs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        env.pop("DLRIG_CATALOG", None)
        done = subprocess.run(
            [sys.executable, "-c", MODEL_HASH], env=env, capture_output=True, text=True, check=True
        )
        outs.add(done.stdout)
    assert len(outs) == 1, outs
