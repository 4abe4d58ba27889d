"""Two run documents side by side: what a vendor fixed, what broke, what stayed as it was.

A vendor re-running the suite after a fix, and an auditor receiving a second
report, both ask the same question: compared with last time, which checks
newly fail, which were fixed, and which problems remain. The comparison reads
two run documents only, by check ID; a check present in only one of them is
listed as added or removed, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

#: Statuses that need the vendor's attention (the report's "problems").
BAD = frozenset({"fail", "error", "xpass"})


@attrs.frozen
class Change:
    check_id: str
    before: str  # the status in the previous run ("absent" when it did not exist)
    after: str
    message: str  # the current message (or the previous one, for a removed check)


@attrs.frozen
class Comparison:
    previous_label: str  # what the previous run was: registry, version, date
    new_failures: tuple[Change, ...]  # bad now, not bad before
    fixed: tuple[Change, ...]  # bad before, not bad now
    still_failing: tuple[Change, ...]  # bad in both
    other_changes: tuple[Change, ...]  # e.g. pass -> skip, or added / removed checks
    unchanged: int  # checks with the same status in both runs
    previous_verdict: str
    verdict: str

    def summary_line(self, source: str = "the previous run") -> str:
        return (
            f"compared with {source} ({self.previous_label}, {self.previous_verdict.upper()}): "
            f"{len(self.new_failures)} new failure(s), {len(self.fixed)} fixed, "
            f"{len(self.still_failing)} still failing, {self.unchanged} unchanged, "
            f"{len(self.other_changes)} other change(s)"
        )

    def to_plain(self) -> dict[str, Any]:
        def rows(changes: tuple[Change, ...]) -> list[dict[str, str]]:
            return [attrs.asdict(c) for c in changes]

        return {
            "previous": self.previous_label,
            "previous_verdict": self.previous_verdict,
            "verdict": self.verdict,
            "new_failures": rows(self.new_failures),
            "fixed": rows(self.fixed),
            "still_failing": rows(self.still_failing),
            "other_changes": rows(self.other_changes),
            "unchanged": self.unchanged,
        }


def compare_runs(previous: Mapping[str, Any], current: Mapping[str, Any]) -> Comparison:
    before = {c["id"]: c for c in previous["checks"]}
    after = {c["id"]: c for c in current["checks"]}
    new_failures, fixed, still, other = [], [], [], []
    unchanged = 0
    for check_id in sorted(before.keys() | after.keys()):
        old, new = before.get(check_id), after.get(check_id)
        was = old["status"] if old else "absent"
        now = new["status"] if new else "absent"
        message = str((new or old or {}).get("message", ""))
        change = Change(check_id, was, now, message)
        if now in BAD and was in BAD:
            still.append(change)
        elif now in BAD:
            new_failures.append(change)
        elif was in BAD:
            fixed.append(change)
        elif was == now:
            unchanged += 1
        else:
            other.append(change)
    registry = previous.get("registry", {})
    run = previous.get("run", {})
    label = f"{registry.get('name', '?')} {registry.get('version', '?')}"
    if run.get("started"):
        label += f", {run['started']}"
    return Comparison(
        previous_label=label,
        new_failures=tuple(new_failures),
        fixed=tuple(fixed),
        still_failing=tuple(still),
        other_changes=tuple(other),
        unchanged=unchanged,
        previous_verdict=str(previous["summary"]["verdict"]),
        verdict=str(current["summary"]["verdict"]),
    )


__all__ = ["Change", "Comparison", "compare_runs"]
