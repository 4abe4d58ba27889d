"""Hostile input (SEC-006, SEC-007): wrong types, impossible values, unknown fields,
malformed JSON and oversized bodies get a 4xx and change nothing; SEC-006 fuzzed with
Hypothesis from the run's seed."""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import hypothesis
from hypothesis import HealthCheck, Phase, Verbosity
from hypothesis import strategies as st

from gc_conformance.adapter import IssuanceStyle
from gc_conformance.checks import check
from gc_conformance.checks.core import CRITICAL, WIND
from gc_conformance.outcomes import Severity
from gc_conformance.session import (
    ISSUER_ID,
    AdapterError,
    CheckFailed,
    Session,
    World,
)

if TYPE_CHECKING:
    from gc_conformance.adapters.http_raw import RawHttp, RawRequest

from gc_conformance.checks.security.plumbing import (
    DEFAULT_HOSTILE_BODY_BYTES,
    SECURITY,
    holder_world,
    raw_access,
    send,
    shorten,
)


@attrs.frozen
class Hostile:
    """One generated hostile request and what makes it hostile (shown in the step)."""

    what: str
    request: RawRequest


def _scalars_and_containers() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.booleans(),
        st.lists(st.integers(-5, 5), max_size=3),
        st.dictionaries(st.sampled_from(["a", "id", "$gt"]), st.integers(0, 9), max_size=2),
    )


_NAME = st.text(string.ascii_letters + string.digits + "-_", min_size=1, max_size=12)


def _bad_ids() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.integers(max_value=-1),
        st.integers(min_value=10**12, max_value=10**30),
        _NAME.map(lambda t: "no-such-bundle-" + t),
        st.sampled_from(["", " ", "1 OR 1=1", "../1", "1; DROP TABLE bundles"]),
        st.floats(0.5, 1e6).filter(lambda f: f != int(f)),
        _scalars_and_containers(),
    )


def _bad_accounts() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.integers(),
        st.sampled_from(["", " ", "ACC-NOBODY", "x" * 5000, "ACC-BOB\u0000", "acc-bob"]),
        _scalars_and_containers(),
    )


def _bad_quantities(available: int) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.integers(max_value=0),
        st.integers(min_value=available + 1, max_value=10**30),
        st.just(2**63),
        st.just(2**64 + 1),
        st.floats(0.01, available - 0.01).filter(lambda f: f != int(f)),
        st.sampled_from(["ten", "", "1e3", "0x10", "-5"]),
        _scalars_and_containers(),
    )


def _bad_energies() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.integers(max_value=-1),
        st.integers(max_value=-1).map(str),
        st.integers(min_value=10**13, max_value=10**40).map(str),  # far beyond a 5 MW hour
        st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "abc", "", "1,000", "0x3e8"]),
        _scalars_and_containers(),
    )


def _bad_stamps() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.integers(),
        st.sampled_from(
            [
                "",
                "yesterday",
                "2024-13-01T00:00:00Z",
                "2024-02-30T10:00:00Z",
                "2024-03-01T25:00:00Z",
                "2024-03-01T10:61:00Z",
                "2024-03-01",
                "not-a-date-2024-03-01T00:00:00Z",
            ]
        ),
        _scalars_and_containers(),
    )


def _unknown_fields(known: Iterable[str]) -> st.SearchStrategy[tuple[str, Any]]:
    taken = set(known)
    name = _NAME.map(lambda t: "x_" + t).filter(lambda n: n not in taken)
    value = st.one_of(st.none(), st.integers(), _NAME, _scalars_and_containers())
    return st.tuples(name, value)


_RAW_BODIES: dict[str, tuple[bytes, str]] = {
    "not JSON": (b"{certificate_bundle_id: 1", "application/json"),
    "a JSON array": (b"[1, 2, 3]", "application/json"),
    "a JSON string": (b'"transfer everything"', "application/json"),
    "JSON null": (b"null", "application/json"),
    "a NaN literal": (b'{"certificate_quantity": NaN}', "application/json"),
    "invalid UTF-8": (b'{"target_id": "\xff\xfe"}', "application/json"),
    "deep nesting": (b"[" * 20_000 + b"]" * 20_000, "application/json"),
    "a 5000-digit number": (b'{"certificate_quantity": ' + b"9" * 5000 + b"}", "application/json"),
    "a form, not JSON": (b"certificate_bundle_id=1&target_id=ACC-BOB", "x-www-form-urlencoded"),
}


def hostile_requests(s: Session, raw: RawHttp, w: World, bundle: Any) -> st.SearchStrategy[Hostile]:
    """Requests a registry must refuse: each valid request with one hostile change."""
    base = {"bundle_id": bundle, "to_account": w.account(w.bob), "quantity": 100}

    def transfer(what: str, fields: Mapping[str, Any]) -> Hostile:
        return Hostile(what, raw.request("transfer", w.alice, **fields))

    field_changes = st.one_of(
        _bad_ids().map(lambda v: ("bundle_id", v)),
        _bad_accounts().map(lambda v: ("to_account", v)),
        _bad_quantities(1000).map(lambda v: ("quantity", v)),
    ).map(lambda kv: transfer(f"transfer with {kv[0]}={kv[1]!r:.80}", {**base, kv[0]: kv[1]}))
    missing = st.sampled_from(["bundle_id", "to_account"]).map(
        lambda k: transfer(f"transfer without {k}", {f: v for f, v in base.items() if f != k})
    )
    valid_transfer = raw.request("transfer", w.alice, **base)
    unknown = _unknown_fields(valid_transfer.body).map(
        lambda kv: Hostile(
            f"transfer with an unknown field {kv[0]}",
            valid_transfer.evolve(body={**valid_transfer.body, kv[0]: kv[1]}),
        )
    )
    raw_bodies = st.sampled_from(sorted(_RAW_BODIES)).map(
        lambda name: Hostile(
            f"transfer whose body is {name}",
            valid_transfer.evolve(
                content=_RAW_BODIES[name][0], headers={"Content-Type": _RAW_BODIES[name][1]}
            ),
        )
    )
    production = production_changes(s, raw)
    choices = [field_changes, missing, unknown, raw_bodies, production]
    header = raw.mapping.clock_header
    if header and s.capabilities.clock.value == "controlled":
        clock = st.sampled_from(
            ["yesterday", "2024-02-30T00:00:00Z", "2024-03-02T00:00:00", "0", "2024-03-02"]
        ).map(
            lambda v: Hostile(
                f"transfer at the instant {v!r} ({header})",
                valid_transfer.evolve(headers={header: v}),
            )
        )
        choices.append(clock)
    return st.one_of(*choices)


def production_changes(s: Session, raw: RawHttp) -> st.SearchStrategy[Hostile]:
    """Issuances by the GC Issuer with one hostile field (hour 5: nothing issued there yet)."""
    start, end = s.hour(5)
    two_hours_later = s.hour(6)[1]
    if IssuanceStyle.PRODUCTION_DATA in s.capabilities.issuance_styles:
        action, energy = "submit_production", "energy_wh"
        base: dict[str, Any] = {
            "device_id": WIND,
            "meter_id": "M-WIND",
            "start": start,
            "end": end,
            "energy_wh": "1000",
        }
    else:
        action, energy = "issue_bundle", "quantity"
        base = {
            "device_id": WIND,
            "account_id": "ACC-ALICE",
            "start": start,
            "end": end,
            "range_start": 10**6,
            "range_end": 10**6 + 999,
            "quantity": 1000,
            "energy_wh": "1000",
        }

    def issue(what: str, fields: Mapping[str, Any]) -> Hostile:
        return Hostile(what, raw.request(action, ISSUER_ID, **fields))

    changes = st.one_of(
        (_bad_energies() if energy == "energy_wh" else _bad_quantities(10**9)).map(
            lambda v: (energy, v)
        ),
        _bad_stamps().map(lambda v: ("start", v)),
        _bad_stamps().map(lambda v: ("end", v)),
        _bad_ids().map(lambda v: ("device_id", v)),
        st.just(("start", end)),  # a zero-length interval
        st.just(("end", two_hours_later)),  # two hours: a GC covers an hour or less
    )
    swapped = st.just(
        issue(f"{action} with start and end swapped", {**base, "start": end, "end": start})
    )
    return st.one_of(
        changes.map(
            lambda kv: issue(f"{action} with {kv[0]}={kv[1]!r:.80}", {**base, kv[0]: kv[1]})
        ),
        swapped,
    )


def classic_hostile_requests(s: Session, raw: RawHttp, w: World, bundle: Any) -> list[Hostile]:
    """The well-known hostile requests, always sent before the generated ones."""
    base = {"bundle_id": bundle, "to_account": w.account(w.bob), "quantity": 100}
    changes: list[tuple[str, Any]] = [
        ("quantity", -1),
        ("quantity", 0),
        ("quantity", 10**30),
        ("quantity", True),
        ("quantity", 1.5),
        ("quantity", "100"),
        ("bundle_id", None),
        ("bundle_id", -1),
        ("bundle_id", True),
        ("bundle_id", "1 OR 1=1"),
        ("to_account", None),
        ("to_account", ""),
        ("to_account", ["ACC-BOB"]),
    ]
    found = [
        Hostile(f"transfer with {k}={v!r}", raw.request("transfer", w.alice, **{**base, k: v}))
        for k, v in changes
    ]
    valid = raw.request("transfer", w.alice, **base)
    found.append(
        Hostile(
            "transfer without bundle_id",
            raw.request("transfer", w.alice, **{k: v for k, v in base.items() if k != "bundle_id"}),
        )
    )
    found.append(
        Hostile(
            "transfer with an unknown field", valid.evolve(body={**valid.body, "x_admin": True})
        )
    )
    for name, (content, kind) in sorted(_RAW_BODIES.items()):
        found.append(
            Hostile(
                f"transfer whose body is {name}",
                valid.evolve(content=content, headers={"Content-Type": kind}),
            )
        )
    start, end = s.hour(5)
    if IssuanceStyle.PRODUCTION_DATA in s.capabilities.issuance_styles:
        issue = {"device_id": WIND, "meter_id": "M-WIND", "start": start, "end": end}
        for what, fields in (
            ("a negative energy", {**issue, "energy_wh": "-1000"}),
            ("energy NaN", {**issue, "energy_wh": "NaN"}),
            ("a huge energy", {**issue, "energy_wh": "9" * 40}),
            ("start and end swapped", {**issue, "start": end, "end": start, "energy_wh": "1"}),
            ("an impossible date", {**issue, "start": "2024-02-30T05:00:00Z", "energy_wh": "1"}),
            ("a two-hour interval", {**issue, "end": s.hour(6)[1], "energy_wh": "1"}),
        ):
            request = raw.request("submit_production", ISSUER_ID, **fields)
            found.append(Hostile(f"submit_production with {what}", request))
    return found


@check(
    "security.input.hostile_requests_refused",
    requirements=["SEC-006"],
    profile=SECURITY,
    slow=True,
)
def hostile_requests_refused(s: Session) -> None:
    """Fuzzed hostile requests (types, quantities, energies, stamps, fields, bodies) get a 4xx.

    Hypothesis generates requests, each a valid transfer by alice or a valid
    issuance by the GC Issuer with one hostile change, or a body that is not a
    JSON object at all; seeded from the run's seed, ``--max-examples`` of them.
    Every one must be refused with a 4xx and leave the observed state as it
    was. A 5xx is an error of the registry (no verdict). The first offending
    request ends the check; it is the last step.
    """
    raw = raw_access(s)
    w, bundle, _ = holder_world(s)
    strategy = hostile_requests(s, raw, w, bundle)
    baseline = s.snapshot()
    problems: list[Exception] = []

    def probe(hostile: Hostile) -> None:
        if problems:
            return
        try:
            response = send(s, raw, hostile.request, f"reject 4xx: {hostile.what}")
            if not response.refused:
                raise CheckFailed(
                    f"a hostile request was not refused: {hostile.what}",
                    expected="a 4xx, nothing changed",
                    observed=f"HTTP {response.status}: {shorten(response.body)}",
                    severity=CRITICAL if response.accepted else Severity.MAJOR,
                )
            after = s.snapshot()
            if after != baseline:
                raise CheckFailed(
                    f"a hostile request was refused (HTTP {response.status}) but changed the "
                    f"state: {hostile.what}",
                    expected="state unchanged",
                    observed=f"bundles removed {sorted(set(baseline[1]) - set(after[1]))}; "
                    f"added {sorted(set(after[1]) - set(baseline[1]))}",
                    severity=CRITICAL,
                )
        except (CheckFailed, AdapterError) as exc:
            problems.append(exc)

    settings = hypothesis.settings(
        max_examples=s.max_examples,
        derandomize=False,  # the seed decides
        database=None,
        deadline=None,
        verbosity=Verbosity.quiet,
        phases=[Phase.explicit, Phase.generate],  # each request stands alone: nothing to shrink
        suppress_health_check=list(HealthCheck),
    )
    run = settings(hypothesis.given(strategy)(probe))
    for hostile in classic_hostile_requests(s, raw, w, bundle):
        run = hypothesis.example(hostile)(run)
    hypothesis.seed(s.seed)(run)()
    if problems:
        raise problems[0]


@check("security.input.oversized_body_refused", requirements=["SEC-007"], profile=SECURITY)
def oversized_body_refused(s: Session) -> None:
    """A valid transfer padded past the registry's body limit is refused, and acts on nothing.

    The body is alice's own, valid transfer of 100 Wh, with whitespace (legal
    JSON) added until it is one byte over the limit the mapping declares
    (``limits.max_body_bytes``; else 8 MiB). It must be refused with a 4xx
    (413 expected) and change nothing. The same transfer, unpadded, must then
    be accepted: that shows the refusal was about the size.
    """
    raw = raw_access(s)
    limit = raw.mapping.max_body_bytes or DEFAULT_HOSTILE_BODY_BYTES
    w, bundle, _ = holder_world(s)
    valid = raw.request(
        "transfer", w.alice, bundle_id=bundle, to_account=w.account(w.bob), quantity=100
    )
    text = valid.payload()
    padded = text[:-1] + b" " * (limit + 1 - len(text) + 1) + text[-1:]
    response = send(s, raw, valid.evolve(content=padded), f"reject 4xx (over {limit} bytes)")
    if response.accepted:
        raise CheckFailed(
            f"a body of {len(padded)} bytes, over the limit of {limit}, was acted on",
            expected="HTTP 413 (a 4xx), nothing changed",
            observed=f"HTTP {response.status}: {shorten(response.body)}",
        )
    s.expect(
        response.refused,
        "an oversized body must be refused with a 4xx",
        expected="HTTP 413",
        observed=f"HTTP {response.status}",
    )
    s.expect(
        s.balance(w.account(w.bob)) == 0,
        "the refused oversized transfer moved certificates",
        expected="bob holds 0 Wh",
        observed=f"bob holds {s.balance(w.account(w.bob))} Wh",
        severity=CRITICAL,
    )
    control = send(s, raw, valid, "accept")
    s.expect(
        control.accepted and s.balance(w.account(w.bob)) == 100,
        "the same transfer without the padding must be accepted (else the size proved nothing)",
        expected="HTTP 2xx, bob holds 100 Wh",
        observed=f"HTTP {control.status}: {control.message}",
    )
