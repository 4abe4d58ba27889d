"""``gc-conformance vectors diff OLD NEW``: which cases appeared, vanished or changed, and why.

Cases are matched by file, group and ``name`` (a ``tcId`` numbers a case within one
generation; the name identifies it across generations). A changed case is
reported with what changed (verdict, code, output, end state, where it
applies) and its flags and comment, which say why the case exists; the
policies in force of the two sets are shown first, since a policy change
explains most changed expectations.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from gc_conformance.vectors.files import VectorSet
from gc_conformance.vectors.format import canonical_json


@attrs.frozen
class Change:
    file: str
    name: str
    kind: str  # appeared / vanished / changed
    what: tuple[str, ...]
    old_tc: int | None
    new_tc: int | None
    comment: str
    flags: tuple[str, ...]

    def to_plain(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "name": self.name,
            "kind": self.kind,
            "what": list(self.what),
            "old_tcId": self.old_tc,
            "new_tcId": self.new_tc,
            "comment": self.comment,
            "flags": list(self.flags),
        }


def _cases(vector_set: VectorSet) -> dict[tuple[str, str], Mapping[str, Any]]:
    """Cases by (file, "group/name"): a case's identity across generations."""
    return {
        (f.path, f"{group['group']}/{test['name']}"): test
        for f in vector_set.files
        for group, test in f.cases()
    }


def _verdict(test: Mapping[str, Any]) -> str:
    return f"rejected {test['error']}" if "error" in test else "accepted"


def _what_changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    what = []
    if _verdict(old) != _verdict(new):
        what.append(f"verdict: {_verdict(old)} -> {_verdict(new)}")
    if old.get("result") != new.get("result"):
        what.append(f"result: {old.get('result')} -> {new.get('result')}")
    if old.get("output") != new.get("output") and "output" in old and "output" in new:
        what.append(f"output: {old.get('output')} -> {new.get('output')}")
    if old["applies"] != new["applies"]:
        what.append(f"applies: {old['applies']} -> {new['applies']}")
    if old["state"] != new["state"]:
        before = {canonical_json(b) for b in old["state"]["bundles"]}
        after = {canonical_json(b) for b in new["state"]["bundles"]}
        gone = [_bundle(b) for b in old["state"]["bundles"] if canonical_json(b) not in after]
        added = [_bundle(b) for b in new["state"]["bundles"] if canonical_json(b) not in before]
        what.append(f"state: {'; '.join(gone) or '-'} -> {'; '.join(added) or '-'}")
    if old["steps"] != new["steps"] and not what:
        what.append("steps: the request sequence or an intermediate answer changed")
    for key in ("comment", "flags", "requirements"):
        if old.get(key) != new.get(key):
            what.append(f"{key}: {old.get(key)} -> {new.get(key)}")
    return what


def _bundle(b: Mapping[str, Any]) -> str:
    return (
        f"{b['device_id']} {b['start']} +{b['first']}..+{b['last']} ({b['quantity']}) "
        f"{b['account_id']} {b['status']}"
    )


def diff_sets(old: VectorSet, new: VectorSet) -> dict[str, Any]:
    """The differences between two sets, as a JSON-ready report."""
    before, after = _cases(old), _cases(new)
    changes: list[Change] = []
    for key in sorted(set(before) | set(after)):
        file, name = key
        o, n = before.get(key), after.get(key)
        if o is None and n is not None:
            changes.append(
                Change(file, name, "appeared", (), None, n["tcId"], n["comment"], tuple(n["flags"]))
            )
        elif n is None and o is not None:
            changes.append(
                Change(file, name, "vanished", (), o["tcId"], None, o["comment"], tuple(o["flags"]))
            )
        elif (
            o is not None
            and n is not None
            and canonical_json(o) != canonical_json({**n, "tcId": o["tcId"]})
        ):
            what = _what_changed(o, n)
            if not what:
                what = ["tcId renumbered only"]
            changes.append(
                Change(
                    file,
                    name,
                    "changed",
                    tuple(what),
                    o["tcId"],
                    n["tcId"],
                    n["comment"],
                    tuple(n["flags"]),
                )
            )
    changes.sort(key=lambda c: (c.file, c.new_tc if c.new_tc is not None else c.old_tc or 0))
    old_policies = dict(old.index.get("policies") or {})
    new_policies = dict(new.index.get("policies") or {})
    return {
        "old": {"set": old.name, "root": old.root, "cases": old.case_count()},
        "new": {"set": new.name, "root": new.root, "cases": new.case_count()},
        "policies": {
            name: {"old": old_policies.get(name), "new": new_policies.get(name)}
            for name in sorted(set(old_policies) | set(new_policies))
            if old_policies.get(name) != new_policies.get(name)
        },
        "counts": {
            kind: sum(1 for c in changes if c.kind == kind)
            for kind in ("appeared", "vanished", "changed")
        },
        "changes": [c.to_plain() for c in changes],
    }


def render_text(report: Mapping[str, Any]) -> str:
    old, new = report["old"], report["new"]
    lines = [
        f"old: {old['set']} ({old['cases']} cases, root {old['root'][:12]})",
        f"new: {new['set']} ({new['cases']} cases, root {new['root'][:12]})",
    ]
    for name, values in report["policies"].items():
        lines.append(f"policy {name}: {values['old']} -> {values['new']}")
    counts = report["counts"]
    lines.append(
        f"{counts['appeared']} appeared, {counts['vanished']} vanished, {counts['changed']} changed"
    )
    for change in report["changes"]:
        tc = change["new_tcId"] if change["new_tcId"] is not None else change["old_tcId"]
        lines.append(f"{change['kind'].upper()} {change['file']} #{tc} {change['name']}")
        lines.append(f"    why: {change['comment']} [{', '.join(change['flags'])}]")
        lines.extend(f"    {line}" for line in change["what"])
    return "\n".join(lines)
