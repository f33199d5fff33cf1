"""Regenerate the sample outputs in the README and docs from the commands themselves.

    python -m dlrig.cli.samples            # rewrite every sample block in place
    python -m dlrig.cli.samples --check    # exit 1 and name the samples that differ

A sample is a fenced ``console`` block right after a marker line::

    <!-- sample: dlrig plan --budget-usd 7000 -->
    ```console
    $ dlrig plan --budget-usd 7000
    ...what the command prints...
    ```

Each command runs in a fresh process as a user would see it (stdout and stderr together,
100 columns, no colour), with its "as of" date pinned by ``$DLRIG_TODAY`` so price ages do not
change the text from one day to the next, an empty price book and the built-in catalog.
``tests/test_samples.py`` fails when a sample differs from what its command prints now.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SAMPLE_DATE = "2026-12-03"  # the day the samples are computed for ($DLRIG_TODAY)
COLUMNS = 100
FILES = ("README.md", "docs/plan.md", "docs/prices.md")
MARKER = re.compile(r"^<!-- sample: (dlrig .+?) -->\n```console\n(.*?)```\n", re.M | re.S)


@dataclass(frozen=True)
class Sample:
    """One marked ``dlrig`` output block in a documentation file."""

    path: Path
    command: str
    text: str  # the block as written: "$ command\n" + output


def samples(root: Path) -> Iterator[Sample]:
    """Every marked sample block of the files in :data:`FILES` under ``root``."""
    for name in FILES:
        path = root / name
        if not path.is_file():
            continue
        for m in MARKER.finditer(path.read_text(encoding="utf-8")):
            yield Sample(path, m.group(1), m.group(2))


def run(command: str, root: Path) -> str:
    """What ``command`` (``dlrig ...``) prints, as the block shows it (``$ command`` first)."""
    args = shlex.split(command)
    if args[0] != "dlrig":
        raise ValueError(f"a sample command starts with dlrig: {command}")
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "DLRIG_TODAY": SAMPLE_DATE,
            "COLUMNS": str(COLUMNS),
            "NO_COLOR": "1",
            "TERM": "dumb",
            "PYTHONUNBUFFERED": "1",  # keep stdout and stderr in the order they are written
            "DLRIG_PRICES": str(Path(tmp) / "prices.sqlite"),  # no user's price book
            "DLRIG_CACHE_DIR": str(Path(tmp) / "cache"),
        }
        env.pop("DLRIG_CATALOG", None)
        proc = subprocess.run(
            [sys.executable, "-c", "from dlrig.cli.app import main; main()", *args[1:]],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=300,
            check=False,
        )
    out = "\n".join(line.rstrip() for line in proc.stdout.splitlines())
    return f"$ {command}\n{out}\n"


def regenerate(root: Path, check: bool = False) -> list[str]:
    """Rewrite (or with ``check`` only compare) every sample; the commands that differed."""
    changed: list[str] = []
    for name in FILES:
        path = root / name
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")

        def fresh(m: re.Match[str], path: Path = path) -> str:
            new = run(m.group(1), root)
            if new != m.group(2):
                changed.append(f"{path.relative_to(root)}: {m.group(1)}")
            return f"<!-- sample: {m.group(1)} -->\n```console\n{new}```\n"

        new_text = MARKER.sub(fresh, text)
        if not check and new_text != text:
            path.write_text(new_text, encoding="utf-8")
    return changed


def main() -> None:
    """Regenerate the samples in place, or with ``--check`` list the stale ones (exit 1)."""
    root = Path.cwd()
    check = "--check" in sys.argv[1:]
    changed = regenerate(root, check)
    for c in changed:
        print(("differs: " if check else "updated: ") + c)
    if check and changed:
        sys.exit(1)


if __name__ == "__main__":
    main()
