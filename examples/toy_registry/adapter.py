"""``ToyAdapter``: the Toy Registry put under the conformance suite's adapter contract.

This is the file a vendor writes. It holds no rule of the standard: every
decision is the registry's own (``registry.py``). What it does is translate:

* a request ``{"action", "actor", "now", ...fields}`` becomes one call of the
  toy's API, with the contract's names turned into the toy's (``bundle_id`` ->
  ``parcel_id``, ``RESERVED`` -> ``"hold"``, a device record -> a unit's
  registration sheet ...);
* the toy's answer becomes ``{"accepted": true, "result": {...}}``, and its
  numbered error ``{"accepted": false, "vendor_code": ..., "message": ...}``,
  which :meth:`ToyAdapter.map_error` turns into a canonical code;
* the toy's parcels become the contract's bundles in :meth:`ToyAdapter.observe`,
  with the D5 attributes of their lot.

It imports nothing from ``gc_conformance``: the contract is plain data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from examples.toy_registry.registry import Fault, LedgerError, Lot, Parcel, State, ToyLedger

#: The toy's error numbers -> the suite's canonical codes (``gc-conformance codes``).
CANONICAL_CODES: Mapping[Fault, str] = {
    Fault.BAD_FIELD: "INVALID_FIELD",
    Fault.BAD_TIME: "INVALID_TIMESTAMP",
    Fault.BAD_DATE: "INVALID_DATE",
    Fault.EMPTY_PERIOD: "INVALID_INTERVAL",
    Fault.PERIOD_TOO_LONG: "INTERVAL_TOO_LONG",
    Fault.BAD_ENERGY: "INVALID_ENERGY",
    Fault.BAD_AMOUNT: "INVALID_QUANTITY",
    Fault.CLOCK_WENT_BACK: "TIME_REVERSAL",
    Fault.NO_SUCH_ACCOUNT: "UNKNOWN_ACCOUNT",
    Fault.NO_SUCH_UNIT: "UNKNOWN_DEVICE",
    Fault.NO_SUCH_PARCEL: "UNKNOWN_BUNDLE",
    Fault.ACCOUNT_EXISTS: "DUPLICATE_ACCOUNT",
    Fault.UNIT_EXISTS: "DUPLICATE_DEVICE",
    Fault.METER_TAKEN: "DUPLICATE_METER_ID",
    Fault.WRONG_METER: "METER_MISMATCH",
    Fault.WRONG_BASIS: "GROSS_NET_MISMATCH",
    Fault.OPERATOR_ONLY: "NOT_AUTHORISED",
    Fault.NOT_YOURS: "NOT_OWNER",
    Fault.OPERATOR_CANNOT_HOLD: "ISSUER_MAY_NOT_HOLD",
    Fault.OPERATOR_CANNOT_TRADE: "ISSUER_MAY_NOT_TRADE",
    Fault.ALREADY_METERED: "DUPLICATE_ISSUANCE",
    Fault.ABOVE_NAMEPLATE: "CAPACITY_EXCEEDED",
    Fault.PERIOD_NOT_OVER: "INTERVAL_NOT_ENDED",
    Fault.TOO_LATE_TO_ISSUE: "PRODUCTION_TOO_OLD",
    Fault.PARCEL_NOT_LIVE: "BUNDLE_NOT_ACTIVE",
    Fault.AMOUNT_TOO_LARGE: "QUANTITY_EXCEEDS_BUNDLE",
    Fault.SAME_ACCOUNT: "SAME_ACCOUNT",
    Fault.PARCEL_EXPIRED: "CERTIFICATE_EXPIRED",
    Fault.NOT_RETIRED: "NOT_CANCELLED",
    Fault.ALREADY_REDEEMED: "ALREADY_CLAIMED",
    Fault.WRONG_BENEFICIARY: "BENEFICIARY_MISMATCH",
    Fault.NOT_ON_HOLD: "NOT_RESERVED",
    Fault.NO_STORAGE_HERE: "STORAGE_CHARGE_NEEDS_SCR",
}

#: Parcel states -> the contract's bundle statuses (and back, for query filters).
STATUSES: Mapping[State, str] = {
    State.LIVE: "ACTIVE",
    State.HELD: "RESERVED",
    State.FROZEN: "LOCKED",
    State.RETIRED: "CANCELLED",
    State.REDEEMED: "CLAIMED",
    State.REVOKED: "WITHDRAWN",
}
TOY_STATES = {status: state.value for state, status in STATUSES.items()}
RESERVE_KINDS = {"RESERVED": "hold", "LOCKED": "freeze"}
PURPOSES = {"CONSUMPTION": "consumption", "STORAGE_CHARGE": "storage-charge"}
EXEMPTIONS = {
    "OWN_CONSUMPTION": "own-use",
    "TESTING": "testing",
    "SUPPORT_RECOVERY": "support-recovery",
}

#: Contract device fields -> the toy's registration sheet. Other (optional) D6 fields are
#: not kept by the toy, so a request carrying them is refused rather than half-recorded.
SHEET_FIELDS = {
    "device_id": "unit_id",
    "device_name": "name",
    "account_id": "payout_account",
    "capacity_w": "rated_power_w",
    "operational_date": "commissioned_on",
    "technology_type": "technology",
    "energy_source": "source",
    "location": "site",
    "meter_id": "meter",
    "gross_or_net": "basis",
    "measurement_body": "meter_operator",
}


class Unsupported(Exception):
    """A request the adapter cannot express in the toy's API (answered as INVALID_FIELD)."""


class ToyAdapter:
    """The Toy Registry behind the adapter contract (``examples.toy_registry.adapter:ToyAdapter``)."""

    ledger_type = ToyLedger  # the registry each reset() starts afresh

    def __init__(self) -> None:
        self._ledger: ToyLedger | None = None
        self._actions: dict[str, Callable[[ToyLedger, Mapping[str, Any]], dict[str, Any]]] = {
            "open_account": self._open_account,
            "register_device": self._register_device,
            "submit_production": self._submit_production,
            "transfer": self._transfer,
            "cancel": self._cancel,
            "claim": self._claim,
            "reserve": self._reserve,
            "release": self._release,
            "withdraw": self._withdraw,
            "query": self._query,
        }

    # ------------------------------------------------------------------ the contract

    def capabilities(self) -> Mapping[str, Any]:
        return {
            "name": "Toy Registry (docs/adapters.md example)",
            "version": "1.0",
            "profiles": ["core"],
            "issuance_styles": ["production-data"],
            "clock": "controlled",  # the toy stamps each change with the request's `now`
            "policies": {
                "rounding": "DOWN",
                "split_origin": "FROM_END",
                "validity": "CALENDAR_YEAR",
                "capacity": "NAMEPLATE",
            },
        }

    def reset(self, setup: Mapping[str, Any]) -> None:
        if setup.get("configuration", 1) != 1:
            raise ValueError("the Toy Registry runs configuration #1 only")
        issuer = setup["issuer"]
        self._ledger = self.ledger_type(issuer["issuer_id"], issuer["name"], issuer["domain"])

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        ledger = self._require_ledger()
        action = request.get("action")
        translate = self._actions.get(action) if isinstance(action, str) else None
        try:
            if translate is None:
                raise Unsupported(f"action: the Toy Registry has no {action!r}")
            return {"accepted": True, "result": translate(ledger, request)}
        except LedgerError as error:
            return {"accepted": False, "vendor_code": int(error.fault), "message": str(error)}
        except Unsupported as problem:
            return {"accepted": False, "code": "INVALID_FIELD", "message": str(problem)}

    def map_error(self, answer: Mapping[str, Any]) -> str | None:
        """The canonical code for a refusal the toy gave with its own error number."""
        try:
            fault = Fault(answer.get("vendor_code"))
        except ValueError:
            return None  # not the toy's: the suite reports a code mismatch, never a pass
        return CANONICAL_CODES.get(fault)

    def observe(self) -> Mapping[str, Any]:
        ledger = self._require_ledger()
        accounts = [
            {"account_id": a.number, "holder_id": a.owner, "account_name": a.label}
            for a in ledger.accounts.values()
        ]
        bundles = [self._bundle(ledger, p) for p in ledger.current_parcels()]
        return {"accounts": accounts, "bundles": bundles}

    def close(self) -> None:
        self._ledger = None

    # ------------------------------------------------------------------ one method per action

    def _open_account(self, ledger: ToyLedger, r: Mapping[str, Any]) -> dict[str, Any]:
        fields(r, "account")
        account = record(r, "account", ("account_id", "holder_id", "account_name", "exemption"))
        exemption = account.get("exemption")
        opened = ledger.open_account(
            r["actor"],
            account.get("account_id"),
            account.get("holder_id"),
            account.get("account_name"),
            toy_word(EXEMPTIONS, exemption),
            r["now"],
        )
        return {"account_id": opened.number}

    def _register_device(self, ledger: ToyLedger, r: Mapping[str, Any]) -> dict[str, Any]:
        fields(r, "device")
        device = record(r, "device", tuple(SHEET_FIELDS))
        sheet = {toy: device.get(contract) for contract, toy in SHEET_FIELDS.items()}
        unit = ledger.register_unit(r["actor"], sheet, r["now"])
        return {"device_id": unit.unit_id}

    def _submit_production(self, ledger: ToyLedger, r: Mapping[str, Any]) -> dict[str, Any]:
        fields(r, "device_id", "meter_id", "start", "end", "energy_wh", "gross_or_net")
        parcel = ledger.record_reading(
            r["actor"],
            r.get("device_id"),
            r.get("meter_id"),
            r.get("start"),
            r.get("end"),
            r.get("energy_wh"),
            r.get("gross_or_net", "NET"),
            r["now"],
        )
        if parcel is None:  # a reading that rounds to 0 Wh issues nothing
            return {"bundle_id": None, "issuance_id": None, "issued_wh": 0}
        return {
            "bundle_id": parcel.parcel_id,
            "issuance_id": parcel.lot_id,
            "issued_wh": parcel.amount,
        }

    def _transfer(self, ledger: ToyLedger, r: Mapping[str, Any]) -> dict[str, Any]:
        fields(r, "bundle_id", "to_account", "quantity")
        return pieces(
            ledger.move(
                r["actor"], r.get("bundle_id"), r.get("to_account"), r.get("quantity"), r["now"]
            )
        )

    def _cancel(self, ledger: ToyLedger, r: Mapping[str, Any]) -> dict[str, Any]:
        fields(r, "bundle_id", "beneficiary", "quantity", "purpose")
        purpose = r.get("purpose", "CONSUMPTION")
        return pieces(
            ledger.retire(
                r["actor"],
                r.get("bundle_id"),
                r.get("beneficiary"),
                r.get("quantity"),
                toy_word(PURPOSES, purpose),
                r["now"],
            )
        )

    def _claim(self, ledger: ToyLedger, r: Mapping[str, Any]) -> dict[str, Any]:
        fields(r, "bundle_id", "claimant", "quantity")
        return pieces(
            ledger.redeem(
                r["actor"], r.get("bundle_id"), r.get("claimant"), r.get("quantity"), r["now"]
            )
        )

    def _reserve(self, ledger: ToyLedger, r: Mapping[str, Any]) -> dict[str, Any]:
        fields(r, "bundle_id", "quantity", "kind")
        kind = r.get("kind", "RESERVED")
        mode = toy_word(RESERVE_KINDS, kind)
        return pieces(
            ledger.hold(r["actor"], r.get("bundle_id"), r.get("quantity"), mode, r["now"])
        )

    def _release(self, ledger: ToyLedger, r: Mapping[str, Any]) -> dict[str, Any]:
        fields(r, "bundle_id")
        released = ledger.unhold(r["actor"], r.get("bundle_id"), r["now"])
        return {"bundle_id": released.parcel_id}

    def _withdraw(self, ledger: ToyLedger, r: Mapping[str, Any]) -> dict[str, Any]:
        fields(r, "bundle_id", "reason", "quantity")
        return pieces(
            ledger.revoke(
                r["actor"], r.get("bundle_id"), r.get("reason"), r.get("quantity"), r["now"]
            )
        )

    def _query(self, ledger: ToyLedger, r: Mapping[str, Any]) -> dict[str, Any]:
        fields(
            r, "account_id", "device_id", "issuance_id", "status", "energy_source", "start", "end"
        )
        status = r.get("status")
        between = None
        if r.get("start") is not None or r.get("end") is not None:
            between = (r.get("start"), r.get("end"))
        found = ledger.find(
            r["actor"],
            account=r.get("account_id"),
            unit=r.get("device_id"),
            lot=r.get("issuance_id"),
            state=toy_word(TOY_STATES, status),
            source=r.get("energy_source"),
            between=between,
        )
        return {"bundles": [self._bundle(ledger, p) for p in found]}

    # ------------------------------------------------------------------ the toy's records as bundles

    def _bundle(self, ledger: ToyLedger, parcel: Parcel) -> dict[str, Any]:
        """A parcel as the contract's bundle: its place in the lifecycle, then its lot's D5 data."""
        bundle: dict[str, Any] = {
            "bundle_id": parcel.parcel_id,
            "issuance_id": parcel.lot_id,
            "certificate_bundle_id_range_start": parcel.first,
            "certificate_bundle_id_range_end": parcel.last,
            "bundle_quantity": parcel.amount,
            "account_id": parcel.account,
            "certificate_bundle_status": STATUSES[parcel.state],
        }
        if parcel.beneficiary is not None:
            bundle["beneficiary"] = parcel.beneficiary
            bundle["cancellation_purpose"] = "CONSUMPTION"
        if parcel.claimant is not None:
            bundle["claimant"] = parcel.claimant
        bundle.update(attributes(ledger.lots[parcel.lot_id]))
        return bundle

    def _require_ledger(self) -> ToyLedger:
        if self._ledger is None:
            raise RuntimeError("reset() must be called before the first request")
        return self._ledger


def attributes(lot: Lot) -> dict[str, Any]:
    """The D5 information every certificate of ``lot`` states, under the contract's names."""
    unit = lot.unit
    return {
        "device_id": unit.unit_id,
        "production_starting_interval": lot.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "production_ending_interval": lot.end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "issuance_datestamp": lot.issued_on.isoformat(),
        "energy_carrier": "Electricity",
        "energy_source": unit.source,
        "device_technology_type": unit.technology,
        "device_name": unit.name,
        "device_capacity": unit.rated_power_w,
        "device_production_start_date": unit.commissioned_on.isoformat(),
        "device_location": dict(unit.site),
        "country_of_issuance": lot.country,
        "issuing_body": lot.operator_id,
        "face_value": 1,  # Wh per serial
        "is_storage": False,
        "disclosure": True,
        "issuance_post_energy_carrier_conversion": False,
        "registry_configuration": 1,
    }


def toy_word(table: Mapping[str, str], value: object) -> object:
    """The toy's word for a contract value; anything else goes through for the toy to refuse."""
    return table.get(value, value) if isinstance(value, str) else value


def fields(request: Mapping[str, Any], *known: str) -> None:
    """Refuse a field the toy has no place for, instead of silently dropping it."""
    extra = sorted(set(request) - {"action", "actor", "now", *known})
    if extra:
        raise Unsupported(f"{extra[0]}: the Toy Registry does not take this field")


def record(request: Mapping[str, Any], name: str, known: tuple[str, ...]) -> Mapping[str, Any]:
    """A nested record of the request (``account``, ``device``), checked like the request."""
    value = request.get(name)
    if not isinstance(value, Mapping):
        raise Unsupported(f"{name}: a record is required")
    extra = sorted(set(value) - set(known))
    if extra:
        raise Unsupported(f"{name}.{extra[0]}: the Toy Registry does not take this field")
    return value


def pieces(changed: tuple[Parcel, Parcel | None]) -> dict[str, Any]:
    """The answer to an operation on a parcel: the parcel now holding the result, and the rest."""
    part, rest = changed
    return {"bundle_id": part.parcel_id, "remainder_id": None if rest is None else rest.parcel_id}
