"""The command line: exit codes, the demonstration, policy overrides, usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gc_conformance.cli import EXIT_OK, EXIT_USAGE, main


def test_demo_passes_and_writes_an_escaped_self_contained_page(tmp_path: Path) -> None:
    report, data = tmp_path / "report.html", tmp_path / "demo.json"
    assert main(["demo", "--report", str(report), "--json", str(data)]) == EXIT_OK
    page = report.read_text(encoding="utf-8")
    assert "Verdict: PASS" in page
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert "00:14:95Z" in page  # the standard's typo is shown being rejected
    result = json.loads(data.read_text(encoding="utf-8"))
    assert result["verdict"] == "pass"
    assert result["findings"] == []
    assert result["policies"]["rounding"] == "NEAREST"
    rejected = [s for s in result["steps"] if not s["expect_accepted"]]
    assert rejected and all(not s["accepted"] for s in rejected)


def test_demo_under_a_policy_variant_records_the_variant(tmp_path: Path) -> None:
    data = tmp_path / "demo.json"
    assert main(["demo", "--policy", "rounding=DOWN", "--json", str(data)]) == EXIT_OK
    result = json.loads(data.read_text(encoding="utf-8"))
    assert result["policies"]["rounding"] == "DOWN"
    issued = next(s for s in result["steps"] if s["title"].startswith("issue from one hour"))
    assert "issued_wh=1000000," in issued["detail"]  # 1 000 000.5 Wh rounded down


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("rounding=SIDEWAYS", "not one of NEAREST, DOWN"),
        ("colour=RED", "no such policy"),
        ("rounding", "NAME=VALUE"),
    ],
)
def test_bad_policy_is_a_usage_error_naming_the_field(
    argument: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--policy", argument]) == EXIT_USAGE
    assert message in capsys.readouterr().err


def test_no_command_is_a_usage_error() -> None:
    assert main([]) == EXIT_USAGE


def test_policies_lists_every_policy_with_its_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policies", "--format", "json"]) == EXIT_OK
    rows = json.loads(capsys.readouterr().out)["policies"]
    listed = {row["policy"]: row for row in rows}
    assert len(listed) == len(rows), "every policy name is listed once"
    assert listed["rounding"]["default"] == "NEAREST"
    assert set(listed["rounding"]["values"]) == {"NEAREST", "DOWN"}
    assert listed["validity"]["default"] == "CALENDAR_YEAR"
    # storage and configuration ambiguities are named policies too
    assert set(listed["allocation_method"]["values"]) == {
        "FIFO",
        "LIFO",
        "WEIGHTED_AVERAGE",
        "OPERATOR_DISCRETION",
    }
    assert listed["loss_method"]["scope"].startswith("storage system")
    assert listed["hour_suspension"]["default"] == "SUSPEND_WHOLE_HOUR"
    assert "suspension" not in listed, "one name per policy: the one capabilities use"
    assert listed["eac.face_value"]["default"] == "ONE_MWH"


def test_codes_lists_every_canonical_code_once(capsys: pytest.CaptureFixture[str]) -> None:
    from gc_conformance.reference import ErrorCode

    assert main(["codes", "--format", "json"]) == EXIT_OK
    listed = [row["code"] for row in json.loads(capsys.readouterr().out)["codes"]]
    assert listed == [code.name for code in ErrorCode]
    assert "INTERVAL_TOO_LONG" in listed and "DUPLICATE_ISSUANCE" in listed
