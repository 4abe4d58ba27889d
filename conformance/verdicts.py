"""The run's verdict, decided in one place from plain check results, and its exit code.

The verdict is a pure function of the run document's data (each check's
status, skip kind and requirements, the SHALL requirements of the catalogue,
and whether the run finished), so that ``gc-conformance report --from`` can
recompute it from a saved document and refuse one whose stored verdict was
edited. Nothing here imports the runner, the checks or any adapter: reports
may use it.

Precedence (the first that applies wins)::

    incomplete    the run was interrupted or crashed; some planned checks have no result
    fail          a check verifying a SHALL requirement failed
    error         a check could not get a usable answer (adapter error, timeout, contract error)
    not-verified  a claimed requirement could not be verified (skip of kind not-verified)
    no-checks     no selected check ran at all (every one skipped)
    waived        a SHALL failure was expected by the vendor's xfail file
    pass          everything else: every planned check has a result and none of the above

A document also carries a SHA-256 digest over its own content (see
:func:`digest`): it shows accidental or naive edits; it is not a signature
(anyone can recompute it), which is why the evidence archive also records it.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any


class Verdict(enum.Enum):
    INCOMPLETE = "incomplete"
    FAIL = "fail"
    ERROR = "error"
    NO_CHECKS = "no-checks"
    NOT_VERIFIED = "not-verified"
    WAIVED = "waived"
    PASS = "pass"

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self]

    @property
    def meaning(self) -> str:
        return MEANINGS[self]


#: The exit code of ``gc-conformance run`` (and ``vectors verify``) for each verdict.
#: 2 (usage) and 4 (internal error) are the harness's own, see :mod:`gc_conformance.errors`.
EXIT_CODES: Mapping[Verdict, int] = {
    Verdict.PASS: 0,
    Verdict.FAIL: 1,
    Verdict.ERROR: 3,
    Verdict.NO_CHECKS: 5,
    Verdict.WAIVED: 6,
    Verdict.NOT_VERIFIED: 7,
    Verdict.INCOMPLETE: 8,
}

MEANINGS: Mapping[Verdict, str] = {
    Verdict.PASS: "every selected check produced a result and no SHALL check failed",
    Verdict.FAIL: "at least one check of a SHALL requirement failed",
    Verdict.ERROR: "no SHALL check failed, but some checks got no usable answer from the "
    "registry (adapter error, timeout, answer outside the contract)",
    Verdict.NO_CHECKS: "no selected check ran: the registry claims none of the selected "
    "profiles, or every check was skipped",
    Verdict.NOT_VERIFIED: "no check failed, but some requirements of a claimed profile "
    "could not be verified through what the registry offers",
    Verdict.WAIVED: "no check failed unexpectedly, but SHALL failures were waived by the "
    "vendor's xfail file: not a pass",
    Verdict.INCOMPLETE: "the run was interrupted or crashed before every selected check had "
    "a result: no verdict on the registry",
}

RAN = frozenset({"pass", "fail", "error", "xfail", "xpass"})


def decide(
    checks: Iterable[Mapping[str, Any]],
    shall: frozenset[str] | set[str],
    *,
    incomplete: bool = False,
) -> Verdict:
    """The run's verdict from plain check results (``CheckResult.to_plain()`` shapes)."""
    items = list(checks)

    def shall_of(check: Mapping[str, Any]) -> bool:
        return any(rid in shall for rid in check.get("requirements", ()))

    statuses = [c.get("status") for c in items]
    if incomplete:
        return Verdict.INCOMPLETE
    if any(c.get("status") == "fail" and shall_of(c) for c in items):
        return Verdict.FAIL
    if "error" in statuses:
        return Verdict.ERROR
    if any(c.get("status") == "skip" and c.get("skip_kind") == "not-verified" for c in items):
        return Verdict.NOT_VERIFIED
    if not any(s in RAN for s in statuses):
        return Verdict.NO_CHECKS
    if any(c.get("status") == "xfail" and shall_of(c) for c in items):
        return Verdict.WAIVED
    return Verdict.PASS


def decide_document(document: Mapping[str, Any]) -> Verdict:
    """Recompute a run document's verdict from its own checks and requirement levels."""
    shall = {r["id"] for r in document.get("requirements", ()) if r.get("level") == "SHALL"}
    summary = document.get("summary", {})
    return decide(document.get("checks", ()), shall, incomplete=bool(summary.get("incomplete")))


INTEGRITY_FIELD = "integrity"


def canonical(value: object) -> bytes:
    """The canonical bytes a digest is taken over: sorted keys, no spaces, no NaN."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def digest(document: Mapping[str, Any]) -> str:
    """SHA-256 over the document without its ``integrity`` field."""
    body = {k: v for k, v in document.items() if k != INTEGRITY_FIELD}
    return hashlib.sha256(canonical(body)).hexdigest()


def seal(document: dict[str, Any]) -> dict[str, Any]:
    """Record the digest of ``document`` in it (call last, after every field is final)."""
    document[INTEGRITY_FIELD] = {
        "algorithm": "sha256",
        "covers": "the document without this field, as JSON with sorted keys and no spaces",
        "digest": digest(document),
    }
    return document
