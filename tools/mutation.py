"""Mutation testing of the example registries: how many seeded defects does the suite catch?

A *mutant* is the example registry with one small change to its source (a
comparison made off by one, a ``raise`` left out, ``and`` for ``or``, a
constant moved by one, ...). The suite *kills* a mutant when some check that
passes against the unchanged registry fails or errors against the mutant. A
mutant that survives is a defect a registry could have and the suite would
accredit; each one either shows a hole in the suite, or is *equivalent* (it
changes nothing a client of the adapter contract could observe through the
target's adapter, e.g. GridLedger's mapping) and is then listed in
:data:`EQUIVALENT` with the reason, or is a real difference that no SHALL of
the standard decides, listed in :data:`UNJUDGED` with the reason (and still
scored as a survivor).

Usage (from the repository root)::

    python tools/mutation.py                      # every mutant of the default targets
    python tools/mutation.py --sample 40          # 40 mutants, chosen by the seed
    python tools/mutation.py --list               # the mutants, not run
    python tools/mutation.py --target FILE=SPEC   # another registry (repeatable)
    python tools/mutation.py --target gridledger --sample 30 --fast   # GridLedger, in process
    nice -n 10 python tools/mutation.py -j 2      # a full campaign on a shared machine

A target is a source file of an in-process registry and the adapter spec
(``package.module:Class``) that puts it under test. The mutant is loaded under
the file's own module name and the adapter's package is imported again on top
of it, in a forked child (so nothing leaks between mutants and a mutant that
hangs is killed after ``--timeout`` seconds: a hang is an *error* verdict, and
counts as killed). The checks run through :func:`gc_conformance.runner.execute_check`
at the default depth (``--max-examples 60``, seed 0), the fast targeted checks
first and the property-based ones last, stopping at the first check that does
not pass.

Exit status: 0 when the score (killed / non-equivalent) reaches ``--fail-under``
(default 0, i.e. report only), 1 below it, 2 when the unchanged registry does not
pass the suite to begin with.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import multiprocessing
import multiprocessing.connection
import random
import re
import sys
import time
import types
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

#: The registries mutated by default: (source file, adapter spec).
DEFAULT_TARGETS = (
    ("examples/toy_registry/registry.py", "examples.toy_registry.adapter:ToyAdapter"),
)
#: Targets by name (``--target gridledger``): the realistic example's storage and rules, run in
#: process through its mapping file (tools/gridledger_inprocess.py).
NAMED_TARGETS = {
    "gridledger": (
        "examples/real_registry/ledger.py",
        "tools.gridledger_inprocess:GridLedgerInProcess",
    ),
    # The same ledger with its test clock on: the one-second validity edges a wall clock
    # cannot reach (the survivors UNJUDGED names "a wall clock cannot place a request").
    "gridledger-clock": (
        "examples/real_registry/ledger.py",
        "tools.gridledger_inprocess:GridLedgerTestClockInProcess",
    ),
}

_TOY = "examples/toy_registry/registry.py"
_NUMBERING = "numbering is the vendor's own: the suite compares IDs only relative to each other"
_MESSAGE = "the refusal's free text only; its number (mapped to the canonical code) is unchanged"

#: Equivalent mutants: they change only what the standard leaves to the vendor (numbering,
#: message text, a reading the standard leaves open), so no conformance suite may tell them
#: apart. Not scored. By (file, function, mutation), with the reason; the smoke test fails
#: when a key no longer names a mutant, so the list cannot go stale.
EQUIVALENT: dict[tuple[str, str, str], str] = {
    (_TOY, "<module>", "`1000000` -> `1000001`"): _NUMBERING,
    (_TOY, "<module>", "`1000000` -> `999999`"): _NUMBERING,
    (_TOY, "ToyLedger.__init__", "`1` -> `2`"): _NUMBERING,
    (_TOY, "ToyLedger.__init__", "`1` -> `0`"): _NUMBERING,
    (_TOY, "ToyLedger.__init__", "`1` -> `2` #2"): _NUMBERING,
    (_TOY, "ToyLedger.__init__", "`1` -> `0` #2"): _NUMBERING,
    (_TOY, "ToyLedger.record_reading", "`+` -> `-` in `self._next_lot += 1`"): _NUMBERING
    + " (lot IDs count down, still unique)",
    (_TOY, "ToyLedger.record_reading", "`1` -> `2`"): _NUMBERING + " (lot IDs step by 2)",
    (_TOY, "ToyLedger._new_parcel_id", "`+` -> `-` in `self._next_parcel += 1`"): _NUMBERING
    + " (bundle IDs count down, still unique)",
    (_TOY, "ToyLedger._new_parcel_id", "`1` -> `2`"): _NUMBERING + " (bundle IDs step by 2)",
    (
        _TOY,
        "LedgerError.__init__",
        "statement removed: `super().__init__(f'E{fault.value} {fault.name}: {text}')`",
    ): _MESSAGE,
    (_TOY, "LedgerError.__init__", "statement removed: `self.text = text`"): _MESSAGE,
    (_TOY, "_energy", "`<` -> `<=` in `energy < 0`"): "a reading of exactly 0 Wh refused "
    "instead of issuing nothing: the standard allows both (SPLIT-004: nothing is issued either way)",
    (_TOY, "_energy", "`>` -> `>=` in `energy.adjusted() > 18`"): "the toy's own ceiling of "
    "10^18-10^19 Wh: no clause sets one, and under the declared NAMEPLATE plausibility no "
    "device can produce that much anyway",
    (_TOY, "_energy", "`18` -> `19`"): "as above (the ceiling moves to 10^20 Wh)",
    (_TOY, "_energy", "`18` -> `17`"): "as above (the ceiling moves to 10^18 Wh)",
}

_GRID = "examples/real_registry/ledger.py"
_ROLLING = (
    "GridLedger's --validity rolling-12-months option (or its check of the option's value): "
    "the target runs under the CALENDAR_YEAR reading mapping.json declares; "
    "tests/examples/test_real_registry.py runs the rolling one"
)
EQUIVALENT.update(
    {
        (
            _GRID,
            "_int_or_text",
            "`and` -> `or` in `isinstance(value, int) and (not isinstance(value, bool)) and "
            "(abs(v...`",
        ): "every integer ID goes to sqlite as its text, which sqlite compares with an INTEGER "
        "PRIMARY KEY as that integer: the same rows are found",
        (_GRID, "_energy", "`18` -> `17`"): "GridLedger's own ceiling of 10^18 Wh moves to "
        "10^17 Wh: no clause sets one, and no device of a declared capacity produces that much",
        (_GRID, "_energy", "`18` -> `19`"): "as above (the ceiling moves to 10^20 Wh)",
        (_GRID, "_energy", "`>` -> `>=` in `energy.adjusted() > 18`"): "as above (the ceiling "
        "moves to 10^18 Wh)",
        (
            _GRID,
            "_int_or_text",
            "condition negated: `if isinstance(value, int) and (not isinstance(value, bool)) "
            "and (abs(v...`",
        ): "as the `and` -> `or` above: sqlite finds the same rows by an ID's text",
        **{
            (_GRID, "_int_or_text", mutation): "IDs within 64 bits go to sqlite as their text "
            "from a lower bound on: sqlite compares such a text with an INTEGER PRIMARY KEY as "
            "that integer, so the same rows are found (IDs beyond 64 bits: "
            "edges.ids.beyond_64_bits_name_nothing)"
            for mutation in ("`63` -> `62`", "`19` -> `18`", "`2` -> `1`")
        },
        (
            _GRID,
            "Ledger.__init__",
            "statement removed: `self._db.execute('PRAGMA journal_mode = WAL')`",
        ): "the database's journal mode: nothing a client can observe",
        (
            _GRID,
            "Ledger._bundles",
            "`or` -> `and` in `bundle_id is None or isinstance(bundle_id, bool | dict | list | "
            "float)`",
        ): "such a bundle ID is then looked up as its text and named no bundle: refused either "
        "way, and the standard fixes no code for it",
        (
            _GRID,
            "Ledger.__init__",
            "statement removed: `self._db.execute('PRAGMA synchronous = NORMAL')`",
        ): "the database's durability setting: nothing a client can observe",
        (_GRID, "Ledger.create_device", "`True` -> `False`"): "a device's location is stored as "
        "JSON with its keys in another order: the same object",
        (
            _GRID,
            "Ledger._bundles",
            "statement removed: `raise Refused(422, f'bundle id {bundle_id!r} is not an "
            "identifier')`",
        ): "as the `or` -> `and` above: such an ID then names no bundle, refused either way",
        **{
            (_GRID, "_end_of_validity", mutation): _ROLLING
            for mutation in (
                "`+` -> `-` in `production_end.year + 1`",
                "`1` -> `2`",
                "`1` -> `0`",
                "`+` -> `-` in `production_end.year + 1` #2",
                "`1` -> `2` #2",
                "`1` -> `0` #2",
                "`28` -> `29`",
                "`28` -> `27`",
            )
        },
        (
            _GRID,
            "Ledger.__init__",
            'statement removed: `raise ValueError(f"validity {validity!r} is not one of '
            "{', '.join(V...`",
        ): _ROLLING,
    }
)
EQUIVALENT.update(
    {
        (_GRID, "_energy", "`<` -> `<=` in `energy < 0`"): "a reading of exactly 0 Wh refused "
        "instead of issuing nothing: the standard allows both (SPLIT-004: nothing is issued "
        "either way), as in the toy",
        (_GRID, "Refused.__init__", "statement removed: `super().__init__(text)`"): "the "
        "exception's own message only: the HTTP layer answers with its `text`, which is unchanged",
        **{
            (_GRID, "Ledger.submit_reading", f"`0` -> `{to}` #2"): "the answer's own `issued_wh` "
            "for a reading that issues nothing: the mapping infers the result from the state "
            "(infer_result), which holds no new bundle either way"
            for to in ("1", "-1")
        },
        (_GRID, "Ledger.create_account", "`0` -> `-1`"): "`users[-1]` for `users[0]`: the line "
        "before refuses every `user_ids` but a list of exactly one, so both name the same holder",
    }
)

#: Mutants that differ only on requests the adapter contract cannot express, so that no
#: client of the contract (here: through GridLedger's mapping) can observe them, as the
#: status-only mutants below: body fields and query parameters the mapping never sends,
#: `user_ids` and `bundle_ids` lists other than the list of one it always sends. Not scored,
#: each listed by name with the request only GridLedger's own API can make.
_OUTSIDE_CONTRACT = (
    "outside the contract: only a request the mapping never makes (GridLedger's own API) tells "
    "it apart"
)
EQUIVALENT.update(
    {
        **{
            (_GRID, function, f"statement removed: `_only(body, {fields}`"): _OUTSIDE_CONTRACT
            + " (a body field the API does not know is ignored instead of refused; no SHALL asks "
            "an API to refuse unknown fields)"
            for function, fields in (
                ("Ledger.create_account", "'reference', 'name', 'user_ids', 'exemption')"),
                (
                    "Ledger.submit_reading",
                    "'device_id', 'meter_id', 'start', 'end', 'energy_wh', '...",
                ),
                ("Ledger.withdraw", "'bundle_ids', 'reason', 'quantity_wh', 'source_id', 'us..."),
                ("Ledger.cancel", "'bundle_ids', 'beneficiary', 'quantity_wh', 'purpose', ..."),
                ("Ledger.create_user", "'name')"),
                ("Ledger.create_device", "*fields)"),
                ("Ledger.transfer", "'bundle_ids', 'target_account_id', 'quantity_wh', 'sour..."),
                ("Ledger.claim", "'bundle_ids', 'claimant', 'quantity_wh', 'source_id', '..."),
            )
        },
        (
            _GRID,
            "_only",
            "statement removed: `raise Refused(422, f'unexpected field {extra[0]!r}')`",
        ): _OUTSIDE_CONTRACT + " (every body field the API does not know is ignored, as above)",
        **{
            (_GRID, "Ledger._bundles", mutation): _OUTSIDE_CONTRACT
            + " (`bundle_ids` other than a list of one ID: an empty list, several bundles with "
            "or without a quantity; each contract action names one bundle, which the mapping "
            "always sends as a list of one)"
            for mutation in (
                "`or` -> `and` in `not isinstance(ids, list) or not ids`",
                "`is not` -> `is` in `wanted is not None`",
                "statement removed: `raise Refused(422, 'a quantity can be given for one bundle "
                "only')`",
            )
        },
        (
            _GRID,
            "Ledger.query",
            "statement removed: `raise Refused(400, f'unknown query parameter {unknown[0]!r}')`",
        ): _OUTSIDE_CONTRACT
        + " (a query parameter the API does not know is ignored instead of refused; the mapping "
        "sends only those it declares, and no SHALL asks an API to refuse unknown ones)",
        (_GRID, "Ledger.query", "`400` -> `399`"): _OUTSIDE_CONTRACT
        + " (the unknown query parameter above answered 399 instead of 400)",
        **{
            (_GRID, "Ledger.create_account", mutation): _OUTSIDE_CONTRACT
            + " (`user_ids` other than a list of one is no longer refused: the contract's "
            "account has one holder, always sent as a list of one; the standard does not say "
            "how many holders an account may have)"
            for mutation in (
                "statement removed: `raise Refused(422, 'user_ids must list exactly one account "
                "holder')`",
                "`or` -> `and` in `not isinstance(users, list) or len(users) != 1`",
            )
        },
    }
)

#: Mutants only the HTTP status of a refusal: any 4xx is a refusal, whose code GridLedger's
#: mapping reads from the text (``errors.patterns``); filled in once mutants can be listed.
_STATUS_ONLY = re.compile(r"^`4\d\d` -> `(?!408|429)4\d\d`( #\d+)?$")  # 408/429: no verdict
_STATUS_REASON = (
    "a refusal's HTTP status moved within 4xx: still a refusal, and the mapping reads its "
    "canonical code from the text"
)

#: Surviving mutants that are real differences, but ones no SHALL of the standard decides:
#: scored as survivors (never hidden), printed with the reason no check may fail them.
UNJUDGED: dict[tuple[str, str, str], str] = {
    **{
        (_TOY, function, "statement removed: `self._last_change = when`"): "time order of "
        "actions (IT-005) is a SHOULD: the toy forgets the instant of this action only for "
        "its ordering rule"
        for function in (
            "ToyLedger.open_account",
            "ToyLedger.register_unit",
            "ToyLedger.record_reading",
        )
    },
    (
        _TOY,
        "ToyLedger.open_account",
        "statement removed: `raise LedgerError(Fault.BAD_FIELD, \"only the operator's own "
        "account...`",
    ): "an exemption on a holder's own account (D2 exemptions are the issuer's) is refused by "
    "the model as a malformed field; no SHALL of the standard says so",
    **{
        (_TOY, function, "statement removed: `self._still_valid(parcel, when)`"): "a "
        + what
        + " of certificates past their validity that no sweep has marked expired: VAL-004 "
        "names transfer, cancellation and reservation only (VAL-003 needs the expiry sweep)"
        for function, what in (("ToyLedger.unhold", "release"), ("ToyLedger.revoke", "withdrawal"))
    },
    (_TOY, "ToyLedger.find", "`<` -> `<=` in `window[0] < window[1]`"): "an empty query window "
    "(start = end) answered with no bundles instead of refused: both are exact answers (IT-003)",
    (
        _TOY,
        "ToyLedger._parcel",
        "statement removed: `raise LedgerError(Fault.BAD_FIELD, 'parcel is required')`",
    ): "a request without a bundle ID is refused as naming no bundle (UNKNOWN_BUNDLE) instead of "
    "as malformed: refused either way (IT-004), and the standard fixes no code for it",
    (_GRID, "Ledger.query", "`<` -> `<=` in `window[0] < window[1]`"): "an empty query window "
    "(start = end) answered with no bundles instead of refused: both are exact answers (IT-003), "
    "as in the toy (a reversed window matching a bundle: edges.query.production_period_bounds)",
    (_GRID, "Ledger.create_user", "statement removed: `_issuer_only(user)`"): "a holder may add "
    "a user (not an account: opening accounts stays the issuer's, AUTH rules hold); users are "
    "no part of the state the contract shows",
    (_GRID, "Ledger._usable", "statement removed: `self._still_valid(db, bundle, now)`"): "use "
    "after the end of a CALENDAR_YEAR validity, as the `_still_valid` mutants below",
    (_GRID, "Ledger.withdraw", "statement removed: `self._still_valid(db, bundle, now)`"): "a "
    "withdrawal of certificates past their validity: VAL-004 names transfer, cancellation and "
    "reservation only (as in the toy)",
    (
        _GRID,
        "Ledger.query",
        "`or` -> `and` in `'period_start' in params or 'period_end' in params`",
    ): "a query window given by one end only is ignored instead of read: the mapping always "
    "sends both ends, and no SHALL says what a half-open window means",
    (
        _GRID,
        "Ledger._account",
        "statement removed: `raise Refused(422, 'account_id is required')`",
    ): "a missing account is then refused as naming no account instead of as malformed: refused "
    "either way (IT-004), and the standard fixes no code for it",
    (
        _GRID,
        "Ledger._still_valid",
        "`>=` -> `>` in `now >= _instant(row['valid_until'], 'valid_until')`",
    ): "a use in the very second validity ends: a wall clock cannot place a "
    "request in that second (edges.validity.at_the_end_of_validity judges it on a controlled "
    "clock)",
    (
        _GRID,
        "Ledger._still_valid",
        'statement removed: `raise Refused(422, f"the certificates expired at '
        "{row['valid_until'...`",
    ): "use after the end of a CALENDAR_YEAR validity: with a wall clock reachable only in the "
    "year's last minute (edges.validity.use_after_end_wall_clock judges rolling readings)",
    **{
        (_GRID, "_end_of_validity", f"`1` -> `2` #{n}"): f"validity ending on {day} instead of "
        "1 January: a wall clock sees the difference only in January (the rest of the year the "
        "year before's production is refused as too old either way)"
        for n, day in ((5, "1 February"), (6, "2 January"))
    },
}

UNJUDGED.update(
    {
        (
            _GRID,
            "Ledger.create_account",
            "statement removed: `raise Refused(422, \"exemption: only the issuing body's own "
            "accounts...`",
        ): "an exemption on a holder's own account (D2 exemptions are the issuer's) is accepted, "
        "as in the toy: no SHALL of the standard refuses it (the holder's account is then only "
        "more restricted)",
        (
            _GRID,
            "Ledger.transfer",
            "statement removed: `raise Refused(422, 'target_account_id is required')`",
        ): "a transfer without a target is still refused as malformed (INVALID_FIELD, by the "
        "account lookup), only after the bundle's own faults: which of two faults a request "
        "with both is refused for, no SHALL orders",
        (_GRID, "Ledger._render", "`True` -> `False`"): "every GC is stated as not usable to "
        "inform consumers of their energy's origin (disclosure false): D5 asks that the flag be "
        "stated, not what it is, and which GCs a scheme discloses is its own decision",
        (_GRID, "Ledger.submit_reading", "`>` -> `>=` in `finish > now`"): "production whose "
        "interval ends in the very second of the request is refused as not ended: a wall clock "
        "cannot place a request in that second (edges.production.interval_ending_now judges it "
        "on a controlled clock)",
        (_GRID, "Ledger.submit_reading", "`>=` -> `>` in `now >= valid_until`"): "production "
        "issued in the very second its validity ends: under CALENDAR_YEAR a wall clock reaches "
        "that second only at the turn of the year (edges.validity.at_the_end_of_validity judges "
        "it on a controlled clock)",
    }
)

#: GridLedger survivors of the wall-clock target that the same suite kills once the clock can be
#: moved (``--target gridledger-clock``, GridLedger's test header): mutant -> the killing check.
#: Measured with ``--target gridledger-clock --fast --only FUNCTION`` on the four functions they
#: sit in (77 non-equivalent mutants there, 76 killed; the survivor is the withdrawal above).
KILLED_ON_TEST_CLOCK: dict[tuple[str, str, str], str] = {
    (_GRID, "Ledger._usable", "statement removed: `self._still_valid(db, bundle, now)`"): (
        "edges.validity.at_the_end_of_validity"
    ),
    (
        _GRID,
        "Ledger._still_valid",
        "`>=` -> `>` in `now >= _instant(row['valid_until'], 'valid_until')`",
    ): "edges.validity.at_the_end_of_validity",
    (
        _GRID,
        "Ledger._still_valid",
        'statement removed: `raise Refused(422, f"the certificates expired at '
        "{row['valid_until'...`",
    ): "edges.validity.at_the_end_of_validity",
    (_GRID, "_end_of_validity", "`1` -> `2` #5"): "edges.validity.at_the_end_of_validity",
    (_GRID, "_end_of_validity", "`1` -> `2` #6"): "edges.validity.at_the_end_of_validity",
    (_GRID, "Ledger.submit_reading", "`>` -> `>=` in `finish > now`"): (
        "edges.production.interval_ending_now"
    ),
    (_GRID, "Ledger.submit_reading", "`>=` -> `>` in `now >= valid_until`"): (
        "edges.validity.at_the_end_of_validity"
    ),
}


# ====================================================================== mutants


@dataclass(frozen=True)
class Mutant:
    file: str  # relative to the repository root
    index: int  # the mutated node's place in the walk (with ``variant``: which change)
    variant: int
    line: int
    function: str  # qualified name of the enclosing function or class ("<module>")
    description: str  # e.g. "`<` -> `<=` in `done_start < finish`"
    occurrence: int = 1  # the n-th mutant with the same (file, function, description)

    @property
    def key(self) -> tuple[str, str, str]:
        suffix = f" #{self.occurrence}" if self.occurrence > 1 else ""
        return self.file, self.function, self.description + suffix

    def where(self) -> str:
        return f"{self.file}:{self.line} ({self.function})"


_BINOPS: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.FloorDiv,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult,
    ast.Mod: ast.FloorDiv,
}
_CMPOPS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
_SYMBOL = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
    ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=",
    ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not",
    ast.And: "and", ast.Or: "or",
}  # fmt: skip


def _short(node: ast.AST, limit: int = 70) -> str:
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _changes(
    node: ast.AST, in_function: bool = True
) -> list[tuple[str, Callable[[ast.AST], ast.AST | None]]]:
    """The mutations of one node: (description, function changing a copy of it in place).

    A function returns a replacement node, or None when it changed the node in place.
    Statements are removed only inside functions (removing a definition is a crash at
    import, which tells nothing).
    """
    found: list[tuple[str, Callable[[ast.AST], ast.AST | None]]] = []

    def swap_op(new: type[ast.AST]) -> Callable[[ast.AST], None]:
        def apply(target: ast.AST) -> None:
            target.op = new()  # type: ignore[attr-defined]

        return apply

    if isinstance(node, ast.BinOp | ast.AugAssign) and type(node.op) in _BINOPS:
        new = _BINOPS[type(node.op)]
        found.append(
            (f"`{_SYMBOL[type(node.op)]}` -> `{_SYMBOL[new]}` in `{_short(node)}`", swap_op(new))
        )
    if isinstance(node, ast.BoolOp):
        new_bool: type[ast.boolop] = ast.Or if isinstance(node.op, ast.And) else ast.And
        found.append(
            (
                f"`{_SYMBOL[type(node.op)]}` -> `{_SYMBOL[new_bool]}` in `{_short(node)}`",
                swap_op(new_bool),
            )
        )
    if isinstance(node, ast.Compare):
        for position, op in enumerate(node.ops):
            if type(op) not in _CMPOPS:
                continue
            new_cmp = _CMPOPS[type(op)]

            def apply_cmp(target: ast.AST, position: int = position, new: Any = new_cmp) -> None:
                target.ops[position] = new()  # type: ignore[attr-defined]

            found.append(
                (f"`{_SYMBOL[type(op)]}` -> `{_SYMBOL[new_cmp]}` in `{_short(node)}`", apply_cmp)
            )
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        found.append((f"`not` removed in `{_short(node)}`", lambda target: target.operand))  # type: ignore[attr-defined]
    if isinstance(node, ast.Constant) and type(node.value) is int:
        value = node.value
        for new_value in (value + 1, value - 1):

            def apply_int(target: ast.AST, new_value: int = new_value) -> None:
                target.value = new_value  # type: ignore[attr-defined]

            found.append((f"`{value}` -> `{new_value}`", apply_int))
    if isinstance(node, ast.Constant) and type(node.value) is bool:
        flipped = not node.value

        def apply_bool(target: ast.AST, flipped: bool = flipped) -> None:
            target.value = flipped  # type: ignore[attr-defined]

        found.append((f"`{node.value}` -> `{flipped}`", apply_bool))
    if isinstance(node, ast.If):
        found.append(
            (
                f"condition negated: `if {_short(node.test)}`",
                lambda target: setattr(
                    target,
                    "test",
                    ast.UnaryOp(ast.Not(), target.test),  # type: ignore[attr-defined]
                ),
            )
        )
    if in_function and (
        isinstance(node, ast.Raise | ast.Assign | ast.AugAssign)
        or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call))
    ):
        found.append((f"statement removed: `{_short(node)}`", lambda target: ast.Pass()))
    return found


def _walk(tree: ast.Module) -> Iterator[tuple[ast.AST, str, bool]]:
    """Every node worth mutating with its enclosing function, in a fixed order.

    Left out: docstrings, f-strings (error messages), annotations, decorators,
    the ``if TYPE_CHECKING`` and ``__future__`` lines, none of which a client sees, and the
    assignments of a class body (enum members: their numbers are the vendor's own).
    """

    def visit(node: ast.AST, scope: str, kind: str) -> Iterator[tuple[ast.AST, str, bool]]:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            scope = node.name if scope == "<module>" else f"{scope}.{node.name}"
            inner = "class" if isinstance(node, ast.ClassDef) else "function"
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                body = body[1:]
            for child in body:
                yield from visit(child, scope, inner)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for default in node.args.defaults + [
                    d for d in node.args.kw_defaults if d is not None
                ]:
                    yield from visit(default, scope, kind)
            return
        if kind == "class" and isinstance(node, ast.Assign | ast.AnnAssign):
            return
        if isinstance(node, ast.JoinedStr | ast.ImportFrom | ast.Import):
            return
        if isinstance(node, ast.If) and _short(node.test) == "TYPE_CHECKING":
            return
        if isinstance(node, ast.AnnAssign):
            if node.value is not None:
                yield from visit(node.value, scope, kind)
            return
        if isinstance(node, ast.arg):
            return
        yield node, scope, kind == "function"
        for child in ast.iter_child_nodes(node):
            yield from visit(child, scope, kind)

    body = tree.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    for statement in body:
        yield from visit(statement, "<module>", "module")


def mutants_of(path: str) -> list[Mutant]:
    """Every mutant of the source file ``path`` (relative to the repository root)."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    mutants: list[Mutant] = []
    seen: dict[tuple[str, str], int] = {}
    for index, (node, scope, in_function) in enumerate(_walk(tree)):
        for variant, (description, _) in enumerate(_changes(node, in_function)):
            count = seen[(scope, description)] = seen.get((scope, description), 0) + 1
            line = getattr(node, "lineno", 0)
            mutants.append(Mutant(path, index, variant, line, scope, description, count))
    return mutants


def mutated_source_tree(mutant: Mutant) -> ast.Module:
    """The mutant's module, as a tree ready to compile."""
    tree = ast.parse((ROOT / mutant.file).read_text(encoding="utf-8"))
    for index, (node, _, in_function) in enumerate(_walk(tree)):
        if index != mutant.index:
            continue
        _, apply = _changes(node, in_function)[mutant.variant]
        replacement = apply(node)
        if replacement is not None:
            _replace(tree, node, replacement)
        return ast.fix_missing_locations(tree)
    raise LookupError(f"{mutant.key}: the source changed since the mutants were listed")


def _replace(tree: ast.AST, old: ast.AST, new: ast.AST) -> None:
    for parent in ast.walk(tree):
        for name, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, name, ast.copy_location(new, old))
                return
            if isinstance(value, list) and any(item is old for item in value):
                position = next(i for i, item in enumerate(value) if item is old)
                value[position] = ast.copy_location(new, old)
                return


# ====================================================================== running


@dataclass
class Outcome:
    mutant: Mutant
    killed: bool
    by: str  # the check that killed it, or why (timeout, import error)
    seconds: float


@dataclass
class Options:
    max_examples: int = 60
    seed: int = 0
    timeout: float = 120.0
    jobs: int = 1
    checks: tuple[str, ...] = ()  # only these (default: every claimed check)
    slow: bool = True  # run the property-based checks too
    extra: dict[str, Any] = field(default_factory=dict)


def _module_name(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".")


def _load_adapter(mutant: Mutant | None, spec: str) -> Any:
    """Build the adapter of ``spec`` with ``mutant`` in place of its file's module (child only)."""
    if str(ROOT) not in sys.path:
        sys.path.append(str(ROOT))
    module_name, _, attribute = spec.partition(":")
    if mutant is not None:
        name = _module_name(mutant.file)
        # The adapter's package and the mutated file's are imported again on top of the mutant
        # (they may differ: an in-process HTTP adapter in tools/ over examples/real_registry).
        packages = {module_name.rsplit(".", 1)[0], name.rsplit(".", 1)[0]}
        for package in packages:
            stale = [m for m in sys.modules if m == module_name or m.startswith(package + ".")]
            for loaded in stale:
                if loaded not in packages:
                    del sys.modules[loaded]
            importlib.import_module(package)
        code = compile(mutated_source_tree(mutant), str(ROOT / mutant.file), "exec")
        module = types.ModuleType(name)
        module.__file__ = str(ROOT / mutant.file)
        module.__package__ = name.rpartition(".")[0]
        sys.modules[name] = module
        exec(code, module.__dict__)
    return getattr(importlib.import_module(module_name), attribute)()


def _ordered_checks(capabilities: Any, options: Options) -> list[Any]:
    from gc_conformance.checks import all_checks

    chosen = [c for c in all_checks() if c.profile in capabilities.profiles]
    if options.checks:
        chosen = [c for c in chosen if c.check_id in options.checks]
    if not options.slow:
        chosen = [c for c in chosen if not c.slow]
    return sorted(chosen, key=lambda c: (c.slow, c.check_id))


def run_suite(mutant: Mutant | None, spec: str, options: Options) -> tuple[bool, str]:
    """(whether every check passed, the first check that did not and its status)."""
    from gc_conformance.adapter import Capabilities
    from gc_conformance.outcomes import Status
    from gc_conformance.runner import RunOptions, execute_check

    try:
        adapter = _load_adapter(mutant, spec)
        capabilities = Capabilities.from_plain(adapter.capabilities())
    except Exception as exc:  # a mutant that cannot even start is caught at once
        return False, f"adapter could not start: {type(exc).__name__}: {exc}"
    run_options = RunOptions(
        adapter_spec=spec,
        seed=options.seed,
        max_examples=options.max_examples,
        check_timeout=None,  # the parent's per-mutant timeout bounds a hang
    )
    for check in _ordered_checks(capabilities, options):
        result = execute_check(check, adapter, capabilities, run_options)
        if result.status not in (Status.PASS, Status.SKIP):
            return False, f"{check.check_id} ({result.status.value})"
    return True, ""


def _child(mutant: Mutant, spec: str, options: Options, sender: Any) -> None:
    try:
        sender.send(run_suite(mutant, spec, options))
    except BaseException as exc:
        sender.send((False, f"crashed: {type(exc).__name__}: {exc}"))
    finally:
        sender.close()


def run_mutants(
    mutants: Sequence[Mutant],
    specs: dict[str, str],
    options: Options,
    progress: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Run each mutant in a forked child, ``options.jobs`` at a time; the outcomes in order."""
    context = multiprocessing.get_context("fork")
    pending = list(enumerate(mutants))
    running: dict[int, tuple[Any, Any, float]] = {}
    outcomes: dict[int, Outcome] = {}
    while pending or running:
        while pending and len(running) < max(1, options.jobs):
            position, mutant = pending.pop(0)
            receiver, sender = context.Pipe(duplex=False)
            process = context.Process(
                target=_child, args=(mutant, specs[mutant.file], options, sender), daemon=True
            )
            process.start()
            sender.close()
            running[position] = (process, receiver, time.monotonic())
        ready = multiprocessing.connection.wait([r for _, r, _ in running.values()], timeout=0.5)
        for position in list(running):
            process, receiver, started = running[position]
            elapsed = time.monotonic() - started
            verdict: tuple[bool, str] | None = None
            if receiver in ready:
                try:
                    verdict = receiver.recv()
                except EOFError:
                    verdict = (False, f"crashed (exit {process.exitcode})")
            elif elapsed > options.timeout:
                process.kill()
                verdict = (False, f"timeout after {options.timeout:g} s (an error verdict)")
            if verdict is None:
                continue
            process.join(5)
            receiver.close()
            del running[position]
            passed, by = verdict
            outcome = Outcome(mutants[position], not passed, by, elapsed)
            outcomes[position] = outcome
            if progress is not None:
                progress(outcome)
    return [outcomes[i] for i in range(len(mutants))]


# ====================================================================== the report


@dataclass
class Score:
    killed: int
    survived: list[Outcome]
    equivalent: list[Outcome]  # survivors on the allow-list
    equivalent_killed: list[Outcome]  # on the allow-list but killed: the list is wrong
    total: int

    @property
    def scored(self) -> int:
        return self.total - len(self.equivalent)

    @property
    def percent(self) -> float:
        return 100.0 * self.killed / self.scored if self.scored else 100.0


def score(outcomes: Sequence[Outcome], equivalent: dict[tuple[str, str, str], str]) -> Score:
    killed = [o for o in outcomes if o.killed]
    survivors = [o for o in outcomes if not o.killed]
    return Score(
        killed=len([o for o in killed if o.mutant.key not in equivalent]),
        survived=[o for o in survivors if o.mutant.key not in equivalent],
        equivalent=[o for o in survivors if o.mutant.key in equivalent],
        equivalent_killed=[o for o in killed if o.mutant.key in equivalent],
        total=len(outcomes),
    )


def report(result: Score, equivalent: dict[tuple[str, str, str], str]) -> str:
    lines = [
        f"mutants: {result.total}; equivalent (allow-listed): {len(result.equivalent)}; "
        f"killed {result.killed} of {result.scored} non-equivalent = {result.percent:.1f} %"
    ]
    if result.survived:
        lines.append("survivors:")
        lines += [
            f"  {o.mutant.where()}: {o.mutant.description}"
            + (f" -- unjudged: {UNJUDGED[o.mutant.key]}" if o.mutant.key in UNJUDGED else "")
            + (
                f" (killed by {KILLED_ON_TEST_CLOCK[o.mutant.key]} on --target gridledger-clock)"
                if o.mutant.key in KILLED_ON_TEST_CLOCK
                else ""
            )
            for o in result.survived
        ]
    if result.equivalent:
        lines.append("equivalent (not scored):")
        lines += [
            f"  {o.mutant.where()}: {o.mutant.description} -- {equivalent[o.mutant.key]}"
            for o in result.equivalent
        ]
    if result.equivalent_killed:
        lines.append("allow-listed as equivalent but killed (remove from EQUIVALENT):")
        lines += [f"  {o.mutant.where()}: {o.mutant.description}" for o in result.equivalent_killed]
    return "\n".join(lines)


def _status_only_equivalents(path: str) -> dict[tuple[str, str, str], str]:
    """The mutants of ``path`` that only move a refusal's HTTP status within 4xx."""
    if not (ROOT / path).is_file():
        return {}
    return {m.key: _STATUS_REASON for m in mutants_of(path) if _STATUS_ONLY.match(m.description)}


EQUIVALENT.update(_status_only_equivalents(_GRID))


def outcomes_in_log(mutants: Sequence[Mutant], log: str) -> tuple[list[Mutant], list[Mutant]]:
    """(the mutants a ``--verbose`` log shows killed, those it shows SURVIVED), matched by
    location and mutation in the log's order (mutants on one line with the same mutation
    appear in the order they were listed when run with ``-j 1``)."""
    waiting: dict[str, list[Mutant]] = {}
    for mutant in mutants:
        waiting.setdefault(f"{mutant.where()}: {mutant.description}", []).append(mutant)
    killed: list[Mutant] = []
    survived: list[Mutant] = []
    for line in log.splitlines():
        if line.endswith(": SURVIVED"):
            name, into = line.removesuffix(": SURVIVED"), survived
        elif ": killed by " in line:
            name, into = line.split(": killed by ", 1)[0], killed
        else:
            continue
        queue = waiting.get(name)
        if queue:
            into.append(queue.pop(0))
    return killed, survived


# ====================================================================== command line


def _targets(values: Sequence[str]) -> dict[str, str]:
    if not values:
        return dict(DEFAULT_TARGETS)
    targets = {}
    for value in values:
        if value in NAMED_TARGETS:
            path, spec = NAMED_TARGETS[value]
            targets[path] = spec
            continue
        path, sep, spec = value.partition("=")
        if not sep or not (ROOT / path).is_file():
            raise SystemExit(f"--target {value!r}: use FILE=package.module:Class, FILE existing")
        targets[path] = spec
    return targets


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="FILE=SPEC",
        help=f"a registry to mutate, or one of: {', '.join(NAMED_TARGETS)}",
    )
    parser.add_argument("--sample", type=int, default=0, help="run only N mutants (by --seed)")
    parser.add_argument("--only", default="", help="only mutants whose location contains this")
    parser.add_argument(
        "--rerun",
        type=Path,
        help="only the mutants a previous --verbose log shows SURVIVED (those it shows killed "
        "are scored as killed)",
    )
    parser.add_argument("--list", action="store_true", help="list the mutants; run nothing")
    parser.add_argument("--max-examples", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per mutant")
    parser.add_argument("-j", "--jobs", type=int, default=1)
    parser.add_argument("--fast", action="store_true", help="leave out property-based checks")
    parser.add_argument("--check", action="append", default=[], help="only these checks")
    parser.add_argument("--fail-under", type=float, default=0.0, metavar="PERCENT")
    parser.add_argument("--verbose", action="store_true", help="print every mutant's outcome")
    parser.add_argument(
        "--run-equivalent", action="store_true", help="run the allow-listed equivalent mutants too"
    )
    args = parser.parse_args(argv)
    targets = _targets(args.target)
    mutants = [m for path in targets for m in mutants_of(path)]
    if args.only:
        mutants = [m for m in mutants if args.only in f"{m.where()} {m.description}"]
    killed_before: list[Mutant] = []
    unlogged: list[Mutant] = []  # with --rerun: equivalent mutants the log's run left out
    if args.rerun:
        everything = mutants
        killed_before, mutants = outcomes_in_log(mutants, args.rerun.read_text(encoding="utf-8"))
        logged = {id(m) for m in (*killed_before, *mutants)}
        unlogged = [m for m in everything if id(m) not in logged and m.key in EQUIVALENT]
    if args.sample and args.sample < len(mutants):
        mutants = sorted(
            random.Random(args.seed).sample(mutants, args.sample), key=lambda m: m.index
        )
    skipped = [] if args.run_equivalent else [m for m in mutants if m.key in EQUIVALENT]
    skipped += unlogged
    mutants = [m for m in mutants if m not in skipped]
    if args.list:
        for m in mutants:
            print(f"{m.where()}: {m.description}")
        print(f"{len(mutants)} mutants")
        return 0
    options = Options(
        max_examples=args.max_examples,
        seed=args.seed,
        timeout=args.timeout,
        jobs=args.jobs,
        checks=tuple(args.check),
        slow=not args.fast,
    )
    for path, spec in targets.items():
        passed, by = run_suite(None, spec, options)
        if not passed:
            print(f"the unchanged registry {path} does not pass the suite: {by}")
            return 2
    started = time.monotonic()

    def progress(outcome: Outcome) -> None:
        if args.verbose:
            verdict = f"killed by {outcome.by}" if outcome.killed else "SURVIVED"
            print(f"{outcome.mutant.where()}: {outcome.mutant.description}: {verdict}", flush=True)

    outcomes = run_mutants(mutants, targets, options, progress)
    # Equivalent mutants are not run (they cannot be killed): counted as surviving equivalents.
    outcomes += [Outcome(m, False, "equivalent (not run)", 0.0) for m in skipped]
    # With --rerun, the mutants the log shows killed count as killed (the suite only grows).
    outcomes += [Outcome(m, True, f"killed in {args.rerun}", 0.0) for m in killed_before]
    result = score(outcomes, EQUIVALENT)
    print(report(result, EQUIVALENT))
    print(f"({time.monotonic() - started:.0f} s, {args.jobs} job(s), seed {args.seed}, "
          f"max-examples {args.max_examples})")  # fmt: skip
    return 0 if result.percent >= args.fail_under else 1


if __name__ == "__main__":
    sys.exit(main())
