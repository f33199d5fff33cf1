"""Seeded generators of hostile user input, shared by the CLI and web fuzz tests.

Each generator takes a ``random.Random`` and returns text; the same seed gives the same cases, so
a failure names a reproducible case. The values are the classes the hostile-input review found:
non-finite and huge numbers, impossible dates and YAML tags, alias bombs and recursive aliases,
deep nesting, huge strings, binary bytes, wrong types, unknown keys.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WARMACHINE = (ROOT / "examples" / "warmachine.yaml").read_text(encoding="utf-8")
WORKLOAD = (ROOT / "examples" / "workloads" / "llama3-8b-lora.yaml").read_text(encoding="utf-8")
PRICE_CSV = (
    "provider,offering,chip,gpus,on_demand_usd_per_hour,spot_usd_per_hour,as_of\n"
    "acme,a100x1,a100-sxm4-80gb,1,1.99,0.99,2024-05-01\n"
)
PARTS_LIST = (ROOT / "tests" / "data" / "warmachine_pcpartpicker.txt").read_text(encoding="utf-8")


def alias_bomb(levels: int = 9, width: int = 10) -> str:
    """The "billion laughs" document: 470 bytes, 10**9 values once expanded."""
    lines = ["a0: &a0 [" + ",".join(['"lol"'] * width) + "]"]
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


# Scalars written into a YAML value position (as YAML source text).
HOSTILE_SCALARS = (
    ".nan",
    ".inf",
    "-.inf",
    "1.0e+400",
    "1e400",
    "-1.0e+400",
    "9" * 5000,
    "99999999999999999999",
    "1e308",
    "-1",
    "0",
    "0.0",
    "true",
    "false",
    "null",
    "~",
    "2024-13-45",
    "2024-02-30",
    "!!timestamp 2024-13-45",
    "!!timestamp 2024-01-01",
    "!!binary aGVsbG8=",
    "!!set {a: null}",
    "!!omap [{a: 1}]",
    "!!python/object/apply:os.system ['true']",
    "!custom 1",
    "!!float nan",
    "!!int 12",
    "[]",
    "{}",
    "[1, 2, 3]",
    "{a: 1}",
    "'" + "x" * 100_000 + "'",
    "'" + "é" * 300 + "'",
    "'/dev/zero'",
    "'/etc/passwd'",
    "'../../../../etc/passwd'",
    '"\\0"',
    '"\\x00abc"',
    "*undefined_alias",
    "'RTX 4090' 'extra'",
    "1_000",
    "0x1F",
    "0o17",
    "190:20:30",
    "'" + "(" * 2000 + "'",
    "yes",
    "'<script>alert(1)</script>'",
)


def deep(levels: int, flow: bool = True) -> str:
    if flow:
        return "[" * levels + "]" * levels
    return "".join(f"{' ' * (2 * i)}k{i}:\n" for i in range(levels)) + " " * (2 * levels) + "x\n"


def mutate_yaml(rng: random.Random, text: str) -> str:
    """``text`` with one hostile change: a value replaced, a key added, bytes broken, ..."""
    lines = text.splitlines()
    kind = rng.randrange(10)
    value_lines = [
        i for i, line in enumerate(lines) if ":" in line and not line.strip().startswith("#")
    ]
    if kind <= 4 and value_lines:  # replace a value
        i = rng.choice(value_lines)
        key, _, _ = lines[i].partition(":")
        lines[i] = f"{key}: {rng.choice(HOSTILE_SCALARS)}"
        return "\n".join(lines) + "\n"
    if kind == 5:  # an unknown or hostile top-level key
        extra = rng.choice(
            [
                f"{rng.choice(HOSTILE_SCALARS)}: 1",
                f"extra: {rng.choice(HOSTILE_SCALARS)}",
                "workload: /dev/zero",
                "workload: /etc/passwd",
                f"nested: {deep(rng.randrange(20, 3000))}",
            ]
        )
        return text + extra + "\n"
    if kind == 6:  # whole-document replacements
        return rng.choice(
            [
                alias_bomb(),
                alias_bomb(6, 10),
                "a: &a [*a]\n",
                "a: &a {b: *a}\n",
                deep(rng.randrange(30, 100_000)),
                deep(rng.randrange(30, 300), flow=False),
                "",
                "---\n---\n",
                "- 1\n- 2\n",
                "just text",
                "{" * 50_000,
                "x: " + "[" * 5000,
                "a: 1\na: 2\n",
                "\t" + text,
            ]
        )
    if kind == 7:  # truncate
        return text[: rng.randrange(len(text) + 1)]
    if kind == 8:  # flip bytes (kept as text: lone surrogates are written as '?')
        chars = list(text)
        for _ in range(rng.randrange(1, 6)):
            pos = rng.randrange(len(chars))
            chars[pos] = rng.choice(
                ["\x00", "\x7f", "\ufffd", "'", '"', ":", "{", "[", "&", "*", "!", "\t", "\n"]
            )
        return "".join(chars)
    # an indent change
    if lines:
        i = rng.randrange(len(lines))
        lines[i] = " " * rng.randrange(1, 5) + lines[i]
    return "\n".join(lines) + "\n"


def binary_blob(rng: random.Random, size: int = 600) -> bytes:
    return bytes(rng.randrange(256) for _ in range(size))


def hostile_json_values(rng: random.Random) -> object:
    """A JSON value (as Python) of a hostile kind; the caller serialises it."""
    return rng.choice(
        [
            -1,
            0,
            10**20,
            1e308,
            -1e308,
            True,
            "x" * 100_000,
            "2024-13-45",
            [],
            {},
            None,
            "/dev/zero",
            "/etc/passwd",
            "a: &a [*a]",
            alias_bomb(),
            [[[[[[1]]]]]],
            {"model": "llama-3.1-8b", "micro_batch": True},
            {"model": {"params": 1e300}},
            {"model": "x" * 50_000},
            "'" + "(" * 5000,
        ]
    )


def raw_json_hostiles() -> list[str]:
    """JSON texts the stdlib would accept but strict JSON refuses, and malformed ones."""
    return [
        '{"budget_usd": NaN}',
        '{"budget_usd": Infinity}',
        '{"budget_usd": -Infinity}',
        '{"budget_usd": 1e400}',
        '{"gpus": ' + "9" * 5000 + "}",
        "[" * 100_000 + "]" * 100_000,
        '{"workload": ' + "[" * 3000 + "]" * 3000 + "}",
        '{"a": 1,}',
        "{",
        "",
        '"just a string"',
        "null",
        "[1,2,3]",
        json.dumps({"workload": {"model": "llama-3.1-8b"}, "gpus": 10**25}),
    ]
