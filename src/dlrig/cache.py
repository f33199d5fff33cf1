"""dlrig's on-disk cache: parsed data that is costly to rebuild, as pickles in the user cache dir.

Used for the parsed built-in catalog (:mod:`dlrig.catalog.builtin`), the planner's
preprocessed catalog (:mod:`dlrig.optimize.prep`), the integrity check of an imported store and
dlrig's own large YAML data files (:func:`dlrig.textfile.load_data_yaml`); it sits in the bottom
layer so that any layer may use it. Every entry is keyed by a hash of what it was
built from, so a changed input is a different file and a stale entry is never read. The cache is
an optimisation only: a missing, unreadable, corrupt or foreign file is ignored (the caller
rebuilds), and a failed write is silent.

Safe under concurrent processes: an entry is written to a temporary file in the same directory
and renamed over the final name (``os.replace`` is atomic on POSIX and Windows), so a reader sees
either no file or a whole one; two writers of one key write the same content.

A pickle runs code when loaded, so only a file owned by the current user and writable by no one
else is loaded (POSIX); anyone who can write such a file can already run code as that user.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import stat
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

CACHE_ENV = "DLRIG_CACHE_DIR"
KEEP_PER_KIND = 8  # entries of one kind kept (e.g. several checkouts sharing one cache dir)

__all__ = ["CACHE_ENV", "cache_dir", "key_of", "load", "module_sources", "store"]


def cache_dir() -> Path:
    """Where the cache lives: ``$DLRIG_CACHE_DIR``, else the platform's user cache dir."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("dlrig"))


def key_of(parts: Iterable[str | bytes]) -> str:
    """A short hex digest of ``parts`` (each one length-prefixed, so boundaries count)."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()[:24]


def module_sources(*modules: ModuleType) -> list[bytes]:
    """The source of each module, for a cache key that changes with the code: read by the
    module's loader, so from a folder and from a zip alike (``Path(m.__file__)`` is no file in
    a zip)."""
    return [
        m.__loader__.get_data(m.__file__)  # type: ignore[union-attr]
        for m in modules
        if m.__file__ and hasattr(m.__loader__, "get_data")
    ]


def path_of(kind: str, key: str) -> Path:
    """The file of entry ``key`` of ``kind`` (e.g. ``builtin``, ``plan-prep``)."""
    return cache_dir() / f"{kind}-{key}.pickle"


def load(kind: str, key: str, persistent_load: Callable[[Any], Any] | None = None) -> Any | None:
    """The cached object, or None when there is no usable entry. ``persistent_load`` turns
    the references :func:`store`'s ``persistent_id`` wrote back into objects."""
    path = path_of(kind, key)
    try:
        with path.open("rb") as fh:
            if not _trusted(os.fstat(fh.fileno())):
                return None
            unpickler = pickle.Unpickler(fh)
            if persistent_load is not None:
                unpickler.persistent_load = persistent_load  # type: ignore[method-assign]
            payload = unpickler.load()
    except Exception:  # missing, unreadable, truncated, corrupt, or from another code version
        return None
    if not (isinstance(payload, tuple) and len(payload) == 3 and payload[:2] == (kind, key)):
        return None
    return payload[2]


def store(
    kind: str,
    key: str,
    obj: Any,
    persistent_id: Callable[[Any], Any] | None = None,
    keep: int = KEEP_PER_KIND,
) -> None:
    """Write ``obj`` as entry ``key`` of ``kind`` (atomically); keep the newest ``keep`` entries
    of that kind. ``persistent_id`` (an object → a reference, or None to pickle it) keeps
    objects another cache entry already holds out of this one."""
    path = path_of(kind, key)
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        import tempfile  # only when writing (with shutil, bz2 and lzma: ~5 ms of every read)

        fd, tmp = tempfile.mkstemp(prefix=f".{kind}-", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            pickler = pickle.Pickler(fh, protocol=pickle.HIGHEST_PROTOCOL)
            if persistent_id is not None:
                pickler.persistent_id = persistent_id  # type: ignore[method-assign]
            pickler.dump((kind, key, obj))
        os.replace(tmp, path)
        tmp = None
        _prune(path.parent, kind, path, keep)
    except (OSError, pickle.PicklingError, TypeError, AttributeError, RecursionError):
        # caching is an optimisation only: a full or unwritable disk, or an object pickle
        # refuses (a lock: TypeError; a local class: AttributeError), skips the write
        pass
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _trusted(st: os.stat_result) -> bool:
    """Only a regular file of ours that nobody else may write (a pickle runs code on load)."""
    if not stat.S_ISREG(st.st_mode):
        return False
    getuid = getattr(os, "getuid", None)
    if getuid is None:  # pragma: no cover - Windows: the user profile's ACLs protect it
        return True
    return st.st_uid == getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _prune(folder: Path, kind: str, new: Path, keep: int) -> None:
    """Keep the newest ``keep`` entries of ``kind`` (and always ``new``)."""
    entries = []
    for p in folder.glob(f"{kind}-*.pickle"):
        try:
            entries.append((p.stat().st_mtime, p))
        except OSError:
            continue
    entries.sort(reverse=True)
    for _, p in entries[keep:]:
        if p != new:
            with contextlib.suppress(OSError):
                p.unlink()
