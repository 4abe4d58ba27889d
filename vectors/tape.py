"""Recording a case: its requests sent to the reference model, answers written down symbolically.

A case is a Python function of a :class:`Tape`. It sends plain contract
requests (written with the *model's* IDs, as the answers gave them); the tape
sends each to a fresh :class:`~gc_conformance.adapters.reference.ReferenceAdapter`
and records, per step, the request with every registry-assigned ID replaced by a
symbol, the model's verdict and code, and the answer's fields a vector holds a
registry to. The last request of a case is the one under test.

Hand-computed expectations (:meth:`Tape.hand`) are written in the case's
source from the standard's rule, not read from the model; the tape checks the
model against them while recording, so those cases test the oracle too.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from gc_conformance.adapter import read_answer
from gc_conformance.adapters.reference import ReferenceAdapter
from gc_conformance.reference import ConfigurationPolicies, Policies
from gc_conformance.session import CONTROLLED_EPOCH, stamp
from gc_conformance.vectors.format import (
    BUNDLE,
    OUTPUT_FIELDS,
    UNKNOWN,
    described_bundles,
    key_to_plain,
    map_ids,
    ref,
    sort_key,
)


class GeneratorError(Exception):
    """A case cannot be recorded as written, or the model disagrees with a hand-computed value."""


@attrs.frozen
class HandCheck:
    """One hand-computed expectation and the model's value, compared after recording."""

    what: str
    expected: Any
    observed: Any


class Tape:
    """Sends a case's requests to the reference model and writes them down symbolically."""

    def __init__(
        self,
        policies: Policies,
        reset: Mapping[str, Any],
        configuration_policies: ConfigurationPolicies | None = None,
    ) -> None:
        self.policies = policies
        self.configuration_policies = configuration_policies or ConfigurationPolicies()
        self.adapter = ReferenceAdapter(policies, self.configuration_policies)
        self.adapter.reset(reset)
        self.epoch = CONTROLLED_EPOCH
        self.now = CONTROLLED_EPOCH + _dt.timedelta(days=1)
        self.steps: list[dict[str, Any]] = []
        self.setup_steps = 0  # how many of ``steps`` belong to the group's setup
        self.hand_checks: list[HandCheck] = []
        self._symbols: dict[tuple[str, str], str] = {}
        self._counts: dict[str, int] = {}
        self.last_answer: dict[str, Any] = {}
        self._locate: dict[str, dict[str, Any]] = {}

    # ------------------------------------------------------------------ time

    def hour(self, n: int, *, day: int = 0, minutes: int = 60) -> tuple[str, str]:
        """Production hour ``n`` of the epoch day (plus ``day``), ``minutes`` long."""
        start = self.epoch + _dt.timedelta(days=day, hours=n)
        return stamp(start), stamp(start + _dt.timedelta(minutes=minutes))

    def at(self, text: str) -> None:
        """Date the following requests at the UTC stamp ``text``."""
        self.now = _dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=_dt.UTC)

    def advance(self, **delta: float) -> None:
        self.now += _dt.timedelta(**delta)

    # ------------------------------------------------------------------ requests

    def send(self, action: str, actor: str, **fields: Any) -> dict[str, Any]:
        """Send one request; the model's result ({} when refused). Recorded as a step."""
        symbolic = map_ids(fields, self._request_symbol)
        request = {"action": action, "actor": actor, "now": stamp(self.now), **fields}
        answer = read_answer(self.adapter, self.adapter.execute(request))
        step: dict[str, Any] = {
            "request": {"action": action, "actor": actor, "now": request["now"], **symbolic}
        }
        if self._locate:
            step["locate"] = dict(self._locate)
            self._locate.clear()
        if answer.accepted:
            step["expect"] = "accept"
            output = self._output(dict(answer.result))
            if output:
                step["output"] = output
            self.last_answer = {"accepted": True, "result": dict(answer.result)}
        else:
            step["expect"] = "reject"
            step["code"] = answer.code
            self.last_answer = {"accepted": False, "code": answer.code}
        self.steps.append(step)
        return dict(answer.result) if answer.accepted else {}

    def accepted(self) -> bool:
        return bool(self.last_answer.get("accepted"))

    def result(self) -> dict[str, Any]:
        return dict(self.last_answer.get("result") or {})

    # ------------------------------------------------------------------ hand-computed values

    def hand(self, what: str, expected: Any, observed: Any) -> None:
        """Record a value computed by hand from the standard beside the model's value."""
        self.hand_checks.append(HandCheck(what, expected, observed))

    def hand_refused(self, code: str) -> None:
        """By hand: the last request is refused with ``code``."""
        self.hand(f"the last request is refused with {code}", code, self.last_answer.get("code"))

    def hand_total(self, expected: int, **match: Any) -> None:
        """By hand: the current bundles matching ``match`` hold ``expected`` certificates."""
        observed = sum(b["bundle_quantity"] for b in self.bundles(**match))
        self.hand(f"certificates in bundles {match}", expected, observed)

    def bundles(self, **match: Any) -> list[dict[str, Any]]:
        state = self.adapter.observe()
        return [dict(b) for b in state["bundles"] if all(b.get(k) == v for k, v in match.items())]

    def model_state(self) -> Mapping[str, Any]:
        return self.adapter.observe()

    def failed_hand_checks(self) -> list[HandCheck]:
        return [c for c in self.hand_checks if c.expected != c.observed]

    # ------------------------------------------------------------------ symbols

    def _symbol(self, kind: str, value: Any) -> str | None:
        return self._symbols.get((kind, repr(value)))

    def _new_symbol(self, kind: str, value: Any) -> str:
        self._counts[kind] = self._counts.get(kind, 0) + 1
        symbol = f"{kind}{self._counts[kind]}"
        self._symbols[(kind, repr(value))] = symbol
        return symbol

    def _request_symbol(self, kind: str, value: Any) -> Any:
        known = self._symbol(kind, value)
        if known is not None:
            return ref(known)
        if kind == BUNDLE:
            described = described_bundles(self.adapter.observe())
            for registry_id, key in described.values():
                if registry_id == value:
                    twins = [k for _, k in described.values() if k == key]
                    if len(twins) > 1:
                        raise GeneratorError(
                            f"bundle {value} is named by no answer and {len(twins)} current "
                            "bundles share its description: it cannot be located"
                        )
                    symbol = self._new_symbol(BUNDLE, value)
                    self._locate[symbol] = key_to_plain(key)
                    return ref(symbol)
        return ref(self._unknown(value))

    def _unknown(self, value: Any) -> str:
        known = self._symbol(UNKNOWN, value)
        return known if known is not None else self._new_symbol(UNKNOWN, value)

    def _answer_symbol(self, kind: str, value: Any) -> Any:
        known = self._symbol(kind, value)
        return ref(known if known is not None else self._new_symbol(kind, value))

    def _output(self, result: dict[str, Any]) -> dict[str, Any]:
        kept = {k: v for k, v in result.items() if k in OUTPUT_FIELDS and k != "bundles"}
        output = map_ids(kept, self._answer_symbol)
        if isinstance(result.get("bundles"), list):
            described = described_bundles(self.adapter.observe())
            by_id = {registry_id: key for registry_id, key in described.values()}
            listed = []
            for item in result["bundles"]:
                key = by_id.get(item.get("bundle_id"))
                if key is None:
                    raise GeneratorError("a query answer names a bundle that is not current")
                listed.append(key_to_plain(key))
            output["bundles"] = sorted(listed, key=sort_key)
        return output

    def final_state(self) -> dict[str, Any]:
        """The model's state after the case, numbering-free, with each bundle's symbol if any."""
        state = self.adapter.observe()
        bundles = []
        for registry_id, key in described_bundles(state).values():
            plain = key_to_plain(key)
            symbol = self._symbol(BUNDLE, registry_id)
            if symbol is not None:
                plain["id"] = symbol
            bundles.append(plain)
        accounts = sorted(str(a.get("account_id")) for a in state["accounts"])
        return {"accounts": accounts, "bundles": sorted(bundles, key=sort_key)}


CaseFunction = Callable[[Tape], None]
