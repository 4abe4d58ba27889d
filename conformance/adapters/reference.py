"""The ``reference`` adapter: the in-process reference model behind the adapter contract.

It is what every other registry is compared with, so it must translate the
plain requests of the contract to model commands *without* adding rules of its
own: each request field goes to the command field of the same name, nested
entities (``account``, ``device``, ``location``) are built from mappings, and
every validation is left to the model. A request the model cannot even build
(a missing or unknown field) is answered as a rejection naming the field, as a
real registry answers a malformed body.
"""

from __future__ import annotations

import datetime as _dt
import enum
import functools
import re
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from gc_conformance.adapter import Profile
from gc_conformance.reference import (
    Account,
    AllocationMethod,
    ConfigurationPolicies,
    Device,
    EacIssuingBody,
    EacRegistry,
    ErrorCode,
    InvalidInput,
    Issuer,
    Location,
    LossMethod,
    Policies,
    Query,
    Registry,
    StorageBook,
    applied_convention,
    bundle_to_plain,
    configuration_2,
    configuration_3,
    issuance_to_plain,
    parse_date,
    parse_timestamp,
    scr_to_plain,
    sdr_to_plain,
)
from gc_conformance.reference import commands as _core
from gc_conformance.reference import configurations as _config
from gc_conformance.reference import eac as _eac
from gc_conformance.reference import storage as _storage
from gc_conformance.reference.history import Accepted

#: The prefix of the EAC registry's action IDs (its log is apart from the GC registry's).
EAC_ACTION_PREFIX = "EAC-"


@attrs.frozen
class QueryAction:
    """The fields of a ``query_action`` request: a read of the D9 action log, not a command
    (the model has no request type for it; reads change nothing and are not logged)."""

    actor: str
    action_id: str  # as an earlier answer gave it (an integer is read as its digits)


def _snake(name: str) -> str:
    """``SubmitProduction`` -> ``submit_production``; ``IssueStorageGC`` -> ``issue_storage_gc``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


#: Model command class per action name (the contract's action names are the model's).
COMMANDS: Mapping[str, type] = {
    _snake(cls.__name__): cls
    for cls in (
        _core.OpenAccount,
        _core.RegisterDevice,
        _core.SubmitProduction,
        _core.IssueBundle,
        _core.Transfer,
        _core.Cancel,
        _core.Claim,
        _core.Reserve,
        _core.Release,
        _core.Withdraw,
        _core.Expire,
        _core.CorrectProduction,
        _storage.RegisterStorage,
        _storage.ChangeStorageAllocationMethod,
        _storage.SubmitStorageData,
        _storage.CancelForCharge,
        _storage.SetEfficiencyFactor,
        _storage.AllocateStorage,
        _storage.IssueStorageGC,
        _storage.AssignUnknownBeneficiary,
        _storage.ClaimTimeShift,
        _eac.EacOpenAccount,
        _eac.EacRegisterDevice,
        _eac.EacReportProduction,
        _eac.EacTransfer,
        _eac.EacCancel,
        _eac.EacExpire,
        _eac.AppointGcIssuer,
        _config.IssueLinkedGcs,
        _config.CancelLinkedGcs,
        _config.ConvertEacs,
        _config.IssueFromCancelledEacs,
    )
}

# The EAC registry's requests: those defined in the eac package (in one of its modules).
_EAC_ACTIONS = frozenset(
    name for name, cls in COMMANDS.items() if f"{cls.__module__}.".startswith(f"{_eac.__name__}.")
)
_ENTITIES: Mapping[type, Callable[..., Any]] = {
    Account: Account,
    Device: Device,
    Location: Location,
}


class RequestShapeError(Exception):
    """A request could not be turned into a model command: the field and the rule."""

    def __init__(self, field: str, rule: str) -> None:
        self.field = field
        self.rule = rule
        super().__init__(f"{field}: {rule}")


def build_command(request: Mapping[str, Any]) -> Any:
    """The model command for a plain request (``now`` is not part of it)."""
    action = request.get("action")
    cls = COMMANDS.get(action) if isinstance(action, str) else None
    if cls is None:
        raise RequestShapeError("action", f"{action!r} is not an action of the contract")
    fields = {k: v for k, v in request.items() if k not in ("action", "now")}
    return _build(cls, fields, "")


@functools.cache
def _type_hints(cls: type) -> dict[str, Any]:
    """A command's resolved field types (resolving them is costly; the classes never change)."""
    return typing.get_type_hints(cls)


def _build(cls: type, data: Mapping[str, Any], prefix: str) -> Any:
    hints = _type_hints(cls)
    known = {f.name: f for f in attrs.fields(cls)}
    for key in data:
        if key not in known:
            raise RequestShapeError(f"{prefix}{key}", "is not a field of this request")
    values: dict[str, Any] = {}
    for name, field in known.items():
        if name not in data:
            if field.default is attrs.NOTHING:
                raise RequestShapeError(f"{prefix}{name}", "is required")
            continue
        values[name] = _convert(hints[name], data[name], f"{prefix}{name}")
    return cls(**values)


def _convert(hint: Any, value: Any, field: str) -> Any:
    """Shape plain JSON into the field's type; leave every *rule* to the model."""
    if value is None:
        return None
    candidates = typing.get_args(hint) if _is_union(hint) else (hint,)
    for candidate in candidates:
        origin = typing.get_origin(candidate)
        if candidate in _ENTITIES and isinstance(value, Mapping):
            return _build(candidate, value, field + ".")
        if candidate is _dt.date and isinstance(value, str):
            return parse_date(value, field)
        if (
            isinstance(candidate, type)
            and issubclass(candidate, enum.Enum)
            and isinstance(value, str)
        ):
            try:
                return candidate[value]
            except KeyError:
                allowed = ", ".join(m.name for m in candidate)
                raise InvalidInput(
                    ErrorCode.INVALID_FIELD, field, f"not one of {allowed}"
                ) from None
        if origin is tuple and isinstance(value, list | tuple):
            args = typing.get_args(candidate)
            if len(args) == 2 and args[1] is Ellipsis:
                return tuple(
                    _convert(args[0], item, f"{field}[{i}]") for i, item in enumerate(value)
                )
            return tuple(value)
    return value


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)


def plain(value: Any) -> Any:
    """A model result as JSON-ready data."""
    if attrs.has(type(value)):
        return {f.name: plain(getattr(value, f.name)) for f in attrs.fields(type(value))}
    if isinstance(value, _dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    return value


class ReferenceAdapter:
    """The reference model as a registry under test (``--adapter reference``)."""

    name = "reference"
    description = "the embedded reference model (the oracle), in process"

    def __init__(
        self,
        policies: Policies | None = None,
        configuration_policies: ConfigurationPolicies | None = None,
    ) -> None:
        self.policies = policies if policies is not None else Policies()
        self.configuration_policies = (
            configuration_policies
            if configuration_policies is not None
            else ConfigurationPolicies()
        )
        self._registry: Registry | None = None
        self._linked: _config.LinkedRegistries | None = None
        self._eac: EacRegistry | None = None
        self._storage_ids: list[str] = []  # storage systems registered since the last reset

    def capabilities(self) -> Mapping[str, Any]:
        return {
            "name": "gc-conformance reference model",
            "version": _version(),
            # Not "security": its checks send hand-made HTTP requests, and there is no wire here.
            "profiles": [p.value for p in Profile if p is not Profile.SECURITY],
            "issuance_styles": ["production-data", "issuer-created"],
            "clock": "controlled",
            "policies": {**self.policies.describe(), **self._declared_policies()},
        }

    def _declared_policies(self) -> dict[str, str]:
        """Storage and configuration policies, named as the requirement catalogue names them.

        ``allocation_method`` and ``loss_method`` list (comma-separated) what a
        storage system may choose at registration; the model offers every one.
        """
        return {
            "allocation_method": ",".join(m.name for m in AllocationMethod),
            "loss_method": ",".join(m.name for m in LossMethod),
            "loss_convention": applied_convention().name,
            "monthly_cap": self.configuration_policies.monthly_cap.name,
            "hour_suspension": self.configuration_policies.suspension.name,
        }

    def reset(self, setup: Mapping[str, Any]) -> None:
        issuer_plain = setup.get("issuer", {})
        issuer = Issuer(
            issuer_plain.get("issuer_id", "ISSUER"),
            issuer_plain.get("name", "Test Issuer"),
            issuer_plain.get("domain", "NL"),
        )
        configuration = setup.get("configuration", 1)
        self._linked = self._eac = None
        self._storage_ids = []
        if configuration in (2, 3):
            body_plain = setup.get("eac_body", {})
            body = EacIssuingBody(
                body_plain.get("body_id", "EIB"),
                body_plain.get("name", "EAC Issuing Body"),
                body_plain.get("domain", issuer.domain),
                configuration=body_plain.get("configuration", 0),
                government_mandate=body_plain.get("government_mandate", False),
            )
            self._eac = EacRegistry(body)
            build = configuration_2 if configuration == 2 else configuration_3
            self._linked = build(self._eac, issuer, self.policies, self.configuration_policies)
            self._registry = self._linked.gc
        else:
            self._registry = Registry(issuer, self.policies)

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            raise RuntimeError("reset() first")
        return self._registry

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        registry = self.registry
        if request.get("action") == "query_action":
            return self._query_action(request)
        prefix = ""
        try:
            now = parse_timestamp(request.get("now"), "now")
            if request.get("action") == "query":
                fields = {k: v for k, v in request.items() if k not in ("action", "now")}
                outcome: Any = registry.query(_build(Query, fields, ""))
            else:
                command = build_command(request)
                if request.get("action") in _EAC_ACTIONS and self._eac is not None:
                    outcome = self._eac.execute(command, now)
                    prefix = EAC_ACTION_PREFIX
                elif self._linked is not None:
                    outcome = self._linked.execute(command, now)
                else:
                    outcome = registry.execute(command, now)
        except RequestShapeError as exc:
            return {"accepted": False, "code": "INVALID_FIELD", "message": str(exc)}
        except InvalidInput as exc:
            return {"accepted": False, "code": exc.code.name, "message": str(exc.problem)}
        # Reads (query) are not logged: their outcomes carry action ID 0, which names nothing.
        logged = {"action_id": f"{prefix}{outcome.action_id}"} if outcome.action_id else {}
        if isinstance(outcome, Accepted):
            value = outcome.value
            device = request.get("device")
            if request.get("action") == "register_storage" and isinstance(device, Mapping):
                self._storage_ids.append(str(device.get("device_id")))
            if isinstance(value, tuple) and all(hasattr(b, "range_start") for b in value):
                return {"accepted": True, "result": {"bundles": [self._bundle(b) for b in value]}}
            result = plain(value)
            return {
                "accepted": True,
                "result": result if isinstance(result, dict) else {"value": result},
                **logged,
            }
        return {
            "accepted": False,
            "code": outcome.code.name,
            "message": str(outcome.problem),
            **logged,
        }

    def _query_action(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        """``query_action``: the D9 record of an earlier request, by the ID its answer carried.

        A party may read its own actions, the GC Issuer (and the EAC Issuing Body,
        its registry's) every one. GC registry actions are numbered ``"1"``, ``"2"``, ...; the EAC
        registry beside a #2/#3 registry keeps a log of its own, so its IDs
        carry :data:`EAC_ACTION_PREFIX`. A read, so not itself logged.
        """
        fields = {k: v for k, v in request.items() if k not in ("action", "now")}
        try:
            _build(QueryAction, fields, "")
        except RequestShapeError as exc:
            return {"accepted": False, "code": "INVALID_FIELD", "message": str(exc)}
        wire = request.get("action_id")
        text = str(wire) if isinstance(wire, str | int) and not isinstance(wire, bool) else ""
        log: Any = self.registry
        readers = {self.registry.issuer.issuer_id}
        if text.startswith(EAC_ACTION_PREFIX) and self._eac is not None:
            log, text = self._eac, text.removeprefix(EAC_ACTION_PREFIX)
            readers.add(self._eac.body.body_id)
        status = log.action(int(text)) if text.isdigit() and text.isascii() else None
        # Who may read an action is the operator's choice ([API]); here a party reads its own
        # and the issuer every one. Another party's action is answered as if it did not exist.
        actor = request.get("actor")
        if status is not None and actor != status.actor and actor not in readers:
            status = None
        if status is None:
            return {
                "accepted": False,
                "code": "INVALID_FIELD",
                "message": f"action_id: no action {wire!r} of yours in this registry's log",
            }
        record = status.to_plain()
        record["action_id"] = str(wire)
        return {"accepted": True, "result": record}

    def observe(self) -> Mapping[str, Any]:
        registry = self.registry
        state = registry.export_state()
        state["bundles"] = [self._bundle(registry.bundle(b["bundle_id"])) for b in state["bundles"]]
        state["storage"] = self._storage_state()
        if self._eac is not None:
            state["eacs"] = [eac.to_plain() for eac in self._eac.eacs()]
        return state

    def _storage_state(self) -> dict[str, Any]:
        """The optional ``storage`` extension of ``observe()``: systems, SCRs, SDRs, SD-GCs.

        Records use the API's field names (``scr_to_plain``/``sdr_to_plain``);
        ``systems`` adds the pool (state of charge net of losses, archive) and
        ``sd_gcs`` the D5/D7 attributes of each SD-GC issuance.
        """
        book = self.registry.book(StorageBook)
        systems: list[dict[str, Any]] = []
        scrs: list[dict[str, Any]] = []
        sdrs: list[dict[str, Any]] = []
        sd_gcs: list[dict[str, Any]] = []
        for storage_id in self._storage_ids:
            storage = book.storage(storage_id)
            if storage is None:
                continue
            pool = book.pool(storage_id)
            systems.append(
                {
                    "storage_id": storage_id,
                    "consumption_point_id": storage.consumption_point_id,
                    "capacity_wh": storage.capacity_wh,
                    "settlement_period_minutes": storage.settlement_period_minutes,
                    "allocation_method": storage.allocation_method.name,
                    "loss_method": storage.loss_method.name,
                    "state_of_charge_wh": pool.state_of_charge_wh,
                    "pending_loss_charge_wh": pool.pending_loss_charge_wh,
                    "scr_ids": list(pool.scr_ids),
                    "sdr_ids": list(pool.sdr_ids),
                    "archived_scr_ids": list(pool.archived_scr_ids),
                    "archived_sdr_ids": list(pool.archived_sdr_ids),
                }
            )
            scrs += [scr_to_plain(r) for r in book.scrs(storage_id)]
            for sdr in book.sdrs(storage_id):
                sdrs.append(sdr_to_plain(sdr, book))
                issuance = (
                    None
                    if sdr.sd_gc_issuance_id is None
                    else self.registry.issuance(sdr.sd_gc_issuance_id)
                )
                if issuance is not None:
                    sd_gcs.append(plain(issuance_to_plain(issuance)))
        return {"systems": systems, "scrs": scrs, "sdrs": sdrs, "sd_gcs": sd_gcs}

    def _bundle(self, bundle: Any) -> dict[str, Any]:
        issuance = self.registry.issuance(bundle.issuance_id)
        assert issuance is not None
        record = bundle_to_plain(bundle)
        record["device_id"] = issuance.device_id
        record["production_starting_interval"] = plain(issuance.production_start)
        record["production_ending_interval"] = plain(issuance.production_end)
        record["issuance_range_start"] = issuance.range_start
        record["is_storage"] = issuance.is_storage
        record.update(d5_attributes(issuance))
        return record

    def history(self) -> list[dict[str, Any]]:
        return self.registry.export_history()

    def close(self) -> None:
        self._registry = self._linked = self._eac = None


def d5_attributes(issuance: Any) -> dict[str, Any]:
    """The D5 mandatory attributes of a bundle's issuance, under the API specification's names.

    Observed bundles carry them so that checks can verify, through the contract
    alone, that an issued GC states what the standard makes mandatory.
    """
    return {
        "energy_carrier": issuance.energy_carrier,
        "energy_source": issuance.energy_source,
        "device_technology_type": issuance.technology_type,
        "device_name": issuance.device_name,
        "device_capacity": issuance.device_capacity_w,
        "device_production_start_date": plain(issuance.device_operational_date),
        "device_location": plain(issuance.device_location),
        "country_of_issuance": issuance.country_of_issuance,
        "issuing_body": issuance.issuer_id,
        "issuance_datestamp": plain(issuance.issuance_date),
        "face_value": issuance.face_value_wh,
        "registry_configuration": issuance.registry_configuration,
        "disclosure": issuance.disclosure,
        "issuance_post_energy_carrier_conversion": issuance.post_energy_carrier_conversion,
    }


def _version() -> str:
    from gc_conformance import __version__

    return __version__


__all__ = [
    "COMMANDS",
    "EAC_ACTION_PREFIX",
    "QueryAction",
    "ReferenceAdapter",
    "RequestShapeError",
    "build_command",
    "plain",
]
