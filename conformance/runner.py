"""Running one check against one adapter, and turning what happened into a verdict.

This is the single place a verdict is made; the pytest plugin and the CLI both
call :func:`execute_check`, so a check means the same under ``pytest`` (with or
without xdist) as under ``gc-conformance run``.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import shlex
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from gc_conformance.adapter import Capabilities, Profile, RegistryAdapter
from gc_conformance.checks import Check
from gc_conformance.clock import read_stamp
from gc_conformance.outcomes import (
    DEFAULT_CHECK_TIMEOUT,
    CheckResult,
    Severity,
    SkipKind,
    Status,
)
from gc_conformance.session import AdapterError, CheckFailed, CodeMismatch, NotApplicable, Session

# Adapters a timed-out check left busy, with the check that left them so: the stuck
# thread may still change the registry, so no later verdict against it can be trusted.
_BUSY: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


@attrs.frozen
class RunOptions:
    """Everything that decides a run's verdicts; printed in every report."""

    adapter_spec: str = "reference"
    profiles: frozenset[Profile] | None = None  # None: every profile the registry claims
    seed: int = 0
    max_examples: int = 60
    strict_codes: bool = True
    xfail: Mapping[str, str] = attrs.field(factory=dict)  # check ID -> vendor's reason
    # A check still running after this many seconds is an *error* (the adapter hangs);
    # None waits for ever. Not part of the verdicts, so not in reproduce().
    check_timeout: float | None = DEFAULT_CHECK_TIMEOUT
    # Where a controlled clock starts (``--clock-start``, UTC wire form; None: the suite's own
    # first day). It moves every instant the checks send, so it is part of reproduce().
    clock_start: str | None = None

    def clock_start_instant(self) -> _dt.datetime | None:
        """:attr:`clock_start` as an instant (for :class:`~gc_conformance.session.Session`)."""
        return None if self.clock_start is None else read_stamp(self.clock_start)

    def reproduce(self, check_id: str) -> str:
        """The one command that re-runs ``check_id`` exactly as this run did."""
        parts = ["gc-conformance", "run", "--adapter", self.adapter_spec, "--check", check_id]
        parts += ["--seed", str(self.seed), "--max-examples", str(self.max_examples)]
        if not self.strict_codes:
            parts.append("--lenient-codes")
        if self.clock_start is not None:
            parts += ["--clock-start", self.clock_start]
        return shlex.join(parts)

    def to_plain(self) -> dict[str, Any]:
        return {
            "adapter": self.adapter_spec,
            "profiles": None if self.profiles is None else sorted(p.value for p in self.profiles),
            "seed": self.seed,
            "max_examples": self.max_examples,
            "strict_codes": self.strict_codes,
            "xfail": dict(sorted(self.xfail.items())),
            "check_timeout": self.check_timeout,
            "clock_start": self.clock_start,
        }


def skip_reason(check: Check, capabilities: Capabilities, options: RunOptions) -> str | None:
    """Why ``check`` does not run against this registry, or None when it does."""
    found = _skip(check, capabilities, options)
    return None if found is None else found[0]


def _skip(
    check: Check, capabilities: Capabilities, options: RunOptions
) -> tuple[str, SkipKind] | None:
    if check.profile not in capabilities.profiles:
        return (
            f"the registry does not claim the {check.profile.value!r} profile",
            SkipKind.NOT_CLAIMED,
        )
    if options.profiles is not None and check.profile not in options.profiles:
        return (
            f"profile {check.profile.value!r} was not selected for this run",
            SkipKind.NOT_APPLICABLE,
        )
    return None


def execute_check(
    check: Check,
    adapter: RegistryAdapter,
    capabilities: Capabilities,
    options: RunOptions,
) -> CheckResult:
    """Run ``check`` and return its verdict; never raises for anything the registry does."""
    base = CheckResult(
        check_id=check.check_id,
        status=Status.SKIP,
        requirements=check.requirements,
        profile=check.profile.value,
        title=check.title,
        seed=options.seed,
    )
    skipped = _skip(check, capabilities, options)
    if skipped is not None:
        return attrs.evolve(
            base, status=Status.SKIP, message=skipped[0], skip_kind=skipped[1], duration=0.0
        )
    result = judge(
        base,
        Session(
            adapter,
            capabilities,
            strict_codes=options.strict_codes,
            clock_start=options.clock_start_instant(),
        ),
        check,
        options,
        adapter=adapter,
        reproduce=options.reproduce(check.check_id),
    )
    return apply_xfail(result, options)


def judge(
    base: CheckResult,
    session: Session,
    body: Callable[[Session], None],
    options: RunOptions,
    *,
    adapter: object,
    reproduce: str,
) -> CheckResult:
    """Run ``body(session)`` and turn how it ended into ``base``'s status (no xfail applied).

    Used for checks and for golden-vector cases alike, so that an exception means
    the same verdict everywhere: NotApplicable -> skip, CheckFailed -> fail,
    AdapterError, an overrun or any other exception -> error, and only a body
    that returns is a pass.
    """
    busy_since = _busy_with(adapter)
    if busy_since is not None:
        return attrs.evolve(
            base,
            status=Status.ERROR,
            message=f"not run: the adapter is still busy with {busy_since}, which did not "
            "finish in time; a verdict against a registry another request may still be "
            "changing would not be honest",
            reproduce=reproduce,
        )
    session.seed = options.seed
    session.max_examples = options.max_examples
    started = time.perf_counter()
    result = _judge(base, session, body, options, adapter=adapter, reproduce=reproduce)
    return attrs.evolve(result, duration=round(time.perf_counter() - started, 6))


def _judge(
    base: CheckResult,
    session: Session,
    body: Callable[[Session], None],
    options: RunOptions,
    *,
    adapter: object,
    reproduce: str,
) -> CheckResult:
    try:
        _run_within(base.check_id, lambda: body(session), options.check_timeout, adapter)
    except _Escaped as exc:
        return attrs.evolve(
            base,
            status=Status.ERROR,
            message=f"the adapter (or the check) raised {exc.describe()}: a check must end "
            "with an answer, never by stopping the run; no verdict",
            steps=tuple(session.steps),
            reproduce=reproduce,
        )
    except _TimedOut as exc:
        return attrs.evolve(
            base,
            status=Status.ERROR,
            message=f"the check did not finish within {exc.seconds:g} s (the adapter hangs?); "
            f"it stopped after step {len(session.steps)}",
            steps=tuple(session.steps),
            reproduce=reproduce,
        )
    except NotApplicable as exc:
        return attrs.evolve(
            base,
            status=Status.SKIP,
            message=exc.reason,
            skip_kind=exc.kind,
            steps=tuple(session.steps),
        )
    except CheckFailed as exc:
        # A check that knows which of its requirements the failure is about names only those
        # (the differential check: the rule of the divergent step, never all it exercises).
        named = exc.requirements
        return attrs.evolve(
            base,
            status=Status.FAIL,
            requirements=tuple(named) if named else base.requirements,
            message=exc.message,
            expected=exc.expected,
            observed=exc.observed,
            severity=exc.severity,
            code_mismatch=isinstance(exc, CodeMismatch),
            failure_kind=exc.kind,
            steps=tuple(session.steps),
            reproduce=reproduce,
        )
    except AdapterError as exc:
        return attrs.evolve(
            base,
            status=Status.ERROR,
            message=f"the adapter failed at {exc}",
            steps=tuple(session.steps),
            reproduce=reproduce,
        )
    except Exception as exc:  # a bug in the check or the harness: never a pass
        return attrs.evolve(
            base,
            status=Status.ERROR,
            message=f"internal error in the check: {type(exc).__name__}: {exc}",
            steps=tuple(session.steps),
            reproduce=reproduce,
        )
    notes = list(session.code_mismatches)
    if session.left_out:
        notes.append("parts left out: " + ", ".join(session.left_out.values()))
    return attrs.evolve(
        base,
        status=Status.PASS,
        code_mismatch=bool(session.code_mismatches),
        message="; ".join(notes),
        severity=Severity.MINOR if session.code_mismatches else None,
        steps=tuple(session.steps),
    )


class _Escaped(Exception):
    """A ``BaseException`` the check's body raised (``SystemExit``, ``GeneratorExit``, ...).

    Adapter code that calls ``sys.exit()`` or raises ``KeyboardInterrupt`` must
    not end the run with pytest's exit status: it becomes an error of the check.
    """

    def __init__(self, original: BaseException) -> None:
        super().__init__(repr(original))
        self.original = original

    def describe(self) -> str:
        original = self.original
        if isinstance(original, _ProcessExit):
            return f"os._exit({original.status})"
        return f"{type(original).__name__}({', '.join(repr(a) for a in original.args)})"


class _ProcessExit(BaseException):
    """What ``os._exit`` raises while a check's body runs (see :func:`_guard_process_exit`)."""

    def __init__(self, status: object) -> None:
        super().__init__(status)
        self.status = status


_REAL_EXIT = os._exit
_GUARD_LOCK = threading.Lock()
_GUARDS = 0


@contextlib.contextmanager
def _guard_process_exit() -> Any:
    """While a check runs, ``os._exit`` from adapter code raises instead of killing the run.

    A process that ends itself without a word would otherwise end
    ``gc-conformance run`` with the adapter's exit status (``os._exit(0)`` was a
    PASS). A segfault cannot be caught this way: run with ``-n`` (pytest-xdist)
    to isolate the adapter in a worker whose crash is an *incomplete* run.
    """
    global _GUARDS

    def refuse(status: int) -> None:
        raise _ProcessExit(status)

    with _GUARD_LOCK:
        _GUARDS += 1
        os._exit = refuse  # type: ignore[assignment]
    try:
        yield
    finally:
        with _GUARD_LOCK:
            _GUARDS -= 1
            if _GUARDS == 0:
                os._exit = _REAL_EXIT


class _TimedOut(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


def _busy_with(adapter: object) -> str | None:
    try:
        return _BUSY.get(adapter)
    except TypeError:  # an adapter that cannot be weakly referenced is never marked busy
        return None


def _run_within(
    name: str, body: Callable[[], None], timeout: float | None, adapter: object
) -> None:
    """Run ``body()``, in a watchdog thread when there is a time limit.

    Python cannot stop a thread, so a body that overruns is abandoned: its
    thread (a daemon, so it never keeps the process alive) may go on talking to
    the adapter, which is therefore marked busy and refused to later checks.
    """
    if timeout is None:
        # The body runs in this thread: a KeyboardInterrupt may be the user's Ctrl-C, so it
        # ends the run (marked incomplete); every other BaseException is the check's error.
        try:
            with _guard_process_exit():
                body()
        except (KeyboardInterrupt, _TimedOut):
            raise
        except Exception:
            raise
        except BaseException as exc:
            raise _Escaped(exc) from exc
        return
    raised: list[BaseException] = []

    def guarded() -> None:
        try:
            body()
        except BaseException as exc:  # handed to the caller's thread unchanged
            raised.append(exc)

    worker = threading.Thread(target=guarded, name=f"check {name}", daemon=True)
    with _guard_process_exit():
        worker.start()
        # A KeyboardInterrupt raised *here* is the user's Ctrl-C (signals reach the main
        # thread): it propagates and the run ends incomplete. One raised by the body,
        # in the worker thread, is adapter code: an error of this check.
        worker.join(timeout)
    if worker.is_alive():
        with contextlib.suppress(TypeError):  # not weakly referable: cannot be marked
            _BUSY[adapter] = name
        raise _TimedOut(timeout)
    if raised:
        if not isinstance(raised[0], Exception):
            raise _Escaped(raised[0]) from raised[0]
        raise raised[0]


def apply_xfail(result: CheckResult, options: RunOptions) -> CheckResult:
    """A vendor's expected failures: FAIL -> XFAIL, PASS -> XPASS (reported, so it gets removed)."""
    reason = options.xfail.get(result.check_id)
    if reason is None:
        return result
    if result.status is Status.FAIL:
        return attrs.evolve(
            result, status=Status.XFAIL, message=f"{result.message} [xfail: {reason}]"
        )
    if result.status is Status.PASS:
        return attrs.evolve(
            result,
            status=Status.XPASS,
            message=f"expected to fail ({reason}) but passed: remove it from the xfail file",
        )
    return result


def read_xfail_file(path: Path) -> dict[str, str]:
    """A vendor's expected failures, check ID -> reason, validated by the published schema.

    Text (``CHECK_ID  reason...`` per line, ``#`` starts a comment) or a JSON object of the
    same meaning (``gc-conformance schema xfail``). An unknown check ID is an error that names
    the line (text) or the key (JSON): a typo would otherwise silently waive nothing.
    """
    from gc_conformance.checks import all_checks
    from gc_conformance.schemas import first_violation, xfail_schema

    known = frozenset(c.check_id for c in all_checks())
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("{"):
        try:
            entries: object = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not JSON: {exc.msg} (line {exc.lineno})") from None
    else:
        lines: dict[str, str] = {}
        for number, line in enumerate(text.splitlines(), 1):
            content = line.split("#", 1)[0].strip()
            if not content:
                continue
            check_id, _, reason = content.partition(" ")
            if check_id not in known:
                raise ValueError(f"{path}:{number}: no check {check_id!r}")
            lines[check_id] = reason.strip() or "listed in the xfail file"
        entries = lines
    violation = first_violation(xfail_schema(known), entries, "xfail")
    if violation is not None:
        field, rule = violation
        raise ValueError(f"{path}: {field}: {rule}")
    assert isinstance(entries, dict)  # the schema says it is an object of strings
    return {str(key): str(value) for key, value in entries.items()}


def call_within(what: str, call: Callable[[], Any], timeout: float | None) -> Any:
    """``call()`` bounded by ``timeout`` (the run's ``--check-timeout``), for adapter calls
    outside any check: ``capabilities()`` and ``close()``.

    Raises :class:`AdapterCallFailed` when it overruns or raises anything at all
    (a ``SystemExit`` from the adapter included), so the caller can report it
    as what it is instead of ending the run.
    """
    result: list[Any] = []
    raised: list[BaseException] = []

    def guarded() -> None:
        try:
            result.append(call())
        except BaseException as exc:
            raised.append(exc)

    worker = threading.Thread(target=guarded, name=what, daemon=True)
    with _guard_process_exit():
        worker.start()
        worker.join(timeout)
    if worker.is_alive():
        raise AdapterCallFailed(f"{what} did not return within {timeout:g} s")
    if raised:
        exc = raised[0]
        shown = _Escaped(exc).describe() if not isinstance(exc, Exception) else f"{exc}"
        raise AdapterCallFailed(f"{what} raised {type(exc).__name__}: {shown}") from exc
    return result[0] if result else None


class AdapterCallFailed(Exception):
    """An adapter call outside a check (capabilities, close) failed or overran."""


def finish(result: CheckResult) -> tuple[CheckResult, dict[str, Any]]:
    """The result and its plain form, as every output will carry it.

    Serialising is part of the verdict: an answer the contract cannot carry (a
    ``datetime``, ``NaN``, a set, a non-string key) is a contract error of the
    check that received it, never a result that silently goes missing. Strings
    from the registry are capped (:data:`gc_conformance.untrusted.STRING_LIMIT`).
    """
    from gc_conformance import untrusted

    problems: list[str] = []
    plain = untrusted.plain(result.to_plain(), where="result", problems=problems)
    if not problems:
        return CheckResult.from_plain(plain), plain
    shown = "; ".join(problems[:5]) + (
        f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
    )
    status = Status.FAIL if result.status is Status.FAIL else Status.ERROR
    message = f"answer outside the contract (not representable as JSON): {shown}"
    if result.message:
        message = f"{message}. The check said: {untrusted.cap(result.message)}"
    plain = {**plain, "status": status.value, "message": message, "skip_kind": None}
    return CheckResult.from_plain(plain), plain


def unanswered(
    check_id: str,
    reason: str,
    *,
    requirements: tuple[str, ...] = (),
    profile: str = "",
    title: str = "",
) -> CheckResult:
    """The result of a planned check that produced none (crash, interruption): an error."""
    return CheckResult(
        check_id=check_id,
        status=Status.ERROR,
        requirements=requirements,
        profile=profile,
        title=title,
        message=f"no result: {reason}",
    )
