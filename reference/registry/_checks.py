"""The checks several deciders share: authority, existence, ownership, state, validity.

They raise :class:`Refusal` naming the field; the order in which a decider
calls them fixes which code a request with several faults gets, so each
decider keeps its own sequence and only the checks themselves live here.
Carving (the split a partial operation plans) is here too: every partial
transfer, cancellation, claim, reservation and withdrawal shares it.
"""

from __future__ import annotations

import datetime as _dt

from gc_conformance.reference.bundles import Bundle, BundleStatus
from gc_conformance.reference.effects import Effect, Issued, Split
from gc_conformance.reference.entities import Account, Device, IssuerExemption
from gc_conformance.reference.errors import ErrorCode
from gc_conformance.reference.policies import SplitOrigin, parse_quantity
from gc_conformance.reference.registry._contract import _Refuse
from gc_conformance.reference.registry._state import _RegistryState
from gc_conformance.reference.timestamps import Interval, format_timestamp


class _SharedChecks(_RegistryState):
    """Private checks and the carve every decider of a partial operation uses."""

    # ------------------------------------------------------------------ shared checks

    def _require_issuer(self, actor: object) -> None:
        if actor != self.issuer.issuer_id:
            raise _Refuse(ErrorCode.NOT_AUTHORISED, "actor", f"{actor!r} is not the GC Issuer")

    def _known_account(self, account_id: object, field: str) -> Account:
        account = self._accounts.get(account_id) if isinstance(account_id, str) else None
        if account is None:
            raise _Refuse(ErrorCode.UNKNOWN_ACCOUNT, field, f"no account {account_id!r}")
        return account

    def _known_device(self, device_id: object) -> Device:
        device = self._devices.get(device_id) if isinstance(device_id, str) else None
        if device is None:
            raise _Refuse(ErrorCode.UNKNOWN_DEVICE, "device_id", f"no device {device_id!r}")
        return device

    @staticmethod
    def _require_not_storage(device: Device) -> None:
        """Storage output gets GCs only as SD-GCs from discharge records (D7), never as production."""
        if device.is_storage:
            raise _Refuse(
                ErrorCode.STORAGE_OUTPUT_NEEDS_SDR,
                "device_id",
                f"{device.device_id!r} is a storage system: its output is certified from its SDRs",
            )

    def _current_bundle(self, bundle_id: object) -> Bundle:
        if isinstance(bundle_id, bool) or not isinstance(bundle_id, int):
            raise _Refuse(
                ErrorCode.INVALID_FIELD, "bundle_id", f"{bundle_id!r} is not an integer ID"
            )
        bundle = self._bundles.get(bundle_id)
        if bundle is None and bundle_id not in self._superseded:
            raise _Refuse(ErrorCode.UNKNOWN_BUNDLE, "bundle_id", f"no bundle {bundle_id}")
        if bundle is None or bundle.status is BundleStatus.BUNDLE_SPLIT:
            raise _Refuse(
                ErrorCode.BUNDLE_NOT_ACTIVE,
                "bundle_id",
                f"bundle {bundle_id} was split; act on its children instead",
            )
        return bundle

    def _owned_bundle(self, actor: object, bundle_id: object) -> Bundle:
        bundle = self._current_bundle(bundle_id)
        self._require_holder(actor, bundle)
        return bundle

    def _require_holder(self, actor: object, bundle: Bundle) -> None:
        if self._accounts[bundle.account_id].holder_id != actor:
            raise _Refuse(
                ErrorCode.NOT_OWNER,
                "actor",
                f"{actor!r} does not hold account {bundle.account_id!r}, "
                f"which holds bundle {bundle.bundle_id}",
            )

    def _require_status(self, bundle: Bundle, *allowed: BundleStatus) -> None:
        if bundle.status not in allowed:
            names = "/".join(s.name for s in allowed)
            raise _Refuse(
                ErrorCode.BUNDLE_NOT_ACTIVE,
                "bundle_id",
                f"bundle {bundle.bundle_id} is {bundle.status.name}, not {names}",
            )

    def _require_valid_at(self, bundle: Bundle, now: _dt.datetime) -> None:
        expiry = self._issuances[bundle.issuance_id].expiry
        if now >= expiry:
            raise _Refuse(
                ErrorCode.CERTIFICATE_EXPIRED,
                "bundle_id",
                f"bundle {bundle.bundle_id} expired at {format_timestamp(expiry)} "
                f"({self.policies.validity.name})",
            )

    def _require_consumption_in_validity(
        self, bundle: Bundle, period: Interval | None, now: _dt.datetime
    ) -> None:
        """D8: the consumption period a GC is cancelled against lies within its validity.

        Consumption inside the GC's own production interval is always within it
        (until ``expiry``): D8 binds to the 12-month consumption period only a
        GC not matched to its own hour. Past that period (``own_hour_only_from``,
        policy ``own_hour_use``) the cancellation must name its own hour.
        """
        issuance = self._issuances[bundle.issuance_id]
        own_hour = (
            period is not None
            and issuance.production_start <= period.start
            and period.end <= issuance.production_end
        )
        own_from = issuance.own_hour_only_from
        if own_from is not None and now >= own_from and not own_hour:
            raise _Refuse(
                ErrorCode.CONSUMPTION_OUTSIDE_VALIDITY,
                "consumption_period",
                f"the consumption period of bundle {bundle.bundle_id} ended at "
                f"{format_timestamp(own_from)} ({self.policies.validity.name}); until "
                f"{format_timestamp(issuance.expiry)} it may be cancelled only against "
                f"consumption inside its own production interval "
                f"{format_timestamp(issuance.production_start)}/"
                f"{format_timestamp(issuance.production_end)} "
                f"(own_hour_use {self.policies.own_hour_use.name})",
            )
        if period is None or own_hour:
            return
        first, _ = self.policies.validity.consumption_window(
            issuance.production_start, issuance.production_end
        )
        period_end = issuance.expiry if own_from is None else own_from
        if period.start < first or period.end > period_end:
            raise _Refuse(
                ErrorCode.CONSUMPTION_OUTSIDE_VALIDITY,
                "consumption_period",
                f"{period} is outside {format_timestamp(first)}/"
                f"{format_timestamp(period_end)}, the consumption period of bundle "
                f"{bundle.bundle_id} ({self.policies.validity.name})",
            )

    def _require_exempt_use(
        self, bundle: Bundle, action: str, beneficiary: str | None = None
    ) -> None:
        """D2: the issuer's exempt accounts serve only their purpose; the issuer never trades.

        OWN_CONSUMPTION and TESTING accounts may cancel only for the issuer itself
        and never transfer; a SUPPORT_RECOVERY account may pass its certificates on
        (recovering the support) but never cancels them.
        """
        exemption = self._accounts[bundle.account_id].exemption
        if exemption is None:
            return
        if action == "transfer" and exemption is not IssuerExemption.SUPPORT_RECOVERY:
            raise _Refuse(
                ErrorCode.ISSUER_MAY_NOT_TRADE,
                "bundle_id",
                f"bundle {bundle.bundle_id} is in the issuer's {exemption.name} account, "
                "whose certificates may not be passed on (D2)",
            )
        if action == "cancel":
            if exemption is IssuerExemption.SUPPORT_RECOVERY:
                raise _Refuse(
                    ErrorCode.ISSUER_MAY_NOT_TRADE,
                    "bundle_id",
                    f"bundle {bundle.bundle_id} is held for support recovery, not for use (D2)",
                )
            if beneficiary not in (self.issuer.issuer_id, self.issuer.name):
                raise _Refuse(
                    ErrorCode.ISSUER_MAY_NOT_TRADE,
                    "beneficiary",
                    f"the issuer's {exemption.name} account cancels only for the issuer itself, "
                    f"not for {beneficiary!r} (D2)",
                )

    @staticmethod
    def _optional_quantity(value: object, bundle: Bundle | None = None) -> int | None:
        if value is None:
            return None
        quantity = parse_quantity(value, "quantity")
        if bundle is not None and quantity > bundle.quantity:
            raise _Refuse(
                ErrorCode.QUANTITY_EXCEEDS_BUNDLE,
                "quantity",
                f"{quantity} Wh requested from bundle {bundle.bundle_id} of {bundle.quantity} Wh",
            )
        return quantity

    def _carve(
        self, bundle: Bundle, quantity: int | None, effects: list[Effect]
    ) -> tuple[int, int | None]:
        """Plan the split that isolates ``quantity`` Wh of ``bundle`` (D5 batch divisibility).

        Returns ``(acted_on_id, remainder_id)``. Children get fresh IDs; which
        end of the range the acted-on part takes is the SplitOrigin policy.
        """
        if quantity is None or quantity == bundle.quantity:
            return bundle.bundle_id, None
        part_id = self._next_free_bundle_id(effects)
        rest_id = part_id + 1
        if self.policies.split_origin is SplitOrigin.FROM_START:
            part = (part_id, bundle.range_start, bundle.range_start + quantity - 1)
            rest = (rest_id, bundle.range_start + quantity, bundle.range_end)
            children = (part, rest)
        else:
            rest = (rest_id, bundle.range_start, bundle.range_end - quantity)
            part = (part_id, bundle.range_end - quantity + 1, bundle.range_end)
            children = (rest, part)
        effects.append(Split(bundle.bundle_id, children))
        return part_id, rest_id

    def _next_free_bundle_id(self, planned: list[Effect]) -> int:
        """The first bundle ID not used by the registry nor by effects already planned."""
        if not planned:
            return self._next_bundle_id
        taken = sum(len(e.children) for e in planned if isinstance(e, Split))
        return self._next_bundle_id + taken + sum(isinstance(e, Issued) for e in planned)
