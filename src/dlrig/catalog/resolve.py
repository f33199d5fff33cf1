"""Name resolution: the one resolver behind search, build files, import-list, the web app and
price imports.

Users type part names the way shops write them ("Asus GeForce RTX 2080 Ti 11 GB Turbo Video
Card", "rtx4090 fe"), so a name is resolved in three steps:

1. the catalog id, or a name/alias equal to the text ignoring case and punctuation: taken as is;
2. a *word match*: after dropping retailer boilerplate ("4.2 GHz 24-Core Processor", "Video
   Card", "80+ Gold Certified", colours), every word of the text must be in the part's names
   (a word may be a near-spelling: 'Corsiar' reads as 'Corsair'), and every **model-defining
   token** must agree exactly in both directions: numbers and the letters glued to them (1080,
   T705, P2, i9-10920X), suffixes (Ti, Super, XT, Pro, Plus...), and the capacity, wattage,
   kit layout or colour when both the text and the part state one. "GTX 1080" never becomes a
   1080 Ti, "SuperNOVA 1600 P2" never the T2. A single part that passes is accepted *with a
   note* (what was ignored or read differently) that every front end shows;
3. otherwise the name is refused: ambiguous (candidates listed) or unknown ("did you mean",
   from a fuzzy ranking that only suggests, never chooses).

Work is bounded: names longer than :data:`MAX_NAME_CHARS` are refused before any matching,
and every pattern here is linear (no nested quantifiers).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from dlrig.errors import AmbiguousPartError, PartNotFoundError

# Fuzzy scores are 0-100 (rapidfuzz). Fuzzy ranking only *suggests* names at or above
# FUZZY_SUGGEST_SCORE; a word is read as a misspelling of a catalog word at TYPO_SCORE.
FUZZY_SUGGEST_SCORE = 55.0
TYPO_SCORE = 82.0
# The longest name a user may give: real part names are under 120 characters.
MAX_NAME_CHARS = 200

_PUNCT = re.compile(r"[^a-z0-9]+")


def normalize(text: str) -> str:
    """Lower-case and drop punctuation and spaces: 'RTX-4090 FE' → 'rtx4090fe'."""
    return _PUNCT.sub("", text.lower())


def tokens(text: str) -> str:
    """Lower-case words separated by single spaces, for fuzzy scoring."""
    return " ".join(_PUNCT.sub(" ", text.lower()).split())


# --- parsing a name into words, model tokens and stated specs --------------------------------

# Retailer boilerplate: spec words shops (PCPartPicker in particular) append to product names.
# Dropped from the text and from catalog names alike. Each pattern is linear.
_BOILERPLATE = re.compile(
    r"\b(?:\d+(?:\.\d+)?\s*ghz|\d+\s*-?\s*core|processor|video\s+card|graphics\s+card|"
    r"motherboard|desktop\s+memory|memory|solid\s+state\s+drive|internal\s+hard\s+drive|"
    r"hard\s+drive|power\s+supply|cpu\s+cooler|liquid\s+cpu\s+cooler|mid\s+tower|full\s+tower|"
    r"mini\s+tower|super\s+tower|tower|case|\d+(?:\.\d+)?\s*cfm|\d+(?:\.\d+)?\s*db[a]?|"
    r"\d+\s*rpm|m\.2-?\s*\d{4}|m\.2|nvme|pcie\s*\d(?:\.\d)?(?:\s*x\s*\d+)?|sata(?:\s*\d+(?:\.\d+)?\s*gb/s)?|"
    r"80\s*\+\s*(?:titanium|platinum|gold|silver|bronze|white)?\s*(?:certified)?|"
    r"80\s*plus\s*(?:titanium|platinum|gold|silver|bronze|white)?|certified|fully\s+modular|"
    r"semi-modular|semi\s+modular|non-modular|modular|atx\s*3\.\d|atx|ssi\s+ceb|ssi\s+eeb|"
    r"e-atx|eatx|eeb|ceb|micro\s+atx|micro-atx|matx|mini\s+itx|mini-itx|itx|lga\s*\d{3,4}|"
    r"am[45]|str[x]?\d|swrx8|str5|tempered\s+glass|fan|internal|desktop)\b",
    re.I,
)
# Stated specs: matched before tokenising so "24 GB" and "24G" read the same.
_KIT = re.compile(r"\b(\d{1,2})\s*x\s*(\d{1,3})\s*(?:gb|g)\b")
_BYTES = re.compile(r"\b(\d{1,5}(?:\.\d{1,2})?)\s*(tb|gb|g)\b")
_WATTS = re.compile(r"\b(\d{3,4})\s*w\b")
_CL = re.compile(r"\bcl\s*(\d{1,2})\b")
_MM = re.compile(r"\b(\d{2,3})\s*mm\b")
_INCH = re.compile(r'\b\d\.5\s*(?:"|-?inch\b)')
# GPU memory type ('GDDR6X'): a spec, not a model token - shops write it or leave it out, and
# it is compared only when both names state it (an RTX 4070 GDDR6 is not the GDDR6X card)
_GDDR = re.compile(r"\bgddr\s*(\d)\s*(x?)\b")
_COLOURS = frozenset(
    [
        "black",
        "white",
        "red",
        "blue",
        "green",
        "silver",
        "grey",
        "gray",
        "pink",
        "purple",
        "gold",
        "yellow",
        "orange",
    ]
)
# Stated specs that define the model: a label stating one is used only when the text states it.
STRICT_SPECS = ("gb", "w")
# Words that change the model when added: "2080" vs "2080 Ti", "970 EVO" vs "970 EVO Plus".
MODEL_SUFFIXES = frozenset(
    [
        "ti",
        "super",
        "xt",
        "xtx",
        "gre",
        "pro",
        "plus",
        "max",
        "ultra",
        "se",
        "lite",
        "mini",
        "nano",
        "evo",
        "xl",
        "xxl",
        "compact",
        "ii",
        "iii",
        "iv",
    ]
)
# Words a name may or may not carry without naming a different part: the GPU maker on a
# partner card ("NVIDIA" on an ASUS card), filler.
_SOFT = frozenset(
    ["nvidia", "geforce", "radeon", "amd", "ati", "the", "and", "with", "for", "series", "edition"]
)
_WORD = re.compile(r"[a-z0-9]+")
# Shop spellings of words catalog names write differently.
_SYNONYMS = ((re.compile(r"\bwestern\s+digital\b"), "wd"), (re.compile(r"\bregistered\b"), "rdimm"))
_CHUNK = re.compile(r"[a-z]+|[0-9]+")


@dataclass(frozen=True)
class ParsedName:
    """A name split for matching."""

    words: frozenset[str]  # plain words (brand, series): may be misspelt
    model: frozenset[str]  # model-defining tokens: must agree exactly
    soft: frozenset[str]  # words that may be present or not
    specs: dict[str, frozenset[str]]  # stated capacity ("gb"), watts ("w"), kit, cl, mm, colour
    ignored: tuple[str, ...]  # boilerplate dropped, for the note

    @property
    def numbers(self) -> frozenset[str]:
        """The numbers of stated specs, so '1600W' meets a plain '1600'."""
        return frozenset(
            v for k, vals in self.specs.items() if k != "colour" for v in vals if v.isdigit()
        )

    @property
    def all_tokens(self) -> frozenset[str]:
        """Every token of the name."""
        return self.words | self.model | self.soft | self.numbers


def _gb(value: str, unit: str) -> str:
    n = float(value) * (1000 if unit == "tb" else 1)
    return str(int(n)) if n == int(n) else str(n)


def parse_name(text: str) -> ParsedName:
    """Split a part name into plain words, model tokens and stated specs."""
    t = text.lower().replace("’", "'")
    ignored: list[str] = []

    def drop(m: re.Match[str]) -> str:
        ignored.append(" ".join(m.group(0).split()))
        return " "

    specs: dict[str, set[str]] = {}

    def spec(kind: str, value: str) -> str:
        """Record a stated spec; the text it came from becomes a space."""
        specs.setdefault(kind, set()).add(value)
        return " "

    def kit(m: re.Match[str]) -> str:
        return spec("kit", f"{m.group(1)}x{m.group(2)}")

    def size(m: re.Match[str]) -> str:
        return spec("gb", _gb(m.group(1), m.group(2)))

    for pattern, replacement in _SYNONYMS:
        t = pattern.sub(replacement, t)
    t = _KIT.sub(kit, t)
    t = _BYTES.sub(size, t)
    t = _WATTS.sub(lambda m: spec("w", m.group(1)), t)
    t = _CL.sub(lambda m: spec("cl", m.group(1)), t)
    t = _MM.sub(lambda m: spec("mm", m.group(1)), t)
    t = _GDDR.sub(lambda m: spec("vram", f"gddr{m.group(1)}{m.group(2)}"), t)
    t = _INCH.sub(drop, t)
    t = _BOILERPLATE.sub(drop, t)
    words: set[str] = set()
    model: set[str] = set()
    soft: set[str] = set()
    for tok in _WORD.findall(t):
        if tok.isalpha():
            if tok in _COLOURS:
                spec("colour", tok)
            elif tok in MODEL_SUFFIXES:
                model.add(tok)
            elif tok in _SOFT:
                soft.add(tok)
            else:
                words.add(tok)
        else:  # numbers and the letters glued to them ("t705", "i9", "10920x") define the model
            model.update(_CHUNK.findall(tok))
    return ParsedName(
        frozenset(words),
        frozenset(model),
        frozenset(soft),
        {k: frozenset(v) for k, v in specs.items()},
        tuple(ignored),
    )


def describe_specs(specs: Mapping[str, frozenset[str]]) -> list[str]:
    """The specs a name states, as text ('24 GB', '1600 W')."""
    unit = {"gb": "GB", "w": "W", "mm": "mm"}
    out = []
    for kind, vals in sorted(specs.items()):
        for v in sorted(vals):
            out.append(f"{v} {unit[kind]}" if kind in unit else (f"CL{v}" if kind == "cl" else v))
    return out


# --- the index ---------------------------------------------------------------------------------


class Named(Protocol):
    """Anything resolvable: an id, a display name and extra aliases (parts, GPU chips)."""

    @property
    def id(self) -> str:
        """The id."""

    @property
    def name(self) -> str:
        """The display name."""

    @property
    def aliases(self) -> tuple[str, ...]:
        """Other names it is known by."""


T = TypeVar("T", bound=Named)


@dataclass(frozen=True)
class Resolution(Generic[T]):
    """A resolved name: the record and, for anything but an exact match, a note for the user."""

    record: T
    note: str | None = None
    specs: dict[str, frozenset[str]] = field(default_factory=dict)  # stated in the text


@dataclass
class _Sig:
    """What matching needs of one record: its labels parsed, their union."""

    labels: list[ParsedName]
    union: frozenset[str]
    specs: dict[str, frozenset[str]]


@dataclass
class _Candidate(Generic[T]):
    record: T
    extra: tuple[str, ...]  # words of its best label the text lacks
    read_as: dict[str, str]  # misspelt word → catalog word
    unstated: tuple[str, ...] = ()  # specs the text states and the part's names do not


def _narrowest(cands: list[_Candidate[T]]) -> list[_Candidate[T]]:
    """The one candidate whose unnamed words are a strict subset of every other's ('FTW3 ULTRA
    GAMING' over 'FTW3 ULTRA HYBRID GAMING' for 'FTW3 Ultra': the others add a variant word the
    text does not have); else all of them (ambiguous: 'TUF' against 'ROG Strix OC')."""
    for c in cands:
        mine = set(c.extra)
        if all(o is c or mine < set(o.extra) for o in cands):
            return [c]
    return cands


def containing(records: Iterable[T], text: str) -> list[T]:
    """``records`` whose id, name and aliases together contain every word of ``text``, in
    order (a substring search: it needs no index)."""
    words = tokens(text).split()
    return [
        rec
        for rec in records
        if all(w in tokens(" ".join((rec.name, *rec.aliases, rec.id))) for w in words)
    ]


class NameIndex(Generic[T]):
    """Index over ids, names and aliases of one set of records (one category or all)."""

    def __init__(self, records: Iterable[T]) -> None:
        self._by_id: dict[str, T] = {}
        self._by_norm: dict[str, list[T]] = {}
        self._choices: list[str] = []
        self._choice_owner: list[T] = []
        self._records: list[T] = []
        self._sigs: list[_Sig] = []
        self._postings: dict[str, set[int]] = {}
        for rec in records:
            self._by_id[rec.id] = rec
            labels = [rec.name, *rec.aliases, rec.id]
            for label in labels:
                key = normalize(label)
                owners = self._by_norm.setdefault(key, [])
                if rec not in owners:
                    owners.append(rec)
                self._choices.append(tokens(label))
                self._choice_owner.append(rec)
            parsed = [parse_name(label) for label in labels]
            union = frozenset().union(*(p.all_tokens for p in parsed))
            specs: dict[str, set[str]] = {}
            for p in parsed:
                for kind, vals in p.specs.items():
                    specs.setdefault(kind, set()).update(vals)
            idx = len(self._records)
            self._records.append(rec)
            self._sigs.append(_Sig(parsed, union, {k: frozenset(v) for k, v in specs.items()}))
            for tok in union:
                self._postings.setdefault(tok, set()).add(idx)
        self._vocab = sorted(t for t in self._postings if t.isalpha() and len(t) >= 2)
        self._short_vocab = [t for t in self._vocab if len(t) <= 4]

    # --- resolution -----------------------------------------------------------------------------
    def resolve(self, text: str, what: str = "part") -> T:
        """The one record ``text`` names, or PartNotFoundError / AmbiguousPartError."""
        return self.match(text, what).record

    def match(
        self, text: str, what: str = "part", prefer: Callable[[T], bool] | None = None
    ) -> Resolution[T]:
        """Resolve ``text``: exact, else a word match with model tokens agreeing (with a note).

        ``prefer`` breaks a tie between equally good candidates when exactly one of them is
        preferred (the store: a curated part over its imported copies).
        """
        text = text.strip()
        _check_length(text, what)
        if text in self._by_id:
            return Resolution(self._by_id[text])
        exact = self.exact(text)
        if len(exact) == 1:
            return Resolution(exact[0])
        if len(exact) > 1:
            raise _ambiguous(text, what, [r.name for r in exact])
        query = parse_name(text)
        cands, pool = self._word_candidates(query)
        best = cands
        if len(cands) > 1:
            whole = [c for c in cands if not c.extra]
            best = whole or _narrowest(cands)
        if len(best) > 1 and prefer is not None:
            preferred = [c for c in best if prefer(c.record)]
            if len(preferred) == 1:
                best = preferred
        if len(best) == 1:
            return Resolution(best[0].record, _note(text, query, best[0]), query.specs)
        if best:
            raise _ambiguous(text, what, [c.record.name for c in best])
        if len(pool) > 1:  # 'Intel Core i9': every word found, the model number missing
            raise _ambiguous(text, what, [r.name for r in pool])
        raise self._not_found(text, what, query)

    def exact(self, text: str) -> list[T]:
        """Records whose id, name or an alias equals ``text`` ignoring case and punctuation."""
        return list(self._by_norm.get(normalize(text), []))

    def candidates(self, text: str) -> list[T]:
        """Every record the word match accepts for ``text`` (before choosing one)."""
        if len(text) > MAX_NAME_CHARS:
            return []
        return [c.record for c in self._word_candidates(parse_name(text))[0]]

    def _alternatives(self, word: str) -> dict[str, str]:
        """Catalog words ``word`` may stand for: itself, else its near-spellings."""
        if word in self._postings:
            return {word: word}
        from rapidfuzz import fuzz, process
        from rapidfuzz.distance import Levenshtein

        alts: dict[str, str] = {}
        if len(word) >= 4:
            for cand, _score, _i in process.extract(
                word, self._vocab, scorer=fuzz.ratio, score_cutoff=TYPO_SCORE, limit=None
            ):
                if len(cand) >= 4:
                    alts[cand] = word
        elif len(word) == 3:  # 'tii' for 'Ti', 'sag' for 'Sage': one edit away
            for cand in self._short_vocab:
                if (cand in MODEL_SUFFIXES or len(cand) == 4) and Levenshtein.distance(
                    word, cand
                ) == 1:
                    alts[cand] = word
        return alts

    def _word_candidates(self, query: ParsedName) -> tuple[list[_Candidate[T]], list[T]]:
        """Records the word match accepts, and every record holding the text's words (some
        of which lack a model token of their own in the text)."""
        if not (query.words or query.model):
            return [], []
        pools: list[set[int]] = []
        alternatives: dict[str, dict[str, str]] = {}
        for word in query.words:
            alts = self._alternatives(word)
            if not alts:
                return [], []  # a word no part has: refuse rather than guess
            alternatives[word] = alts
            pool: set[int] = set()
            for a in alts:
                pool |= self._postings[a]
            pools.append(pool)
        for tok in query.model:
            if tok not in self._postings:
                return [], []
            pools.append(self._postings[tok])
        pools.sort(key=len)
        found = set(pools[0]).intersection(*pools[1:])
        out: list[_Candidate[T]] = []
        near: list[T] = []
        for idx in sorted(found, key=lambda i: self._records[i].name):
            cand = self._check(idx, query, alternatives)
            if cand is not None:
                out.append(cand)
            elif self._specs_agree(idx, query):
                near.append(self._records[idx])
        return out, near

    def _specs_agree(self, idx: int, query: ParsedName) -> bool:
        sig = self._sigs[idx]
        return all(
            kind not in sig.specs or vals <= sig.specs[kind] for kind, vals in query.specs.items()
        )

    def _check(
        self, idx: int, query: ParsedName, alternatives: dict[str, dict[str, str]]
    ) -> _Candidate[T] | None:
        sig = self._sigs[idx]
        read_as: dict[str, str] = {}
        for word, alts in alternatives.items():
            hit = next((a for a in sorted(alts) if a in sig.union), None)
            if hit is None:
                return None
            if hit != word:
                read_as[word] = hit
        # stated specs must agree where both sides state one
        for kind, vals in query.specs.items():
            theirs = sig.specs.get(kind)
            if theirs is not None and not vals <= theirs:
                return None
        present = query.all_tokens | frozenset(read_as.values())
        best: tuple[str, ...] | None = None
        for label in sig.labels:
            if not label.model <= present:
                continue  # the label names a model token the text lacks ('Ti', 'T2')
            if any(kind in label.specs and kind not in query.specs for kind in STRICT_SPECS):
                continue  # a capacity or wattage the text does not state ('4060 Ti' ≠ '16 GB')
            extra = tuple(
                sorted((label.words | label.model) - present)
                + sorted(k for k in label.specs if k not in query.specs and k != "colour")
            )
            if best is None or len(extra) < len(best):
                best = extra
        if best is None:
            return None
        unstated = {k: v for k, v in query.specs.items() if k not in sig.specs}
        return _Candidate(self._records[idx], best, read_as, tuple(describe_specs(unstated)))

    def _not_found(self, text: str, what: str, query: ParsedName) -> PartNotFoundError:
        ranked = self.ranked(text, limit=5)
        candidates = [r.name for r, s in ranked if s >= FUZZY_SUGGEST_SCORE][:3]
        if candidates:
            hint = "did you mean " + " or ".join(f"'{c}'" for c in candidates) + "?"
            near = self._sigs[self._records.index(ranked[0][0])]
            differ = _model_difference(query, near)
            if differ:
                hint += f" (the model differs: {differ})"
        else:
            hint = (
                "list the catalog with `dlrig catalog search TEXT`, or describe the part inline "
                "with {custom: {...}} in the build file"
            )
        return PartNotFoundError(f"unknown {what} '{text}'", hint, candidates)

    # --- ranking and search ---------------------------------------------------------------------
    def containing(self, text: str) -> list[T]:
        """Records whose id, name and aliases together contain every word of ``text``, in index
        order."""
        return containing(self._by_id.values(), text)

    def ranked(self, text: str, limit: int = 10) -> list[tuple[T, float]]:
        """Records by fuzzy score, best first, one entry per record.

        WRatio gives many labels the same partial-match score, so ties are broken by how well
        the whole label matches (token_sort_ratio): 'rtx 4090 foundrs' ranks the Founders
        Edition above other RTX 4090 cards.
        """
        from rapidfuzz import fuzz, process, utils

        query = tokens(text[: MAX_NAME_CHARS * 2])
        hits = process.extract(
            query,
            self._choices,
            scorer=fuzz.WRatio,
            processor=utils.default_process,
            limit=max(50, limit * 10),
        )
        best: dict[str, tuple[T, float, float]] = {}
        for choice, score, idx in hits:
            rec = self._choice_owner[idx]
            whole = fuzz.token_sort_ratio(query, choice)
            if rec.id not in best or (score, whole) > best[rec.id][1:]:
                best[rec.id] = (rec, float(score), whole)
        ordered = sorted(best.values(), key=lambda r: (-r[1], -r[2], r[0].name))
        return [(rec, score) for rec, score, _ in ordered[:limit]]

    def search(self, text: str, limit: int | None = 20) -> list[T]:
        """Records containing every word of ``text``; else those the resolver's word match
        accepts (retailer boilerplate dropped, misspellings read); else fuzzy matches above
        the suggestion bar (typos). ``limit=None``: all of them."""
        _check_length(text, "search text")
        if not tokens(text):  # "ü", "%": no word a name is searched by (it matched every part)
            return []
        found = sorted(self.containing(text), key=lambda r: r.name)
        if not found:
            found = self.candidates(text)
        # Fuzzy matches only when no record has every word: otherwise '2080 ti' would be padded
        # with unrelated PSUs and memory kits that merely score above the suggestion bar.
        if not found:
            found = [
                rec
                for rec, score in self.ranked(text, limit=limit or 50)
                if score >= FUZZY_SUGGEST_SCORE
            ]
        return found if limit is None else found[:limit]


def _model_difference(query: ParsedName, near: _Sig) -> str:
    """'1080' vs '1080 ti': which model tokens the text and the nearest part disagree on."""
    theirs = near.labels[0]
    missing = sorted(theirs.model - query.all_tokens)
    extra = sorted(query.model - near.union)
    parts = []
    if extra:
        parts.append("you wrote " + ", ".join(f"'{t}'" for t in extra))
    if missing:
        parts.append("it has " + ", ".join(f"'{t}'" for t in missing))
    for kind, vals in query.specs.items():
        if kind in near.specs and not vals <= near.specs[kind]:
            mine = describe_specs({kind: vals})
            its = describe_specs({kind: near.specs[kind]})
            parts.append(f"you wrote {', '.join(mine)}, it has {', '.join(its)}")
    return "; ".join(parts)


def _note(text: str, query: ParsedName, cand: _Candidate[Any]) -> str:
    """What the user should confirm about a word match."""
    details = []
    if cand.read_as:
        details.append(
            "read " + ", ".join(f"'{w}' as '{a}'" for w, a in sorted(cand.read_as.items()))
        )
    ignored = (*cand.unstated, *query.ignored)
    if ignored:
        details.append("ignored " + ", ".join(f"'{w}'" for w in ignored))
    if cand.extra:
        details.append("the part's name adds " + ", ".join(f"'{w}'" for w in cand.extra))
    tail = f" ({'; '.join(details)})" if details else ""
    return f"'{text}' matched as '{cand.record.name}'{tail}"


def _check_length(text: str, what: str) -> None:
    """Refuse a name far longer than any real one before fuzzy matching it (a 100 KB name
    would cost seconds per catalog entry) — and without echoing it whole."""
    if len(text) > MAX_NAME_CHARS:
        from dlrig.textfile import short

        raise PartNotFoundError(
            f"{what} name '{short(text, 40)}' is longer than {MAX_NAME_CHARS} characters",
            "give the part's catalog name or id (see `dlrig catalog search TEXT`)",
        )


def _ambiguous(text: str, what: str, names: Sequence[str]) -> AmbiguousPartError:
    listed = "; ".join(f"'{n}'" for n in names[:5])
    more = f" and {len(names) - 5} more" if len(names) > 5 else ""
    return AmbiguousPartError(
        f"{what} '{text}' is ambiguous: it matches {listed}{more}",
        "write the full name or the catalog id of the one you mean",
        list(names),
    )
