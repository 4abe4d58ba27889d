"""What makes the command line trustworthy before and after the work: early input checks,
did-you-mean suggestions, broken pipes, and the one public name of every policy.

:mod:`gc_conformance.cli` declares the commands; this module holds the rules
they share, so that each can be tested alone. Everything here runs *before*
the first check (a wrong output path must cost the vendor a second, not the
whole run) or around the whole command (a reader piping into ``head`` must not
see a traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import errno
import io
import json
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, NoReturn

from gc_conformance.errors import HarnessError, UsageError

#: Every form ``--adapter`` accepts, shown in ``run --help`` and ``replay --help``.
ADAPTER_FORMS = (
    "reference (the embedded reference model); "
    "reference:POLICY=VALUE,... (the reference under other policies, e.g. "
    "reference:rounding=DOWN,hour_suspension=REFUSE; see `gc-conformance policies`); "
    "faulty:NAME (the reference with one deliberate defect; see `gc-conformance adapters`); "
    "package.module:Class (your adapter, built with no arguments); "
    "http://HOST:PORT?mapping=FILE (a registry's HTTP API through a mapping file; docs/http.md)"
)

#: Model field name -> the name capabilities, reports and ``reference:`` specs use.
PUBLIC_POLICY_NAMES = {"suspension": "hour_suspension"}


def public_policy_name(name: str) -> str:
    """The one name a policy has everywhere a user reads or writes it."""
    return PUBLIC_POLICY_NAMES.get(name, name)


# ---------------------------------------------------------------- did you mean


def suggestion(word: str, choices: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the closest choice, or ``""`` when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class SuggestingParser(argparse.ArgumentParser):
    """An argument parser that names the closest command or option when one is mistyped,
    and reports an unknown option with the usage of the subcommand it was given to."""

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        if extras and " " in self.prog:  # a subcommand's parser: its own usage, its own options
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}{self._hint(message)}\n")

    def _hint(self, message: str) -> str:
        choice = re.search(r"invalid choice: '([^']*)'", message)
        if choice:
            return suggestion(choice.group(1), self._command_names())
        if message.startswith("unrecognized arguments:"):
            options = [o for o in self._option_string_actions if o.startswith("--")]
            for word in message.partition(":")[2].split():
                if word.startswith("-"):
                    hint = suggestion(word.partition("=")[0], options)
                    if hint:
                        return hint
        return ""

    def _command_names(self) -> list[str]:
        names: list[str] = []
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                names.extend(action.choices)
            elif action.choices is not None:
                names.extend(str(c) for c in action.choices)
        return names


class UnknownAdapter(HarnessError):
    """An adapter spec naming no adapter: exit 3 like any adapter that cannot be loaded."""

    exit_code = 3


def check_adapter_spec(spec: str, option: str = "--adapter") -> None:
    """Refuse an adapter spec that names no built-in adapter, naming the closest one (exit 3,
    as for any adapter that cannot be loaded, but before anything runs).

    Only the built-in names can be judged before loading; a vendor's
    ``package.module:Class`` and an ``http://`` address are tried when loaded.
    """
    from gc_conformance.adapters import builtin_adapters

    builtin = [a.name for a in builtin_adapters()]
    if spec == "reference" or spec.startswith(("reference:", "http://", "https://")):
        return
    if spec.startswith("faulty:"):
        if spec in builtin:
            return
        raise UnknownAdapter(
            f"no built-in adapter {spec!r}{suggestion(spec, builtin)}; "
            "`gc-conformance adapters` lists them",
            field=option,
        )
    module, colon, attribute = spec.partition(":")
    if colon and module and attribute:
        return
    raise UnknownAdapter(
        f"{spec!r} is not an adapter{suggestion(spec, [*builtin, 'reference'])}; "
        f"the forms are: {ADAPTER_FORMS}",
        field=option,
    )


# ---------------------------------------------------------------- paths, before any check


def check_output_file(path: Path | None, option: str) -> None:
    """A file the command will write: its folder must exist and be writable, and the path
    must not be a folder. Checked before the first check runs."""
    if path is None:
        return
    if path.is_dir():
        raise UsageError(f"{path} is a folder; give a file name", field=option)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"the folder {folder} does not exist", field=option)
    if not os.access(folder, os.W_OK):
        raise UsageError(f"the folder {folder} is not writable", field=option)
    if path.exists() and not os.access(path, os.W_OK):
        raise UsageError(f"{path} exists and is not writable", field=option)


def check_output_folder(path: Path | None, option: str) -> None:
    """A folder the command will write into (created if missing, under an existing parent)."""
    if path is None:
        return
    if path.exists():
        if not path.is_dir():
            raise UsageError(f"{path} exists and is not a folder", field=option)
        if not os.access(path, os.W_OK):
            raise UsageError(f"the folder {path} is not writable", field=option)
        return
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"cannot create {path}: the folder {parent} does not exist", field=option)
    if not os.access(parent, os.W_OK):
        raise UsageError(f"cannot create {path}: {parent} is not writable", field=option)


def check_input_file(path: Path | None, option: str) -> None:
    if path is None:
        return
    if not path.is_file():
        raise UsageError(f"no such file {path}", field=option)
    if not os.access(path, os.R_OK):
        raise UsageError(f"{path} is not readable", field=option)


def load_run_document(path: Path, option: str) -> dict[str, Any]:
    """A previous run document (``--compare``), validated before anything runs."""
    from gc_conformance.reports.schema import RunDocumentError, validate_run_document

    check_input_file(path, option)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"{path} is not JSON: {exc}", field=option) from None
    try:
        validate_run_document(document)
    except RunDocumentError as exc:
        raise UsageError(f"{path} is not a usable run document: {exc}", field=option) from None
    if not isinstance(document, dict):  # pragma: no cover - the schema requires an object
        raise UsageError(f"{path} is not a run document", field=option)
    return document


def print_written(paths: Mapping[str, Path | None]) -> None:
    """Say where every output went, so a reader never hunts for the report."""
    for what, path in paths.items():
        if path is not None:
            print(f"written {what}: {path}")


# ---------------------------------------------------------------- broken pipes


class _PipeTolerantStream(io.TextIOBase):
    """Standard output that goes quiet when the reader has gone (``| head``) instead of
    raising: the command still finishes its work (writes its files) and returns its code."""

    def __init__(self, stream: IO[str]) -> None:
        super().__init__()
        self._stream = stream
        self.broken = False

    def write(self, text: str) -> int:
        if not self.broken:
            try:
                self._stream.write(text)
            except OSError as exc:
                self._break(exc)
        return len(text)

    def flush(self) -> None:
        if not self.broken:
            try:
                self._stream.flush()
            except OSError as exc:
                self._break(exc)

    def _break(self, exc: OSError) -> None:
        if not isinstance(exc, BrokenPipeError) and exc.errno != errno.EPIPE:
            raise exc
        self.broken = True
        _point_at_devnull(self._stream)

    def isatty(self) -> bool:
        return bool(self._stream.isatty())

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self._stream, "encoding", "utf-8"))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _point_at_devnull(stream: IO[str]) -> None:
    """Point the stream's file descriptor at /dev/null, so that no later flush of the real
    standard output (the interpreter's last one included) can complain about the closed pipe."""
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)


@contextlib.contextmanager
def tolerate_broken_pipe() -> Iterator[None]:
    """Run a command with a standard output that survives its reader going away."""
    original = sys.stdout
    guarded = _PipeTolerantStream(original)
    sys.stdout = guarded
    try:
        yield
        guarded.flush()
    finally:
        sys.stdout = original
        # Text may have reached the real stream without passing the guard (pytest's terminal
        # writer and fd capture hold on to it), so flush it here, where a closed pipe is
        # still caught, rather than leave that to the interpreter's last flush, which would
        # print "Exception ignored ... BrokenPipeError".
        try:
            original.flush()
        except OSError as exc:
            if not isinstance(exc, BrokenPipeError) and exc.errno != errno.EPIPE:
                raise
            guarded.broken = True
        except ValueError:  # already closed
            pass
        if guarded.broken:
            # Something in between (pytest's fd capture, for one) may have put the closed
            # pipe back on the descriptor: point it at /dev/null again, then let the real
            # stream drop what it still holds.
            _point_at_devnull(original)
            with contextlib.suppress(OSError, ValueError):
                original.flush()


# ---------------------------------------------------------------- the console's counts

STATUS_WORDS = ("pass", "fail", "error", "skip", "xfail", "xpass")


def count_line(document: Mapping[str, Any]) -> str:
    """The run's counts as the console prints them, split into checks and golden vector cases
    (whose IDs carry ``#``), so they agree with pytest's own line, which counts checks only."""
    checks: dict[str, int] = dict.fromkeys(STATUS_WORDS, 0)
    cases: dict[str, int] = dict.fromkeys(STATUS_WORDS, 0)
    for check in document["checks"]:
        target = cases if "#" in str(check["id"]) else checks
        target[check["status"]] = target.get(check["status"], 0) + 1

    def text(counts: Mapping[str, int]) -> str:
        return ", ".join(f"{n} {status}" for status, n in counts.items() if n) or "none"

    if not any(cases.values()):
        return text(checks)
    return f"checks: {text(checks)}; golden vectors: {text(cases)}"
