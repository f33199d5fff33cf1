"""Reading a user's text file (build file, workload, price list, parts list) with one set of
clear messages: missing, a folder, not UTF-8, unreadable — never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from dlrig.errors import DlrigError

# Builds the caller's own error type from (message, hint); the message does not name the file,
# so each caller can place the path the way its errors usually do.
ErrorFactory = Callable[[str, str], DlrigError]


def read_text(path: str | Path, what: str, make_error: ErrorFactory, missing_hint: str) -> str:
    """The UTF-8 text of ``path``; ``what`` names the file kind in hints ("build file")."""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise make_error("file not found", missing_hint) from None
    except IsADirectoryError:
        raise make_error("is a folder, not a file", f"give the path of the {what}") from None
    except UnicodeDecodeError as exc:
        raise make_error(
            f"not a text file (byte {exc.start} is not UTF-8)", f"save the {what} as UTF-8 text"
        ) from None
    except OSError as exc:
        raise make_error(
            f"cannot read the file: {exc.strerror or exc}", f"check the path of the {what}"
        ) from None
