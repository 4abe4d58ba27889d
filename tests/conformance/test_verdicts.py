"""The verdict rule (gc_conformance.verdicts) and the run document built from a plan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gc_conformance.adapter import Capabilities
from gc_conformance.adapters.reference import ReferenceAdapter
from gc_conformance.checks import get_check
from gc_conformance.cli import main
from gc_conformance.outcomes import CheckResult, SkipKind, Status
from gc_conformance.results import build_run_document
from gc_conformance.runner import RunOptions, execute_check, finish
from gc_conformance.session import NotApplicable
from gc_conformance.verdicts import Verdict, decide

OWNER_CHECK = "core.transfer.non_owner_refused"
SPLIT_CHECK = "core.transfer.partial_split_partitions_parent"


def _check(status: str, *, kind: str | None = None, req: str = "R-1") -> dict[str, Any]:
    return {"id": f"c-{status}", "status": status, "requirements": [req], "skip_kind": kind}


@pytest.mark.parametrize(
    ("checks", "incomplete", "verdict"),
    [
        ([_check("pass")], False, Verdict.PASS),
        ([_check("pass")], True, Verdict.INCOMPLETE),
        ([_check("fail"), _check("error")], False, Verdict.FAIL),
        ([_check("fail", req="R-SHOULD")], False, Verdict.PASS),
        ([_check("error"), _check("pass")], False, Verdict.ERROR),
        ([_check("skip", kind="not-claimed")], False, Verdict.NO_CHECKS),
        ([], False, Verdict.NO_CHECKS),
        ([_check("pass"), _check("skip", kind="not-verified")], False, Verdict.NOT_VERIFIED),
        ([_check("pass"), _check("xfail")], False, Verdict.WAIVED),
        ([_check("pass"), _check("xfail", req="R-SHOULD")], False, Verdict.PASS),
        ([_check("xpass")], False, Verdict.PASS),
    ],
)
def test_the_verdict_rule(checks: list[dict[str, Any]], incomplete: bool, verdict: Verdict) -> None:
    assert decide(checks, {"R-1"}, incomplete=incomplete) is verdict


def test_every_verdict_has_its_own_exit_code_and_only_pass_is_zero() -> None:
    codes = [v.exit_code for v in Verdict]
    assert len(set(codes)) == len(codes)
    assert [v for v in Verdict if v.exit_code == 0] == [Verdict.PASS]
    assert not {2, 4} & set(codes)  # usage and internal errors are the harness's own


def _document(results: list[CheckResult], plan: list[str] | None = None) -> dict[str, Any]:
    adapter = ReferenceAdapter()
    capabilities = Capabilities.from_plain(adapter.capabilities())
    return build_run_document(
        results, capabilities, RunOptions(), started="s", finished="f", plan=plan
    )


def test_a_planned_check_without_a_result_is_an_error_and_the_run_incomplete() -> None:
    adapter = ReferenceAdapter()
    capabilities = Capabilities.from_plain(adapter.capabilities())
    done = execute_check(get_check(OWNER_CHECK), adapter, capabilities, RunOptions())
    document = _document([done], plan=[OWNER_CHECK, SPLIT_CHECK])
    assert document["summary"]["verdict"] == "incomplete"
    missing = next(c for c in document["checks"] if c["id"] == SPLIT_CHECK)
    assert missing["status"] == "error" and missing["message"].startswith("no result")
    assert done.duration is not None and done.duration >= 0


def test_a_not_verified_skip_keeps_its_kind_and_the_run_from_passing() -> None:
    adapter = ReferenceAdapter()
    capabilities = Capabilities.from_plain(adapter.capabilities())
    check = get_check(OWNER_CHECK)

    class Unverifiable:
        check_id, requirements, profile, title = (
            check.check_id,
            check.requirements,
            check.profile,
            check.title,
        )

        def __call__(self, session: Any) -> None:
            raise NotApplicable("cannot see it", kind=SkipKind.NOT_VERIFIED)

    result = execute_check(Unverifiable(), adapter, capabilities, RunOptions())  # type: ignore[arg-type]
    assert result.status is Status.SKIP and result.skip_kind is SkipKind.NOT_VERIFIED
    document = _document([result])
    assert document["summary"]["verdict"] == "not-verified"
    assert set(check.requirements) <= set(document["summary"]["not_verified"])
    assert json.loads(json.dumps(document))["checks"][0]["skip_kind"] == "not-verified"


def test_finish_makes_an_unserialisable_answer_a_contract_error() -> None:
    import datetime as dt

    from gc_conformance.outcomes import Step

    result = CheckResult(
        "x",
        Status.PASS,
        ("R-1",),
        "core",
        "t",
        steps=(
            Step(
                1,
                {"action": "query"},
                {"accepted": True, "result": {"at": dt.date(2026, 1, 1)}},
                "any",
            ),
        ),
    )
    finished, plain = finish(result)
    assert finished.status is Status.ERROR
    assert "not representable as JSON" in finished.message
    json.dumps(plain, allow_nan=False)


# ---------------------------------------------------------------- fuzzing the CLI's inputs

_TEXT = st.text(st.characters(codec="utf-8"), max_size=200)
_JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=20,
)
_FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_FUZZ
@given(content=st.binary(max_size=400) | _TEXT.map(str.encode))
def test_any_xfail_file_gives_a_clear_error_never_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    path = tmp_path / "xfail.txt"
    path.write_bytes(content)
    code = main(["run", "--adapter", "no_such_module_zz:A", "--xfail", str(path)])
    captured = capsys.readouterr()
    assert code in (2, 3)
    assert "Traceback" not in captured.out + captured.err


@_FUZZ
@given(document=_JSONISH, raw=st.binary(max_size=200))
def test_any_run_document_is_rendered_or_refused_never_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], document: Any, raw: bytes
) -> None:
    for index, content in enumerate((json.dumps(document).encode(), raw)):
        path = tmp_path / f"run{index}.json"
        path.write_bytes(content)
        code = main(["report", "--from", str(path), "--html", str(tmp_path / "out.html")])
        captured = capsys.readouterr()
        assert code == 2
        assert "Traceback" not in captured.out + captured.err


@pytest.fixture(scope="module")
def _archive(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    import zipfile

    from gc_conformance.evidence import write_evidence

    adapter = ReferenceAdapter()
    capabilities = Capabilities.from_plain(adapter.capabilities())
    result = execute_check(get_check(OWNER_CHECK), adapter, capabilities, RunOptions())
    path = tmp_path_factory.mktemp("evidence") / "e.zip"
    write_evidence(path, _document([result]))
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@_FUZZ
@given(
    victim=st.sampled_from(
        ["run.json", "report.html", "junit.xml", "MANIFEST.json", "exchanges.json"]
    ),
    garbage=st.binary(max_size=100),
    drop=st.booleans(),
)
def test_any_doctored_evidence_archive_is_refused_naming_what_never_a_traceback(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    _archive: dict[str, bytes],
    victim: str,
    garbage: bytes,
    drop: bool,
) -> None:
    import zipfile

    members = dict(_archive)
    if drop:
        del members[victim]
    else:
        members[victim] = members[victim] + b" " + garbage
    path = tmp_path / "doctored.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    code = main(["verify-evidence", str(path)])
    captured = capsys.readouterr()
    assert code == 1, captured.out
    assert victim in captured.out
    assert "Traceback" not in captured.out + captured.err
    path.write_bytes(garbage)
    assert main(["verify-evidence", str(path)]) == 2
