"""Deciding the registration requests: opening accounts and registering devices.

Who may hold an account (D2 exemptions of the issuer) and what a device
record must carry (D5 attributes, a meter registered once) are one concept:
admitting the parties and assets that later requests name.
"""

from __future__ import annotations

import datetime as _dt

from gc_conformance.reference.commands import OpenAccount, RegisterDevice
from gc_conformance.reference.effects import AccountOpened, DeviceRegistered
from gc_conformance.reference.entities import Account, Device, GrossOrNet, require_text
from gc_conformance.reference.errors import ErrorCode
from gc_conformance.reference.history import Registered
from gc_conformance.reference.registry._contract import _Decision, _Refuse
from gc_conformance.reference.registry._state import _RegistryState


class _RegistrationDecisions(_RegistryState):
    """Deciders of ``OpenAccount`` and ``RegisterDevice``."""

    # ------------------------------------------------------------------ registration

    def _decide_open_account(self, cmd: OpenAccount, now: _dt.datetime) -> _Decision:
        account = cmd.account
        if not isinstance(account, Account):
            raise _Refuse(ErrorCode.INVALID_FIELD, "account", "expected an Account record")
        require_text(account.account_id, "account.account_id")
        require_text(account.holder_id, "account.holder_id")
        require_text(account.account_name, "account.account_name")
        self._require_issuer(cmd.actor)
        if account.account_id in self._accounts:
            raise _Refuse(
                ErrorCode.DUPLICATE_ACCOUNT, "account.account_id", f"{account.account_id!r} exists"
            )
        if account.holder_id == self.issuer.issuer_id and account.exemption is None:
            raise _Refuse(
                ErrorCode.ISSUER_MAY_NOT_HOLD,
                "account.exemption",
                "an account held by the GC Issuer must name its D2 exemption "
                "(own consumption, testing or support recovery)",
            )
        if account.exemption is not None and account.holder_id != self.issuer.issuer_id:
            raise _Refuse(
                ErrorCode.INVALID_FIELD,
                "account.exemption",
                "only the issuer's own accounts carry one",
            )
        return Registered(account.account_id), [AccountOpened(account)]

    def _decide_register_device(self, cmd: RegisterDevice, now: _dt.datetime) -> _Decision:
        device = cmd.device
        if not isinstance(device, Device):
            raise _Refuse(ErrorCode.INVALID_FIELD, "device", "expected a Device record")
        for name in (
            "device_id",
            "device_name",
            "technology_type",
            "energy_source",
            "meter_id",
            "measurement_body",
        ):
            require_text(getattr(device, name), f"device.{name}")
        if (
            isinstance(device.capacity_w, bool)
            or not isinstance(device.capacity_w, int)
            or device.capacity_w <= 0
        ):
            raise _Refuse(
                ErrorCode.INVALID_FIELD, "device.capacity_w", "must be a positive whole number of W"
            )
        if not isinstance(device.operational_date, _dt.date) or isinstance(
            device.operational_date, _dt.datetime
        ):
            raise _Refuse(ErrorCode.INVALID_DATE, "device.operational_date", "must be a date")
        if not isinstance(device.gross_or_net, GrossOrNet):
            raise _Refuse(ErrorCode.INVALID_FIELD, "device.gross_or_net", "must be GROSS or NET")
        for name in ("disclosure", "post_energy_carrier_conversion"):
            if not isinstance(getattr(device, name), bool):
                raise _Refuse(ErrorCode.INVALID_FIELD, f"device.{name}", "must be true or false")
        for name in ("production_auxiliaries", "metering_diagram_reference"):
            if getattr(device, name) is not None:
                require_text(getattr(device, name), f"device.{name}")
        for name in ("convertible_energy_sources", "behind_the_meter_consumption_meter_ids"):
            values = getattr(device, name)
            if not isinstance(values, tuple):
                raise _Refuse(ErrorCode.INVALID_FIELD, f"device.{name}", "must be a list of texts")
            for index, value in enumerate(values):
                require_text(value, f"device.{name}[{index}]")
        self._require_issuer(cmd.actor)
        if device.device_id in self._devices:
            raise _Refuse(
                ErrorCode.DUPLICATE_DEVICE,
                "device.device_id",
                f"{device.device_id!r} is already registered",
            )
        holder = self._device_by_meter.get(device.meter_id)
        if holder is not None:
            raise _Refuse(
                ErrorCode.DUPLICATE_METER_ID,
                "device.meter_id",
                f"meter {device.meter_id!r} is already registered for device {holder!r}",
            )
        self._known_account(device.account_id, "device.account_id")
        return Registered(device.device_id), [DeviceRegistered(device)]
