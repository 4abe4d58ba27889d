"""Typed check failures: one class per kind of contradiction a check can find.

A check fails by raising :class:`CheckFailed` (usually through a
:class:`~gc_conformance.session.Session` helper) with what was expected and what
was observed. The subclasses say *what sort* of contradiction it was — a wrong
verdict, a state change after a refusal, a broken conservation law, a code
mismatch, a missing attribute — so that the run document and the report can
group and filter failures by kind (``failure_kind``), as an auditor reading
forty failures needs. The kind never changes a verdict: every subclass is a
failure of the check, judged by the requirement levels as before.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

from gc_conformance.outcomes import FailureKind, Severity


class CheckFailed(Exception):
    """The registry contradicted the requirement: what was expected, what was observed."""

    #: The kind of contradiction; each subclass sets its own, a check whose failure class is
    #: decided at run time (the differential check) may set it per instance.
    kind: FailureKind = FailureKind.WRONG_STATE

    def __init__(
        self,
        message: str,
        *,
        expected: str = "",
        observed: str = "",
        severity: Severity = Severity.MAJOR,
        requirements: Sequence[str] = (),
        kind: FailureKind | None = None,
    ) -> None:
        self.message = message
        self.expected = expected
        self.observed = observed
        self.severity = severity
        # The requirements this failure is about, when a check knows them more precisely than
        # its own list (a differential step, one edge of many): the runner reports only those.
        self.requirements = tuple(requirements)
        if kind is not None:  # a kind decided at run time (the differential check's)
            self.kind = kind
        super().__init__(message)


class WrongVerdict(CheckFailed):
    """Accepted a request the standard forbids, or refused one it allows."""

    kind = FailureKind.WRONG_VERDICT


class ChangedAfterRefusal(CheckFailed):
    """A refused (or failed) request changed the state: refusals must be atomic (D4)."""

    kind = FailureKind.CHANGED_AFTER_REFUSAL


class ConservationBroken(CheckFailed):
    """Certificates do not add up: quantities or ID ranges created, lost or counted twice."""

    kind = FailureKind.CONSERVATION


class CodeMismatch(CheckFailed):
    """Refused as required, but with another canonical code than the standard's rule implies."""

    kind = FailureKind.CODE_MISMATCH


class MissingAttribute(CheckFailed):
    """An answer or record lacks a field the standard requires it to carry."""

    kind = FailureKind.MISSING_ATTRIBUTE


#: Each kind's class, for code that must raise a failure of a kind it was given.
FAILURE_CLASSES: dict[FailureKind, type[CheckFailed]] = {
    FailureKind.WRONG_STATE: CheckFailed,
    FailureKind.WRONG_VERDICT: WrongVerdict,
    FailureKind.CHANGED_AFTER_REFUSAL: ChangedAfterRefusal,
    FailureKind.CONSERVATION: ConservationBroken,
    FailureKind.CODE_MISMATCH: CodeMismatch,
    FailureKind.MISSING_ATTRIBUTE: MissingAttribute,
}

__all__ = [
    "FAILURE_CLASSES",
    "ChangedAfterRefusal",
    "CheckFailed",
    "CodeMismatch",
    "ConservationBroken",
    "MissingAttribute",
    "WrongVerdict",
]


class Deviations:
    """Collects the failures of independent steps, so a scenario judges every one of them.

    A check probing many malformed requests must not stop at the first wrong
    answer: the vendor needs the whole list. ``with found.step(): ...`` records a
    :class:`CheckFailed` and goes on; :meth:`judge` raises one failure naming
    all of them (a :class:`CodeMismatch` only when every one is a code mismatch),
    at the worst severity found. Adapter errors are never collected.
    """

    def __init__(self) -> None:
        self.found: list[CheckFailed] = []

    @contextlib.contextmanager
    def step(self) -> Iterator[None]:
        try:
            yield
        except CheckFailed as exc:
            self.found.append(exc)

    def judge(self) -> None:
        if not self.found:
            return
        if len(self.found) == 1:
            raise self.found[0]
        order = (Severity.CRITICAL, Severity.MAJOR, Severity.MINOR)
        worst = min((f.severity for f in self.found), key=order.index)
        kinds = {type(f) for f in self.found}
        kind = kinds.pop() if len(kinds) == 1 else CheckFailed
        raise kind(
            f"{len(self.found)} deviations: " + "; ".join(f.message for f in self.found),
            expected=" | ".join(f.expected for f in self.found),
            observed=" | ".join(f.observed for f in self.found),
            severity=worst,
        )
