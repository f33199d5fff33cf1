"""`--filter FIELD OP VALUE` expressions for catalog listings."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dlrig.errors import InputError

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "~": lambda field, value: str(value).lower() in str(field).lower(),
}
OPERATORS = tuple(_OPS)


@dataclass(frozen=True)
class Filter:
    """One ``FIELD OP VALUE`` condition on parts (``vram_gib>=24``)."""

    field: str
    op: str
    value: str

    def matches(self, record: Any) -> bool:
        """True when the record's field satisfies the filter; unknown (None) never matches."""
        actual = getattr(record, self.field, None)
        if actual is None:
            return False
        if isinstance(actual, tuple | list):
            if self.op in ("=", "==", "~"):
                return any(_OPS[self.op](a, _coerce(a, self.value)) for a in actual)
            return False
        if isinstance(actual, str):  # text compares case-insensitively
            return _OPS[self.op](actual.lower(), self.value.lower())
        try:
            return _OPS[self.op](actual, _coerce(actual, self.value, self.field + self.op))
        except TypeError:
            return False


# A filter is a field, an operator and a value: a few dozen characters.
MAX_FILTER_CHARS = 200


def parse_filter(text: str, fields: set[str]) -> Filter:
    """Parse 'vram_gib>=24' or 'vram_gib >= 24'; ``fields`` are the valid field names."""
    if len(text) > MAX_FILTER_CHARS:
        from dlrig.textfile import short

        raise InputError(
            f"filter '{short(text, 40)}' is longer than {MAX_FILTER_CHARS} characters",
            "write FIELD OP VALUE, e.g. 'vram_gib>=24'",
        )
    for op in sorted(OPERATORS, key=len, reverse=True):
        if op in text:
            field, _, value = text.partition(op)
            field, value = field.strip(), value.strip()
            break
    else:
        raise InputError(
            f"filter '{text}' has no operator",
            "write FIELD OP VALUE, e.g. 'vram_gib>=24'; operators: " + " ".join(OPERATORS),
        )
    if field not in fields:
        from rapidfuzz import process

        close = process.extractOne(field, sorted(fields))
        hint = f"did you mean '{close[0]}'?" if close and close[1] > 60 else ""
        raise InputError(
            f"unknown field '{field}' in filter '{text}'",
            hint or "known fields: " + ", ".join(sorted(fields)),
        )
    if not value:
        raise InputError(f"filter '{text}' has no value", "write FIELD OP VALUE")
    return Filter(field, op, value)


def _coerce(actual: Any, value: str, lhs: str = "") -> Any:
    """Convert the filter's text to the field's type so 24 compares as a number."""
    if isinstance(actual, bool):
        low = value.lower()
        if low in ("true", "yes", "1"):
            return True
        if low in ("false", "no", "0"):
            return False
        raise InputError(f"'{value}' is not true or false", "write true or false")
    if isinstance(actual, int | float):
        try:
            number = float(value)
        except ValueError:
            import re

            unit = re.match(r"\s*([-+]?[\d.,]*\d)\s*[^\d\s]+\s*$", value)
            hint = (
                f"write the number without a unit, e.g. '{lhs}{unit.group(1).replace(',', '')}'"
                " (the field name carries the unit)"
                if unit
                else "compare numeric fields with numbers"
            )
            raise InputError(f"'{value}' is not a number", hint) from None
        if not math.isfinite(number):
            raise InputError(
                f"filter '{lhs}{value}': {value} is not a finite number", "compare with a number"
            )
        return number
    return value
