"""The rules engine: rule registry, findings, the *unchecked* signal and ``check()``.

A rule is a function ``(build, ctx) -> Iterable[Hit]`` registered with :func:`rule`, which
gives it a stable code (``P001``), a public slug (``psu-headroom``), the worst severity it can
report, a topic, and a docstring in three parts (why / bad / good)::

    @rule("P001", "psu-headroom", Severity.ERROR, "power", planner="psu-headroom")
    def psu_headroom(build: Build, ctx: RuleContext) -> Iterator[Hit]:
        '''PSU watts must cover 110% of the estimated peak load.

        Why: ...
        Bad: ...
        Good: ...
        '''
        if build.psu is None:
            raise Unchecked("no PSU in the build")
        ...
        yield error(f"PSU ... ", "Choose ...", build.psu, *build.gpus)

A rule that lacks the data it needs raises :class:`Unchecked` (with the reason) — never a silent
pass. Findings it yielded before raising are kept. ``planner=`` names the planner's constraint
group(s) that hold the rule, or ``NotPlanned("why")``; every error rule needs one
(tests/test_optimize_rules.py). The numeric limits behind the rules live in
:mod:`dlrig.rules.limits`, so the planner builds its constraints from the same functions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

if TYPE_CHECKING:
    from dlrig.build import Build
    from dlrig.parts import M2Slot, Part
    from dlrig.rules.limits import M2Assignment, Placement

__all__ = [
    "RULES",
    "TOPICS",
    "CheckResult",
    "Finding",
    "Hit",
    "NotPlanned",
    "Rule",
    "RuleContext",
    "Severity",
    "Unchecked",
    "UncheckedRule",
    "check",
    "distinct",
    "error",
    "get_rule",
    "info",
    "need",
    "rule",
    "warning",
]


class Severity(StrEnum):
    """``error``: will not work or fit; ``warning``: works but hurts; ``info``: advice."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Sort key: errors first."""
        return _RANK[self]


_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}

# Topic name → code prefix. Codes are stable: never renumber a published rule.
TOPICS: dict[str, str] = {
    "power": "P",
    "platform": "M",
    "fit": "F",
    "cooling": "C",
    "deep-learning": "D",
}


class Unchecked(Exception):
    """Raised by a rule that lacks the data it needs; ``reason`` says what is missing."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


T = TypeVar("T")
P = TypeVar("P")
Q = TypeVar("Q", bound="Part")


def distinct(parts: Iterable[Q]) -> list[Q]:
    """``parts`` with repeats (same id) left out, in order: one finding per model, not per copy."""
    return list({p.id: p for p in parts}.values())


def need(part: P | None, what: str) -> P:
    """``part``, or :class:`Unchecked` ("no {what} in the build") when the build lacks it."""
    if part is None:
        raise Unchecked(f"no {what} in the build")
    return part


def each_checked(items: Iterable[T], check: Callable[[T], Iterable[Hit]]) -> Iterator[Hit]:
    """Every hit of ``check`` over ``items``; an item that lacks data does not stop the others,
    and the first missing fact is raised as :class:`Unchecked` at the end (several PSUs, say:
    one with unknown plugs must not hide a finding on another)."""
    first: str | None = None
    for item in items:
        try:
            yield from check(item)
        except Unchecked as exc:
            first = first or exc.reason
    if first:
        raise Unchecked(first)


class Hit(NamedTuple):
    """What a rule function yields; the engine adds the rule's code and slug."""

    severity: Severity
    message: str
    hint: str
    parts: tuple[str, ...]


def _ids(parts: Sequence[Part | str]) -> tuple[str, ...]:
    out: list[str] = []
    for p in parts:
        pid = p if isinstance(p, str) else p.id
        if pid not in out:
            out.append(pid)
    return tuple(out)


def error(message: str, hint: str, *parts: Part | str) -> Hit:
    """An error hit: the build will not work or will not fit."""
    return Hit(Severity.ERROR, message, hint, _ids(parts))


def warning(message: str, hint: str, *parts: Part | str) -> Hit:
    """A warning hit: works, but hurts (heat, throttling, slow data loading)."""
    return Hit(Severity.WARNING, message, hint, _ids(parts))


def by_positions(board: Any) -> Callable[..., Hit]:
    """``error`` for a conflict of slot positions read from the board's manual, ``warning``
    where the catalog estimated them (``slot_positions_estimated``): a guess must not reject a
    build people run."""
    return warning if getattr(board, "slot_positions_estimated", False) else error


def estimated_note(board: Any) -> str:
    """What to add to a finding that rests on estimated slot positions (else nothing)."""
    if not getattr(board, "slot_positions_estimated", False):
        return ""
    return (
        f" {board.name}'s slot positions are estimated in the catalog, not read from its manual:"
        " check the layout drawing."
    )


def info(message: str, hint: str, *parts: Part | str) -> Hit:
    """An info hit: advice."""
    return Hit(Severity.INFO, message, hint, _ids(parts))


@dataclass(frozen=True, slots=True)
class Finding:
    """One verdict of one rule about a build. ``parts`` are part ids of the build."""

    rule: str  # code, e.g. "P001"
    slug: str
    severity: Severity
    message: str
    hint: str
    parts: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """One finding of ``dlrig check --json``."""
        return {
            "rule": self.rule,
            "slug": self.slug,
            "severity": self.severity.value,
            "message": self.message,
            "hint": self.hint,
            "parts": list(self.parts),
        }


@dataclass(frozen=True, slots=True)
class UncheckedRule:
    """A rule that could not judge the build, and why (the data it needs is missing)."""

    rule: str
    slug: str
    reason: str


RuleFunc = Callable[["Build", "RuleContext"], Iterable[Hit]]


@dataclass(frozen=True)
class NotPlanned:
    """``planner=NotPlanned("why")``: the planner holds no constraint for this rule, and why."""

    reason: str


# ``planner=``: the planner's constraint group(s) that enforce the rule (dlrig.optimize's model or
# candidate filters; tests/test_optimize_rules.py checks they exist), or NotPlanned("why").
PlannerSpec = str | tuple[str, ...] | NotPlanned | None


@dataclass(frozen=True)
class Rule:
    """A registered rule. ``severity`` is the worst it reports; ``doc`` the full docstring."""

    code: str
    slug: str
    severity: Severity
    topic: str
    func: RuleFunc
    doc: str
    planner: tuple[str, ...] | NotPlanned | None = None  # see PlannerSpec

    @property
    def title(self) -> str:
        """The first line of the rule's docstring (what it checks)."""
        return self.doc.strip().splitlines()[0].strip() if self.doc.strip() else self.slug

    @cached_property
    def sections(self) -> dict[str, str]:
        """The docstring split into 'summary', 'why', 'bad' and 'good'."""
        return _sections(self.doc)

    def to_dict(self) -> dict[str, Any]:
        """One rule of ``dlrig rules --json`` (and of the generated docs)."""
        s = self.sections
        return {
            "rule": self.code,
            "slug": self.slug,
            "severity": self.severity.value,
            "topic": self.topic,
            "title": self.title,
            "why": s["why"],
            "bad": s["bad"],
            "good": s["good"],
        }

    def run(self, build: Build, ctx: RuleContext) -> tuple[list[Finding], str | None]:
        """Findings, and the unchecked reason (None when the rule ran to the end)."""
        found: list[Finding] = []
        try:
            for hit in self.func(build, ctx):
                found.append(Finding(self.code, self.slug, *hit))
        except Unchecked as exc:
            return found, exc.reason
        return found, None


RULES: dict[str, Rule] = {}  # slug → rule, in registration (= code) order
_CODES: dict[str, str] = {}


def rule(
    code: str, slug: str, severity: Severity, topic: str, planner: PlannerSpec = None
) -> Callable[[RuleFunc], RuleFunc]:
    """Register a rule function under ``code`` and ``slug`` (see the module docstring);
    ``planner`` names how the planner enforces it (see :data:`PlannerSpec`)."""
    if topic not in TOPICS or not code.startswith(TOPICS[topic]):
        raise ValueError(f"rule {code} {slug}: topic {topic!r} needs code prefix {TOPICS}")
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug):
        raise ValueError(f"bad rule slug {slug!r}")

    def register(func: RuleFunc) -> RuleFunc:
        if slug in RULES or code in _CODES:
            raise ValueError(f"rule {code} {slug} registered twice")
        doc = func.__doc__ or ""
        missing = [s for s in ("Why:", "Bad:", "Good:") if s not in doc]
        if missing:
            raise ValueError(f"rule {code} {slug}: docstring lacks {', '.join(missing)}")
        how = (planner,) if isinstance(planner, str) else planner
        RULES[slug] = Rule(code, slug, severity, topic, func, _dedent(doc), how)
        _CODES[code] = slug
        return func

    return register


def get_rule(key: str) -> Rule:
    """A rule by slug or code (case-insensitive for codes)."""
    if key in RULES:
        return RULES[key]
    slug = _CODES.get(key.upper())
    if slug:
        return RULES[slug]
    from rapidfuzz import process

    from dlrig.errors import InputError

    best = process.extractOne(key, list(RULES), score_cutoff=60)
    hint = f"did you mean '{best[0]}'? " if best else ""
    raise InputError(f"unknown rule '{key}'", hint + "list the rules with `dlrig rules`")


class RuleContext:
    """Per-check scratch space shared by the rules: computed once per build, on demand."""

    __slots__ = ("__dict__", "build")

    def __init__(self, build: Build) -> None:
        self.build = build

    @cached_property
    def gpu_layout(self) -> tuple[Placement, tuple[tuple[int, M2Slot], ...]]:
        """Where each GPU goes (see limits.place_units): the build file's slot: and riser: of
        each GPU are honoured; cards on M.2 adapters sit in the M.2 slot they name."""
        from dlrig.rules.limits import place_units

        board = self.build.motherboard
        assert board is not None
        units = self.build.gpu_units
        return place_units(
            board,
            self.build.gpus,
            [u.slot for u in units],
            [u.riser.kind if u.riser is not None else None for u in units],
        )

    @cached_property
    def placement(self) -> Placement:
        """GPUs in PCIe slots (see limits.place_gpus)."""
        return self.gpu_layout[0]

    @cached_property
    def m2_gpus(self) -> tuple[tuple[int, M2Slot], ...]:
        """(GPU index in build order, M.2 slot) for cards on M.2-to-PCIe adapters."""
        return self.gpu_layout[1]

    @cached_property
    def m2(self) -> M2Assignment:
        """Which M.2 slots the build's drives use and what that does to the GPU slots."""
        from dlrig.rules.limits import assign_m2

        board = self.build.motherboard
        assert board is not None
        used = {m.name for _, m in self.m2_gpus}
        if used:  # M.2 slots holding GPU adapters take no drive
            board = board.model_copy(
                update={"m2_slots": tuple(m for m in board.m2_slots if m.name not in used)}
            )
        return assign_m2(board, self.build.drives, self.placement)


@dataclass
class CheckResult:
    """The verdict on one build: findings (worst first), unchecked rules, and the build."""

    build: Build
    findings: list[Finding] = field(default_factory=list)
    unchecked: list[UncheckedRule] = field(default_factory=list)
    rules_run: int = 0

    @property
    def ok(self) -> bool:
        """No errors. A build without a CPU, board, PSU or case can still be ok (a partial build
        on purpose); front ends then print no pass mark and name ``missing_core``."""
        return not any(f.severity is Severity.ERROR for f in self.findings)

    @property
    def missing_core(self) -> list[str]:
        """The core categories (CPU, motherboard, PSU, case) the build leaves out."""
        from dlrig.parts import Category

        core = (Category.CPU, Category.MOTHERBOARD, Category.PSU, Category.CASE)
        return [c.value for c in core if not self.build.items.get(c)]

    def by_severity(self, severity: Severity) -> list[Finding]:
        """The findings of one severity."""
        return [f for f in self.findings if f.severity is severity]

    @property
    def errors(self) -> list[Finding]:
        """The error findings."""
        return self.by_severity(Severity.ERROR)

    @property
    def warnings(self) -> list[Finding]:
        """The warning findings."""
        return self.by_severity(Severity.WARNING)

    def slugs(self, severity: Severity | None = None) -> set[str]:
        """The slugs of the rules that found something (of one severity, if given)."""
        return {f.slug for f in self.findings if severity is None or f.severity is severity}

    def to_dict(self) -> dict[str, Any]:
        """The JSON object ``dlrig check --json`` prints (documented in docs/check.md)."""
        from dlrig.rules.totals import build_totals

        return {
            "ok": self.ok,
            "missing_core": self.missing_core,
            "build": self.build.name,
            "findings": [f.to_dict() for f in self.findings],
            "unchecked": [u.slug for u in self.unchecked],
            "unchecked_reasons": {u.slug: u.reason for u in self.unchecked},
            "totals": build_totals(self.build),
            "resolved_fuzzy": list(self.build.resolved_fuzzy),
        }


def check(build: Build, rules: Iterable[str] | None = None) -> CheckResult:
    """Run every rule (or the named slugs) on ``build``."""
    _load_rules()
    selected = _ordered() if rules is None else [get_rule(r) for r in rules]
    ctx = RuleContext(build)
    result = CheckResult(build)
    findings = result.findings
    spec_less = ", ".join(p.name for p in build.price_only_parts)
    for r in selected:
        found, reason = r.run(build, ctx)
        findings.extend(found)
        if spec_less and (reason is not None or not found):
            # A rule that saw nothing wrong may simply not have seen the spec-less part:
            # never let that pass silently, and say why a part looked missing.
            note = f"price-only part(s) without specs: {spec_less}"
            reason = f"{reason}; {note}" if reason else note
        if reason is not None:
            result.unchecked.append(UncheckedRule(r.code, r.slug, reason))
        result.rules_run += 1
    findings.sort(key=lambda f: (_RANK[f.severity], f.rule))
    return result


def _load_rules() -> None:
    if not RULES:
        import dlrig.rules  # noqa: F401 - registers every rule module


def _dedent(doc: str) -> str:
    import inspect

    return inspect.cleandoc(doc)


def _sections(doc: str) -> dict[str, str]:
    out = {"summary": "", "why": "", "bad": "", "good": ""}
    current = "summary"
    buf: list[str] = []
    for line in doc.splitlines():
        m = re.match(r"^(Why|Bad|Good):\s*(.*)$", line.strip())
        if m:
            out[current] = "\n".join(buf).strip()
            current = m.group(1).lower()
            buf = [m.group(2)]
        else:
            buf.append(line)
    out[current] = "\n".join(buf).strip()
    return out


_order_cache: list[Rule] = []


def _ordered() -> list[Rule]:
    """Rules by topic (power, platform, fit, cooling, deep learning), then code."""
    if len(_order_cache) != len(RULES):
        topics = list(TOPICS)
        _order_cache[:] = sorted(RULES.values(), key=lambda r: (topics.index(r.topic), r.code))
    return _order_cache


def iter_rules() -> Iterator[Rule]:
    """Every rule, in topic then code order."""
    _load_rules()
    yield from _ordered()
