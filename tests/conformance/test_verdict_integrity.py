"""Issue 13: PASS only for a complete, untampered run, under every fault.

Each adversarial adapter (tests/conformance/gc_adversarial.py) tries to get a PASS it has
not earned; each test asserts the exit code and the verdict in every output: the console,
the run document (JSON), the HTML report and JUnit XML.
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from gc_conformance.cli import main
from gc_conformance.verdicts import Verdict

HERE = Path(__file__).resolve().parent
OWNER_CHECK = "core.transfer.non_owner_refused"
SPLIT_CHECK = "core.transfer.partial_split_partitions_parent"
CANCEL_CHECK = "core.cancel.non_owner_refused"
STORAGE_CHECK = "storage.allocation.each_wh_once"


@pytest.fixture(autouse=True)
def _adversaries_importable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The adversaries' module in the working directory, where adapter specs are looked up
    (by xdist workers too, which start there)."""
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(HERE / "gc_adversarial.py", work / "gc_adversarial.py")
    monkeypatch.chdir(work)
    monkeypatch.syspath_prepend(str(work))


class Outputs:
    def __init__(self, code: int, directory: Path, console: str) -> None:
        self.code = code
        self.console = console
        assert (directory / "run.json").exists(), f"exit {code}, no run document:\n{console}"
        self.doc: dict[str, Any] = json.loads((directory / "run.json").read_text("utf-8"))
        self.junit = ET.parse(directory / "run.xml").getroot()
        self.html = (directory / "run.html").read_text("utf-8")

    def assert_verdict(self, verdict: Verdict) -> None:
        """The same verdict everywhere, and the exit code documented for it."""
        assert self.code == verdict.exit_code, self.console
        assert self.doc["summary"]["verdict"] == verdict.value
        assert self.doc["summary"]["exit_code"] == verdict.exit_code
        assert self.junit.get("name") == f"gc-conformance: {verdict.value.upper()}"
        first = self.junit.find("properties/property")
        assert first is not None and first.get("value") == verdict.value
        assert f"<title>{verdict.value.upper()} — " in self.html
        summary_lines = [line for line in self.console.splitlines() if "gc-conformance:" in line]
        assert summary_lines and verdict.value.upper() in summary_lines[0]


def run_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str, vectors: bool = False
) -> Outputs:
    extra = [] if vectors else ["--no-vectors"]
    code = main(
        [
            "run",
            "--quiet",
            "--json",
            str(tmp_path / "run.json"),
            "--junitxml",
            str(tmp_path / "run.xml"),
            "--report",
            str(tmp_path / "run.html"),
            *extra,
            *args,
        ]
    )
    return Outputs(code, tmp_path, capsys.readouterr().out)


def test_a_datetime_in_an_answer_is_a_contract_error_never_a_dropped_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run_outputs(
        tmp_path,
        capsys,
        "--adapter",
        "gc_adversarial:DatetimeInAnswers",
        "--check",
        SPLIT_CHECK,
        "--check",
        CANCEL_CHECK,
    )
    assert out.code != 0
    assert {c["id"] for c in out.doc["checks"]} == {SPLIT_CHECK, CANCEL_CHECK}
    broken = [c for c in out.doc["checks"] if "not representable as JSON" in c["message"]]
    assert broken and all(c["status"] in ("error", "fail") for c in broken)
    out.assert_verdict(Verdict(out.doc["summary"]["verdict"]))
    assert out.doc["summary"]["verdict"] in ("error", "fail")


def test_nan_in_an_answer_is_a_contract_error_and_the_json_holds_no_nan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run_outputs(
        tmp_path, capsys, "--adapter", "gc_adversarial:NanInAnswers", "--check", SPLIT_CHECK
    )
    out.assert_verdict(Verdict.ERROR)
    assert "NaN" not in (tmp_path / "run.json").read_text("utf-8").replace("'nan'", "")
    json.loads((tmp_path / "run.json").read_text("utf-8"), parse_constant=_refuse)


def _refuse(name: str) -> None:
    raise AssertionError(f"{name} in the run document")


@pytest.mark.parametrize(
    "adapter",
    [
        "SysExit0",
        "SysExit1",
        "RaisesKeyboardInterrupt",
        "RaisesSystemExit",
        "RaisesBaseException",
        "RaisesGeneratorExit",
        "CallsOsExit",
    ],
)
def test_an_adapter_that_exits_or_raises_a_base_exception_is_an_error_of_that_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], adapter: str
) -> None:
    out = run_outputs(
        tmp_path,
        capsys,
        "--adapter",
        f"gc_adversarial:{adapter}",
        "--check",
        OWNER_CHECK,
        "--check",
        SPLIT_CHECK,
    )
    out.assert_verdict(Verdict.ERROR)
    statuses = {c["id"]: c["status"] for c in out.doc["checks"]}
    assert statuses == {OWNER_CHECK: "error", SPLIT_CHECK: "error"}
    assert all("a check must end" in c["message"] for c in out.doc["checks"])


def test_a_worker_that_dies_mid_run_makes_the_run_incomplete(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("xdist")
    out = run_outputs(
        tmp_path,
        capsys,
        "--adapter",
        "gc_adversarial:DiesInWorker",
        "-n",
        "2",
        "--check",
        OWNER_CHECK,
        "--check",
        SPLIT_CHECK,
    )
    out.assert_verdict(Verdict.INCOMPLETE)
    assert out.console.lstrip().splitlines()[0].startswith("gc-conformance: INCOMPLETE RUN")
    assert out.doc["summary"]["incomplete"]
    assert "INCOMPLETE RUN" in out.html.split("<h1>")[0]
    assert {c["id"] for c in out.doc["checks"]} == {OWNER_CHECK, SPLIT_CHECK}
    assert all(c["status"] == "error" for c in out.doc["checks"])


def test_a_profile_the_registry_does_not_claim_runs_nothing_and_is_not_a_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run_outputs(
        tmp_path, capsys, "--adapter", "gc_adversarial:ClaimsNoStorage", "--profile", "storage"
    )
    out.assert_verdict(Verdict.NO_CHECKS)
    assert "no selected check ran" in out.console


def test_capabilities_are_read_once_and_every_worker_uses_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("xdist")
    out = run_outputs(
        tmp_path,
        capsys,
        "--adapter",
        "gc_adversarial:FickleCapabilities",
        "-n",
        "2",
        "--check",
        STORAGE_CHECK,
        "--check",
        OWNER_CHECK,
    )
    assert "storage" in out.doc["registry"]["profiles"]
    storage = next(c for c in out.doc["checks"] if c["id"] == STORAGE_CHECK)
    assert storage["status"] == "pass", out.console
    out.assert_verdict(Verdict.PASS)


def test_waived_shall_failures_are_not_a_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    xfail = tmp_path / "xfail.txt"
    xfail.write_text(f"{OWNER_CHECK} vendor ticket 12\n", encoding="utf-8")
    out = run_outputs(
        tmp_path,
        capsys,
        "--adapter",
        "faulty:non-owner-transfer",
        "--check",
        OWNER_CHECK,
        "--xfail",
        str(xfail),
    )
    out.assert_verdict(Verdict.WAIVED)
    assert out.doc["summary"]["waived"] == [OWNER_CHECK]
    assert out.junit.get("failures") == "1"
    failure = out.junit.find("testcase/failure")
    assert failure is not None and failure.get("type") == "waived"
    assert "WAIVED" in out.html


def test_an_edited_verdict_or_result_is_refused_by_report_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run_outputs(
        tmp_path, capsys, "--adapter", "faulty:non-owner-transfer", "--check", OWNER_CHECK
    )
    out.assert_verdict(Verdict.FAIL)
    saved = tmp_path / "run.json"
    html = tmp_path / "again.html"
    assert main(["report", "--from", str(saved), "--html", str(html)]) == 0
    assert html.read_text("utf-8").startswith("<!DOCTYPE html>")

    edited = json.loads(saved.read_text("utf-8"))
    edited["summary"]["verdict"] = "pass"
    (tmp_path / "edited.json").write_text(json.dumps(edited), encoding="utf-8")
    capsys.readouterr()
    code = main(["report", "--from", str(tmp_path / "edited.json"), "--html", str(html)])
    assert code == 2
    assert "summary.verdict" in capsys.readouterr().err

    # Editing the result *and* the counts and verdict consistently still breaks the digest.
    forged = json.loads(saved.read_text("utf-8"))
    for check in forged["checks"]:
        check["status"] = "pass"
    forged["summary"]["counts"]["fail"] = 0
    forged["summary"]["counts"]["pass"] = len(forged["checks"])
    forged["summary"]["verdict"] = "pass"
    (tmp_path / "forged.json").write_text(json.dumps(forged), encoding="utf-8")
    code = main(["report", "--from", str(tmp_path / "forged.json"), "--html", str(html)])
    assert code == 2
    assert "integrity.digest" in capsys.readouterr().err


def test_a_vector_set_with_cases_removed_and_hashes_regenerated_is_not_the_shipped_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gc_conformance.vectors.files import identity, installed_root
    from gc_conformance.vectors.format import content_hash, sha256

    copy = tmp_path / "set"
    shutil.copytree(
        str(installed_root()), copy, ignore=shutil.ignore_patterns("*.py", "__pycache__")
    )
    target = copy / "split_transfer" / "request_sequence.json"
    document = json.loads(target.read_text("utf-8"))
    document["testGroups"] = document["testGroups"][:1]
    document["testGroups"][0]["tests"] = document["testGroups"][0]["tests"][:1]
    document["numberOfTests"] = 1
    document["_info"]["sha256"] = content_hash(document)
    target.write_text(json.dumps(document), encoding="utf-8")
    index = json.loads((copy / "index.json").read_text("utf-8"))
    index["files"]["split_transfer/request_sequence.json"] = sha256(target.read_bytes())
    (copy / "index.json").write_text(json.dumps(index), encoding="utf-8")

    found = identity(str(copy))
    assert found["index_root"] == index["root"]  # the official root, kept in the index
    assert found["root"] != index["root"] and not found["shipped"]
    code = main(["vectors", "verify", "--adapter", "reference", "--vectors", str(copy)])
    assert code == 2
    assert "does not match the files' content" in capsys.readouterr().err


def test_a_broken_observe_answer_is_an_error_never_no_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run_outputs(
        tmp_path, capsys, "--adapter", "gc_adversarial:BrokenObserve", "--check", SPLIT_CHECK
    )
    out.assert_verdict(Verdict.ERROR)
    assert "observe" in out.doc["checks"][0]["message"]


def test_registry_text_cannot_spoof_the_terminal_or_bloat_the_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "run",
            "--json",
            str(tmp_path / "run.json"),
            "--report",
            str(tmp_path / "run.html"),
            "--no-vectors",
            "--adapter",
            "gc_adversarial:SpoofingMessages",
            "--check",
            SPLIT_CHECK,
            "--check",
            OWNER_CHECK,
        ]
    )
    console = capsys.readouterr().out
    assert code == Verdict.FAIL.exit_code
    for raw in ("\x1b", "\r", "\u202e", "\x00"):
        assert raw not in console
    assert "\\x1b" in console
    text = (tmp_path / "run.json").read_text("utf-8")
    assert "[truncated: " in text and len(text) < 200_000
    html = (tmp_path / "run.html").read_text("utf-8")
    assert 'http-equiv="Content-Security-Policy"' in html
    assert "default-src 'none'" in html and "script-src 'sha256-" in html


def test_the_reference_passes_and_the_evidence_archive_verifies_and_doctoring_is_caught(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import zipfile

    archive = tmp_path / "evidence.zip"
    out = run_outputs(
        tmp_path,
        capsys,
        "--adapter",
        "reference",
        "--check",
        OWNER_CHECK,
        "--check",
        SPLIT_CHECK,
        "--evidence",
        str(archive),
    )
    out.assert_verdict(Verdict.PASS)
    assert out.doc["integrity"]["digest"]
    assert out.doc["suite"]["catalogue_sha256"]
    assert main(["verify-evidence", str(archive)]) == 0

    tgz = tmp_path / "evidence.tar.gz"
    assert main(["evidence", "--from", str(tmp_path / "run.json"), "--out", str(tgz)]) == 0
    assert main(["verify-evidence", str(tgz)]) == 0

    with zipfile.ZipFile(archive) as source:
        members = {name: source.read(name) for name in source.namelist()}
    members["report.html"] = members["report.html"].replace(b"PASS", b"PASS!")
    doctored = tmp_path / "doctored.zip"
    with zipfile.ZipFile(doctored, "w") as target:
        for name, data in members.items():
            target.writestr(name, data)
    capsys.readouterr()
    assert main(["verify-evidence", str(doctored)]) == 1
    assert "report.html" in capsys.readouterr().out
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    assert main(["verify-evidence", str(tmp_path / "junk.zip")]) == 2
