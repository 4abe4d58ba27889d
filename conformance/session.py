"""A check's conversation with the registry under test.

Checks never call an adapter directly: they go through a :class:`Session`,
which

* stamps every request with the session's clock (``now``) and records it as a
  numbered :class:`~gc_conformance.outcomes.Step`, so any failure prints the
  exact request sequence that produced it;
* validates every answer against the contract (a malformed answer is an
  adapter error, not a verdict);
* after every refused or failed write, observes the state again and fails the
  check if anything changed (atomicity, D4: a refused request must change
  nothing);
* turns "the code was wrong but the refusal was right" into a recorded code
  mismatch, which fails the check only under strict codes (the default);
* hides the contract tier from the checks. Without ``reset`` (a registry that
  cannot be emptied) the session gives every check a **namespace**: each
  account, holder, device and meter ID a check names goes over the wire with a
  suffix unique to this session, answers and state come back with the suffix
  removed, and the observed state is narrowed to what the namespace created.
  Without ``observe`` (no whole-state export) the session derives the state
  from ``query``, one per account the check has named. Checks are written once,
  against logical IDs (``ACC-ALICE``, ``DEV-WIND``), and run on every tier.
  A request for an action the registry does not offer raises
  :class:`NotApplicable`, so exactly the checks that need it are skipped.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import re
import uuid
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from gc_conformance.adapter import (
    ACTIONS,
    OPTIONAL_ACTIONS,
    AdapterFailure,
    Answer,
    Capabilities,
    Clock,
    IssuanceStyle,
    RegistryAdapter,
    read_answer,
    read_state,
)
from gc_conformance.cast import ISSUER_ID, SOLAR_CAPACITY_W, World, device_record
from gc_conformance.clock import STAMP, epoch_at_or_after, stamp
from gc_conformance.failures import (
    ChangedAfterRefusal,
    CheckFailed,
    CodeMismatch,
    ConservationBroken,
    Deviations,
    MissingAttribute,
    WrongVerdict,
)
from gc_conformance.outcomes import Severity, SkipKind, Step

#: Where a controlled clock starts: production happens on this day, requests the day after.
CONTROLLED_EPOCH = _dt.datetime(2024, 3, 1, tzinfo=_dt.UTC)


class NotApplicable(Exception):
    """The check does not apply to this registry (profile, style or clock); the reason is shown.

    ``kind`` says what the skip means for the verdict (see :class:`SkipKind`):
    a feature the standard does not require is ``NOT_APPLICABLE``; a requirement
    the registry owes but the suite could not verify through what it offers is
    ``NOT_VERIFIED``.
    """

    def __init__(self, reason: str, kind: SkipKind = SkipKind.NOT_APPLICABLE) -> None:
        self.reason = reason
        self.kind = kind
        super().__init__(reason)


class AdapterError(Exception):
    """The adapter raised or answered outside the contract during step ``step``."""

    def __init__(self, step: int, detail: str) -> None:
        self.step = step
        self.detail = detail
        super().__init__(f"step {step}: {detail}")


#: What an ID a check names looks like; only such strings get a namespace (a malformed value
#: sent on purpose, an empty or over-long one, goes over the wire unchanged).
_ID_SHAPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}", re.ASCII)


def _is_party_field(key: str) -> bool:
    """Request fields naming an account, a holder, a device (storage systems are devices) or a
    meter: namespaced."""
    return key == "actor" or key.endswith(
        ("_account", "account_id", "holder_id", "device_id", "meter_id", "storage_id")
    )


def _is_account_field(key: str) -> bool:
    return key.endswith(("_account", "account_id"))


class Session:
    """One check's run against one adapter."""

    def __init__(
        self,
        adapter: RegistryAdapter,
        capabilities: Capabilities,
        *,
        strict_codes: bool = True,
        wall_clock: Callable[[], _dt.datetime] | None = None,
        clock_start: _dt.datetime | None = None,
    ) -> None:
        self.adapter = adapter
        self.capabilities = capabilities
        self.strict_codes = strict_codes
        self.steps: list[Step] = []
        self.code_mismatches: list[str] = []
        #: Steps left out because the registry does not offer their action (see optional()).
        self.left_out: dict[str, str] = {}
        #: The time now (UTC): the registry's own clock, for checks that judge a wall-clock
        #: registry as time passes.
        self.wall_clock: Callable[[], _dt.datetime] = wall_clock or (
            lambda: _dt.datetime.now(_dt.UTC)
        )
        if capabilities.clock is Clock.CONTROLLED:
            # --clock-start: the run begins on the first 1 March at or after it (gc_conformance.
            # clock), past whatever a registry without reset saw in an earlier run.
            self.epoch = CONTROLLED_EPOCH if clock_start is None else epoch_at_or_after(clock_start)
        else:
            today = self.wall_clock().replace(hour=0, minute=0, second=0, microsecond=0)
            # Two days back, but never into last year: under a calendar-year validity reading,
            # last year's production is already past validity in early January.
            self.epoch = max(today - _dt.timedelta(days=2), today.replace(month=1, day=1))
        self._move_past_earlier_sessions()
        self._issued_ranges = 0  # next free certificate ID for issuer-created bundles
        self.configuration = 1
        self.seed = 0  # the run's seed: property-based checks derive their randomness from it
        self.max_examples = 60  # the run's depth for property-based checks
        # The namespace (no reset): a suffix unique to this session, added to every ID the
        # check names. Empty when the registry is reset before each check.
        self._enter_namespace("" if capabilities.reset else uuid.uuid4().hex[:8])

    def _move_past_earlier_sessions(self) -> None:
        """Set ``now`` to the day after the epoch, the epoch past every instant already sent.

        A registry that is never emptied remembers the last instant it saw: time must not go
        back from one check to the next, nor from one example of a property-based check to
        the next (each starts with :meth:`reset`). Each starts on the next 1 March after it,
        so that no scenario straddles a calendar year.
        """
        if self.capabilities.clock is Clock.CONTROLLED and not self.capabilities.reset:
            latest = _latest_instant(self.adapter)
            if latest is not None:
                year = latest.year + (1 if latest >= latest.replace(month=3, day=1) else 0)
                self.epoch = max(self.epoch, CONTROLLED_EPOCH.replace(year=year))
        self.now = self.epoch + _dt.timedelta(days=1)

    @property
    def tier(self) -> str:
        """The contract tier this session works on (see ``Capabilities.tier``)."""
        return self.capabilities.tier

    # ------------------------------------------------------------------ applicability

    def require_style(self, style: IssuanceStyle) -> None:
        if style not in self.capabilities.issuance_styles:
            raise NotApplicable(f"the registry does not offer {style.value!r} issuance")

    def require_clock(self) -> None:
        if self.capabilities.clock is not Clock.CONTROLLED:
            raise NotApplicable("the registry cannot move its clock; time-dependent check")

    def require_action(self, action: str) -> None:
        """Skip the check unless the registry offers ``action`` (``capabilities()["actions"]``).

        An action the standard leaves optional is *not applicable*; any other
        leaves the requirements of the check *not verified* (never a pass).
        """
        if self.capabilities.offers(action):
            return
        kind = SkipKind.NOT_APPLICABLE if action in OPTIONAL_ACTIONS else SkipKind.NOT_VERIFIED
        raise NotApplicable(f"the registry does not offer the {action!r} action", kind=kind)

    def offers(self, action: str) -> bool:
        """Whether the registry offers ``action`` (no record kept: see :meth:`optional`)."""
        return self.capabilities.offers(action)

    def optional(self, action: str) -> bool:
        """Whether to take a step of the scenario that sends ``action`` (``if s.optional(..):``).

        A check that uses an action only as one part of its scenario leaves that
        part out when the registry does not offer it, instead of skipping the
        whole check, and judges the rest. Every part left out is recorded
        (:attr:`left_out`) and named in the check's result, so that a pass says
        what it did not cover; a *required* action left out is named as such (the
        checks that need it are skipped as not verified).
        """
        if self.capabilities.offers(action):
            return True
        kind = "optional" if action in OPTIONAL_ACTIONS else "required"
        self.left_out.setdefault(action, f"{action} ({kind}, not offered)")
        return False

    def require_reset(self, why: str) -> None:
        """Skip unless the registry can be emptied (a check that needs an empty registry)."""
        if not self.capabilities.reset:
            raise NotApplicable(f"the registry offers no reset; {why}")

    def require_observe(self, why: str) -> None:
        """Skip unless the registry exports its whole state (``observe``)."""
        if not self.capabilities.observe:
            raise NotApplicable(f"the registry offers no whole-state observe; {why}")

    def policy(self, name: str, default: str) -> str:
        return self.capabilities.policies.get(name, default)

    # ------------------------------------------------------------------ time

    def hour(self, n: int, *, day: int = 0) -> tuple[str, str]:
        """The ``n``-th production hour of the epoch day (plus ``day`` days), as stamps."""
        start = self.epoch + _dt.timedelta(days=day, hours=n)
        return stamp(start), stamp(start + _dt.timedelta(hours=1))

    def advance(self, **delta: float) -> None:
        """Move the session clock forward (controlled-clock registries only)."""
        self.require_clock()
        self.now += _dt.timedelta(**delta)

    # ------------------------------------------------------------------ requests

    def reset(self, configuration: int = 1, *, eac_body: Mapping[str, Any] | None = None) -> None:
        """Empty the registry; ``eac_body`` adds fields to the EAC Issuing Body of #2/#3.

        The extra fields are ``configuration`` (0 or 1) and ``government_mandate``
        (bool): the D3 mandate rule needs a body running #1 under a mandate.
        """
        self.configuration = configuration
        if not self.capabilities.reset:
            if configuration != 1:
                raise NotApplicable(
                    f"configuration #{configuration} is set up by reset(), which the registry "
                    "does not offer",
                    kind=SkipKind.NOT_VERIFIED,
                )
            # A fresh namespace stands in for an empty registry: a check that resets several
            # times (the differential check, once per example) never meets its earlier IDs,
            # nor, on a controlled clock, instants earlier than those it has already sent.
            self._enter_namespace(uuid.uuid4().hex[:8])
            self._move_past_earlier_sessions()
            return
        setup: dict[str, Any] = {
            "issuer": {"issuer_id": ISSUER_ID, "name": "Conformance Test Issuer", "domain": "NL"},
            "configuration": configuration,
        }
        if configuration in (2, 3):
            body = {"body_id": "EIB-T", "name": "Test Issuing Body", "domain": "NL"}
            setup["eac_body"] = {**body, **(eac_body or {})}
        try:
            self.adapter.reset(setup)
        except Exception as exc:
            raise AdapterError(0, f"reset failed: {type(exc).__name__}: {exc}") from exc

    def send(self, action: str, actor: str, *, expectation: str = "any", **fields: Any) -> Answer:
        """Send one request, record it, and validate the answer (no verdict here)."""
        if action not in ACTIONS:
            raise ValueError(f"{action!r} is not a contract action")  # a bug in the check
        self.require_action(action)
        request = {"action": action, "actor": actor, "now": stamp(self.now), **fields}
        number = len(self.steps) + 1
        if not self.capabilities.reset:
            _note_instant(self.adapter, self.now)
        try:
            raw = self.adapter.execute(self.to_wire(request))
            answer = self._from_wire_answer(action, read_answer(self.adapter, raw))
        except Exception as exc:
            detail = f"{type(exc).__name__}: {exc}"
            self.steps.append(
                Step(number, request, None, expectation, detail, exchanges=self._exchanges())
            )
            raise AdapterError(number, detail) from exc
        self.steps.append(
            Step(number, request, answer.to_plain(), expectation, exchanges=self._exchanges())
        )
        return answer

    def _exchanges(self) -> tuple[dict[str, Any], ...]:
        """The wire exchanges of the last request, from adapters that record them (HTTP)."""
        recorded = getattr(self.adapter, "last_exchanges", None)
        return tuple(recorded()) if callable(recorded) else ()

    def accept(self, action: str, actor: str, **fields: Any) -> Mapping[str, Any]:
        """Send a request the standard allows; fail the check if it is refused."""
        before = None if action == "query" else self.snapshot()
        try:
            answer = self.send(action, actor, expectation="accept", **fields)
        except AdapterError:
            if before is not None:
                self.require_unchanged(before, "a request that failed in the adapter")
            raise
        if not answer.accepted:
            if before is not None:
                self.require_unchanged(before, "a refused request")
            raise WrongVerdict(
                f"{action} was refused although the standard allows it",
                expected="accepted",
                observed=f"rejected {answer.code}: {answer.message}",
            )
        return answer.result

    def reject(
        self,
        code: str | Sequence[str],
        action: str,
        actor: str,
        *,
        severity: Severity = Severity.CRITICAL,
        **fields: Any,
    ) -> Answer:
        """Send a request the standard forbids: it must be refused, changing nothing, with
        ``code`` (or one of several codes, where the standard allows more than one)."""
        allowed = (code,) if isinstance(code, str) else tuple(code)
        before = self.snapshot()
        try:
            answer = self.send(action, actor, expectation=f"reject {'|'.join(allowed)}", **fields)
        except AdapterError:
            self.require_unchanged(before, "a request that failed in the adapter")
            raise
        if answer.accepted:
            raise WrongVerdict(
                f"{action} was accepted although the standard forbids it",
                expected=f"rejected {' or '.join(allowed)}",
                observed=f"accepted {dict(answer.result)}",
                severity=severity,
            )
        self.require_unchanged(before, f"the refused {action}")
        self.expect_code(answer, allowed, action)
        return answer

    def deviations(self) -> Deviations:
        """A collector for independent steps whose failures should all be reported."""
        return Deviations()

    def expect_code(self, answer: Answer, allowed: Sequence[str], action: str) -> None:
        """A refusal with a code outside ``allowed`` is a code mismatch: recorded, and a
        failure (minor) under strict codes. The verdict itself was already right."""
        if answer.code in allowed:
            return
        wanted = " or ".join(allowed)
        self.code_mismatches.append(f"step {len(self.steps)}: expected {wanted}, got {answer.code}")
        if self.strict_codes:
            raise CodeMismatch(
                f"{action} was refused, but with the wrong canonical code",
                expected=f"rejected {wanted}",
                observed=f"rejected {answer.code}: {answer.message}",
                severity=Severity.MINOR,
            )

    def expect_equal(
        self,
        observed: object,
        expected: object,
        message: str,
        *,
        severity: Severity = Severity.MAJOR,
        failure: type[CheckFailed] = CheckFailed,
    ) -> None:
        """Fail unless ``observed == expected``, showing both."""
        self.expect(
            observed == expected,
            message,
            expected=expected,
            observed=observed,
            severity=severity,
            failure=failure,
        )

    def created(
        self,
        result: Mapping[str, Any],
        key: str,
        what: str,
        *,
        severity: Severity = Severity.MAJOR,
    ) -> Any:
        """``result[key]``: an accepted request must name what it created, or later steps
        could not refer to it (every certificate and record is traceable)."""
        value = result.get(key)
        self.expect(
            value is not None,
            f"an accepted {what} must name what it created",
            expected=f"result.{key}",
            observed=dict(result),
            severity=severity,
            failure=MissingAttribute,
        )
        return value

    def expect(
        self,
        condition: bool,
        message: str,
        *,
        expected: object = "",
        observed: object = "",
        severity: Severity = Severity.MAJOR,
        failure: type[CheckFailed] = CheckFailed,
    ) -> None:
        """Fail with ``failure`` (the kind of contradiction, see :mod:`failures`) unless
        ``condition`` holds."""
        if not condition:
            raise failure(
                message, expected=str(expected), observed=str(observed), severity=severity
            )

    # ------------------------------------------------------------------ namespace

    def _enter_namespace(self, namespace: str) -> None:
        """Name everything from here on in ``namespace`` ("" when the registry is reset)."""
        self.namespace = namespace
        self._wire: dict[str, str] = {}  # logical ID -> ID on the wire
        self._logical: dict[str, str] = {}  # ID on the wire -> logical ID
        self._accounts: dict[str, None] = {}  # logical account IDs named (ordered set)
        if namespace:
            # Issuer-created ranges start far from any other session's (IDs the issuer asserts
            # may be unique registry-wide).
            self._issued_ranges = (int(namespace, 16) % 1_000_000 + 1) * 1_000_000

    def wire_id(self, logical: str) -> str:
        """The ID ``logical`` goes over the wire as (itself when there is no namespace)."""
        wire = self._wire.get(logical)
        if wire is None:
            wire = f"{logical}-{self.namespace}" if self.namespace else logical
            self._wire[logical] = wire
            self._logical[wire] = logical
        return wire

    def to_wire(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """``request`` with every account, holder, device and meter ID in the namespace."""
        return {key: self._translate(key, value) for key, value in request.items()}

    def _translate(self, key: str, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: self._translate(k, v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._translate(key, v) for v in value]
        if (
            isinstance(value, str)
            and _is_party_field(key)
            and value != ISSUER_ID
            and _ID_SHAPE.fullmatch(value)
        ):
            if _is_account_field(key):
                self._accounts[value] = None
            return self.wire_id(value)
        return value

    def from_wire(self, value: Any) -> Any:
        """``value`` with every namespaced ID this session sent back in its logical form."""
        if not self._logical:
            return value
        if isinstance(value, str):
            return self._logical.get(value, value)
        if isinstance(value, Mapping):
            return {k: self.from_wire(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.from_wire(v) for v in value]
        return value

    def _from_wire_answer(self, action: str, answer: Answer) -> Answer:
        if not self.namespace or not answer.accepted:
            return answer
        result = dict(answer.result)
        found = result.get("bundles")
        if action == "query" and isinstance(found, list):
            # A query over the whole registry also finds what other checks created.
            result["bundles"] = [
                b
                for b in found
                if not isinstance(b, Mapping)
                or b.get("account_id") in self._logical
                or b.get("device_id") in self._logical
            ]
        return attrs.evolve(answer, result=self.from_wire(result))

    # ------------------------------------------------------------------ observation

    def observe(self) -> dict[str, list[dict[str, Any]]]:
        """The state as the check may judge it, whatever the tier.

        With ``observe``: the registry's export, narrowed to this session's
        namespace when there is one. Without: accounts and bundles derived from
        ``query`` per account the check named (an account whose query is refused
        does not exist). Either way IDs come back in their logical form.
        """
        return self._read(self._observe_raw())

    def observe_extension(
        self, key: str, kind: type[list[Any]] | type[Mapping[str, Any]] | None = None
    ) -> Any:
        """An optional extension of ``observe()`` (``storage``, ``eacs``), IDs in logical form;
        None when the registry has no whole-state observe or no such extension.

        A broken answer is a contract error (the check's verdict is *error*), never
        "no data": an ``observe()`` answer that is not an object, or an extension not
        of ``kind``, must not turn a check into a skip.
        """
        if not self.capabilities.observe:
            return None
        try:
            raw = self.adapter.observe()
        except Exception as exc:
            raise AdapterError(
                len(self.steps), f"observe failed: {type(exc).__name__}: {exc}"
            ) from exc
        value = self.extension_of(raw, key, kind)
        return None if value is None else self.from_wire(value)

    def _read(self, raw: object) -> dict[str, list[dict[str, Any]]]:
        try:
            return read_state(raw)
        except Exception as exc:
            raise AdapterError(
                len(self.steps), f"observe failed: {type(exc).__name__}: {exc}"
            ) from exc

    def bundles(self, **match: Any) -> list[dict[str, Any]]:
        """Current bundles whose fields equal ``match`` (e.g. ``account_id=...``)."""
        return [
            b for b in self.observe()["bundles"] if all(b.get(k) == v for k, v in match.items())
        ]

    def bundle(self, bundle_id: Any) -> dict[str, Any] | None:
        for b in self.observe()["bundles"]:
            if b["bundle_id"] == bundle_id:
                return b
        return None

    def balance(self, account_id: str, status: str = "ACTIVE") -> int:
        return sum(
            b["bundle_quantity"]
            for b in self.bundles(account_id=account_id, certificate_bundle_status=status)
        )

    def snapshot(self) -> tuple[Any, ...]:
        """The observed state, canonical: what :meth:`require_unchanged` compares.

        Includes the optional ``eacs`` observation (configurations #2/#3), so that a
        refused request which changed the EAC registry is caught like one that changed
        a GC bundle.
        """
        raw = self._observe_raw()
        state = self._read(raw)
        eacs = self.extension_of(raw, "eacs", list)
        extension = (
            None if eacs is None else tuple(sorted(repr(sorted(dict(e).items())) for e in eacs))
        )
        return (*canonical_state(state), extension)

    def extension_of(
        self, raw: object, name: str, kind: type[list[Any]] | type[Mapping[str, Any]] | None
    ) -> Any:
        """``raw[name]`` of an ``observe()`` answer, checked to be of ``kind`` (AdapterError if not)."""
        if not isinstance(raw, Mapping):
            raise AdapterError(
                len(self.steps), f"observe() answered a {type(raw).__name__}, not an object"
            )
        if name not in raw or raw[name] is None:
            return None
        value = raw[name]
        if kind is None:
            return value
        if kind is list:
            if not isinstance(value, list) or not all(isinstance(e, Mapping) for e in value):
                raise AdapterError(len(self.steps), f"observe().{name} must be a list of objects")
            return [dict(e) for e in value]
        if not isinstance(value, Mapping):
            raise AdapterError(len(self.steps), f"observe().{name} must be an object")
        return value

    def _observe_raw(self) -> object:
        if not self.capabilities.observe:
            return self._derived_state()
        try:
            raw = self.adapter.observe()
        except Exception as exc:
            raise AdapterError(
                len(self.steps), f"observe failed: {type(exc).__name__}: {exc}"
            ) from exc
        return self._narrow(raw) if self.namespace else raw

    def _narrow(self, raw: object) -> object:
        """The part of a shared registry's state this session's namespace created."""
        if not isinstance(raw, Mapping):
            return raw  # judged (and refused) by read_state
        ours = self._logical
        narrowed = dict(raw)
        accounts, bundles = raw.get("accounts"), raw.get("bundles")
        if isinstance(accounts, list):
            narrowed["accounts"] = [
                a for a in accounts if isinstance(a, Mapping) and a.get("account_id") in ours
            ]
        if isinstance(bundles, list):
            narrowed["bundles"] = [
                b
                for b in bundles
                if isinstance(b, Mapping)
                and (b.get("account_id") in ours or b.get("device_id") in ours)
            ]
        return self.from_wire(narrowed)

    def _derived_state(self) -> dict[str, Any]:
        """The state from ``query`` (no ``observe``): one issuer query per named account."""
        if not self.capabilities.offers("query"):
            raise NotApplicable(
                "the registry offers neither observe nor query: the state cannot be judged",
                kind=SkipKind.NOT_VERIFIED,
            )
        accounts: list[dict[str, Any]] = []
        bundles: dict[Any, Any] = {}
        for logical in list(self._accounts):
            wire = self.wire_id(logical)
            request = {"action": "query", "actor": ISSUER_ID, "now": stamp(self.now)}
            request["account_id"] = wire
            try:
                answer = read_answer(self.adapter, self.adapter.execute(request))
            except Exception as exc:
                raise AdapterError(
                    len(self.steps),
                    f"observe (query {wire!r}) failed: {type(exc).__name__}: {exc}",
                ) from exc
            if not answer.accepted:
                continue  # no such account
            accounts.append({"account_id": wire})
            found = answer.result.get("bundles")
            if not isinstance(found, list):
                raise AdapterError(
                    len(self.steps),
                    f"observe (query {wire!r}) failed: result.bundles must be a list",
                )
            for bundle in found:
                key = bundle.get("bundle_id") if isinstance(bundle, Mapping) else None
                bundles[repr(key) if key is not None else id(bundle)] = bundle
        derived: dict[str, Any] = self.from_wire(
            {"accounts": accounts, "bundles": list(bundles.values())}
        )
        return derived

    def require_unchanged(self, before: tuple[Any, ...], what: str) -> None:
        """Fail (critical) unless the state equals ``before``: refusals and failures are atomic."""
        after = self.snapshot()
        if after != before:
            from gc_conformance.statediff import atomicity_failure

            step = self.steps[-1].to_plain() if self.steps else None
            message, expected, observed = atomicity_failure(before, after, what, step)
            raise ChangedAfterRefusal(
                message, expected=expected, observed=observed, severity=Severity.CRITICAL
            )

    # ------------------------------------------------------------------ the standard cast

    def world(self, configuration: int = 1, *, eac_body: Mapping[str, Any] | None = None) -> World:
        """Reset, then open three holders' accounts and register a wind and a solar device."""
        self.reset(configuration, eac_body=eac_body)
        holders = ("alice", "bob", "carol")
        accounts = {h: f"ACC-{h.upper()}" for h in holders}
        for holder, account in accounts.items():
            self.accept(
                "open_account",
                ISSUER_ID,
                account={"account_id": account, "holder_id": holder, "account_name": holder},
            )
        devices = ("DEV-WIND", "DEV-SOLAR")
        meters = {"DEV-WIND": "M-WIND", "DEV-SOLAR": "M-SOLAR"}
        for device, capacity, source in (
            ("DEV-WIND", 5_000_000, "wind"),
            ("DEV-SOLAR", SOLAR_CAPACITY_W, "solar"),
        ):
            self.accept(
                "register_device",
                ISSUER_ID,
                device=device_record(device, meters[device], accounts["alice"], capacity, source),
            )
        return World(ISSUER_ID, holders, accounts, devices, meters)

    def issue(
        self, device: str, meter: str, hour: int, wh: int, *, account: str, day: int = 0
    ) -> Any:
        """Issue ``wh`` for one production hour in the registry's own style; the new bundle ID."""
        start, end = self.hour(hour, day=day)
        if IssuanceStyle.PRODUCTION_DATA in self.capabilities.issuance_styles:
            result = self.accept(
                "submit_production",
                ISSUER_ID,
                device_id=device,
                meter_id=meter,
                start=start,
                end=end,
                energy_wh=str(wh),
            )
        else:
            first = self.next_free_certificate()
            result = self.accept(
                "issue_bundle",
                ISSUER_ID,
                device_id=device,
                account_id=account,
                start=start,
                end=end,
                range_start=first,
                range_end=first + wh - 1,
                quantity=wh,
                energy_wh=str(wh),
            )
        return self.created(result, "bundle_id", "issuance")

    def next_free_certificate(self) -> int:
        """One past the highest certificate ID the registry shows (for issuer-created ranges)."""
        ends: list[int] = [b["certificate_bundle_id_range_end"] for b in self.observe()["bundles"]]
        return max([*ends, self._issued_ranges]) + 1


#: The latest ``now`` sent to each adapter that is never reset (controlled clock only).
_LATEST: weakref.WeakKeyDictionary[Any, _dt.datetime] = weakref.WeakKeyDictionary()


def _latest_instant(adapter: object) -> _dt.datetime | None:
    try:
        return _LATEST.get(adapter)
    except TypeError:  # not weakly referable: nothing remembered
        return None


def _note_instant(adapter: object, moment: _dt.datetime) -> None:
    with contextlib.suppress(TypeError):
        if moment > _LATEST.get(adapter, moment - _dt.timedelta(seconds=1)):
            _LATEST[adapter] = moment


def canonical_state(state: Mapping[str, Any]) -> tuple[Any, ...]:
    """Order-free, ID-numbering-free form of a state, for "did anything change?" questions.

    Certificates are placed by their offset inside their issuance (device and
    production interval), because a vendor numbers certificates its own way.
    """
    groups: dict[tuple[Any, Any], int] = {}
    for b in state["bundles"]:
        key = (b.get("device_id"), b.get("production_starting_interval"))
        start = b["certificate_bundle_id_range_start"]
        groups[key] = min(groups.get(key, start), start)
    bundles = sorted(
        (
            str(b.get("device_id")),
            str(b.get("production_starting_interval")),
            b["certificate_bundle_id_range_start"]
            - groups[(b.get("device_id"), b.get("production_starting_interval"))],
            b["bundle_quantity"],
            str(b["account_id"]),
            str(b["certificate_bundle_status"]),
            str(b.get("beneficiary")),
            str(b.get("claimant")),
        )
        for b in state["bundles"]
    )
    accounts = sorted(str(a.get("account_id")) for a in state["accounts"])
    return (tuple(accounts), tuple(bundles))


__all__ = [
    "ISSUER_ID",
    "STAMP",
    "AdapterError",
    "AdapterFailure",
    "ChangedAfterRefusal",
    "CheckFailed",
    "CodeMismatch",
    "ConservationBroken",
    "Deviations",
    "MissingAttribute",
    "NotApplicable",
    "Session",
    "World",
    "WrongVerdict",
    "canonical_state",
    "device_record",
    "stamp",
]
