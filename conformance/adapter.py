"""The adapter contract: how a third-party registry is put under test.

A vendor implements :class:`RegistryAdapter` (or points the suite at an HTTP
API, issue 8) and the suite drives it with **plain data**: every request is a
JSON-ready mapping, every answer is one. Nothing of the reference model's
Python types crosses this boundary, so an adapter is a thin translation layer
a vendor can write against their own API in an afternoon. The full request
catalogue, with fields and examples, is in ``docs/adapters.md``.

Requests
    ``{"action": <name>, "actor": <party id>, "now": <UTC stamp>, ...fields}``.
    ``action`` is one of :data:`ACTIONS`; the fields are those documented for
    it. ``now`` is the time the request happens at: a registry that can move
    its clock uses it; one that cannot declares ``clock: "fixed"`` and the
    time-dependent checks are skipped (never passed).

Answers
    ``{"accepted": true, "result": {...}}`` or
    ``{"accepted": false, "code": <canonical code>, "message": <text>}``.
    ``code`` is one of ``gc-conformance codes``; an adapter that only has its
    vendor's own messages supplies :meth:`RegistryAdapter.map_error` (or leaves
    ``code`` out and lets the suite report a *code mismatch*, never a pass).
    Bundle IDs in results are the vendor's own, opaque to the suite. Either
    answer may also carry ``"action_id"``: the request's ID in the registry's
    action log (D9), which ``query_action`` reads back (profile ``action-log``).

Observation
    ``observe()`` returns ``{"accounts": [...], "bundles": [...]}``: every
    current bundle with its certificate range, quantity, account, status, and
    the issuance attributes the suite compares (device and production
    interval). Certificate ID numbering is the vendor's: the suite compares
    ranges relative to each issuance's first certificate, never absolute IDs.

Tiers
    ``reset`` and ``observe`` are optional (``capabilities()["reset"]``,
    ``["observe"]``), and so is every action (``["actions"]``): the session
    works in a per-check namespace without reset, derives the state from
    ``query`` without observe, and skips exactly the checks that need a missing
    action (see :class:`Capabilities` and ``docs/adapters.md``).

Failures
    An adapter raises :class:`AdapterFailure` (or anything else) when the
    registry could not answer: a timeout, a 5xx, a malformed answer. The suite
    reports that step's check as *error*, never as pass or fail, and still
    re-observes the state to catch a write that was committed anyway.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol, TypeVar, runtime_checkable

import attrs

from gc_conformance.errors import ConfigurationError
from gc_conformance.reference import ErrorCode


class Profile(enum.Enum):
    """Groups of requirements a registry claims to implement (``capabilities()["profiles"]``)."""

    CORE = "core"
    ISSUER_CREATED = "issuer-created"
    EXPIRY = "expiry"
    ERROR_CORRECTION = "error-correction"
    STORAGE = "storage"
    CONFIG_2 = "config-2"
    CONFIG_3 = "config-3"
    SECURITY = "security"
    ACTION_LOG = "action-log"

    @property
    def description(self) -> str:
        return _PROFILE_DESCRIPTIONS[self]


_PROFILE_DESCRIPTIONS = {
    Profile.CORE: "accounts, devices, issuance from production data, transfer, split, cancel, "
    "claim, reserve/lock, withdraw, query, authority (D2, D4-D6, D8, D9)",
    Profile.ISSUER_CREATED: "issuer-created bundles validated by the registry (D5)",
    Profile.EXPIRY: "validity periods and the expiry sweep (D8); needs a controllable clock",
    Profile.ERROR_CORRECTION: "D10 error correction: issue the difference, withdraw, deduct",
    Profile.STORAGE: "storage charge/discharge records, losses, allocation, SD-GCs (D7)",
    Profile.CONFIG_2: "configuration #2: a GC platform linked to the EAC registry (D3)",
    Profile.CONFIG_3: "configuration #3: GCs from EACs cancelled for a beneficiary (D3)",
    Profile.SECURITY: "authorization, hostile input, replay and concurrency over the registry's "
    "web API (D2, D4, D9); needs hand-made requests (the http:// adapter's raw_http)",
    Profile.ACTION_LOG: "D9 action records ([API]): every answered request under a stable action "
    "ID, queryable as received -> pending -> resolved (query_action); a recommendation (SHOULD)",
}


class IssuanceStyle(enum.Enum):
    """How a registry issues: the checks for each style follow from the standard."""

    PRODUCTION_DATA = "production-data"  # action submit_production: the registry computes bundles
    ISSUER_CREATED = "issuer-created"  # action issue_bundle: the issuer asserts, registry validates


class Clock(enum.Enum):
    CONTROLLED = "controlled"  # the registry takes ``now`` from each request
    FIXED = "fixed"  # the registry uses its own clock; time-dependent checks are skipped


_CORE, _CONFIGS = frozenset({Profile.CORE}), frozenset({Profile.CONFIG_2, Profile.CONFIG_3})

#: Every action a request may carry, with the profiles that use it. Fields: docs/adapters.md.
ACTIONS: Mapping[str, frozenset[Profile]] = {
    "open_account": _CORE,
    "register_device": _CORE,
    "submit_production": _CORE,
    "issue_bundle": frozenset({Profile.ISSUER_CREATED}),
    "transfer": _CORE,
    "cancel": _CORE,
    "claim": _CORE,
    "reserve": _CORE,
    "release": _CORE,
    "withdraw": _CORE,
    "query": _CORE,
    "expire": frozenset({Profile.EXPIRY}),
    "correct_production": frozenset({Profile.ERROR_CORRECTION}),
    **{
        name: frozenset({Profile.STORAGE})
        for name in (
            "register_storage",
            "change_storage_allocation_method",
            "submit_storage_data",
            "cancel_for_charge",
            "set_efficiency_factor",
            "allocate_storage",
            "issue_storage_gc",
            "assign_unknown_beneficiary",
            "claim_time_shift",
        )
    },
    **{
        name: _CONFIGS
        for name in (
            "eac_open_account",
            "eac_register_device",
            "eac_report_production",
            "eac_transfer",
            "eac_cancel",
            "eac_expire",
        )
    },
    "appoint_gc_issuer": frozenset({Profile.CONFIG_2}),
    "issue_linked_gcs": frozenset({Profile.CONFIG_2}),
    "cancel_linked_gcs": frozenset({Profile.CONFIG_2}),
    "convert_eacs": frozenset({Profile.CONFIG_2}),
    "issue_from_cancelled_eacs": frozenset({Profile.CONFIG_3}),
    # A read of the D9 transaction log (field ``action_id``: an ID an earlier answer carried).
    "query_action": frozenset({Profile.ACTION_LOG}),
}


#: Optional parts of the contract a registry may lack (``capabilities()["reset"]`` and
#: ``["observe"]``, default true). Without ``reset`` each check works in a namespace of its own
#: (unique account, holder, device and meter IDs) and judges only what it created; without
#: ``observe`` the session derives the state from ``query``, one per account it created.
CONTRACT_FEATURES = ("reset", "observe")


def _policy_names(kind: type[enum.Enum]) -> frozenset[str]:
    return frozenset(member.name for member in kind)


def known_policies() -> dict[str, tuple[str, frozenset[str] | None]]:
    """Policy name -> (shape, allowed values): ``one`` value, a comma-separated ``list``, or a
    ``percent`` (a non-negative decimal number). Unknown names and values are configuration
    errors: a policy the suite does not know would silently change nothing it judges."""
    from gc_conformance.reference.allocation import AllocationMethod
    from gc_conformance.reference.configurations import HourSuspension, MonthlyCap
    from gc_conformance.reference.losses import LossConvention, LossMethod
    from gc_conformance.reference.policies import Policies

    known: dict[str, tuple[str, frozenset[str] | None]] = {
        field.name: ("one", _policy_names(type(field.default)))
        for field in attrs.fields(Policies)
        if isinstance(field.default, enum.Enum)
    }
    known.update(
        {
            "monthly_cap": ("one", _policy_names(MonthlyCap)),
            "hour_suspension": ("one", _policy_names(HourSuspension)),
            "allocation_method": ("list", _policy_names(AllocationMethod)),
            "loss_method": ("list", _policy_names(LossMethod)),
            "loss_convention": ("one", _policy_names(LossConvention)),
            # D6 asks for plausible production; how far above nameplate capacity x hours a
            # registry still accepts is its own declared margin (0 = nameplate exactly).
            "capacity_tolerance_percent": ("percent", None),
            # D2 lets the issuer hold certificates for these purposes only; NONE: not offered.
            "exempt_accounts": (
                "list",
                frozenset({"OWN_CONSUMPTION", "TESTING", "SUPPORT_RECOVERY", "NONE"}),
            ),
        }
    )
    known.update(EXTRA_POLICIES)
    return known


#: Actions the standard does not require of every registry (D9 lists them as API endpoints
#: only; the expiry sweep is one way to apply D8): a registry without one skips the checks
#: that send it as *not applicable*. Any other missing action leaves a SHALL the registry owes
#: *not verified*.
OPTIONAL_ACTIONS = frozenset({"reserve", "release", "expire", "query_action"})

#: Policies other modules of the harness add (name -> (shape, allowed values or None)).
EXTRA_POLICIES: dict[str, tuple[str, frozenset[str] | None]] = {}


def policy_percent(value: str) -> Decimal | None:
    """A ``percent`` policy value as a Decimal, or None when it is not a non-negative number."""
    try:
        number = Decimal(value.strip())
    except (InvalidOperation, AttributeError):
        return None
    return number if number.is_finite() and number >= 0 else None


@attrs.frozen
class Capabilities:
    """What a registry says about itself; the suite selects and skips checks from it.

    ``reset`` and ``observe`` say which optional parts of the contract the
    registry offers (the *tier*, see :attr:`tier`); ``actions`` is every action
    it offers (default: every action of the profiles it claims). A check that
    needs what is missing is skipped with that reason, never failed.
    """

    name: str
    version: str
    profiles: frozenset[Profile]
    issuance_styles: frozenset[IssuanceStyle]
    clock: Clock
    policies: Mapping[str, str] = attrs.field(factory=dict)
    reset: bool = True
    observe: bool = True
    actions: frozenset[str] | None = None  # None: every action of the claimed profiles

    @property
    def offered_actions(self) -> frozenset[str]:
        if self.actions is not None:
            return self.actions
        return frozenset(a for a, profiles in ACTIONS.items() if profiles & self.profiles)

    def offers(self, action: str) -> bool:
        return action in self.offered_actions

    @property
    def tier(self) -> str:
        """The contract tier the run used: ``full`` (reset and observe), ``no-reset``,
        ``no-observe`` or ``minimal`` (neither: namespaces and ``query`` only)."""
        return {
            (True, True): "full",
            (False, True): "no-reset",
            (True, False): "no-observe",
            (False, False): "minimal",
        }[(self.reset, self.observe)]

    def contract_tier(self) -> dict[str, Any]:
        """The tier as plain data, for the run document and reports."""
        claimed = frozenset(a for a, p in ACTIONS.items() if p & self.profiles)
        return {
            "tier": self.tier,
            "reset": self.reset,
            "observe": self.observe,
            "clock": self.clock.value,
            "missing_actions": sorted(claimed - self.offered_actions),
        }

    @classmethod
    def from_plain(cls, plain: object) -> Capabilities:
        """Validate an adapter's ``capabilities()`` answer completely.

        Anything wrong (a missing or mistyped field, an unknown profile, style,
        clock, action, policy name or value, an unknown key) raises
        :class:`CapabilitiesError` naming the field: a configuration error
        (exit 3), never a run that silently skips what the declaration hid.
        """
        from gc_conformance.schemas import capabilities_schema, first_violation

        violation = first_violation(capabilities_schema(), plain, "capabilities")
        if violation is not None:
            raise CapabilitiesError(*violation)
        try:
            return cls._parse(plain)
        except CapabilitiesError:
            raise
        except AdapterContractError as exc:
            field = (
                exc.field if exc.field.startswith("capabilities") else f"capabilities.{exc.field}"
            )
            raise CapabilitiesError(field, exc.rule) from None

    @classmethod
    def _parse(cls, plain: object) -> Capabilities:
        data = _mapping(plain, "capabilities")
        unknown = sorted(str(k) for k in data if k not in _CAPABILITY_KEYS)
        if unknown:
            raise CapabilitiesError(
                f"capabilities.{unknown[0]}",
                f"unknown field (known: {', '.join(sorted(_CAPABILITY_KEYS))})",
            )
        name = _text(data, "name")
        version = _text(data, "version")
        profiles = frozenset(
            _enum(Profile, value, f"capabilities.profiles[{i}]")
            for i, value in enumerate(_list(data, "profiles"))
        )
        if Profile.CORE not in profiles:
            raise CapabilitiesError("capabilities.profiles", "every registry must claim 'core'")
        styles = frozenset(
            _enum(IssuanceStyle, value, f"capabilities.issuance_styles[{i}]")
            for i, value in enumerate(_list(data, "issuance_styles"))
        )
        if not styles:
            raise CapabilitiesError(
                "capabilities.issuance_styles", "name at least one issuance style"
            )
        clock = _enum(Clock, data.get("clock", "controlled"), "capabilities.clock")
        policies = _read_policies(data.get("policies", {}))
        features = {}
        for feature in CONTRACT_FEATURES:
            value = data.get(feature, True)
            if not isinstance(value, bool):
                raise CapabilitiesError(f"capabilities.{feature}", "must be true or false")
            features[feature] = value
        actions: frozenset[str] | None = None
        if "actions" in data:
            listed = _list(data, "actions")
            for i, action in enumerate(listed):
                if not isinstance(action, str) or action not in ACTIONS:
                    raise CapabilitiesError(
                        f"capabilities.actions[{i}]", f"{action!r} is not a contract action"
                    )
            actions = frozenset(listed)
            unclaimed = sorted(a for a in actions if not ACTIONS[a] & profiles)
            if unclaimed:
                raise CapabilitiesError(
                    "capabilities.actions",
                    f"{unclaimed[0]!r} belongs to no claimed profile",
                )
        parsed = cls(
            name,
            version,
            profiles,
            styles,
            clock,
            policies,
            reset=features["reset"],
            observe=features["observe"],
            actions=actions,
        )
        if "tier" in data and data["tier"] != parsed.tier:
            raise CapabilitiesError(
                "capabilities.tier",
                f"{data['tier']!r} contradicts reset={parsed.reset} and observe={parsed.observe} "
                f"(tier {parsed.tier!r}); leave it out, it is derived",
            )
        return parsed

    def to_plain(self) -> dict[str, Any]:
        plain: dict[str, Any] = {
            "name": self.name,
            "version": self.version,
            "profiles": sorted(p.value for p in self.profiles),
            "issuance_styles": sorted(s.value for s in self.issuance_styles),
            "clock": self.clock.value,
            "policies": dict(sorted(self.policies.items())),
            "reset": self.reset,
            "observe": self.observe,
            "tier": self.tier,
        }
        if self.actions is not None:
            plain["actions"] = sorted(self.actions)
        return plain


_CAPABILITY_KEYS = frozenset(
    {
        "name",
        "version",
        "profiles",
        "issuance_styles",
        "clock",
        "policies",
        "actions",
        "tier",  # as to_plain() writes it: must agree with reset and observe
        *CONTRACT_FEATURES,
    }
)


def _read_policies(raw: object) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        raise CapabilitiesError("capabilities.policies", "must be an object of name: value")
    known = known_policies()
    policies: dict[str, str] = {}
    for key, value in raw.items():
        field = f"capabilities.policies.{key}"
        if not isinstance(key, str) or not isinstance(value, str):
            raise CapabilitiesError(field, "policy names and values are strings")
        if key not in known:
            raise CapabilitiesError(field, f"no such policy (known: {', '.join(sorted(known))})")
        shape, allowed = known[key]
        if shape == "percent":
            if policy_percent(value) is None:
                raise CapabilitiesError(field, f"{value!r} is not a non-negative number")
        else:
            values = [v.strip() for v in value.split(",")] if shape == "list" else [value]
            bad = [v for v in values if allowed is not None and v not in allowed]
            if bad or not values or not all(values):
                raise CapabilitiesError(
                    field,
                    f"{value!r} is not "
                    + ("a comma-separated list of " if shape == "list" else "one of ")
                    + ", ".join(sorted(allowed or ())),
                )
        policies[key] = value
    return policies


@runtime_checkable
class RegistryAdapter(Protocol):
    """What a registry under test implements. See the module docstring for the data shapes."""

    def capabilities(self) -> Mapping[str, Any]:
        """Name, version, claimed profiles, issuance styles, clock, policy values."""
        ...

    def reset(self, setup: Mapping[str, Any]) -> None:
        """Start from an empty registry run by ``setup["issuer"]`` (id, name, domain).

        ``setup`` may also carry ``configuration`` (1, 2 or 3). Each check calls
        ``reset`` first; a registry that cannot be emptied may create a fresh
        tenant instead. IDs the suite uses are unique per reset.
        """
        ...

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        """Carry out one request; answer accepted with a result, or rejected with a code."""
        ...

    def observe(self) -> Mapping[str, Any]:
        """The registry's current state: ``{"accounts": [...], "bundles": [...]}``."""
        ...

    def close(self) -> None:
        """Release connections; called once at the end of a run."""
        ...


class AdapterFailure(Exception):
    """The registry could not answer (timeout, 5xx, crash): the verdict is *error*."""


class AdapterContractError(AdapterFailure):
    """The adapter answered, but not in the documented shape; names the field and the rule."""

    def __init__(self, field: str, rule: str) -> None:
        self.field = field
        self.rule = rule
        super().__init__(f"{field}: {rule}")


class CapabilitiesError(ConfigurationError, AdapterContractError):
    """``capabilities()`` declares something unknown, mistyped or contradictory (exit 3).

    A :class:`~gc_conformance.errors.ConfigurationError` naming the field; also an
    :class:`AdapterContractError`, so callers that catch contract errors keep working.
    """

    field: str  # always named here

    def __init__(self, field: str, rule: str) -> None:
        AdapterContractError.__init__(self, field, rule)
        self.args = (f"{field}: {rule}",)


class AdapterUnavailable(Exception):
    """The adapter could not be loaded or the registry reached at all (exit code 3)."""


@attrs.frozen
class Answer:
    """A validated answer to one request."""

    accepted: bool
    result: Mapping[str, Any] = attrs.field(factory=dict)
    code: str | None = None  # canonical, after the adapter's error mapper
    message: str = ""
    #: The registry's ID of this request in its action log (D9, [API]), when it gives one:
    #: opaque to the suite (a string or an integer), read back only through ``query_action``.
    action_id: str | int | None = None

    def to_plain(self) -> dict[str, Any]:
        plain: dict[str, Any] = (
            {"accepted": True, "result": dict(self.result)}
            if self.accepted
            else {"accepted": False, "code": self.code, "message": self.message}
        )
        if self.action_id is not None:
            plain["action_id"] = self.action_id
        return plain


E = TypeVar("E", bound=enum.Enum)

CANONICAL_CODES = frozenset(code.name for code in ErrorCode)


def read_answer(adapter: object, raw: object) -> Answer:
    """Validate ``execute``'s answer, applying the adapter's optional ``map_error``."""
    data = _mapping(raw, "answer")
    accepted = data.get("accepted")
    if not isinstance(accepted, bool):
        raise AdapterContractError("answer.accepted", "must be true or false")
    action_id = data.get("action_id")
    if action_id is not None and (
        isinstance(action_id, bool) or not isinstance(action_id, str | int) or action_id == ""
    ):
        raise AdapterContractError("answer.action_id", "a non-empty string or an integer")
    if accepted:
        result = _mapping(data.get("result", {}), "answer.result")
        return Answer(True, result=result, action_id=action_id)
    code = data.get("code")
    mapper = getattr(adapter, "map_error", None)
    if code is None and callable(mapper):
        code = mapper(data)
    if code is not None and not isinstance(code, str):
        raise AdapterContractError("answer.code", "a canonical code is a string")
    message = data.get("message", "")
    return Answer(
        False,
        code=code,
        message=message if isinstance(message, str) else repr(message),
        action_id=action_id,
    )


def read_state(raw: object) -> dict[str, list[dict[str, Any]]]:
    """Validate ``observe()``'s answer: lists of plain records, bundles with integer ranges."""
    data = _mapping(raw, "state")
    accounts = [_mapping(a, f"state.accounts[{i}]") for i, a in enumerate(_list(data, "accounts"))]
    bundles = []
    for i, item in enumerate(_list(data, "bundles")):
        bundle = _mapping(item, f"state.bundles[{i}]")
        for key in (
            "certificate_bundle_id_range_start",
            "certificate_bundle_id_range_end",
            "bundle_quantity",
        ):
            value = bundle.get(key)
            if not isinstance(value, int) or isinstance(value, bool):
                raise AdapterContractError(f"state.bundles[{i}].{key}", "must be an integer")
        for key in ("bundle_id", "account_id", "certificate_bundle_status", "device_id"):
            if key not in bundle:
                raise AdapterContractError(f"state.bundles[{i}].{key}", "is required")
        bundles.append(dict(bundle))
    return {"accounts": [dict(a) for a in accounts], "bundles": bundles}


def _mapping(value: object, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise AdapterContractError(field, f"must be an object, got {type(value).__name__}")
    return value


def _list(data: Mapping[str, Any], key: str) -> Sequence[Any]:
    value = data.get(key)
    if not isinstance(value, list | tuple):
        raise AdapterContractError(key, "must be a list")
    return value


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise AdapterContractError(f"capabilities.{key}", "must be a non-empty string")
    return value


def _enum(kind: type[E], value: object, field: str) -> E:
    for member in kind:
        if member.value == value:
            return member
    allowed = ", ".join(repr(m.value) for m in kind)
    raise AdapterContractError(field, f"{value!r} is not one of {allowed}")
