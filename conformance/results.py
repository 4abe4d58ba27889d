"""A whole run as one JSON-ready document: the source every report renders from.

Shape (documented in docs/run-json.md, checked by tests)::

    {"format": "gc-conformance-run/1",
     "summary": {"verdict": "pass|fail|error", "counts": {...}, "code_mismatches": n,
                 "untested_shall": [...]},
     "suite": {...}, "run": {...}, "registry": {...},
     "profiles": [{"profile", "status", "counts"}],
     "requirements": [{"id", "title", "clause", "level", "profile", "status", "checks"}],
     "checks": [CheckResult.to_plain(), ...]}

The verdict is made from the run's *plan* (the checks selected before the
first one ran) by :func:`gc_conformance.verdicts.decide`: a planned check with
no result is an error and marks the run incomplete; see that module for the
verdicts and their exit codes. The document ends with a digest over itself
(:func:`gc_conformance.verdicts.seal`), so an edited document is refused by
``gc-conformance report --from``.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from gc_conformance import STANDARD_REVISION, __version__, untrusted
from gc_conformance.adapter import Capabilities, Profile
from gc_conformance.catalogue import Level, coverage, load_catalogue
from gc_conformance.outcomes import CheckResult, SkipKind, Status, worst
from gc_conformance.runner import RunOptions, unanswered
from gc_conformance.verdicts import Verdict, decide, seal

FORMAT = "gc-conformance-run/1"


def build_run_document(
    results: Iterable[CheckResult],
    capabilities: Capabilities,
    options: RunOptions,
    *,
    started: str,
    finished: str,
    plan: Sequence[str] | None = None,
    incomplete: str | None = None,
    vectors: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The run document. ``plan``: the check IDs selected before the run (None: the results
    are the plan). ``incomplete``: why the run stopped early (interrupted, crashed), or None.
    ``vectors``: the golden-vector replay's summary, when the run replayed them.
    """
    catalogue = load_catalogue()
    checks, incomplete = _with_unanswered(results, plan, incomplete)
    shall = {rid for rid, req in catalogue.items() if req.level is Level.SHALL}
    plain_checks = [untrusted.plain(r.to_plain()) for r in checks]
    verdict = decide(plain_checks, shall, incomplete=incomplete is not None)
    document = {
        "format": FORMAT,
        "summary": {
            "verdict": verdict.value,
            "meaning": verdict.meaning,
            "exit_code": verdict.exit_code,
            "incomplete": incomplete,
            "scope": scope_line(verdict, capabilities, options, checks, vectors),
            "not_verified": sorted(
                {
                    rid
                    for r in checks
                    if r.status is Status.SKIP and r.skip_kind is SkipKind.NOT_VERIFIED
                    for rid in r.requirements
                }
            ),
            "waived": sorted(
                r.check_id
                for r in checks
                if r.status is Status.XFAIL and any(rid in shall for rid in r.requirements)
            ),
            "counts": _counts(checks),
            "code_mismatches": sum(1 for r in checks if r.code_mismatch),
            # A SHALL no check of the suite verifies (not: one this run did not select).
            "untested_shall": sorted(
                rid
                for rid in coverage().untested_shall
                if catalogue[rid].profile in capabilities.profiles
            ),
        },
        "suite": {
            "name": "gc-conformance",
            "version": __version__,
            "standard": STANDARD_REVISION,
            "vectors_root_hash": (vectors or {}).get("root") or vectors_root_hash(),
            "catalogue_sha256": catalogue_hash(),
            **_extensions(),
        },
        "run": untrusted.plain(
            {**options.to_plain(), "started": started, "finished": finished, "plan": plan}
        ),
        # The capabilities as read once, before the first check, and used by every check.
        "registry": untrusted.plain(capabilities.to_plain()),
        "vectors": None if vectors is None else untrusted.plain(dict(vectors)),
        "profiles": _profile_rows(checks, capabilities),
        "requirements": _requirement_rows(catalogue, checks, capabilities),
        "checks": plain_checks,
    }
    return seal(document)


def _with_unanswered(
    results: Iterable[CheckResult], plan: Sequence[str] | None, incomplete: str | None
) -> tuple[list[CheckResult], str | None]:
    """Every result by check ID, plus an *error* for each planned check that has none.

    A planned check without a result makes the run incomplete (verdicts are made from the
    plan fixed before the first check, never from whatever happened to be recorded).
    """
    got = {r.check_id: r for r in results}
    missing = [cid for cid in (plan or ()) if cid not in got]
    if missing:
        from gc_conformance.checks import all_checks

        known = {c.check_id: c for c in all_checks()}
        for cid in missing:
            check = known.get(cid)
            got[cid] = unanswered(
                cid,
                "the check was selected but the run recorded no result for it (a crashed "
                "worker, an interruption, or a result that could not be transported)",
                requirements=check.requirements if check else (),
                profile=check.profile.value if check else "",
                title=check.title if check else "",
            )
        incomplete = incomplete or (
            f"{len(missing)} of {len(plan or ())} selected checks have no result"
        )
    return sorted(got.values(), key=lambda r: r.check_id), incomplete


def _requirement_rows(
    catalogue: Mapping[str, Any], checks: Sequence[CheckResult], capabilities: Capabilities
) -> list[dict[str, Any]]:
    """Each requirement of the catalogue with the checks that verify it and its worst status
    (skip when its profile is not claimed or no check verifies it)."""
    by_requirement: dict[str, list[CheckResult]] = {rid: [] for rid in catalogue}
    for result in checks:
        for rid in result.requirements:
            by_requirement.setdefault(rid, []).append(result)
    rows = []
    for rid, requirement in catalogue.items():
        members = by_requirement[rid]
        if requirement.profile not in capabilities.profiles:
            status = Status.SKIP
        elif not members:
            status = Status.SKIP  # untested: listed in summary.untested_shall when a SHALL
        else:
            status = worst([m.status for m in members])
        rows.append({**requirement.to_plain([m.check_id for m in members]), "status": status.value})
    return rows


def _profile_rows(
    checks: Sequence[CheckResult], capabilities: Capabilities
) -> list[dict[str, Any]]:
    """Each profile: whether the registry claims it, its worst status and its counts."""
    rows = []
    for profile in Profile:
        members = [r for r in checks if r.profile == profile.value]
        rows.append(
            {
                "profile": profile.value,
                "claimed": profile in capabilities.profiles,
                "status": worst([m.status for m in members]).value,
                "counts": _counts(members),
            }
        )
    return rows


def scope_line(
    verdict: Verdict,
    capabilities: Capabilities,
    options: RunOptions,
    checks: Sequence[CheckResult],
    vectors: Mapping[str, Any] | None,
) -> str:
    """What was judged, in one line: "PASS — core, issuer-created + 312 vectors; 5 profiles not claimed"."""
    judged = sorted(
        p.value for p in capabilities.profiles if options.profiles is None or p in options.profiles
    )
    styles = sorted(s.value for s in capabilities.issuance_styles)
    text = f"{verdict.value.upper()} — {', '.join(judged) or 'no profile'}"
    if styles:
        text += f" ({', '.join(styles)})"
    ran = sum(
        1 for r in checks if r.status is not Status.SKIP and not r.message.startswith("no result:")
    )
    if vectors is not None and vectors.get("replayed"):
        ran -= int(vectors.get("cases", 0))  # the vector cases are counted on their own
    text += f": {ran} check{'s' if ran != 1 else ''} ran"
    if vectors is not None and vectors.get("replayed"):
        text += f" + {vectors.get('passed', 0)}/{vectors.get('cases', 0)} golden vectors passed"
    unclaimed = len([p for p in Profile if p not in capabilities.profiles])
    if unclaimed:
        text += f"; {unclaimed} profile{'s' if unclaimed != 1 else ''} not claimed"
    return text


def _extensions() -> dict[str, Any]:
    """The extra check modules of this installation, recorded (and shown) only when there are
    any: an auditor must see that a run judged with checks the suite does not ship."""
    from gc_conformance.checks import all_checks

    extra = sorted({check.origin for check in all_checks() if not check.built_in})
    return {"extensions": extra} if extra else {}


def catalogue_hash() -> str:
    """SHA-256 over the requirement catalogue as loaded (IDs, clauses, levels, texts)."""
    from gc_conformance.verdicts import canonical

    catalogue = load_catalogue()
    plain = {rid: req.to_plain([]) for rid, req in sorted(catalogue.items())}
    return hashlib.sha256(canonical(plain)).hexdigest()


def vectors_root_hash() -> str | None:
    """The root hash of the installed golden vectors (``index.json``), or None if absent.

    Read as package data, without importing any vectors code: the harness does
    not depend on the generator, it only records which vector set shipped with it.
    """
    import importlib.util
    import json
    from pathlib import Path

    try:
        spec = importlib.util.find_spec("gc_conformance.vectors")
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        index = Path(folder) / "index.json"
        try:
            root = json.loads(index.read_text(encoding="utf-8")).get("root")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(root, str):
            return root
    return None


def exit_code(document: Mapping[str, Any]) -> int:
    """The exit code of the document's verdict (see :data:`gc_conformance.verdicts.EXIT_CODES`)."""
    return Verdict(document["summary"]["verdict"]).exit_code


def _counts(results: Iterable[CheckResult]) -> dict[str, int]:
    counter = Counter(r.status.value for r in results)
    return {status.value: counter.get(status.value, 0) for status in Status}
