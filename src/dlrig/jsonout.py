"""Strict JSON for everything dlrig prints or serves: the one serialiser of ``--json`` output and
of the web API's bodies.

JSON has no NaN or Infinity; Python's ``json`` writes them anyway and most JSON parsers then
fail on the whole document. Input validation keeps them out of results (``dlrig.textfile``
refuses non-finite numbers), and this module is the last guard: a non-finite float that still
reaches the output becomes ``null``, and the document is written with ``allow_nan=False`` so
nothing else non-standard slips through.
"""

from __future__ import annotations

import json
import math
from pathlib import PurePath
from typing import Any

__all__ = ["dumps", "strict"]


def strict(data: Any) -> Any:
    """``data`` with every non-finite float replaced by None (dates, sets, tuples and pydantic
    models turned into JSON values on the way)."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, bool | int | str) or data is None:
        return data
    if isinstance(data, dict):
        return {_key(k): strict(v) for k, v in data.items()}
    if isinstance(data, list | tuple | set | frozenset):
        return [strict(v) for v in data]
    if hasattr(data, "model_dump"):
        return strict(data.model_dump(mode="json"))
    if hasattr(data, "isoformat"):
        return data.isoformat()
    if isinstance(data, PurePath):
        return str(data)
    raise TypeError(f"cannot serialise {type(data).__name__}")


def dumps(data: Any, indent: int | None = 2) -> str:
    """One strict JSON document (UTF-8 text, non-ASCII kept as is)."""
    return json.dumps(strict(data), indent=indent, ensure_ascii=False, allow_nan=False)


def _key(key: Any) -> str:
    """A mapping key as ``json.dumps`` writes it (enums by their value)."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool) or key is None:
        return json.dumps(key)
    if isinstance(key, float) and not math.isfinite(key):
        return "null"
    if isinstance(key, int | float):
        return json.dumps(key)
    return str(getattr(key, "value", key))
