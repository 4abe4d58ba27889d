"""What a check concluded, as data every output (terminal, JSON, JUnit, HTML) renders.

A verdict is honest or worthless: an adapter that crashed or timed out gives
``ERROR`` (never ``PASS``), a profile the registry does not claim gives
``SKIP`` with the reason (never ``PASS``), and a right verdict with the wrong
rejection code is recorded as a code mismatch, kept apart from a wrong verdict.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

#: Seconds after which a check still running is an *error* (its adapter hangs).
DEFAULT_CHECK_TIMEOUT = 300.0


class Status(enum.Enum):
    PASS = "pass"
    FAIL = "fail"  # the registry's behaviour contradicts the requirement
    ERROR = "error"  # the registry (or its adapter) could not answer; no verdict
    SKIP = "skip"  # not applicable: profile not claimed, clock fixed, style not offered
    XFAIL = "xfail"  # failed, and the vendor's xfail file expected it
    XPASS = "xpass"  # passed, although the vendor's xfail file expected a failure


class SkipKind(enum.Enum):
    """Why a check was skipped, which decides what the skip means for the run's verdict.

    A skip is never a pass. ``NOT_CLAIMED`` and ``NOT_APPLICABLE`` leave nothing
    the registry owes unverified (a profile it does not claim; a feature the
    standard does not require, such as clock control or a reset endpoint).
    ``NOT_VERIFIED`` means a requirement the registry *does* owe could not be
    verified through what it offers: the run cannot be a plain PASS.
    """

    NOT_CLAIMED = "not-claimed"
    NOT_APPLICABLE = "not-applicable"
    NOT_VERIFIED = "not-verified"


class FailureKind(enum.Enum):
    """What sort of contradiction a failed check found, so an auditor can filter by it.

    Raised as a subclass of :class:`~gc_conformance.failures.CheckFailed` each
    (:mod:`gc_conformance.failures`); recorded as ``failure_kind`` in the run document.
    """

    WRONG_VERDICT = "wrong-verdict"  # accepted what the standard forbids, or refused what it allows
    CHANGED_AFTER_REFUSAL = "changed-after-refusal"  # a refused or failed request changed state
    CONSERVATION = "conservation"  # quantities or certificate ranges do not add up, or overlap
    CODE_MISMATCH = "code-mismatch"  # refused as required, with another canonical code
    MISSING_ATTRIBUTE = "missing-attribute"  # an answer or record lacks what the standard requires
    WRONG_STATE = "wrong-state"  # any other difference from what the standard implies


class Severity(enum.Enum):
    """How bad a failure is: a double-counting hole outranks a wrong error code."""

    CRITICAL = "critical"  # certificates created, duplicated or double-used
    MAJOR = "major"  # a SHALL broken without double counting
    MINOR = "minor"  # a SHOULD, or a right verdict with the wrong code


@attrs.frozen
class Step:
    """One request the check sent, and what came back; the reproduction is built from these."""

    number: int
    request: Mapping[str, Any]
    answer: Mapping[str, Any] | None  # None: the adapter failed (see ``error``)
    expectation: str  # "accept", "reject CODE", "any"
    error: str | None = None
    # What went over the wire for this request (HTTP adapter: method, url, redacted headers,
    # bodies, status, curl). Kept in the run document only for checks that fail or error.
    exchanges: tuple[Mapping[str, Any], ...] = ()

    def to_plain(self, *, exchanges: bool = True) -> dict[str, Any]:
        plain = {
            "number": self.number,
            "request": dict(self.request),
            "answer": None if self.answer is None else dict(self.answer),
            "expectation": self.expectation,
            "error": self.error,
        }
        if exchanges and self.exchanges:
            plain["exchanges"] = [dict(e) for e in self.exchanges]
        return plain

    def describe(self) -> str:
        fields = ", ".join(
            f"{k}={v!r}" for k, v in self.request.items() if k not in ("action", "actor", "now")
        )
        head = f"{self.number}. [{self.request.get('now')}] {self.request.get('actor')}: "
        head += f"{self.request.get('action')}({fields})"
        if self.answer is None:
            tail = f"ADAPTER ERROR {self.error}"
        elif self.answer.get("accepted"):
            tail = f"accepted {dict(self.answer.get('result') or {})}"
        else:
            tail = f"rejected {self.answer.get('code')}"
        text = f"{head}\n     expected {self.expectation}; got {tail}"
        if self.exchanges:
            text += f"\n     curl: {self.exchanges[-1].get('curl', '')}"
        return text


@attrs.frozen
class CheckResult:
    check_id: str
    status: Status
    requirements: tuple[str, ...]
    profile: str
    title: str
    message: str = ""
    expected: str = ""
    observed: str = ""
    severity: Severity | None = None
    code_mismatch: bool = False  # right verdict, wrong canonical code (see strict_codes)
    # What sort of contradiction a failure is (None unless the check failed).
    failure_kind: FailureKind | None = None
    steps: tuple[Step, ...] = ()
    reproduce: str = ""
    seed: int | None = None
    # What a skip means for the run's verdict (None unless status is SKIP).
    skip_kind: SkipKind | None = None
    # Seconds the check took, measured by the runner (None: not measured).
    duration: float | None = None

    def to_plain(self) -> dict[str, Any]:
        return {
            "id": self.check_id,
            "status": self.status.value,
            "requirements": list(self.requirements),
            "profile": self.profile,
            "title": self.title,
            "message": self.message,
            "expected": self.expected,
            "observed": self.observed,
            "severity": None if self.severity is None else self.severity.value,
            "code_mismatch": self.code_mismatch,
            "failure_kind": None if self.failure_kind is None else self.failure_kind.value,
            "steps": [
                step.to_plain(exchanges=self.status in (Status.FAIL, Status.ERROR))
                for step in self.steps
            ],
            "reproduce": self.reproduce,
            "seed": self.seed,
            "skip_kind": None if self.skip_kind is None else self.skip_kind.value,
            "duration": self.duration,
        }

    @classmethod
    def from_plain(cls, data: Mapping[str, Any]) -> CheckResult:
        return cls(
            check_id=data["id"],
            status=Status(data["status"]),
            requirements=tuple(data["requirements"]),
            profile=data["profile"],
            title=data["title"],
            message=data.get("message", ""),
            expected=data.get("expected", ""),
            observed=data.get("observed", ""),
            severity=None if data.get("severity") is None else Severity(data["severity"]),
            code_mismatch=bool(data.get("code_mismatch", False)),
            failure_kind=(
                None if data.get("failure_kind") is None else FailureKind(data["failure_kind"])
            ),
            steps=tuple(
                Step(
                    s["number"],
                    s["request"],
                    s["answer"],
                    s["expectation"],
                    s.get("error"),
                    tuple(s.get("exchanges", ())),
                )
                for s in data.get("steps", ())
            ),
            reproduce=data.get("reproduce", ""),
            seed=data.get("seed"),
            skip_kind=None if data.get("skip_kind") is None else SkipKind(data["skip_kind"]),
            duration=data.get("duration"),
        )

    def describe(self) -> str:
        """A failure as a person reads it in a terminal: what, expected, observed, steps, command."""
        lines = [f"{self.status.value.upper()} {self.check_id}: {self.title}"]
        if self.requirements:
            lines.append(f"  requirements: {', '.join(self.requirements)}")
        if self.failure_kind is not None:
            lines.append(f"  kind: {self.failure_kind.value}")
        if self.message:
            lines.append(f"  {self.message}")
        if self.expected:
            lines.append(f"  expected: {self.expected}")
        if self.observed:
            lines.append(f"  observed: {self.observed}")
        if self.steps:
            lines.append("  steps:")
            lines.extend("    " + step.describe().replace("\n", "\n    ") for step in self.steps)
        if self.reproduce:
            lines.append(f"  reproduce: {self.reproduce}")
        return "\n".join(lines)


def worst(statuses: Sequence[Status]) -> Status:
    """The status a group of checks (a requirement, a profile) takes from its members."""
    order = (Status.ERROR, Status.FAIL, Status.XFAIL, Status.XPASS, Status.PASS, Status.SKIP)
    present = set(statuses)
    for status in order:
        if status in present:
            return status
    return Status.SKIP
