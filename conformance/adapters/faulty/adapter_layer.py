"""Faulty registries whose defect sits in the adapter layer: a request or an answer rewritten,
or the model driven through its public commands the wrong way, as a registry's API layer could."""

import datetime as _dt
import math
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from gc_conformance.adapter import AdapterFailure
from gc_conformance.adapters.faulty._base import HOUR, PARTIAL_ACTIONS, FaultyAdapter
from gc_conformance.reference import (
    BundleStatus,
    parse_timestamp,
)


class PartialTransferRangeOverrun(FaultyAdapter):
    """A partial transfer records the moved child's range one certificate too long.

    The classic off-by-one: the child's last ID is stored as ``start +
    quantity`` instead of ``start + quantity - 1``. Quantities and balances stay
    right, so a registry that only looks at balances never notices; but the
    child now names a certificate its sibling also holds, its range no longer
    matches its quantity, and the children no longer partition the parent.

    Breaks SPLIT-001 (children partition the parent), SPLIT-002 (quantity equals the
    range's length) and DC-003 (no certificate in two current bundles).
    """

    fault = "partial-transfer-range-overrun"
    description = "a partial transfer's child range is one certificate ID longer than its quantity"
    breaks = ("SPLIT-001", "SPLIT-002", "DC-003")

    def __init__(self) -> None:
        super().__init__()
        self._overrun: set[int] = set()

    def reset(self, setup: Mapping[str, Any]) -> None:
        super().reset(setup)
        self._overrun = set()

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        answer = super().execute(request)
        result = answer.get("result", {})
        if (
            request.get("action") == "transfer"
            and answer.get("accepted")
            and result.get("remainder_id") is not None
        ):
            self._overrun.add(result["bundle_id"])
        return answer

    def _bundle(self, bundle: Any) -> dict[str, Any]:
        record = super()._bundle(bundle)
        if bundle.bundle_id in self._overrun:
            record["certificate_bundle_id_range_end"] += 1
        return record


class NonPositiveQuantityAccepted(FaultyAdapter):
    """A zero or negative quantity is taken to mean "the whole bundle".

    The registry defaults the quantity with ``quantity if quantity > 0 else
    bundle.quantity``, a convenience for clients that leave it at 0, so a
    transfer of -5 certificates moves the whole bundle instead of being refused.

    Breaks QTY-001 (a quantity is a positive whole number).
    """

    fault = "non-positive-quantity-accepted"
    description = "a zero or negative quantity is accepted and acts on the whole bundle"
    breaks = ("QTY-001",)

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        quantity = request.get("quantity")
        if (
            request.get("action") in PARTIAL_ACTIONS
            and isinstance(quantity, int)
            and not isinstance(quantity, bool)
            and quantity <= 0
        ):
            request = {k: v for k, v in request.items() if k != "quantity"}
        return super().execute(request)


class NonOwnerMayAct(FaultyAdapter):
    """Any authenticated party can transfer or cancel any bundle.

    The registry authenticates the caller but authorises the operation
    against the bundle's own account (it acts "as the holder"), so bob can move
    or cancel alice's certificates.

    Breaks AUTH-001 (only the holder transfers) and AUTH-002 (only the holder cancels).
    """

    fault = "non-owner-transfer"
    description = "a party that does not hold the bundle may transfer or cancel it"
    breaks = ("AUTH-001", "AUTH-002")

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        if request.get("action") in ("transfer", "cancel"):
            holder = self._holder_of(request.get("bundle_id"))
            if holder is not None and request.get("actor") != holder:
                request = {**request, "actor": holder}
        return super().execute(request)


class SixtyOneMinuteInterval(FaultyAdapter):
    """A production interval of up to 61 minutes is accepted.

    The registry allows a minute of "clock-skew tolerance" on the length of
    an interval and silently records it as the hour that starts at its start,
    so 61 minutes of reported production become one hour's certificates.

    Breaks TIME-002 (a production interval lasts at most one hour).
    """

    fault = "interval-61-minutes-accepted"
    description = "production intervals of up to 61 minutes are accepted (cut to one hour)"
    breaks = ("TIME-002",)

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        if request.get("action") in ("submit_production", "issue_bundle"):
            try:
                start = parse_timestamp(request.get("start"), "start")
                end = parse_timestamp(request.get("end"), "end")
            except Exception:
                return super().execute(request)  # malformed stamps: the model answers
            if HOUR < end - start <= HOUR + _dt.timedelta(minutes=1):
                request = {**request, "end": (start + HOUR).strftime("%Y-%m-%dT%H:%M:%SZ")}
        return super().execute(request)


class RoundsUp(FaultyAdapter):
    """Metered volumes are rounded *up* to whole Wh, whatever rounding is declared.

    The registry declares the reference's rounding policy but converts each
    reading with a ceiling, so 1000.4999 Wh become 1001 certificates: it
    certifies energy that was never produced.

    Breaks ATTR-004 (whole Wh by the declared rounding rule) and ISS-004 (an
    issuer-created bundle may assert no more than the production rounded by that rule).
    """

    fault = "rounds-up"
    description = "fractional readings are rounded up, not by the declared rounding policy"
    breaks = ("ATTR-004", "ISS-004")

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        if request.get("action") in ("submit_production", "issue_bundle"):
            ceiling = _ceiling(request.get("energy_wh"))
            if ceiling is not None:
                request = {**request, "energy_wh": ceiling}
        return super().execute(request)


def _ceiling(energy: object) -> str | None:
    """The whole Wh above a positive fractional reading; None leaves the value to the model."""
    if isinstance(energy, bool) or not isinstance(energy, str | int | float):
        return None
    try:
        value = Decimal(str(energy).strip())
    except InvalidOperation:
        return None
    if not value.is_finite() or value <= 0 or value == value.to_integral_value():
        return None
    return str(math.ceil(value))


class CommittedThenFailed(FaultyAdapter):
    """A partial cancellation is committed, then the answer fails with a gateway error.

    The registry writes the cancellation, then a post-commit step (the
    notification to the matching platform) times out and the API answers 502.
    The client sees a failure, retries or gives up, but the certificates are
    already cancelled: a failed request changed the state. The suite must
    report that as an atomicity failure, not merely as an adapter error.

    Breaks IT-001 (a request that is not carried out changes nothing).
    """

    fault = "committed-then-failed"
    description = "a partial cancellation is committed, then answered with a 502 gateway error"
    breaks = ("IT-001",)

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        answer = super().execute(request)
        if (
            request.get("action") == "cancel"
            and request.get("quantity") is not None
            and answer.get("accepted")
        ):
            raise AdapterFailure("HTTP 502 Bad Gateway: upstream timed out after commit")
        return answer


class RefusedPartialLeavesSplit(FaultyAdapter):
    """A refused partial operation still splits the bundle.

    The registry carves the requested quantity off the bundle in its own
    committed step, then validates the operation itself (the receiving account,
    the caller, the beneficiary) and, when that fails, answers the refusal
    without undoing the split. Certificates do not move, but the holder's bundle
    is now two bundles with new IDs: the refused request changed the state.

    Breaks IT-001 (a refused request changes nothing).
    """

    fault = "refused-partial-leaves-split"
    description = (
        "a refused partial transfer, cancellation, lock or withdrawal still splits the bundle"
    )
    breaks = ("IT-001",)

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        answer = super().execute(request)
        if answer.get("accepted") or request.get("action") not in PARTIAL_ACTIONS:
            return answer
        quantity, bundle_id = request.get("quantity"), request.get("bundle_id")
        holder = self._holder_of(bundle_id)
        if holder is None or isinstance(quantity, bool) or not isinstance(quantity, int):
            return answer
        bundle = self.registry.bundle(bundle_id)  # type: ignore[arg-type]
        if bundle is None or bundle.status is not BundleStatus.ACTIVE:
            return answer
        if not 0 < quantity < bundle.quantity:
            return answer
        # The split step, through the model's public commands: set the part aside, then back.
        now = request.get("now")
        held = super().execute(
            {"action": "reserve", "actor": holder, "now": now, "bundle_id": bundle_id,
             "quantity": quantity}
        )  # fmt: skip
        if held.get("accepted"):
            part = held["result"]["bundle_id"]
            super().execute({"action": "release", "actor": holder, "now": now, "bundle_id": part})
        return answer


class ClaimForAnyone(FaultyAdapter):
    """A claim is recorded for the cancellation's beneficiary, whoever is named as claimant.

    The registry never compares the claimant with the beneficiary recorded at
    cancellation: it files the claim against the cancellation and answers
    accepted, so a claim "for Consumer-Y" on certificates cancelled for
    Consumer-X succeeds.

    Breaks DC-006 (only the beneficiary named at cancellation can claim).
    """

    fault = "claim-by-non-beneficiary"
    description = "a claim naming someone other than the cancellation's beneficiary is accepted"
    breaks = ("DC-006",)

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        bundle_id = request.get("bundle_id")
        if request.get("action") == "claim" and self._holder_of(bundle_id) is not None:
            bundle = self.registry.bundle(bundle_id)  # type: ignore[arg-type]
            if bundle is not None and bundle.cancellation is not None:
                request = {**request, "claimant": bundle.cancellation.beneficiary}
        return super().execute(request)


class UnknownBundleTransferAccepted(FaultyAdapter):
    """A transfer naming a bundle the registry does not have is answered "accepted".

    The transfer endpoint works through the bundles it can find and silently
    skips the others, so a client that mistyped an ID is told its certificates
    moved when nothing did.

    Breaks IT-004 (a request naming a bundle that does not exist is refused).
    """

    fault = "unknown-bundle-transfer-accepted"
    description = "a transfer naming an unknown bundle is silently dropped and answered accepted"
    breaks = ("IT-004",)

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        bundle_id = request.get("bundle_id")
        if (
            request.get("action") == "transfer"
            and isinstance(bundle_id, int)
            and not isinstance(bundle_id, bool)
            and self.registry.bundle(bundle_id) is None
        ):
            return {"accepted": True, "result": {}}
        return super().execute(request)
