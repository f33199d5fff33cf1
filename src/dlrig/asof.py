"""Today's date for price ages: the real date, or the one pinned by ``$DLRIG_TODAY``.

Price staleness depends on the day a command runs, so the README's sample outputs would go
stale by themselves. ``DLRIG_TODAY=2026-12-03 dlrig plan ...`` pins the day those samples (and
the tests that regenerate them) are computed for; nothing else reads it.
"""

from __future__ import annotations

import datetime as dt
import os

from dlrig.errors import InputError

ENV = "DLRIG_TODAY"


def today() -> dt.date:
    """``$DLRIG_TODAY`` (YYYY-MM-DD) when set, else the local date."""
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise InputError(
            f"${ENV}={raw[:30]!r} is not a date", f"write YYYY-MM-DD or unset {ENV}"
        ) from None
