"""A work budget for one request: a wall-clock deadline and a cancel switch, per thread.

The web app runs each plan under :func:`work_budget`; long-running steps (a CP-SAT solve) ask
:func:`seconds_left` how long they may take and register themselves with :func:`stoppable`, so
the request's deadline bounds the whole plan (alternatives and frontier included), and a client
that goes away stops the solver it started. Outside a budget (the CLI, the Python API) nothing
changes: every step keeps its own time limit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from dlrig.errors import InputError

__all__ = ["Budget", "BudgetExceededError", "seconds_left", "stoppable", "work_budget"]

_local = threading.local()


class BudgetExceededError(InputError):
    """The request used up its time budget, or its client went away."""


@dataclass
class Budget:
    """A deadline (time.monotonic seconds) and a cancel switch shared with another thread."""

    seconds: float
    what: str = "this request"
    deadline: float = 0.0
    cancelled: threading.Event = field(default_factory=threading.Event)
    _stops: list[Callable[[], None]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def cancel(self) -> None:
        """Stop the work: the running step is asked to stop, later steps do not start."""
        self.cancelled.set()
        with self._lock:
            stops = list(self._stops)
        for stop in stops:
            stop()

    def left(self) -> float:
        """Seconds left before the deadline."""
        return self.deadline - time.monotonic()

    def check(self) -> None:
        """BudgetExceededError when the request was cancelled or its time is up."""
        if self.cancelled.is_set():
            raise BudgetExceededError(f"{self.what} was cancelled", "send the request again")
        if self.left() <= 0:
            raise BudgetExceededError(
                f"{self.what} needs more than the {self.seconds:g} s one request may take",
                "ask for fewer alternatives or leave out the frontier, or run it with the CLI",
            )


@contextmanager
def work_budget(budget: Budget) -> Iterator[Budget]:
    """Run the block under ``budget`` (in this thread)."""
    budget.deadline = time.monotonic() + budget.seconds
    previous = getattr(_local, "budget", None)
    _local.budget = budget
    try:
        yield budget
    finally:
        _local.budget = previous


def seconds_left(limit_s: float) -> float:
    """``limit_s``, or less when the current budget ends sooner; BudgetExceededError when it has
    ended or was cancelled."""
    budget: Budget | None = getattr(_local, "budget", None)
    if budget is None:
        return limit_s
    budget.check()
    return max(0.01, min(limit_s, budget.left()))


@contextmanager
def stoppable(stop: Callable[[], None]) -> Iterator[None]:
    """While the block runs, cancelling the current budget calls ``stop`` (thread-safe)."""
    budget: Budget | None = getattr(_local, "budget", None)
    if budget is None:
        yield
        return
    with budget._lock:
        budget._stops.append(stop)
    if budget.cancelled.is_set():
        stop()
    try:
        yield
    finally:
        with budget._lock:
            budget._stops.remove(stop)
    budget.check()
