"""Typed failures: each kind of contradiction is raised as its own class, recorded as
``failure_kind`` in the run document, printed, and offered as a filter in the HTML report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gc_conformance.cli import main
from gc_conformance.failures import (
    FAILURE_CLASSES,
    ChangedAfterRefusal,
    CheckFailed,
    CodeMismatch,
    ConservationBroken,
    MissingAttribute,
    WrongVerdict,
)
from gc_conformance.outcomes import FailureKind
from gc_conformance.session import Deviations

# (faulty registry, check it fails, the kind that failure must have)
CASES = [
    ("refused-partial-leaves-split", "core.cancel.non_owner_refused", "changed-after-refusal"),
    ("unknown-bundle-transfer-accepted", "core.requests.unknown_bundle_refused", "wrong-verdict"),
    (
        "partial-transfer-range-overrun",
        "core.transfer.partial_split_partitions_parent",
        "conservation",
    ),
    ("partial-transfer-range-overrun", "edges.magnitude.ten_million_wh", "conservation"),
]


@pytest.mark.parametrize(("fault", "check_id", "kind"), CASES)
def test_a_failure_is_recorded_with_its_kind_and_shown(
    tmp_path: Path, fault: str, check_id: str, kind: str
) -> None:
    out, page, junit = tmp_path / "run.json", tmp_path / "report.html", tmp_path / "junit.xml"
    code = main(
        [
            "run",
            "--quiet",
            "--no-vectors",
            "--adapter",
            f"faulty:{fault}",
            "--check",
            check_id,
            "--json",
            str(out),
            "--report",
            str(page),
            "--junitxml",
            str(junit),
        ]
    )
    assert code == 1
    [result] = json.loads(out.read_text(encoding="utf-8"))["checks"]
    assert result["status"] == "fail"
    assert result["failure_kind"] == kind
    html = page.read_text(encoding="utf-8")
    assert f'data-kind="{kind}"' in html
    assert f'value="{kind}"' in html  # the filter offers the kind
    assert '<failure message="' in junit.read_text(encoding="utf-8")
    assert f'type="{kind}"' in junit.read_text(encoding="utf-8")


def test_a_passing_run_records_no_kind(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    args = ["run", "--quiet", "--no-vectors", "--adapter", "reference", "--json", str(out)]
    assert main([*args, "--check", "core.cancel.non_owner_refused"]) == 0
    [result] = json.loads(out.read_text(encoding="utf-8"))["checks"]
    assert result["failure_kind"] is None


def test_every_kind_has_one_class_and_every_class_is_a_check_failure() -> None:
    assert set(FAILURE_CLASSES) == set(FailureKind)
    for kind, cls in FAILURE_CLASSES.items():
        assert issubclass(cls, CheckFailed)
        assert cls("x").kind is kind
    assert {
        WrongVerdict,
        ChangedAfterRefusal,
        ConservationBroken,
        CodeMismatch,
        MissingAttribute,
    } <= set(FAILURE_CLASSES.values())


def test_collected_deviations_keep_their_kind_only_when_they_agree() -> None:
    same = Deviations()
    for _ in range(2):
        with same.step():
            raise WrongVerdict("accepted")
    with pytest.raises(WrongVerdict):
        same.judge()
    mixed = Deviations()
    with mixed.step():
        raise WrongVerdict("accepted")
    with mixed.step():
        raise ConservationBroken("lost")
    with pytest.raises(CheckFailed) as raised:
        mixed.judge()
    assert raised.value.kind is FailureKind.WRONG_STATE
