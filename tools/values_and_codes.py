"""Generate docs/values-and-codes.md from the code: the values the reference registry answers
with and the code it gives in each situation a new adapter writer asks about.

Every row is *observed*: the generator drives the built-in reference adapter
through the harness's own :class:`~gc_conformance.session.Session` (the same
conversation a check has) and writes down what came back, so the page cannot
say something the oracle does not do. ``tests/test_values_and_codes.py`` fails
when the committed page differs from a fresh rendering.

    python tools/values_and_codes.py            # rewrite docs/values-and-codes.md
    python tools/values_and_codes.py --check    # exit 1 if the page is stale
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gc_conformance.adapter import Capabilities
from gc_conformance.adapters.reference import ReferenceAdapter
from gc_conformance.session import ISSUER_ID, Session, canonical_state

PAGE = Path(__file__).resolve().parents[1] / "docs" / "values-and-codes.md"


def _session() -> tuple[Session, Any]:
    adapter = ReferenceAdapter()
    session = Session(adapter, Capabilities.from_plain(adapter.capabilities()))
    return session, session.world()


def _issued(session: Session, world: Any, wh: int = 1000) -> Any:
    return session.issue("DEV-WIND", "M-WIND", 0, wh, account=world.account(world.alice))


def _code(session: Session, action: str, actor: str, **fields: Any) -> str:
    answer = session.send(action, actor, **fields)
    return "accepted" if answer.accepted else str(answer.code)


# ---------------------------------------------------------------- values


def _values() -> list[tuple[str, str, str]]:
    """(field, what the reference answers, what that means for an adapter)."""
    session, world = _session()
    bundle = _issued(session, world)
    (issued,) = session.bundles(bundle_id=bundle)
    stamp = str(issued["issuance_datestamp"])
    shape = re.sub(r"\d", "9", stamp)
    formats = {"9999-99-99": "a date, `YYYY-MM-DD` (no time, no zone)"}
    body = str(issued["issuing_body"])
    body_is = (
        "the GC Issuer's **ID** (`issuer_id` of `reset`), not its name"
        if body == ISSUER_ID
        else "something other than the issuer's ID"
    )
    rows = [
        ("issuance_datestamp", f"`{stamp!r}`", formats.get(shape, f"shape `{shape}`")),
        (
            "energy_carrier",
            f"`{issued['energy_carrier']!r}`",
            "this exact string (D1: electricity only)",
        ),
        ("issuing_body", f"`{body!r}`", body_is),
    ]
    for wire, label in (("'1000'", "text"), ("1000", "an integer"), ("1000.5", "a number")):
        session, world = _session()
        value: Any = eval(wire)  # three literals of our own
        code = _code(
            session,
            "submit_production",
            ISSUER_ID,
            device_id="DEV-WIND",
            meter_id="M-WIND",
            start=session.hour(0)[0],
            end=session.hour(0)[1],
            energy_wh=value,
        )
        rows.append((f"energy_wh as {label}", f"`{wire}` → {code}", _energy_note(label, code)))
    return rows


def _energy_note(label: str, code: str) -> str:
    if label == "text":
        return "the suite always sends text (a decimal string); accept it"
    if code == "accepted":
        return "accepted too: golden vectors and the differential check may send numbers"
    return "refused: the value must be text"


def _account_fields() -> list[tuple[str, str]]:
    from gc_conformance.checks import differential

    readers = [
        ("atomicity and state comparisons (session.canonical_state)", canonical_state),
        ("the differential check (holders)", differential.Lockstep.holders),
    ]
    rows = []
    for where, function in readers:
        fields = sorted(set(re.findall(r'a\.get\("(\w+)"\)', inspect.getsource(function))))
        rows.append((", ".join(f"`{f}`" for f in fields), where))
    return rows


# ---------------------------------------------------------------- codes


def _scenarios() -> list[tuple[str, str, str]]:
    """(situation, request, code the reference answers)."""
    rows: list[tuple[str, str, str]] = []

    def add(situation: str, request: str, run: Callable[[Session, Any], str]) -> None:
        session, world = _session()
        rows.append((situation, request, run(session, world)))

    def claim_active(s: Session, w: Any) -> str:
        return _code(s, "claim", w.alice, bundle_id=_issued(s, w), claimant="alice")

    def second_claim(s: Session, w: Any) -> str:
        bundle = _issued(s, w)
        s.accept("cancel", w.alice, bundle_id=bundle, beneficiary="alice")
        s.accept("claim", w.alice, bundle_id=bundle, claimant="alice")
        return _code(s, "claim", w.alice, bundle_id=bundle, claimant="alice")

    def release_active(s: Session, w: Any) -> str:
        return _code(s, "release", w.alice, bundle_id=_issued(s, w))

    def split_parent(s: Session, w: Any) -> str:
        bundle = _issued(s, w)
        s.accept("transfer", w.alice, bundle_id=bundle, to_account=w.account(w.bob), quantity=10)
        return _code(s, "transfer", w.alice, bundle_id=bundle, to_account=w.account(w.bob))

    def duplicate_device_unknown_account(s: Session, w: Any) -> str:
        from gc_conformance.session import device_record

        record = device_record("DEV-WIND", "M-WIND", "ACC-NOBODY", 1000, "wind")
        return _code(s, "register_device", ISSUER_ID, device=record)

    def foreign_query(s: Session, w: Any) -> str:
        _issued(s, w)
        return _code(s, "query", w.bob, account_id=w.account(w.alice))

    def exempt_cancel(s: Session, w: Any) -> str:
        account = "ACC-ISSUER-OWN"
        s.accept(
            "open_account",
            ISSUER_ID,
            account={
                "account_id": account,
                "holder_id": ISSUER_ID,
                "account_name": "issuer own consumption",
                "exemption": "OWN_CONSUMPTION",
            },
        )
        bundle = _issued(s, w)
        s.accept("transfer", w.alice, bundle_id=bundle, to_account=account, quantity=10)
        (held,) = s.bundles(account_id=account)
        other = _code(s, "cancel", ISSUER_ID, bundle_id=held["bundle_id"], beneficiary="alice")
        own = _code(s, "cancel", ISSUER_ID, bundle_id=held["bundle_id"], beneficiary=ISSUER_ID)
        return f"for another: {other}; for the issuer itself: {own}"

    def issuer_lock(s: Session, w: Any) -> str:
        return _code(s, "reserve", ISSUER_ID, bundle_id=_issued(s, w), kind="LOCKED")

    def issuer_reserve(s: Session, w: Any) -> str:
        return _code(s, "reserve", ISSUER_ID, bundle_id=_issued(s, w), kind="RESERVED")

    add("claim of a bundle that is not cancelled", "`claim` of an ACTIVE bundle", claim_active)
    add("second claim of the same cancelled bundle", "`claim` twice", second_claim)
    add("release of a bundle that is not reserved", "`release` of an ACTIVE bundle", release_active)
    add(
        "reuse of a split parent (its ID after a partial transfer)",
        "`transfer` naming the parent again",
        split_parent,
    )
    add(
        "duplicate device **and** unknown account in one request (precedence)",
        "`register_device` of an existing device ID for an account that does not exist",
        duplicate_device_unknown_account,
    )
    add(
        "a holder querying another holder's `account_id`",
        "`query` by bob with `account_id` = alice's",
        foreign_query,
    )
    add(
        "cancellation from the issuer's exempt OWN_CONSUMPTION account",
        "`cancel` by the issuer, beneficiary another party / the issuer",
        exempt_cancel,
    )
    add("the issuer LOCKs a holder's bundle", "`reserve` by the issuer, `kind` LOCKED", issuer_lock)
    add(
        "the issuer RESERVEs a holder's bundle",
        "`reserve` by the issuer, `kind` RESERVED",
        issuer_reserve,
    )
    return rows


# ---------------------------------------------------------------- page


def render() -> str:
    lines = [
        "# Values and codes: what the reference registry answers",
        "",
        "<!-- Generated by tools/values_and_codes.py from the reference adapter; do not edit.",
        "     tests/test_values_and_codes.py fails when this page is stale. -->",
        "",
        "Every row below was observed by driving the built-in `reference` adapter (the oracle)",
        "through the harness's own session, so it is what the suite expects of your adapter.",
        "Run `python tools/values_and_codes.py` to regenerate it. The contract itself is in",
        "[adapters.md](adapters.md).",
        "",
        "## Values in `observe()` and requests",
        "",
        "| field | the reference answers / accepts | meaning for your adapter |",
        "|---|---|---|",
    ]
    lines += [f"| {_field(f)} | {v} | {m} |" for f, v, m in _values()]
    lines += [
        "",
        "## Which fields of `observe().accounts` the suite reads",
        "",
        "| fields | read by |",
        "|---|---|",
    ]
    lines += [f"| {fields} | {where} |" for fields, where in _account_fields()]
    lines += [
        "",
        "Other account fields (`account_name`, `exemption`, ...) may be present; the suite does",
        "not compare them.",
        "",
        "## Which code applies where",
        "",
        "| situation | request | code the reference answers |",
        "|---|---|---|",
    ]
    lines += [
        f"| {situation} | {request} | {_codes(code)} |" for situation, request, code in _scenarios()
    ]
    lines += [
        "",
        "`gc-conformance codes` lists every canonical code with its meaning. Where one request",
        "breaks several rules, the order of checks in [lifecycle.md](lifecycle.md) decides.",
        "",
    ]
    return "\n".join(lines)


def _codes(text: str) -> str:
    """Codes (and ``accepted``) in code type, the prose around them plain."""
    return re.sub(r"([A-Z][A-Z_]+[A-Z]|accepted)", r"`\1`", text)


def _field(name: str) -> str:
    head, sep, rest = name.partition(" ")
    return f"`{head}`{sep}{rest}"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if PAGE.read_text(encoding="utf-8") != text:
            print(f"{PAGE} is stale: run python tools/values_and_codes.py", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(text, encoding="utf-8")
    print(f"written {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
