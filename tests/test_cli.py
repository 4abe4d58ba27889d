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


# ---------------------------------------------------------------- issue 16: a CLI to trust

import subprocess  # noqa: E402
import sys  # noqa: E402
import tomllib  # noqa: E402
from collections.abc import Mapping  # noqa: E402
from typing import Any  # noqa: E402

from gc_conformance.adapters.reference import ReferenceAdapter  # noqa: E402

OWNER_CHECK = "core.transfer.non_owner_refused"
SPLIT_CHECK = "core.transfer.partial_split_partitions_parent"
REFUSED_SPLITS = (  # checks the faulty registry refused-partial-leaves-split fails
    "core.cancel.non_owner_refused",
    "core.withdraw.holder_refused",
    "core.transfer.unknown_account_refused",
)


class Crashes(ReferenceAdapter):
    """Every transfer times out: the checks that transfer get *error*, never a verdict."""

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        if request.get("action") == "transfer":
            raise TimeoutError("registry did not answer in 30 s")
        return super().execute(request)


@pytest.fixture
def no_suite(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if the suite starts: the error must come before the first check."""
    import gc_conformance.run as run_module

    def never(*_: Any, **__: Any) -> Any:
        raise AssertionError("the suite ran although an input was unusable")

    monkeypatch.setattr(run_module, "run", never)


@pytest.mark.parametrize("option", ["--report", "--json", "--junitxml"])
def test_an_unwritable_output_file_is_refused_before_any_check(
    option: str, tmp_path: Path, no_suite: None, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nonexistent" / "dir" / "out"
    assert main(["run", "--adapter", "reference", option, str(missing)]) == EXIT_USAGE
    error = capsys.readouterr().err
    assert f"{option}: the folder {missing.parent} does not exist" in error
    assert main(["run", "--adapter", "reference", option, str(tmp_path)]) == EXIT_USAGE
    assert f"{option}: {tmp_path} is a folder" in capsys.readouterr().err


def test_an_unusable_failures_folder_is_refused_before_any_check(
    tmp_path: Path, no_suite: None, capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    args = ["run", "--adapter", "reference", "--save-failures"]
    assert main([*args, str(a_file)]) == EXIT_USAGE
    assert "--save-failures" in capsys.readouterr().err
    assert main([*args, str(tmp_path / "no" / "such" / "dir")]) == EXIT_USAGE
    assert "--save-failures" in capsys.readouterr().err


def test_report_and_demo_check_their_output_paths_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "run.json"
    source.write_text("{}")
    missing = str(tmp_path / "none" / "r.html")
    assert main(["report", "--from", str(source), "--html", missing]) == EXIT_USAGE
    assert "--html: the folder" in capsys.readouterr().err
    assert main(["demo", "--report", missing]) == EXIT_USAGE
    assert "--report: the folder" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("spec", "closest"),
    [
        ("refrence", "reference"),
        ("faulty:non-owner-transfr", "faulty:non-owner-transfer"),
    ],
)
def test_a_mistyped_adapter_gets_the_closest_name(
    spec: str, closest: str, no_suite: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--adapter", spec]) == 3  # an adapter that cannot be loaded
    assert f"did you mean {closest!r}?" in capsys.readouterr().err


def test_a_mistyped_option_gets_the_subcommands_usage_and_a_suggestion(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["run", "--adapter", "reference", "--chek", OWNER_CHECK])
    assert stopped.value.code == EXIT_USAGE
    error = capsys.readouterr().err
    assert error.startswith("usage: gc-conformance run ")
    assert "unrecognized arguments: --chek" in error and "did you mean '--check'?" in error


def test_a_mistyped_subcommand_and_check_get_suggestions(
    capsys: pytest.CaptureFixture[str], no_suite: None
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["rnu", "--adapter", "reference"])
    assert stopped.value.code == EXIT_USAGE
    assert "did you mean 'run'?" in capsys.readouterr().err
    assert main(["run", "--adapter", "reference", "--check", OWNER_CHECK + "s"]) == EXIT_USAGE
    assert f"did you mean {OWNER_CHECK!r}?" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["run", "replay"])
def test_help_shows_every_adapter_spec_form(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    for form in (
        "reference ",
        "reference:POLICY=VALUE,...",
        "faulty:NAME",
        "package.module:Class",
        "http://HOST:PORT?mapping=FILE",
    ):
        assert form in shown, form


def _head(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI with its standard output closed at once, as `| head -0` would."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gc_conformance", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader goes away before the first line
    error = process.stderr.read()
    process.wait(timeout=600)
    return subprocess.CompletedProcess(process.args, process.returncode, "", error)


@pytest.mark.parametrize("command", [["requirements"], ["codes"], ["adapters"], ["policies"]])
def test_a_closed_pipe_is_not_a_traceback(command: list[str]) -> None:
    done = _head(*command)
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr, done.stderr
    assert done.returncode == EXIT_OK


def test_a_run_into_a_closed_pipe_still_writes_its_outputs_and_exit_code(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    done = _head("run", "--adapter", "reference", "--check", OWNER_CHECK, "--json", str(out))
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr, done.stderr
    assert done.returncode == EXIT_OK
    assert json.loads(out.read_text())["summary"]["verdict"] == "pass"


def test_a_closed_pipe_put_back_on_the_descriptor_is_still_quiet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """pytest's fd capture restores the descriptor it saved, which puts the closed pipe back
    after the guard pointed it at /dev/null; text then left in the real stream must not reach
    the interpreter's last flush (CI once printed "Exception ignored ... BrokenPipeError")."""
    import io
    import os

    from gc_conformance.cli_support import tolerate_broken_pipe

    def closed_pipe() -> int:
        reader, writer = os.pipe()
        os.close(reader)
        return writer

    descriptor = closed_pipe()
    real = io.TextIOWrapper(io.BufferedWriter(io.FileIO(descriptor, "w"), buffer_size=64))
    monkeypatch.setattr(sys, "stdout", real)
    with tolerate_broken_pipe():
        print("x" * 200, flush=True)  # through the guard: the reader has gone
        again = closed_pipe()
        os.dup2(again, descriptor)  # what pytest's capture does when it stops
        os.close(again)
        real.write("left in the real stream, past the guard")
    real.flush()  # the interpreter's last flush: must not raise
    real.close()


def test_maxfail_stops_after_the_first_failure_and_never_passes(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    checks = [arg for check in REFUSED_SPLITS for arg in ("--check", check)]
    args = ["run", "--quiet", "--adapter", "faulty:refused-partial-leaves-split", *checks]
    assert main([*args, "-x", "--json", str(out)]) not in (EXIT_OK, EXIT_USAGE)
    document = json.loads(out.read_text())
    assert document["summary"]["counts"]["fail"] == 1
    assert document["summary"]["verdict"] != "pass"  # stopped early: never a PASS
    assert main([*args, "--maxfail", "2", "--json", str(out)]) not in (EXIT_OK, EXIT_USAGE)
    assert json.loads(out.read_text())["summary"]["counts"]["fail"] == 2
    assert main([*args, "--maxfail", "0"]) == EXIT_USAGE


def test_every_output_path_written_is_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = {name: tmp_path / name for name in ("run.json", "junit.xml", "report.html")}
    code = main(
        [
            "run",
            "--quiet",
            "--adapter",
            "reference",
            "--check",
            OWNER_CHECK,
            *("--json", str(paths["run.json"])),
            *("--junitxml", str(paths["junit.xml"])),
            *("--report", str(paths["report.html"])),
        ]
    )
    assert code == EXIT_OK
    printed = capsys.readouterr().out
    assert f"written run document: {paths['run.json']}" in printed
    assert f"written JUnit XML: {paths['junit.xml']}" in printed
    assert f"written report: {paths['report.html']}" in printed
    assert all(path.is_file() for path in paths.values())


def test_policy_names_are_the_ones_capabilities_and_specs_use(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from gc_conformance.adapters import load_adapter

    assert main(["policies", "--format", "json"]) == EXIT_OK
    listed = {row["policy"] for row in json.loads(capsys.readouterr().out)["policies"]}
    declared = set(ReferenceAdapter().capabilities()["policies"])
    assert declared <= listed, declared - listed
    load_adapter("reference:hour_suspension=REFUSE")  # the listed name is the one a spec takes


def test_pytest_xdist_is_a_plain_dependency() -> None:
    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    names = [dep.split(">")[0].split("=")[0].strip() for dep in project["project"]["dependencies"]]
    assert "pytest-xdist" in names


def test_the_console_counts_agree_with_the_headline(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run.json"
    code = main(
        ["run", "--adapter", "test_cli:Crashes", "--check", SPLIT_CHECK, "--json", str(out)]
    )
    assert code != EXIT_OK
    printed = capfd.readouterr().out
    assert "(1 error); exit" in printed
    assert "1 failed" not in printed  # pytest's own line says "1 error", not "1 failed"
    assert "1 error in " in printed


def test_the_count_line_keeps_checks_and_vector_cases_apart() -> None:
    from gc_conformance.cli_support import count_line

    checks = [
        {"id": "core.a", "status": "fail"},
        {"id": "core.b", "status": "pass"},
        {"id": "transfer#3", "status": "fail"},
        {"id": "transfer#4", "status": "pass"},
        {"id": "transfer#5", "status": "pass"},
    ]
    assert count_line({"checks": checks}) == (
        "checks: 1 pass, 1 fail; golden vectors: 2 pass, 1 fail"
    )
    assert count_line({"checks": checks[:2]}) == "1 pass, 1 fail"
