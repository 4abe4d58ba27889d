"""A whole run as one JSON-ready document: the source every report renders from.

Shape (documented in docs/run-json.md, checked by tests)::

    {"format": "gc-conformance-run/1",
     "summary": {"verdict": "pass|fail|error", "counts": {...}, "code_mismatches": n,
                 "untested_shall": [...]},
     "suite": {...}, "run": {...}, "registry": {...},
     "profiles": [{"profile", "status", "counts"}],
     "requirements": [{"id", "title", "clause", "level", "profile", "status", "checks"}],
     "checks": [CheckResult.to_plain(), ...]}

The verdict: ``fail`` when a check verifying a SHALL requirement failed (a
SHOULD or MAY failure is reported but does not fail the run), else ``error``
when some check could not get an answer from the registry, else ``pass``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from gc_conformance import STANDARD_REVISION, __version__
from gc_conformance.adapter import Capabilities, Profile
from gc_conformance.catalogue import Level, coverage, load_catalogue
from gc_conformance.outcomes import CheckResult, Status, worst
from gc_conformance.runner import RunOptions

FORMAT = "gc-conformance-run/1"


def build_run_document(
    results: Iterable[CheckResult],
    capabilities: Capabilities,
    options: RunOptions,
    *,
    started: str,
    finished: str,
) -> dict[str, Any]:
    checks = sorted(results, key=lambda r: r.check_id)
    catalogue = load_catalogue()
    by_requirement: dict[str, list[CheckResult]] = {rid: [] for rid in catalogue}
    for result in checks:
        for rid in result.requirements:
            by_requirement.setdefault(rid, []).append(result)

    requirements = []
    for rid, requirement in catalogue.items():
        members = by_requirement[rid]
        if requirement.profile not in capabilities.profiles:
            status = Status.SKIP
        elif not members:
            status = Status.SKIP  # untested: listed in summary.untested_shall when a SHALL
        else:
            status = worst([m.status for m in members])
        requirements.append(
            {
                **requirement.to_plain([m.check_id for m in members]),
                "status": status.value,
            }
        )

    shall = {rid for rid, req in catalogue.items() if req.level is Level.SHALL}
    failed_shall = [
        r for r in checks if r.status is Status.FAIL and any(rid in shall for rid in r.requirements)
    ]
    errors = [r for r in checks if r.status is Status.ERROR]
    verdict = "fail" if failed_shall else "error" if errors else "pass"

    profiles = []
    for profile in Profile:
        members = [r for r in checks if r.profile == profile.value]
        profiles.append(
            {
                "profile": profile.value,
                "claimed": profile in capabilities.profiles,
                "status": worst([m.status for m in members]).value,
                "counts": _counts(members),
            }
        )
    return {
        "format": FORMAT,
        "summary": {
            "verdict": verdict,
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
            "vectors_root_hash": vectors_root_hash(),
        },
        "run": {**options.to_plain(), "started": started, "finished": finished},
        "registry": capabilities.to_plain(),
        "profiles": profiles,
        "requirements": requirements,
        "checks": [r.to_plain() for r in checks],
    }


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
    """0 pass, 1 a SHALL check failed, 3 the registry could not answer some check."""
    return {"pass": 0, "fail": 1, "error": 3}[document["summary"]["verdict"]]


def _counts(results: Iterable[CheckResult]) -> dict[str, int]:
    counter = Counter(r.status.value for r in results)
    return {status.value: counter.get(status.value, 0) for status in Status}
