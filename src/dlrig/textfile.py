"""The one reader for users' text (build files, workloads, price lists, parts lists, web bodies).

Everything a user or a web client hands us goes through here before any object is built from
it, so hostile input is refused in bounded time and memory with one line that says what is
wrong and where:

- **Files** (:func:`read_text`, :func:`read_stream`): missing, a folder, a device, larger than
  :data:`MAX_FILE_BYTES`, binary (a NUL byte), not UTF-8 — each a clear message. At most
  ``max_bytes + 1`` bytes are ever read, so ``/dev/zero`` or a 10 GB file costs nothing.
- **YAML** (:func:`parse_yaml`): the event stream is checked first (nesting depth, number of
  values, scalar length, tags: only the plain ones — ``!!timestamp``, ``!!binary``,
  ``!!python/...`` and local tags are refused), then the composed node graph (alias expansion
  counted with each shared node once, recursive aliases refused) — all before any Python object
  exists. A 1 KB "billion laughs" document is refused after reading its ~100 events. Dates are
  left as text (``2024-13-45`` is data, not a crash); the consumer that wants a date parses it.
- **JSON** (:func:`parse_json`): NaN, Infinity and numbers that overflow a float are refused,
  as are integers of more than :data:`MAX_NUMBER_DIGITS` digits and nesting deeper than
  :data:`MAX_DEPTH`.
- **Numbers** in the parsed data (:func:`check_numbers`): every float finite, every number
  within ±:data:`MAX_ABS_NUMBER`; the models above (units, parts, workload) check physical
  bounds.

Errors are :class:`TextError` (an :class:`~dlrig.errors.InputError`, so exit code 2 even when a
caller does not wrap it); callers that have their own error type (BuildFileError, WorkloadError,
PriceListError) convert it and keep the line.
"""

from __future__ import annotations

import json
import math
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import yaml

from dlrig.errors import DlrigError, InputError

__all__ = [
    "MAX_ABS_NUMBER",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "MAX_SCALAR_CHARS",
    "ErrorFactory",
    "TextError",
    "YamlDoc",
    "check_numbers",
    "one_line",
    "parse_json",
    "parse_yaml",
    "read_stream",
    "read_text",
    "short",
]

# A build file is a few hundred bytes and a long price list a few hundred KB: 4 MiB is far
# beyond any real file and small enough to parse in well under a second.
MAX_FILE_BYTES = 4 * 1024 * 1024
# Nesting of mappings/lists: a build file uses 4 levels, a workload 3. Deep nesting is refused
# before the recursive parts of the YAML/JSON libraries (and pydantic) see it.
MAX_DEPTH = 32
# Values in one document after alias expansion (each alias counts its whole target again):
# the largest real input, a price list of ~10,000 rows x 10 columns, is ~200,000.
MAX_NODES = 500_000
# One scalar (a part name, a description, one number): a 1 MB part name is refused at once.
MAX_SCALAR_CHARS = 64 * 1024
# Digits in one number: an int of 5,000 digits would hit Python's int-parsing limit.
MAX_NUMBER_DIGITS = 40
# Largest magnitude of any number in user data: above every physical quantity dlrig handles
# (1e18 tokens, 1e15 parameters), below the range where float arithmetic overflows.
MAX_ABS_NUMBER = 1e21

# Builds the caller's own error type from (message, hint); the message does not name the file,
# so each caller can place the path the way its errors usually do.
ErrorFactory = Callable[[str, str], DlrigError]

# Tags a user's YAML may carry explicitly: the plain JSON-like types. Everything else
# (timestamp, binary, set, omap, python/*, local !tags) is refused.
_YAML = "tag:yaml.org,2002:"
PLAIN_TAGS = frozenset(
    {None, "!", *(_YAML + t for t in ("str", "int", "float", "bool", "null", "map", "seq"))}
)


class TextError(InputError):
    """User text that is refused (too large, too deep, not text, a forbidden tag...).

    ``line`` is 1-based where known; ``path`` is the key path of the offending value."""

    def __init__(self, message: str, hint: str = "", line: int | None = None) -> None:
        super().__init__(message, hint)
        self.line = line


def short(text: str, limit: int = 60) -> str:
    """``text`` cut to ``limit`` characters for an error message (a 100 KB name is not echoed)."""
    text = str(text)
    if len(text) <= limit:
        return text
    return text[: limit - 1] + f"… ({len(text):,} characters)"


def one_line(text: str, limit: int = 2000) -> str:
    """``text`` on one line (newlines and tabs as spaces), cut to ``limit`` characters."""
    return short(" ".join(str(text).split()), limit)


# --- files --------------------------------------------------------------------------------------
def read_text(
    path: str | Path,
    what: str,
    make_error: ErrorFactory,
    missing_hint: str,
    max_bytes: int = MAX_FILE_BYTES,
) -> str:
    """The UTF-8 text of ``path``; ``what`` names the file kind in hints ("build file")."""
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise make_error("file not found", missing_hint) from None
    except OSError as exc:
        raise make_error(
            f"cannot read the file: {exc.strerror or exc}", f"check the path of the {what}"
        ) from None
    if stat.S_ISDIR(st.st_mode):
        raise make_error("is a folder, not a file", f"give the path of the {what}")
    if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) or stat.S_ISSOCK(st.st_mode):
        raise make_error("is a device, not a file", f"give the path of the {what}")
    if stat.S_ISREG(st.st_mode) and st.st_size > max_bytes:
        raise make_error(_too_large(st.st_size, max_bytes), f"check that this is the {what}")
    try:
        with p.open("rb") as fh:  # a FIFO (shell process substitution) is read up to the limit
            raw = fh.read(max_bytes + 1)
    except OSError as exc:
        raise make_error(
            f"cannot read the file: {exc.strerror or exc}", f"check the path of the {what}"
        ) from None
    return decode(raw, what, make_error, max_bytes)


def read_stream(
    stream: IO[Any], what: str, make_error: ErrorFactory, max_bytes: int = MAX_FILE_BYTES
) -> str:
    """The UTF-8 text on a stream (stdin: its byte buffer where it has one), read up to the
    limit, with :func:`read_text`'s checks."""
    source = getattr(stream, "buffer", stream)
    raw = source.read(max_bytes + 1)
    if isinstance(raw, str):  # a text stream without a buffer (a test's StringIO)
        raw = raw.encode("utf-8", "surrogateescape")
    return decode(raw, what, make_error, max_bytes)


def decode(raw: bytes, what: str, make_error: ErrorFactory, max_bytes: int = MAX_FILE_BYTES) -> str:
    """``raw`` as text: refused when over ``max_bytes``, binary (NUL bytes) or not UTF-8."""
    if len(raw) > max_bytes:
        raise make_error(_too_large(len(raw), max_bytes), f"check that this is the {what}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise make_error(
            f"not a text file (byte {exc.start} is not UTF-8)", f"save the {what} as UTF-8 text"
        ) from None
    # Excel's "CSV UTF-8" and Notepad start the file with a byte-order mark: not part of the
    # text (a CSV header read "\ufeffpart" and the price file was refused)
    text = text.removeprefix("\ufeff")
    nul = text.find("\x00")
    if nul >= 0:
        raise make_error(
            f"not a text file (character {nul} is a NUL byte: binary data)",
            f"give the {what} as UTF-8 text",
        )
    return text


def _too_large(size: int, limit: int) -> str:
    over = "more than " if size > limit else ""
    return f"the file is {over}{size:,} bytes; the limit is {limit:,}"


# --- YAML -----------------------------------------------------------------------------------
def _without_timestamps(base: Any) -> Any:
    """``base`` without implicit timestamps: ``2024-13-45`` stays the text it is."""

    class Loader(base):
        pass

    Loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != _YAML + "timestamp"]
        for first, resolvers in base.yaml_implicit_resolvers.items()
    }
    return Loader


# PyYAML's own parser for ordinary inputs (it is the stricter one: a tab after a colon is an
# error with a clear mark) and libyaml's, ten times faster, for large ones (long price lists).
_Loader = _without_timestamps(yaml.SafeLoader)
_FastLoader = _without_timestamps(getattr(yaml, "CSafeLoader", yaml.SafeLoader))
FAST_PARSE_BYTES = 512 * 1024


# Shipped data files of this size or more are kept parsed in the on-disk cache (dlrig.cache):
# building the objects is pure Python even with libyaml (the 60 KB perf measurements took
# 40 ms of every `gpus`/`plan`, the cached copy loads in 1 ms); a smaller file parses in ~1 ms.
CACHED_YAML_BYTES = 8 * 1024
YAML_CACHE_KIND = "yaml"
YAML_CACHE_FORMAT = "1"  # bump when what load_data_yaml returns for a text changes
YAML_CACHE_KEEP = 32  # a few versions of each large data file (several checkouts, one cache)


def load_data_yaml(text: str) -> Any:
    """One of dlrig's own shipped YAML data files (sizing constants, model presets, ...): plain
    ``yaml.safe_load`` semantics with libyaml's parser where installed (ten times faster: the
    pure-Python one cost 0.1-0.2 s of every ``size``/``gpus``/``plan`` run). A large file's
    parsed data comes from the on-disk cache, keyed by its text, so an edited file is parsed
    again and each call gets its own copy. Users' files go through :func:`parse_yaml` instead."""
    if len(text) < CACHED_YAML_BYTES:
        return _safe_load(text)
    from dlrig import cache

    key = cache.key_of([YAML_CACHE_FORMAT, yaml.__version__, text])
    data = cache.load(YAML_CACHE_KIND, key)
    if data is None:
        data = _safe_load(text)
        cache.store(YAML_CACHE_KIND, key, data, keep=YAML_CACHE_KEEP)
    return data


def _safe_load(text: str) -> Any:
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@dataclass(frozen=True)
class YamlDoc:
    """A checked YAML document: its node graph (for line numbers) and its data."""

    node: yaml.Node | None
    data: Any


def parse_yaml(text: str, max_nodes: int = MAX_NODES) -> YamlDoc:
    """Parse ``text`` as one YAML document with every bound checked before objects are built;
    ``max_nodes`` bounds the values after alias expansion (a build file needs a few hundred).

    Raises :class:`TextError` (with the line) on bad syntax or a refused document."""
    loader_type = _FastLoader if len(text) > FAST_PARSE_BYTES else _Loader
    _check_events(text, max_nodes, loader_type)
    loader = loader_type(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlDoc(None, None)
        _check_graph(node, max_nodes)
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, text) from None
    except RecursionError:  # pragma: no cover - depth is bounded above
        raise TextError("nested too deeply", "flatten the document") from None
    finally:
        loader.dispose()
    check_numbers(data)
    return YamlDoc(node, data)


def _check_events(text: str, max_nodes: int, loader_type: Any) -> None:
    """Depth, count, scalar length and tags, from the parser's event stream (no recursion)."""
    depth = 0
    try:
        for n, event in enumerate(yaml.parse(text, Loader=loader_type)):
            line = event.start_mark.line + 1 if event.start_mark is not None else None
            if n > 2 * max_nodes:
                raise TextError(
                    f"more than {max_nodes:,} values in one document",
                    "split the input; no dlrig file needs this many",
                    line,
                )
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise TextError(
                        f"nested more than {MAX_DEPTH} levels deep",
                        "flatten the document; dlrig files use a few levels",
                        line,
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            tag = getattr(event, "tag", None)
            if tag is not None and tag not in PLAIN_TAGS:
                shown = "!!" + tag[len(_YAML) :] if tag.startswith(_YAML) else tag
                raise TextError(
                    f"the YAML tag {short(shown, 40)} is not allowed",
                    "remove the tag: dates and other values are written as plain text",
                    line,
                )
            if isinstance(event, yaml.ScalarEvent):
                _check_scalar(event.value, event.implicit[0], line)
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, text) from None


def _check_scalar(value: str, plain: bool, line: int | None) -> None:
    if len(value) > MAX_SCALAR_CHARS:
        raise TextError(
            f"a value of {len(value):,} characters; the limit is {MAX_SCALAR_CHARS:,}",
            "shorten it (names and notes are a line long)",
            line,
        )
    if plain and len(value) > MAX_NUMBER_DIGITS and value.lstrip("+-")[:1].isdigit():
        digits = sum(ch.isdigit() for ch in value)
        if digits > MAX_NUMBER_DIGITS:
            raise TextError(
                f"a number of {digits:,} digits: {short(value, 30)}",
                "write a number of ordinary size (e.g. 7e9)",
                line,
            )


def _check_graph(root: yaml.Node, max_nodes: int) -> None:
    """Alias expansion: the size and depth of the document as a consumer would walk it.

    Each node is visited once (memoised), so a billion-laughs document costs its node count,
    not its expansion; a node reached again while it is open is a recursive alias."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    open_ids: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            kids = _children(node)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            depth[key] = 1 + max((depth[id(k)] for k in kids), default=0)
            open_ids.discard(key)
            line = node.start_mark.line + 1
            if size[key] > max_nodes:
                raise TextError(
                    f"the document expands to more than {max_nodes:,} values (aliases)",
                    "write the values out instead of repeating aliases",
                    line,
                )
            if depth[key] > MAX_DEPTH + 1:
                raise TextError(
                    f"nested more than {MAX_DEPTH} levels deep (through aliases)",
                    "flatten the document",
                    line,
                )
            continue
        if key in size:
            continue
        if key in open_ids:
            raise TextError(
                "a recursive alias (a value that contains itself)",
                "remove the alias that refers to its own parent",
                node.start_mark.line + 1,
            )
        open_ids.add(key)
        stack.append((node, True))
        stack.extend((k, False) for k in _children(node) if id(k) not in size)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _syntax_error(exc: yaml.YAMLError, text: str) -> TextError:
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    lines = text.splitlines()
    tab = line is not None and 0 < line <= len(lines) and "\t" in lines[line - 1]
    hint = (
        "indent with spaces: YAML does not allow tabs"
        if tab
        else "fix the syntax (check indentation, colons and brackets)"
    )
    return TextError(f"invalid YAML: {short(problem, 120)}", hint, line)


# --- JSON -----------------------------------------------------------------------------------
def parse_json(text: str) -> Any:
    """Strict JSON: no NaN/Infinity, no overflowing or absurdly long numbers, bounded depth."""

    def constant(name: str) -> Any:
        raise TextError(f"{name} is not a number JSON allows", "write a finite number or null")

    def number(text: str) -> float:
        value = float(text)
        if not math.isfinite(value) or len(text) > MAX_NUMBER_DIGITS + 10:
            raise TextError(
                f"the number {short(text, 30)} is out of range", "write a finite number"
            )
        return value

    def integer(text: str) -> int:
        if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
            raise TextError(
                f"a number of {len(text):,} digits: {short(text, 30)}",
                "write a number of ordinary size (e.g. 7e9)",
            )
        return int(text)

    try:
        data = json.loads(text, parse_constant=constant, parse_float=number, parse_int=integer)
    except json.JSONDecodeError as exc:
        raise TextError(
            f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
            "fix the syntax (check commas, quotes and brackets)",
            exc.lineno,
        ) from None
    except RecursionError:
        raise TextError(
            f"nested more than {MAX_DEPTH} levels deep", "flatten the document"
        ) from None
    check_numbers(data)
    return data


# --- numbers in parsed data -------------------------------------------------------------------
def check_numbers(data: Any, where: str = "") -> None:
    """Every number in ``data`` finite and within ±MAX_ABS_NUMBER; nesting within MAX_DEPTH.

    The walk is iterative and visits at most MAX_NODES values (the loaders bound the size)."""
    stack: list[tuple[Any, str, int]] = [(data, where, 0)]
    seen = 0
    while stack:
        value, path, depth = stack.pop()
        seen += 1
        if seen > MAX_NODES:
            raise TextError(f"more than {MAX_NODES:,} values", "split the input")
        if depth > MAX_DEPTH + 1:
            raise TextError(
                f"{path or 'the document'}: nested more than {MAX_DEPTH} levels deep",
                "flatten the document",
            )
        if isinstance(value, bool) or value is None or isinstance(value, str):
            continue
        if isinstance(value, int | float):
            check_number(value, path or "a value")
        elif isinstance(value, dict):
            stack.extend((v, _join(path, k), depth + 1) for k, v in value.items())
        elif isinstance(value, list | tuple):
            stack.extend((v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value))


def check_number(value: float, field: str) -> None:
    """A finite number of sane magnitude, else TextError naming ``field``."""
    if isinstance(value, float) and not math.isfinite(value):
        raise TextError(f"{short(field, 80)}: {value} is not a finite number", "write a number")
    if abs(value) > MAX_ABS_NUMBER:
        shown = (
            f"{value:.3g}"
            if isinstance(value, float)
            else f"a number of about {int(value.bit_length() * math.log10(2)) + 1} digits"
        )
        raise TextError(
            f"{short(field, 80)}: {shown} is out of range (at most {MAX_ABS_NUMBER:.0e})",
            "check the number",
        )


def _join(path: str, key: Any) -> str:
    key = short(str(key), 40)
    return f"{path}.{key}" if path else key
