"""Whole-process latency of every command, as a user feels it (issue 17).

Each command runs as its own process several times; the script prints the median and the
maximum of wall-clock and CPU seconds (user + system of the child), and the ratio of each median
to a bare ``python -c pass`` measured in the same run, so a loaded machine shows in both.

    python benchmarks/cli_latency.py [--runs N] [--store PATH] [--only NAME ...]

``--store`` adds the imported-catalog rows (build one with ``dlrig catalog import opendb
../shared/datasets/opendb`` and ``dlrig catalog import pcpartpicker-dataset
../shared/datasets/pcpartpicker_docyx``); without it they are skipped.

Targets (medians on the 2-core CI machine): built-in catalog ``--help`` <= 0.25 s, ``check`` <=
0.4 s, ``size``/``gpus`` <= 0.5 s, ``plan`` with its default explanation <= 1.0 s; imported
catalog ``plan`` <= 1.5 s, ``gpus`` <= 1.0 s, ``--frontier`` <= 3 s, opening the store and
searching it (the ``benchmarks/import_speed.py`` row, here as a whole process) <= 0.3 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The console script users run (next to this Python), else the same entry point through -c.
_SCRIPT = Path(sys.executable).with_name("dlrig")
DLRIG = (
    [str(_SCRIPT)]
    if _SCRIPT.exists()
    else [sys.executable, "-c", "from dlrig.cli.app import main; main()"]
)

SEARCH = (
    "import os; from dlrig.catalog import open_catalog; "
    "open_catalog(os.environ['DLRIG_CATALOG']).search('corsair carbide air 540')"
)
# name → (argv after `dlrig`, target median CPU seconds or None, needs the imported store);
# an argv of [SEARCH] runs that Python code instead of dlrig
COMMANDS: dict[str, tuple[list[str], float | None, bool]] = {
    "help": (["--help"], 0.25, False),
    "check": (["check", str(ROOT / "examples" / "warmachine.yaml")], 0.4, False),
    "size": (["size", "--model", "llama-3.1-8b", "--task", "qlora"], 0.5, False),
    "gpus": (["gpus", "--model", "llama-3.1-8b", "--task", "qlora"], 0.5, False),
    "plan": (["plan", "--budget-usd", "7000"], 1.0, False),
    "plan-workload": (
        ["plan", "--budget-usd", "10000", "--workload", "llama-3.1-8b", "--task", "qlora"],
        1.0,
        False,
    ),
    "store:gpus": (["gpus", "--model", "llama-3.1-8b", "--task", "qlora"], 1.0, True),
    "store:plan": (["plan", "--budget-usd", "7000"], 1.5, True),
    "store:frontier": (["plan", "--budget-usd", "7000", "--frontier"], 3.0, True),
    # not a dlrig command: Python opening the store and searching it (import_speed.py's row)
    "store:open+search": ([SEARCH], 0.3, True),
}


def _run(argv: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + sys of the child) and the exit code of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.returncode


def _measure(argv: list[str], runs: int, env: dict[str, str]) -> dict[str, float]:
    _run(argv, env)  # one warm-up: the OS file cache, bytecode and dlrig's own caches
    walls, cpus, codes = [], [], set()
    for _ in range(runs):
        wall, cpu, code = _run(argv, env)
        walls.append(wall)
        cpus.append(cpu)
        codes.add(code)
    return {
        "wall_median": statistics.median(walls),
        "wall_max": max(walls),
        "cpu_median": statistics.median(cpus),
        "cpu_max": max(cpus),
        "exit": max(codes),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--store", type=Path, default=None, help="an imported catalog (SQLite)")
    ap.add_argument("--only", nargs="*", default=None, help="command names to time")
    args = ap.parse_args()
    # PYTHONDONTWRITEBYTECODE would time compiling every module from source on every run; an
    # installed package has its bytecode (pip compiles it), so the warm-up run writes it here
    env = {
        k: v for k, v in os.environ.items() if k not in ("DLRIG_CATALOG", "PYTHONDONTWRITEBYTECODE")
    }
    env["COLUMNS"] = "120"
    bare = _measure([sys.executable, "-c", "pass"], args.runs, env)
    print(f"bare python -c pass: median {bare['cpu_median']:.3f} s CPU")
    print(
        f"{'command':<16} {'cpu med':>8} {'cpu max':>8} {'wall med':>9} {'wall max':>9} "
        f"{'× bare':>7} {'target':>7}  exit"
    )
    missed = 0
    for name, (cmd, target, needs_store) in COMMANDS.items():
        if args.only and name not in args.only:
            continue
        if needs_store and args.store is None:
            print(f"{name:<16} skipped (no --store)")
            continue
        run_env = dict(env)
        if needs_store:
            run_env["DLRIG_CATALOG"] = str(args.store)
        argv = [sys.executable, "-c", SEARCH] if cmd == [SEARCH] else [*DLRIG, *cmd]
        m = _measure(argv, args.runs, run_env)
        ratio = m["cpu_median"] / max(bare["cpu_median"], 1e-3)
        ok = target is None or m["cpu_median"] <= target
        missed += not ok
        print(
            f"{name:<16} {m['cpu_median']:8.3f} {m['cpu_max']:8.3f} {m['wall_median']:9.3f} "
            f"{m['wall_max']:9.3f} {ratio:7.1f} {'' if target is None else f'{target:.2f}':>7}"
            f"{'' if ok else ' MISSED'}  {int(m['exit'])}"
        )
    print(f"{missed} target(s) missed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
