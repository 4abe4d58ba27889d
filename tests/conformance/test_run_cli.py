"""The runner end to end: `gc-conformance run`, its outputs, exit codes, xfail, and pytest mode."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from gc_conformance.adapter import Capabilities
from gc_conformance.adapters import load_adapter
from gc_conformance.adapters.reference import ReferenceAdapter
from gc_conformance.checks import get_check
from gc_conformance.cli import main
from gc_conformance.outcomes import CheckResult, Status, Step
from gc_conformance.reports import render_html, render_junit
from gc_conformance.results import build_run_document, exit_code
from gc_conformance.runner import RunOptions, apply_xfail, execute_check

SPLIT_CHECK = "core.transfer.partial_split_partitions_parent"
OWNER_CHECK = "core.transfer.non_owner_refused"


def run_cli(tmp_path: Path, *args: str) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "run.json"
    code = main(["run", "--quiet", "--json", str(out), *args])
    return code, json.loads(out.read_text()) if out.exists() else {}


def test_the_reference_passes_the_selected_checks_and_the_document_has_the_documented_shape(
    tmp_path: Path,
) -> None:
    code, doc = run_cli(
        tmp_path, "--adapter", "reference", "--check", SPLIT_CHECK, "--check", OWNER_CHECK
    )
    assert code == 0
    assert doc["summary"]["verdict"] == "pass"
    assert doc["summary"]["counts"]["pass"] == 2
    assert {c["id"] for c in doc["checks"]} == {SPLIT_CHECK, OWNER_CHECK}
    requirement = next(r for r in doc["requirements"] if r["id"] == "AUTH-001")
    assert requirement["status"] == "pass"
    assert OWNER_CHECK in requirement["checks"]
    assert {"id", "title", "clause", "level", "profile", "checks", "status"} <= set(requirement)
    assert doc["registry"]["name"] == "gc-conformance reference model"
    assert doc["run"]["adapter"] == "reference"


def test_an_unloadable_adapter_exits_3_and_a_bad_option_exits_2(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "--adapter", "no_such_module_x:Adapter")[0] == 3
    assert run_cli(tmp_path, "--adapter", "faulty:no-such-fault")[0] == 3
    assert run_cli(tmp_path, "--adapter", "reference", "--check", "no.such.check")[0] == 2
    assert run_cli(tmp_path, "--adapter", "reference", "--profile", "nonsense")[0] == 2
    assert run_cli(tmp_path, "--adapter", "reference:rounding=SIDEWAYS")[0] == 3


class NonOwnerTransfers(ReferenceAdapter):
    """Lets anyone transfer: the transfer is executed as if the holder asked."""

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        if request.get("action") == "transfer":
            bundle = self.registry.bundle(request["bundle_id"])
            if bundle is not None:
                holder = self.registry.account(bundle.account_id)
                assert holder is not None
                request = {**request, "actor": holder.holder_id}
        return super().execute(request)


class Crashes(ReferenceAdapter):
    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        if request.get("action") == "transfer":
            raise TimeoutError("registry did not answer in 30 s")
        return super().execute(request)


def _result(adapter: ReferenceAdapter, check_id: str, **options: Any) -> CheckResult:
    capabilities = Capabilities.from_plain(adapter.capabilities())
    return execute_check(get_check(check_id), adapter, capabilities, RunOptions(**options))


def test_a_broken_registry_fails_with_expected_observed_steps_and_a_reproduction() -> None:
    result = _result(NonOwnerTransfers(), OWNER_CHECK, adapter_spec="vendor:Broken", seed=7)
    assert result.status is Status.FAIL
    assert result.expected == "rejected NOT_OWNER"
    assert result.observed.startswith("accepted")
    assert result.steps[-1].request["action"] == "transfer"
    assert result.reproduce == (
        f"gc-conformance run --adapter vendor:Broken --check {OWNER_CHECK} --seed 7 --max-examples 60"
    )
    assert "transfer" in result.describe()


def test_an_adapter_that_times_out_is_an_error_never_a_pass() -> None:
    result = _result(Crashes(), SPLIT_CHECK)
    assert result.status is Status.ERROR
    assert "TimeoutError" in result.message
    assert result.steps[-1].answer is None


def test_a_profile_the_registry_does_not_claim_is_skipped_with_the_reason() -> None:
    adapter = ReferenceAdapter()
    plain = dict(adapter.capabilities())
    plain["profiles"] = ["core"]
    capabilities = Capabilities.from_plain(plain)
    storage_like = get_check(SPLIT_CHECK)
    from gc_conformance.adapter import Profile

    result = execute_check(
        storage_like, adapter, capabilities, RunOptions(profiles=frozenset({Profile.STORAGE}))
    )
    assert result.status is Status.SKIP
    assert "not selected" in result.message


def test_xfail_turns_a_failure_into_xfail_and_a_pass_into_xpass() -> None:
    failed = _result(NonOwnerTransfers(), OWNER_CHECK)
    passed = _result(ReferenceAdapter(), OWNER_CHECK)
    options = RunOptions(xfail={OWNER_CHECK: "ticket 12"})
    assert apply_xfail(failed, options).status is Status.XFAIL
    assert apply_xfail(passed, options).status is Status.XPASS


def test_an_xfail_file_with_an_unknown_check_is_a_usage_error(tmp_path: Path) -> None:
    xfail = tmp_path / "xfail.txt"
    xfail.write_text("no.such.check  because\n")
    assert run_cli(tmp_path, "--adapter", "reference", "--xfail", str(xfail))[0] == 2


def test_an_xfail_entry_that_passes_is_reported_as_xpass(tmp_path: Path) -> None:
    xfail = tmp_path / "xfail.txt"
    xfail.write_text(f"# vendor's known failures\n{OWNER_CHECK}  fixed in 2.1\n")
    code, doc = run_cli(
        tmp_path, "--adapter", "reference", "--check", OWNER_CHECK, "--xfail", str(xfail)
    )
    assert code == 0
    assert doc["checks"][0]["status"] == "xpass"


HOSTILE = '<script>alert("x")</script> "quoted" \'single\' ' + "Ωμέγα " * 200


def _hostile_document() -> dict[str, Any]:
    adapter = ReferenceAdapter()
    plain = dict(adapter.capabilities())
    plain["name"] = HOSTILE
    capabilities = Capabilities.from_plain(plain)
    failure = CheckResult(
        check_id=OWNER_CHECK,
        status=Status.FAIL,
        requirements=("AUTH-001",),
        profile="core",
        title="t",
        message=HOSTILE,
        expected="rejected NOT_OWNER",
        observed=HOSTILE,
        steps=(
            Step(
                1, {"action": "transfer", "actor": HOSTILE}, {"accepted": True}, "reject NOT_OWNER"
            ),
        ),
        reproduce="gc-conformance run ...",
    )
    return build_run_document([failure], capabilities, RunOptions(), started="S", finished="F")


def test_the_html_report_escapes_everything_from_the_registry() -> None:
    html = render_html(_hostile_document())
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html or "&lt;script&gt;" in html
    assert "Ωμέγα" in html
    assert html.count("<script>") == 1  # only the report's own filter script


def test_the_document_verdict_and_exit_code_follow_shall_failures() -> None:
    doc = _hostile_document()
    assert doc["summary"]["verdict"] == "fail"
    assert exit_code(doc) == 1


def test_junit_has_one_testcase_per_check_with_requirement_properties() -> None:
    root = ET.fromstring(render_junit(_hostile_document()).split("\n", 1)[1])
    cases = root.findall("testcase")
    assert len(cases) == 1
    assert cases[0].find("failure") is not None
    requirement_values = [
        p.get("value") for p in cases[0].iter("property") if p.get("name") == "requirement"
    ]
    assert requirement_values == ["AUTH-001"]


def test_reports_are_deterministic_for_the_same_document() -> None:
    doc = _hostile_document()
    assert render_html(doc) == render_html(doc)
    assert render_junit(doc) == render_junit(doc)


def test_run_writes_html_and_junit(tmp_path: Path) -> None:
    code = main(
        [
            "run",
            "--quiet",
            "--adapter",
            "reference",
            "--check",
            OWNER_CHECK,
            "--report",
            str(tmp_path / "r.html"),
            "--junitxml",
            str(tmp_path / "r.xml"),
        ]
    )
    assert code == 0
    assert "Requirement matrix" in (tmp_path / "r.html").read_text()
    assert ET.parse(tmp_path / "r.xml").getroot().get("tests") == "1"


def test_parallel_workers_give_the_same_verdicts(tmp_path: Path) -> None:
    pytest.importorskip("xdist")
    args = ["--adapter", "faulty:non-owner-transfer", "--profile", "core"]
    serial = run_cli(tmp_path, *args)[1]
    parallel = run_cli(tmp_path, *args, "-n", "2")[1]
    verdicts = lambda doc: {c["id"]: c["status"] for c in doc["checks"]}  # noqa: E731
    assert verdicts(serial) == verdicts(parallel)
    assert serial["summary"]["verdict"] == "fail"


def test_the_suite_runs_inside_a_plain_pytest_invocation(tmp_path: Path) -> None:
    out = tmp_path / "pytest.json"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--pyargs",
            "gc_conformance.suite",
            "--gc-adapter",
            "reference",
            "--gc-check",
            OWNER_CHECK,
            "--gc-json",
            str(out),
            "-p",
            "no:cacheprovider",
            "-q",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert json.loads(out.read_text())["summary"]["counts"]["pass"] == 1


def test_adapters_lists_reference_and_faulty_registries(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["adapters", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)["adapters"]
    names = [a["name"] for a in listed]
    assert names[0] == "reference"
    assert all({"name", "description"} <= set(a) for a in listed)


def test_requirements_json_lists_checks_per_requirement(capsys: pytest.CaptureFixture[str]) -> None:
    main(["requirements", "--format", "json"])
    rows = json.loads(capsys.readouterr().out)["requirements"]
    auth = next(r for r in rows if r["id"] == "AUTH-001")
    assert OWNER_CHECK in auth["checks"]
    assert {"id", "title", "clause", "level", "profile", "checks"} <= set(auth)


def test_load_adapter_accepts_reference_policies() -> None:
    adapter = load_adapter("reference:rounding=DOWN")
    assert adapter.capabilities()["policies"]["rounding"] == "DOWN"


def test_a_fixed_clock_session_never_produces_in_last_year() -> None:
    import datetime as dt

    from gc_conformance.session import Session

    plain = dict(ReferenceAdapter().capabilities())
    plain["clock"] = "fixed"
    capabilities = Capabilities.from_plain(plain)
    january = Session(
        ReferenceAdapter(),
        capabilities,
        wall_clock=lambda: dt.datetime(2027, 1, 1, 10, tzinfo=dt.UTC),
    )
    assert january.epoch == dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    june = Session(
        ReferenceAdapter(),
        capabilities,
        wall_clock=lambda: dt.datetime(2027, 6, 10, 10, tzinfo=dt.UTC),
    )
    assert june.epoch == dt.datetime(2027, 6, 8, tzinfo=dt.UTC)


def test_saved_failures_replay_against_the_faulty_registry_and_pass_against_the_reference(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "failures"
    fault = "faulty:non-owner-transfer"
    code, _ = run_cli(
        tmp_path, "--adapter", fault, "--check", OWNER_CHECK, "--save-failures", str(saved)
    )
    assert code == 1
    files = sorted(saved.glob("*.json"))
    assert [f.name.split("--")[0] for f in files] == [OWNER_CHECK]
    assert f"gc-conformance replay {files[0]} --adapter {fault}" in capsys.readouterr().out
    assert main(["replay", str(files[0]), "--adapter", fault]) == 1
    assert main(["replay", str(files[0]), "--adapter", "reference"]) == 0


def test_passing_runs_save_nothing(tmp_path: Path) -> None:
    saved = tmp_path / "failures"
    code, _ = run_cli(
        tmp_path, "--adapter", "reference", "--check", OWNER_CHECK, "--save-failures", str(saved)
    )
    assert code == 0
    assert not saved.exists()


def test_a_selected_run_does_not_call_unselected_requirements_untested(tmp_path: Path) -> None:
    _, doc = run_cli(tmp_path, "--adapter", "reference", "--check", OWNER_CHECK)
    assert doc["summary"]["untested_shall"] == []
    statuses = {r["id"]: r["status"] for r in doc["requirements"]}
    assert statuses["AUTH-001"] == "pass"


def test_an_adapter_module_in_the_working_directory_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "my_vendor_adapter.py").write_text(
        "from gc_conformance.adapters.reference import ReferenceAdapter\n\n"
        "class Adapter(ReferenceAdapter):\n    pass\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    adapter = load_adapter("my_vendor_adapter:Adapter")
    assert type(adapter).__name__ == "Adapter"


class Hangs(ReferenceAdapter):
    """A registry whose transfers never answer (a deadlock, a lost connection without timeout)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        if request["action"] == "transfer":
            self.release.wait(30)
        return super().execute(request)


def test_a_hanging_adapter_is_an_error_and_later_checks_are_not_judged_against_it() -> None:
    adapter = Hangs()
    capabilities = Capabilities.from_plain(adapter.capabilities())
    options = RunOptions(check_timeout=0.5)
    try:
        hung = execute_check(get_check(SPLIT_CHECK), adapter, capabilities, options)
        after = execute_check(get_check(OWNER_CHECK), adapter, capabilities, options)
    finally:
        adapter.release.set()
    assert hung.status is Status.ERROR
    assert "did not finish within 0.5 s" in hung.message
    assert hung.steps and hung.reproduce
    assert after.status is Status.ERROR
    assert f"still busy with {SPLIT_CHECK}" in after.message
    # another adapter is unaffected
    fresh = ReferenceAdapter()
    ok = execute_check(get_check(OWNER_CHECK), fresh, capabilities, options)
    assert ok.status is Status.PASS
