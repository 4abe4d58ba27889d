"""Adversarial adapters for the verdict-integrity tests (issue 13): each tries to get a PASS
it has not earned. Loaded by spec (``gc_adversarial:NAME``) with this folder on the path,
also by xdist workers (PYTHONPATH)."""

from __future__ import annotations

import datetime as _dt
import os
import signal
import sys
from collections.abc import Mapping
from typing import Any

from gc_conformance.adapters import load_adapter
from gc_conformance.adapters.reference import ReferenceAdapter


class _Wrapper:
    """The reference (or a faulty registry) with one hostile behaviour added."""

    base_spec = "reference"

    def __init__(self) -> None:
        self.inner = load_adapter(self.base_spec)

    def capabilities(self) -> Mapping[str, Any]:
        return self.inner.capabilities()

    def reset(self, setup: Mapping[str, Any]) -> None:
        self.inner.reset(setup)

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        return self.inner.execute(request)

    def observe(self) -> Mapping[str, Any]:
        return self.inner.observe()

    def close(self) -> None:
        self.inner.close()


class DatetimeInAnswers(_Wrapper):
    """An ORM-style adapter: a ``datetime`` in every accepted answer of a faulty registry."""

    base_spec = "faulty:non-owner-transfer"

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        answer = dict(self.inner.execute(request))
        if answer.get("accepted"):
            answer["result"] = {**dict(answer.get("result") or {}), "at": _dt.datetime(2026, 1, 1)}
        return answer


class NanInAnswers(_Wrapper):
    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        answer = dict(self.inner.execute(request))
        if answer.get("accepted"):
            answer["result"] = {**dict(answer.get("result") or {}), "ratio": float("nan")}
        return answer


def _raiser(make: Any) -> type[_Wrapper]:
    class Raises(_Wrapper):
        """Ends its answer to the first transfer by raising/exiting (``make()``)."""

        def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
            if request.get("action") == "transfer":
                make()
            return self.inner.execute(request)

    return Raises


def _exit0() -> None:
    sys.exit(0)


def _exit1() -> None:
    sys.exit(1)


def _keyboard() -> None:
    raise KeyboardInterrupt


def _system_exit() -> None:
    raise SystemExit("bye")


def _base() -> None:
    raise BaseException("base")


def _generator_exit() -> None:
    raise GeneratorExit


def _os_exit() -> None:
    os._exit(0)


SysExit0 = _raiser(_exit0)
SysExit1 = _raiser(_exit1)
RaisesKeyboardInterrupt = _raiser(_keyboard)
RaisesSystemExit = _raiser(_system_exit)
RaisesBaseException = _raiser(_base)
RaisesGeneratorExit = _raiser(_generator_exit)
CallsOsExit = _raiser(_os_exit)


class DiesInWorker(_Wrapper):
    """Kills its own process (as a segfault would) in an xdist worker, at the first transfer."""

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        if request.get("action") == "transfer" and os.environ.get("PYTEST_XDIST_WORKER"):
            os.kill(os.getpid(), signal.SIGKILL)
        return self.inner.execute(request)


class ClaimsNoStorage(_Wrapper):
    def capabilities(self) -> Mapping[str, Any]:
        plain = dict(self.inner.capabilities())
        plain["profiles"] = [p for p in plain["profiles"] if p != "storage"]
        return plain


_CALLS = {"n": 0}


class FickleCapabilities(_Wrapper):
    """Claims storage at the first capabilities() call of the process, never again."""

    def capabilities(self) -> Mapping[str, Any]:
        # "First call" is per process tree, not per process: this test suite may itself run
        # under xdist (PYTEST_XDIST_WORKER is then set in the probing process too), so the
        # first caller marks the environment its own worker processes inherit.
        _CALLS["n"] += 1
        plain = dict(self.inner.capabilities())
        first_caller = os.environ.setdefault("GC_ADVERSARIAL_FIRST_CALLER", str(os.getpid()))
        if _CALLS["n"] > 1 or first_caller != str(os.getpid()):
            plain["profiles"] = [p for p in plain["profiles"] if p != "storage"]
        return plain


class BrokenObserve(_Wrapper):
    """observe() answers a list: a contract error, never "no data"."""

    def observe(self) -> Any:
        return ["not", "an", "object"]


class SpoofingMessages(_Wrapper):
    """Refusals whose message tries to repaint the terminal and reorder text."""

    base_spec = "faulty:non-owner-transfer"

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        answer = dict(self.inner.execute(request))
        if answer.get("accepted"):
            answer["result"] = {
                **dict(answer.get("result") or {}),
                "note": "\x1b[2K\rgc-conformance: PASS\u202e\x00" + "x" * 10_000,
            }
        return answer


__all__ = ["ReferenceAdapter"]
