"""Shared by the report tests: the check selections, the run helper and the hostile strings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gc_conformance.cli import main

OWNER_CHECK = "core.transfer.non_owner_refused"
CANCEL_OWNER_CHECK = "core.cancel.non_owner_refused"
SPLIT_CHECK = "core.transfer.partial_split_partitions_parent"
CONSERVE_CHECK = "core.transfer.partial_conserves_quantities"
STORAGE_CHECK = "storage.allocation.each_wh_once"


def run_document(directory: Path, *args: str) -> dict[str, Any]:
    out = directory / "run.json"
    main(["run", "--quiet", "--json", str(out), *args])
    document: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return document


def hostile(tag: str) -> str:
    """A string no report may pass through raw: markup, both quotes, ampersand, non-ASCII."""
    return f'<script>alert("{tag}")</script><img src=x onerror=alert(1)> \'q\' "dq" & Ωμέγα 日本語 {tag}'


LONG = "Ω" + "x" * 5_000 + "<b>end</b>"  # one unbreakable word, wider than any page
CONTROL = "bell\x07 escape\x1b nul\x00 <tag>"  # characters XML 1.0 cannot hold

#: Field tags whose hostile text the HTML report must show (escaped) somewhere.
SHOWN_TAGS = (
    "registry-name",
    "registry-version",
    "policy-name",
    "policy-value",
    "adapter",
    "vectors-hash",
    "xfail-reason",
    "message",
    "expected",
    "reproduce",
    "step-actor",
    "step-field",
    "answer-code",
    "answer-message",
    "result-id",
    "adapter-error",
    "env-command",
    "env-python",
    "env-os",
    "env-package",
    "env-version",
)


def hostile_values(value: Any, tag: str) -> Any:
    if isinstance(value, str):
        return hostile(tag)
    if isinstance(value, dict):
        return {k: hostile_values(v, tag) for k, v in value.items()}
    if isinstance(value, list):
        return [hostile_values(v, tag) for v in value]
    return value
