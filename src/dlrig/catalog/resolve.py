"""Name resolution: catalog id, then exact normalised name or alias, then fuzzy match.

Users type part names the way shops write them ("Samsung 970 EVO 1TB", "rtx4090 fe"), so
exact matching ignores case and punctuation, and fuzzy matching (rapidfuzz) offers
"did you mean" candidates. An ambiguous or unknown name is an error listing candidates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Generic, Protocol, TypeVar

from dlrig.errors import AmbiguousPartError, PartNotFoundError

# Fuzzy scores are 0-100 (rapidfuzz WRatio). Below ACCEPT we never guess; two candidates
# within AMBIGUITY_GAP of each other are too close to choose between.
FUZZY_ACCEPT_SCORE = 90.0
FUZZY_SUGGEST_SCORE = 55.0
AMBIGUITY_GAP = 3.0
# The longest name a user may give: real part names are under 120 characters.
MAX_NAME_CHARS = 200

_PUNCT = re.compile(r"[^a-z0-9]+")


def normalize(text: str) -> str:
    """Lower-case and drop punctuation and spaces: 'RTX-4090 FE' → 'rtx4090fe'."""
    return _PUNCT.sub("", text.lower())


def tokens(text: str) -> str:
    """Lower-case words separated by single spaces, for fuzzy scoring."""
    return " ".join(_PUNCT.sub(" ", text.lower()).split())


class Named(Protocol):
    """Anything resolvable: an id, a display name and extra aliases (parts, GPU chips)."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def aliases(self) -> tuple[str, ...]: ...


T = TypeVar("T", bound=Named)


class NameIndex(Generic[T]):
    """Index over ids, names and aliases of one set of records (one category or all)."""

    def __init__(self, records: Iterable[T]) -> None:
        self._by_id: dict[str, T] = {}
        self._by_norm: dict[str, list[T]] = {}
        self._choices: list[str] = []
        self._choice_owner: list[T] = []
        for rec in records:
            self._by_id[rec.id] = rec
            for label in (rec.name, *rec.aliases, rec.id):
                key = normalize(label)
                owners = self._by_norm.setdefault(key, [])
                if rec not in owners:
                    owners.append(rec)
                self._choices.append(tokens(label))
                self._choice_owner.append(rec)

    def resolve(self, text: str, what: str = "part") -> T:
        """The one record ``text`` names, or PartNotFoundError / AmbiguousPartError."""
        text = text.strip()
        _check_length(text, what)
        if text in self._by_id:
            return self._by_id[text]
        exact = self.exact(text)
        if len(exact) == 1:
            return exact[0]
        if len(exact) > 1:
            raise _ambiguous(text, what, [r.name for r in exact])
        ranked = self.ranked(text, limit=5)
        if ranked and ranked[0][1] >= FUZZY_ACCEPT_SCORE:
            top, top_score = ranked[0]
            rivals = [r for r, s in ranked[1:] if top_score - s < AMBIGUITY_GAP]
            if rivals:
                raise _ambiguous(text, what, [top.name, *(r.name for r in rivals)])
            if self._close_spelling(text, top):
                return top
        candidates = [r.name for r, s in ranked if s >= FUZZY_SUGGEST_SCORE][:3]
        hint = (
            "did you mean " + " or ".join(f"'{c}'" for c in candidates) + "?"
            if candidates
            else "list the catalog with `dlrig catalog search TEXT`, or describe the part inline "
            "with {custom: {...}} in the build file"
        )
        raise PartNotFoundError(f"unknown {what} '{text}'", hint, candidates)

    def exact(self, text: str) -> list[T]:
        """Records whose id, name or an alias equals ``text`` ignoring case and punctuation."""
        return list(self._by_norm.get(normalize(text), []))

    def containing(self, text: str) -> list[T]:
        """Records whose id, name and aliases together contain every word of ``text``, in index
        order."""
        words = tokens(text).split()
        return [
            rec
            for rec in self._by_id.values()
            if all(w in tokens(" ".join((rec.name, *rec.aliases, rec.id))) for w in words)
        ]

    @staticmethod
    def _close_spelling(text: str, rec: Named) -> bool:
        """A fuzzy hit is taken only when the whole text is a near-spelling of a label.

        WRatio scores partial matches high ('X299 SAGE PRO MAX' vs 'X299 SAGE'), which is right
        for ranking suggestions but too lenient for silently choosing a part.
        """
        from rapidfuzz import fuzz

        key = normalize(text)
        return any(
            fuzz.ratio(key, normalize(label)) >= FUZZY_ACCEPT_SCORE
            for label in (rec.name, *rec.aliases)
        )

    def ranked(self, text: str, limit: int = 10) -> list[tuple[T, float]]:
        """Records by fuzzy score, best first, one entry per record.

        WRatio gives many labels the same partial-match score, so ties are broken by how well
        the whole label matches (token_sort_ratio): 'rtx 4090 foundrs' ranks the Founders
        Edition above other RTX 4090 cards.
        """
        from rapidfuzz import fuzz, process, utils

        query = tokens(text)
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

    def search(self, text: str, limit: int = 20) -> list[T]:
        """Records containing every word of ``text``; fuzzy matches above the suggestion bar when
        none does (typos)."""
        _check_length(text, "search text")
        found = sorted(self.containing(text), key=lambda r: r.name)
        # Fuzzy matches only when no record has every word: otherwise '2080 ti' would be padded
        # with unrelated PSUs and memory kits that merely score above the suggestion bar.
        if not found:
            found = [
                rec for rec, score in self.ranked(text, limit=limit) if score >= FUZZY_SUGGEST_SCORE
            ]
        return found[:limit]


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
    return AmbiguousPartError(
        f"{what} '{text}' is ambiguous: it matches {listed}",
        "write the full name or the catalog id of the one you mean",
        list(names),
    )
