"""Issue 13: an absurdly nested or sized value in a request is refused, never a traceback.

A 1000-deep ID used to make ``repr()`` raise RecursionError inside the model's
refusal message. The model now refuses it up front with INVALID_FIELD naming the
field, logs the refusal, and changes nothing.
"""

from __future__ import annotations

import datetime as _dt
import json
from typing import Any

import pytest

from gc_conformance.reference import (
    Account,
    Cancel,
    ErrorCode,
    Issuer,
    OpenAccount,
    Query,
    Registry,
    Transfer,
)
from gc_conformance.reference.eac import EacIssuingBody, EacRegistry, EacTransfer
from gc_conformance.reference.errors import MAX_FIELD_DEPTH, absurd_field, safe_repr

NOW = _dt.datetime(2026, 6, 1, tzinfo=_dt.UTC)


def nested(depth: int, leaf: Any = "x") -> Any:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


DEEP = nested(1000)


def registry() -> Registry:
    found = Registry(Issuer("ISS", "Issuer", "NL"))
    found.execute(OpenAccount("ISS", Account("A", "ALICE", "a")), NOW).unwrap()
    return found


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (Transfer(DEEP, 1, "A"), "actor"),
        (Transfer("ALICE", DEEP, "A"), "bundle_id"),
        (Transfer("ALICE", 1, DEEP), "to_account"),
        (Cancel("ALICE", 1, DEEP), "beneficiary"),
        (OpenAccount("ISS", Account(DEEP, "H", "n")), "account"),
    ],
)
def test_a_1000_deep_value_is_refused_naming_the_field(command: Any, field: str) -> None:
    found = registry()
    before = found.fingerprint()
    refused = found.execute(command, NOW)
    assert (refused.code, refused.problem.field) == (ErrorCode.INVALID_FIELD, field)
    assert found.fingerprint() == before
    # The refusal is logged and the history still exports as JSON.
    json.dumps(found.export_history()[-1], default=str)


def test_a_deep_query_filter_is_refused() -> None:
    refused = registry().query(Query("ALICE", account_id=DEEP))
    assert refused.code is ErrorCode.INVALID_FIELD


def test_the_eac_registry_refuses_it_too() -> None:
    eac = EacRegistry(EacIssuingBody("EIB", "Body", "NL"))
    refused = eac.execute(EacTransfer(DEEP, ("E1",), "X"), NOW)
    assert (refused.code, refused.problem.field) == (ErrorCode.INVALID_FIELD, "actor")


def test_the_depth_limit_at_its_edge() -> None:
    assert absurd_field(Transfer("ALICE", nested(MAX_FIELD_DEPTH), "A")) is None
    over = absurd_field(Transfer("ALICE", nested(MAX_FIELD_DEPTH + 1), "A"))
    assert over is not None and over.field == "bundle_id"


def test_an_absurdly_large_value_is_refused() -> None:
    problem = absurd_field(Transfer("ALICE", list(range(200_000)), "A"))
    assert problem is not None and "elements" in problem.message


def test_safe_repr_is_short_for_any_depth() -> None:
    assert len(safe_repr(DEEP)) < 100
