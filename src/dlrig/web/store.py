"""Saved builds: an SQLite file of immutable build versions, each behind an unguessable token.

A saved version is never changed: editing a saved build and saving again adds a new version to
the same lineage (``version`` counts 1, 2, 3... per lineage) with its own token. Tokens are 128
random bits (``secrets.token_urlsafe(16)``), so a permalink cannot be guessed from another one.
There is no login and nothing else is stored: the editor's unsaved state lives only in the
page, never on disk.

Limits on everything stored (:data:`MAX_BUILD_BYTES`, :data:`MAX_NAME_CHARS`,
:data:`MAX_BUILDS`) keep one client from filling the disk. Each call opens its own connection
(thread-safe under the web server's thread pool) and writes in one ``BEGIN IMMEDIATE``
transaction, so concurrent saves neither lose a version nor number two versions alike.

Nothing here imports FastAPI.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dlrig.errors import CatalogError, InputError

__all__ = [
    "MAX_BUILDS",
    "MAX_BUILD_BYTES",
    "MAX_NAME_CHARS",
    "BuildStore",
    "SavedBuild",
    "StoreFullError",
    "default_db_path",
]

MAX_BUILD_BYTES = 64 * 1024  # a build file is a few hundred bytes; 64 KiB allows notes
MAX_NAME_CHARS = 200
MAX_BUILDS = 200_000  # ~ 13 GB at the size limit, far less in practice (≈ 0.5 KB a build)
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS builds (
    token      TEXT PRIMARY KEY,
    lineage    TEXT NOT NULL,
    version    INTEGER NOT NULL,
    parent     TEXT,
    name       TEXT NOT NULL,
    text       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (lineage, version)
);
CREATE INDEX IF NOT EXISTS builds_lineage ON builds (lineage, version);
"""


class StoreFullError(InputError):
    """The store holds :data:`MAX_BUILDS` builds: refuse new ones rather than fill the disk."""


@dataclass(frozen=True, slots=True)
class SavedBuild:
    """One saved version of a build: token, lineage, version, parent, name, text, time."""

    token: str
    lineage: str
    version: int
    parent: str | None
    name: str
    text: str
    created_at: str  # ISO 8601, UTC


def default_db_path() -> Path:
    """Where saved builds live unless ``dlrig serve --db PATH`` says otherwise: $DLRIG_DB, else
    ``saved-builds.sqlite`` in the user data folder."""
    import os

    from platformdirs import user_data_dir

    env = os.environ.get("DLRIG_DB")
    return Path(env) if env else Path(user_data_dir("dlrig")) / "saved-builds.sqlite"


class BuildStore:
    """Saved builds in the SQLite file at ``path`` (created on first use)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as con:
                con.executescript(_SCHEMA)
                con.execute("PRAGMA journal_mode=WAL")  # readers do not wait for a writer
        except (OSError, sqlite3.Error) as exc:
            raise CatalogError(
                f"cannot open the saved-builds database {self.path}: {exc}",
                "give a writable file with --db PATH",
            ) from None

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            yield con
        finally:
            con.close()

    def save(self, name: str, text: str, parent: str | None = None) -> SavedBuild:
        """Store a new immutable version; with ``parent`` (a token) the next version of that
        build's lineage, else version 1 of a new lineage."""
        _check_limits(name, text)
        token = secrets.token_urlsafe(16)
        now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                lineage, version = self._next_version(con, parent, token)
                (count,) = con.execute("SELECT count(*) FROM builds").fetchone()
                if count >= MAX_BUILDS:
                    raise StoreFullError(
                        f"the saved-builds store is full ({count:,} builds)",
                        "export the build instead (YAML, text, Markdown or JSON)",
                    )
                con.execute(
                    "INSERT INTO builds VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (token, lineage, version, parent, name, text, now),
                )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return SavedBuild(token, lineage, version, parent, name, text, now)

    def _next_version(
        self, con: sqlite3.Connection, parent: str | None, token: str
    ) -> tuple[str, int]:
        if parent is None:
            return token, 1
        row = con.execute("SELECT lineage FROM builds WHERE token = ?", (parent,)).fetchone()
        if row is None:
            raise InputError(
                "the build this was edited from is not saved here",
                "save it as a new build (start over from the editor)",
            )
        (top,) = con.execute(
            "SELECT max(version) FROM builds WHERE lineage = ?", (row[0],)
        ).fetchone()
        return row[0], int(top) + 1

    def get(self, token: str) -> SavedBuild | None:
        """The saved version behind ``token``, or None."""
        if not _TOKEN.match(token):
            return None
        with self._connect() as con:
            row = con.execute("SELECT * FROM builds WHERE token = ?", (token,)).fetchone()
        return SavedBuild(*row) if row else None

    def versions(self, lineage: str) -> list[SavedBuild]:
        """Every version of one lineage, oldest first."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT * FROM builds WHERE lineage = ? ORDER BY version", (lineage,)
            ).fetchall()
        return [SavedBuild(*r) for r in rows]

    def count(self) -> int:
        """How many builds are saved."""
        with self._connect() as con:
            (n,) = con.execute("SELECT count(*) FROM builds").fetchone()
        return int(n)


def _check_limits(name: str, text: str) -> None:
    size = len(text.encode("utf-8"))
    if size > MAX_BUILD_BYTES:
        raise InputError(
            f"the build is {size:,} bytes; saved builds are limited to {MAX_BUILD_BYTES:,}",
            "remove long notes or descriptions from the build file",
        )
    if len(name) > MAX_NAME_CHARS:
        raise InputError(
            f"the build name is {len(name):,} characters; the limit is {MAX_NAME_CHARS}",
            "use a shorter name",
        )
