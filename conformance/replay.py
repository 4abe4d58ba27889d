"""Saving a failing request sequence, and sending it again to a registry beside the model.

A vendor who gets a failure wants to re-run exactly that sequence against the
next build of their registry, without the rest of the suite and without
Hypothesis searching again. :func:`save_failure` writes a failed check's
steps as JSON (the requests, the reference model's expectation for each, what
the registry answered, the adapter, the policies, the seed);
:func:`replay` sends the same requests through a
:class:`~gc_conformance.session.Session` to a registry and, side by side, to
a fresh reference model, and reports the first divergence, or a pass when
there is none any more. ``gc-conformance replay FILE --adapter SPEC`` is
:func:`replay_command`.

Instants: a replay sends the saved instants as they are (those of a run with ``--clock-start``
are already moved; the file records that start as ``clock_start``). A registry without reset
whose clock has since moved past them would refuse them all, so ``replay --clock-start INSTANT``
moves the whole sequence, every instant and date by the same whole number of days, to begin
exactly as a run with that start would (:mod:`gc_conformance.clock`): gaps and times of day
are kept, so the sequence means the same.

Bundle IDs: a registry numbers bundles its own way, so a saved sequence is
written in the *reference model's* bundle IDs whenever the steps say them (the
differential check records them in each step's expectation), and a replay
translates them to the registry's IDs as it goes, exactly as the
differential check does. Steps of other checks carry the original registry's
IDs; a replay then learns the translation from the answers (each recorded
``bundle_id``/``remainder_id`` against the model's), which covers every bundle
an answer named.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import re
import shlex
import sys
from collections.abc import Hashable, Iterator, Mapping
from pathlib import Path
from typing import Any

from gc_conformance.adapter import (
    ACTIONS,
    AdapterUnavailable,
    Answer,
    Capabilities,
    RegistryAdapter,
)
from gc_conformance.checks.differential import (
    NOT_EXERCISED,
    Lockstep,
    hkey,
    model_policies,
    named_pairs,
    parse_expectation,
)
from gc_conformance.checks.differential.storage_records import translate_records
from gc_conformance.clock import read_stamp, sequence_shift, shift_instants, stamp
from gc_conformance.errors import UsageError
from gc_conformance.outcomes import CheckResult, Severity, Status
from gc_conformance.reference import InvalidInput, Policies
from gc_conformance.session import (
    AdapterError,
    CheckFailed,
    CodeMismatch,
    NotApplicable,
    Session,
)

FORMAT = "gc-conformance-failure/1"

EXIT_SAME, EXIT_DIVERGES, EXIT_CANNOT_REPLAY, EXIT_UNREACHABLE = 0, 1, 2, 3


class ReplayFileError(UsageError, ValueError):
    """The file is not a saved failure this version can read (says which field and why)."""


# ====================================================================== saving


def save_failure(
    result: CheckResult,
    directory: Path,
    *,
    adapter_spec: str | None = None,
    policies: Mapping[str, str] | None = None,
    clock_start: str | None = None,
) -> Path:
    """Write ``result``'s request sequence to ``directory``; the file's path.

    ``adapter_spec`` defaults to the one in the result's reproduction command;
    ``policies`` to none recorded, in which case a replay uses the policies the
    registry declares then (as the original run did). ``clock_start`` is the run's
    ``--clock-start`` (recorded for the reader: the saved instants already follow it).
    """
    if not result.steps:
        raise ValueError(f"{result.check_id} recorded no steps: there is nothing to replay")
    spec = adapter_spec if adapter_spec is not None else _spec_from(result.reproduce)
    annotated = any(parse_expectation(step.expectation)[2] for step in result.steps)
    steps = []
    for step in result.steps:
        verdict, reference_id, given = parse_expectation(step.expectation)
        request = dict(step.request)
        if given:
            request["bundle_id"] = reference_id
        entry: dict[str, Any] = {"request": request, "expectation": verdict}
        if given or step.answer is not None:
            entry["registry_request"] = dict(step.request)
            entry["registry_answer"] = None if step.answer is None else dict(step.answer)
        if step.error:
            entry["error"] = step.error
        steps.append(entry)
    document = {
        "format": FORMAT,
        "check_id": result.check_id,
        "title": result.title,
        "requirements": list(result.requirements),
        "profile": result.profile,
        "status": result.status.value,
        "adapter": spec,
        "policies": None if policies is None else dict(sorted(policies.items())),
        "seed": result.seed,
        "clock_start": clock_start,
        "strict_codes": "--lenient-codes" not in result.reproduce,
        "message": result.message,
        "expected": result.expected,
        "observed": result.observed,
        "bundle_ids": "reference" if annotated else "registry",
        "steps": steps,
    }
    directory.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{result.check_id}--{spec}--seed{result.seed}")
    path = directory / f"{name}.json"
    path.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path


def _spec_from(command: str) -> str:
    parts = shlex.split(command) if command else []
    if "--adapter" in parts and parts.index("--adapter") + 1 < len(parts):
        return parts[parts.index("--adapter") + 1]
    return "reference"


def load_failure(path: Path) -> dict[str, Any]:
    """Read and validate a saved failure."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ReplayFileError(f"{path}: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ReplayFileError(f"{path}: not a saved failure (format {FORMAT!r} expected)")
    steps = data.get("steps")
    if not isinstance(steps, list) or not steps:
        raise ReplayFileError(f"{path}: 'steps' must be a non-empty list")
    for i, step in enumerate(steps):
        request = step.get("request") if isinstance(step, dict) else None
        if not isinstance(request, dict):
            raise ReplayFileError(f"{path}: steps[{i}].request must be an object")
        if request.get("action") not in ACTIONS:
            raise ReplayFileError(f"{path}: steps[{i}].request.action is not a contract action")
        try:
            _when(request)
        except ValueError as exc:
            raise ReplayFileError(f"{path}: steps[{i}].request.now: {exc}") from None
    if data.get("bundle_ids") not in ("reference", "registry"):
        raise ReplayFileError(f"{path}: 'bundle_ids' must be 'reference' or 'registry'")
    start = data.get("clock_start")
    if start is not None:
        try:
            read_stamp(str(start))
        except ValueError:
            raise ReplayFileError(
                f"{path}: 'clock_start' must be null or a UTC instant like 2031-01-01T00:00:00Z"
            ) from None
    return data


def _when(request: Mapping[str, Any]) -> _dt.datetime:
    return read_stamp(str(request.get("now")))


# ====================================================================== replaying


def replay(
    path: Path,
    adapter: RegistryAdapter,
    *,
    strict_codes: bool | None = None,
    clock_start: _dt.datetime | None = None,
) -> CheckResult:
    """Send the saved requests to ``adapter`` and to the model; the first divergence, or PASS.

    ``strict_codes`` defaults to the saved run's setting. ``clock_start`` moves the
    sequence to begin as a run with that ``--clock-start`` would (None: the saved
    instants, unchanged). Raises
    :class:`ReplayFileError` for an unreadable file; everything the registry
    does is in the result (FAIL, ERROR for an adapter failure, SKIP when the
    registry's declared policies cannot be modelled).
    """
    data = load_failure(path)
    strict = bool(data.get("strict_codes", True)) if strict_codes is None else strict_codes
    base = CheckResult(
        check_id=str(data.get("check_id", "replay")),
        status=Status.PASS,
        requirements=tuple(data.get("requirements") or ()),
        profile=str(data.get("profile", "core")),
        title=f"replay of {path.name}: {data.get('title', '')}".rstrip(": "),
        seed=data.get("seed"),
        reproduce=f"gc-conformance replay {shlex.quote(str(path))} --adapter <SPEC>",
    )
    try:
        capabilities = Capabilities.from_plain(adapter.capabilities())
    except Exception as exc:
        return _evolve(base, Status.ERROR, f"capabilities() failed: {type(exc).__name__}: {exc}")
    notes: list[str] = []
    try:
        policies = _policies(data, capabilities, notes)
    except NotApplicable as exc:
        return _evolve(base, Status.SKIP, exc.reason)
    from gc_conformance.adapters.reference import ReferenceAdapter

    shift = _dt.timedelta(0)
    if clock_start is not None:
        shift = sequence_shift(_when(data["steps"][0]["request"]), clock_start)
        notes.append(
            f"every instant moved by {shift.days} days (--clock-start {stamp(clock_start)})"
        )
    session = Session(adapter, capabilities, strict_codes=strict, clock_start=clock_start)
    session.seed = data.get("seed") or 0
    lock = Lockstep(
        session, ReferenceAdapter(policies), on_code_mismatch="raise" if strict else "record"
    )
    saved = _SavedSequence(data, notes, shift)
    try:
        lock.run_sequence(saved.requests(), saved.after)
    except CheckFailed as exc:
        named = exc.requirements  # the divergent step's rule(s) only
        return _evolve(
            base,
            Status.FAIL,
            "; ".join([exc.message, *notes]),
            requirements=tuple(named) if named else base.requirements,
            expected=exc.expected,
            observed=exc.observed,
            severity=exc.severity,
            code_mismatch=isinstance(exc, CodeMismatch),
            failure_kind=exc.kind,
            steps=tuple(session.steps),
        )
    except AdapterError as exc:
        return _evolve(
            base, Status.ERROR, f"the adapter failed at {exc}", steps=tuple(session.steps)
        )
    except NotApplicable as exc:  # e.g. a #2/#3 sequence needs reset() to set the registry up
        return _evolve(base, Status.SKIP, exc.reason, steps=tuple(session.steps))
    mismatches = list(lock.notes.values())
    message = "no divergence from the reference model"
    if mismatches:
        message += "; code mismatches (lenient): " + "; ".join(mismatches)
    return _evolve(
        base,
        Status.PASS,
        "; ".join([message, *notes]),
        code_mismatch=bool(mismatches),
        severity=Severity.MINOR if mismatches else None,
        steps=tuple(session.steps),
    )


class _SavedSequence:
    """A saved failure's requests, sent again with the bundle IDs the model gives this time.

    A sequence saved from a vendor's registry names bundles by the registry's IDs; the model
    numbers its own, so each recorded ID is mapped to the model's as the answers come in.
    A sequence saved from the reference model records what the model answered then; a model
    that now answers otherwise is noted (the standard or the model changed since).
    """

    def __init__(
        self, data: Mapping[str, Any], notes: list[str], shift: _dt.timedelta = _dt.timedelta(0)
    ) -> None:
        self.data = data
        self.shift = shift  # how far every instant moves (replay --clock-start)
        self.steps: list[dict[str, Any]] = data["steps"]
        self.notes = notes
        self.recorded_to_model: dict[Hashable, Any] = {}
        #: Storage record IDs (SCR, SDR) as recorded -> the model's, learned the same way.
        self.recorded_records: dict[Any, Any] = {}

    def requests(self) -> Iterator[dict[str, Any]]:
        for saved in self.steps:
            request = translate_records(self.recorded_records, saved["request"])
            if self.shift:
                request = shift_instants(request, self.shift)
            if "bundle_id" in request and self.data["bundle_ids"] == "registry":
                recorded = request["bundle_id"]
                request["bundle_id"] = self.recorded_to_model.get(hkey(recorded), recorded)
            yield request

    def after(self, number: int, model_answer: Answer) -> None:
        saved = self.steps[number - 1]
        _learn_ids(saved, model_answer, self.recorded_to_model)
        _learn_records(saved, model_answer, self.recorded_records)
        now = model_answer_text(model_answer)
        if self.data["bundle_ids"] == "reference" and now != saved.get("expectation"):
            self.notes.append(
                f"step {number}: the reference model now answers {now}, "
                f"the saved sequence expected {saved.get('expectation')}"
            )


def model_answer_text(answer: Answer) -> str:
    return "accept" if answer.accepted else f"reject {answer.code}"


def _learn_ids(saved: Mapping[str, Any], model: Answer, known: dict[Hashable, Any]) -> None:
    """Recorded registry IDs -> model IDs, from the recorded answer and the model's answer."""
    recorded = saved.get("registry_answer")
    if not model.accepted or not isinstance(recorded, Mapping) or not recorded.get("accepted"):
        return
    result = recorded.get("result")
    if isinstance(result, Mapping):
        for model_id, recorded_id, _ in named_pairs(model.result, result):
            known[hkey(recorded_id)] = model_id


def _learn_records(saved: Mapping[str, Any], model: Answer, known: dict[Any, Any]) -> None:
    """Recorded storage record IDs -> the model's (``record_id`` of accepted storage data)."""
    recorded = saved.get("registry_answer")
    if not model.accepted or not isinstance(recorded, Mapping) or not recorded.get("accepted"):
        return
    result = recorded.get("result")
    if isinstance(result, Mapping) and isinstance(result.get("record_id"), str | int):
        model_id = model.result.get("record_id")
        if model_id is not None:
            known[result["record_id"]] = model_id


def _policies(data: Mapping[str, Any], capabilities: Capabilities, notes: list[str]) -> Policies:
    """The saved policies when the file has them (noting a registry that now declares others)."""
    saved = data.get("policies")
    if not isinstance(saved, Mapping):
        return model_policies(capabilities)
    declared = dict(capabilities.policies)
    changed = sorted(k for k, v in saved.items() if declared.get(k) != v)
    if changed:
        notes.append(f"the registry now declares other values of {', '.join(changed)}")
    lifecycle = set(Policies().describe())
    unknown = sorted(set(saved) - lifecycle - NOT_EXERCISED)
    if unknown:
        raise NotApplicable(f"the saved policies include ones the model does not know: {unknown}")
    try:
        return Policies.from_plain({k: v for k, v in saved.items() if k in lifecycle})
    except InvalidInput as exc:
        raise NotApplicable(f"the reference model cannot take the saved policies: {exc}") from None


def _evolve(base: CheckResult, status: Status, message: str, **changes: Any) -> CheckResult:
    import attrs

    return attrs.evolve(base, status=status, message=message, **changes)


# ====================================================================== the command


def replay_command(
    path: Path, adapter_spec: str, *, clock_start: _dt.datetime | None = None
) -> int:
    """``gc-conformance replay FILE --adapter SPEC``: print the replay; the exit code.

    0 the registry no longer diverges from the model; 1 it diverges (the steps
    and the divergence are printed); 2 the file cannot be replayed (unreadable,
    or policies the model cannot take); 3 the adapter cannot be loaded or the
    registry failed to answer.
    """
    from gc_conformance.adapters import load_adapter

    try:
        data = load_failure(path)
    except ReplayFileError as exc:
        print(f"cannot replay: {exc}", file=sys.stderr)
        return EXIT_CANNOT_REPLAY
    try:
        adapter = load_adapter(adapter_spec)
    except AdapterUnavailable as exc:
        print(f"cannot load adapter {adapter_spec!r}: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    try:
        print(
            f"replaying {path} ({data.get('check_id')}, seed {data.get('seed')}, "
            f"{len(data['steps'])} steps, saved against {data.get('adapter')}) "
            f"against {adapter_spec}"
        )
        result = replay(path, adapter, clock_start=clock_start)
    finally:
        with contextlib.suppress(Exception):
            adapter.close()
    result = _with_command(result, path, adapter_spec, clock_start)
    print(result.describe())
    if result.status is Status.PASS:
        return EXIT_SAME
    if result.status is Status.FAIL:
        return EXIT_DIVERGES
    if result.status is Status.SKIP:
        return EXIT_CANNOT_REPLAY
    return EXIT_UNREACHABLE


def _with_command(
    result: CheckResult, path: Path, spec: str, clock_start: _dt.datetime | None = None
) -> CheckResult:
    import attrs

    parts = ["gc-conformance", "replay", str(path), "--adapter", spec]
    if clock_start is not None:
        parts += ["--clock-start", stamp(clock_start)]
    command = shlex.join(parts)
    return attrs.evolve(result, reproduce=command)


__all__ = [
    "FORMAT",
    "ReplayFileError",
    "load_failure",
    "replay",
    "replay_command",
    "save_failure",
]
