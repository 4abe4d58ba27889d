"""The differential check and the replay of its failures judge honestly.

The reference against itself never diverges, under any declared policies and
whatever numbering a registry uses; hand-made broken registries (the reference
with one defect each, built here) are caught with a short, shrunk sequence
that is the same for the same seed; a wrong code alone is a code mismatch and
never hides a wrong verdict; an adapter that fails after committing is an
atomicity failure, one that merely fails is an error; and a saved failure
replays to the same divergence against the broken registry and to a pass
against the reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from gc_conformance.adapter import AdapterFailure, Answer, Capabilities, RegistryAdapter
from gc_conformance.adapters import load_adapter
from gc_conformance.adapters.reference import ReferenceAdapter
from gc_conformance.checks import get_check
from gc_conformance.checks.differential import (
    Lockstep,
    expectation_text,
    parse_expectation,
)
from gc_conformance.errors import ConfigurationError
from gc_conformance.outcomes import CheckResult, Severity, Status
from gc_conformance.replay import load_failure, replay, replay_command, save_failure
from gc_conformance.runner import RunOptions, execute_check

CHECK = "differential.lifecycle"
EXAMPLES = 25
#: Five requests set up the cast (three accounts, two devices); a defect in a partial transfer
#: needs one issuance and one transfer more.
SHORT = 8


def differential(adapter: RegistryAdapter, **options: Any) -> CheckResult:
    options.setdefault("max_examples", EXAMPLES)
    capabilities = Capabilities.from_plain(adapter.capabilities())
    return execute_check(get_check(CHECK), adapter, capabilities, RunOptions(**options))


# ====================================================================== broken registries


class ShortRemainder(ReferenceAdapter):
    """A partial transfer leaves the remainder one certificate short (its last ID is lost)."""

    def reset(self, setup: Mapping[str, Any]) -> None:
        super().reset(setup)
        self.shortened: set[int] = set()

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        answer = super().execute(request)
        result = answer.get("result") or {}
        if request.get("action") == "transfer" and result.get("remainder_id") is not None:
            self.shortened.add(result["remainder_id"])
        return answer

    def _bundle(self, bundle: Any) -> dict[str, Any]:
        record = super()._bundle(bundle)
        if bundle.bundle_id in self.shortened:
            record["certificate_bundle_id_range_end"] -= 1
            record["bundle_quantity"] -= 1
        return record


class ZeroMeansWhole(ReferenceAdapter):
    """A transfer of zero certificates is taken as a transfer of the whole bundle."""

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        if request.get("action") == "transfer" and request.get("quantity") == 0:
            request = {k: v for k, v in request.items() if k != "quantity"}
        return super().execute(request)


class OwnCodes(ReferenceAdapter):
    """Right verdicts, but a holder acting on another's bundle is refused as NOT_AUTHORISED."""

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        answer = super().execute(request)
        if answer.get("code") == "NOT_OWNER":
            return {**answer, "code": "NOT_AUTHORISED"}
        return answer


class OwnCodesAndStrangerTransfers(OwnCodes):
    """The wrong code above, and anybody may transfer anybody's bundle (a wrong verdict)."""

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        if request.get("action") == "transfer":
            bundle = self.registry.bundle(request.get("bundle_id"))  # type: ignore[arg-type]
            account = None if bundle is None else self.registry.account(bundle.account_id)
            if account is not None:
                request = {**request, "actor": account.holder_id}
        return super().execute(request)


class CommitsThenTimesOut(ReferenceAdapter):
    """Every cancellation is carried out, then the answer is lost (a gateway timeout)."""

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        answer = super().execute(request)
        if request.get("action") == "cancel" and answer.get("accepted"):
            raise AdapterFailure("HTTP 504 after commit")
        return answer


class TimesOutOnCancel(ReferenceAdapter):
    """Every cancellation times out before anything is done: no verdict, an error."""

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        if request.get("action") == "cancel":
            raise AdapterFailure("HTTP 504")
        return super().execute(request)


class Renumbered(ReferenceAdapter):
    """The reference behind another numbering: string bundle IDs, certificate IDs per issuance.

    A correct registry numbered differently must pass: the check compares
    certificates by their place inside their issuance and learns the bundle
    IDs from the answers. (No issuer-created style: asserted IDs are absolute.)
    """

    history = None  # type: ignore[assignment]  # no history exposed

    def capabilities(self) -> Mapping[str, Any]:
        claimed = dict(super().capabilities())
        claimed["profiles"] = [p for p in claimed["profiles"] if p != "issuer-created"]
        claimed["issuance_styles"] = ["production-data"]
        return claimed

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        if "bundle_id" in request:
            request = {**request, "bundle_id": self._inner(request["bundle_id"])}
        answer = super().execute(request)
        if answer.get("accepted"):
            return {**answer, "result": self._outer_result(answer["result"])}
        return answer

    def observe(self) -> Mapping[str, Any]:
        state = dict(super().observe())
        state["bundles"] = [self._outer_bundle(b) for b in state["bundles"]]
        return state

    @staticmethod
    def _inner(value: Any) -> Any:
        if isinstance(value, str) and value.startswith("GC-"):
            return int(value[3:]) // 7
        return 10**9  # a bundle this registry never had

    def _outer_result(self, result: Any) -> Any:
        if isinstance(result, Mapping):
            out = {}
            for key, value in result.items():
                if key in ("bundle_id", "remainder_id") and isinstance(value, int):
                    out[key] = f"GC-{value * 7}"
                elif key in ("expired", "withdrawn"):
                    out[key] = [f"GC-{v * 7}" for v in value]
                elif key == "bundles":
                    out[key] = [self._outer_bundle(b) for b in value]
                else:
                    out[key] = self._outer_result(value)
            return out
        return result

    names_issuances = True

    def _outer_bundle(self, bundle: Mapping[str, Any]) -> dict[str, Any]:
        issuance = bundle["issuance_id"]
        shift = 1_000_000 * issuance - bundle["issuance_range_start"]
        start = bundle["certificate_bundle_id_range_start"] + shift
        return {
            **bundle,
            "bundle_id": f"GC-{bundle['bundle_id'] * 7}",
            "issuance_id": f"ISS-{issuance}" if self.names_issuances else None,
            "certificate_bundle_id_range_start": start,
            "certificate_bundle_id_range_end": bundle["certificate_bundle_id_range_end"] + shift,
            "issuance_range_start": None,
        }


class RenumberedWithoutIssuances(Renumbered):
    """As above, and no issuance IDs: a D10 correction's issuance shares its interval's group."""

    names_issuances = False


class DeclaresUnknownPolicy(ReferenceAdapter):
    def capabilities(self) -> Mapping[str, Any]:
        claimed = dict(super().capabilities())
        claimed["policies"] = {**claimed["policies"], "rounding_of_halves": "TO_EVEN"}
        return claimed


class DeclaresNoSplitOrigin(ReferenceAdapter):
    def capabilities(self) -> Mapping[str, Any]:
        claimed = dict(super().capabilities())
        claimed["policies"] = {k: v for k, v in claimed["policies"].items() if k != "split_origin"}
        return claimed


# ====================================================================== the reference


@pytest.mark.parametrize(
    "spec",
    [
        "reference",
        "reference:rounding=DOWN,validity=ROLLING_12_MONTHS,split_origin=FROM_END,"
        "correction_deduction=NEXT_ISSUANCE,capacity=DISABLED",
    ],
)
def test_the_reference_never_diverges_from_itself(spec: str) -> None:
    result = differential(load_adapter(spec), adapter_spec=spec)
    assert result.status is Status.PASS, result.describe()
    assert not result.code_mismatch
    assert result.steps == ()  # a pass reports no arbitrary sequence


@pytest.mark.parametrize("numbered", [Renumbered, RenumberedWithoutIssuances])
def test_a_registry_numbered_its_own_way_passes(numbered: type[Renumbered]) -> None:
    result = differential(numbered(), max_examples=40)
    assert result.status is Status.PASS, result.describe()


def test_a_registry_on_its_own_clock_passes_without_moving_time() -> None:
    class OwnClock(ReferenceAdapter):
        def capabilities(self) -> Mapping[str, Any]:
            return {**super().capabilities(), "clock": "fixed"}

    result = differential(OwnClock())
    assert result.status is Status.PASS, result.describe()


def test_the_check_names_core_requirements_and_is_property_based() -> None:
    check = get_check(CHECK)
    assert {"SPLIT-001", "SPLIT-002", "AUTH-001"} <= set(check.requirements)
    assert check.slow


# ====================================================================== broken registries


@pytest.mark.parametrize(
    ("broken", "what", "examples"),
    [(ShortRemainder, "state differs", EXAMPLES), (ZeroMeansWhole, "accepted a transfer", 60)],
)
def test_a_broken_registry_is_caught_with_a_short_sequence(
    broken: type[ReferenceAdapter], what: str, examples: int
) -> None:
    result = differential(broken(), max_examples=examples)
    assert result.status is Status.FAIL, result.describe()
    assert what in result.message
    assert result.expected and result.observed
    assert result.severity is Severity.CRITICAL
    assert not result.code_mismatch
    assert len(result.steps) <= SHORT, result.describe()
    assert result.steps[-1].request["action"] == "transfer"
    assert "seed 0" in result.message
    assert result.reproduce


def test_the_same_seed_gives_the_same_steps_and_failure() -> None:
    first = differential(ShortRemainder(), seed=11)
    again = differential(ShortRemainder(), seed=11)
    assert first.status is again.status is Status.FAIL
    assert [s.to_plain() for s in first.steps] == [s.to_plain() for s in again.steps]
    assert first.message == again.message


def test_a_wrong_code_alone_is_a_code_mismatch_strict_or_recorded() -> None:
    strict = differential(OwnCodes())
    assert strict.status is Status.FAIL, strict.describe()
    assert strict.code_mismatch and strict.severity is Severity.MINOR
    assert "NOT_OWNER" in strict.expected and "NOT_AUTHORISED" in strict.observed
    assert len(strict.steps) <= 9, strict.describe()
    lenient = differential(OwnCodes(), strict_codes=False)
    assert lenient.status is Status.PASS, lenient.describe()
    assert lenient.code_mismatch and "NOT_AUTHORISED" in lenient.message


def test_a_wrong_code_never_hides_a_wrong_verdict() -> None:
    result = differential(OwnCodesAndStrangerTransfers())
    assert result.status is Status.FAIL, result.describe()
    assert not result.code_mismatch
    assert "accepted a transfer" in result.message


def test_a_write_committed_before_the_adapter_failed_is_an_atomicity_failure() -> None:
    result = differential(CommitsThenTimesOut())
    assert result.status is Status.FAIL, result.describe()
    assert "must be atomic" in result.message and result.severity is Severity.CRITICAL


def test_an_adapter_that_fails_without_writing_is_an_error_never_a_verdict() -> None:
    result = differential(TimesOutOnCancel())
    assert result.status is Status.ERROR, result.describe()
    assert "HTTP 504" in result.message


def test_a_faulty_registry_history_is_checked_for_double_counting() -> None:
    """Reused certificate IDs do not show in the numbering-free comparison, but in the history."""
    spec = "faulty:withdrawn-ids-reused"
    result = differential(load_adapter(spec), adapter_spec=spec)
    assert result.status is Status.FAIL, result.describe()
    assert "history" in result.message and "DOUBLE_REGISTRATION" in result.observed


def test_an_unknown_policy_name_is_a_configuration_error_not_a_skip() -> None:
    """Issue 13: an extra policy name used to skip the comparison silently."""
    with pytest.raises(ConfigurationError, match="rounding_of_halves"):
        Capabilities.from_plain(DeclaresUnknownPolicy().capabilities())


@pytest.mark.parametrize(
    ("adapter", "reason"),
    [(DeclaresNoSplitOrigin, "split_origin")],
)
def test_policies_the_model_cannot_take_skip_the_check(
    adapter: type[ReferenceAdapter], reason: str
) -> None:
    result = differential(adapter())
    assert result.status is Status.SKIP
    assert reason in result.message


# ====================================================================== replay


def test_expectations_carry_the_model_bundle_id() -> None:
    text = expectation_text(Answer(False, code="NOT_OWNER"), {"bundle_id": 4})
    assert text == "reject NOT_OWNER [reference bundle_id=4]"
    assert parse_expectation(text) == ("reject NOT_OWNER", 4, True)
    assert parse_expectation("accept") == ("accept", None, False)


def test_a_saved_failure_replays_against_the_broken_registry_and_passes_the_reference(
    tmp_path: Path,
) -> None:
    failed = differential(ShortRemainder(), adapter_spec="test_differential:ShortRemainder")
    assert failed.status is Status.FAIL
    path = save_failure(failed, tmp_path)
    saved = load_failure(path)
    assert saved["adapter"] == "test_differential:ShortRemainder"
    assert saved["bundle_ids"] == "reference"
    assert len(saved["steps"]) == len(failed.steps)
    assert all(s["expectation"].split()[0] in ("accept", "reject") for s in saved["steps"])

    again = replay(path, ShortRemainder())
    assert again.status is Status.FAIL, again.describe()
    assert again.message.split(" (")[0] == failed.message.split(" (")[0]
    assert len(again.steps) == len(failed.steps)
    assert again.expected == failed.expected and again.observed == failed.observed

    fixed = replay(path, ReferenceAdapter())
    assert fixed.status is Status.PASS, fixed.describe()
    assert len(fixed.steps) == len(failed.steps)


def test_a_replay_translates_bundle_ids_for_a_registry_numbered_its_own_way(
    tmp_path: Path,
) -> None:
    failed = differential(ShortRemainder())
    path = save_failure(failed, tmp_path, adapter_spec="reference")
    result = replay(path, Renumbered())
    assert result.status is Status.PASS, result.describe()
    sent = [s.request.get("bundle_id") for s in result.steps if "bundle_id" in s.request]
    assert sent and all(isinstance(b, str) and b.startswith("GC-") for b in sent)


def test_a_failure_of_another_check_replays_in_the_registry_ids(tmp_path: Path) -> None:
    """Steps without model IDs: the replay learns the translation from the recorded answers."""
    spec = "faulty:partial-transfer-range-overrun"
    adapter = load_adapter(spec)
    capabilities = Capabilities.from_plain(adapter.capabilities())
    check = get_check("core.transfer.partial_split_partitions_parent")
    failed = execute_check(check, adapter, capabilities, RunOptions(adapter_spec=spec))
    assert failed.status is Status.FAIL, failed.describe()
    path = save_failure(failed, tmp_path)
    assert load_failure(path)["bundle_ids"] == "registry"
    diverges = replay(path, load_adapter(spec))
    assert diverges.status is Status.FAIL, diverges.describe()
    assert replay(path, ReferenceAdapter()).status is Status.PASS


def test_the_replay_command_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = "faulty:non-positive-quantity-accepted"
    failed = differential(load_adapter(spec), adapter_spec=spec)
    assert failed.status is Status.FAIL
    path = save_failure(failed, tmp_path)
    assert replay_command(path, spec) == 1
    out = capsys.readouterr().out
    assert "replaying" in out and "FAIL" in out and "expected reject INVALID_QUANTITY" in out
    assert f"gc-conformance replay {path} --adapter {spec}" in out
    assert replay_command(path, "reference") == 0
    assert "PASS" in capsys.readouterr().out
    assert replay_command(path, "faulty:no-such-fault") == 3
    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    assert replay_command(bad, "reference") == 2


def test_a_lockstep_can_be_driven_by_hand() -> None:
    """The driver the replay uses: model IDs in, the registry's IDs out."""
    from gc_conformance.session import ISSUER_ID, Session

    registry = Renumbered()
    session = Session(registry, Capabilities.from_plain(registry.capabilities()))
    lock = Lockstep(session, ReferenceAdapter())
    lock.start()
    lock.setup_cast()
    start, end = session.hour(3)
    lock.step(
        "submit_production",
        ISSUER_ID,
        device_id="DEV-WIND",
        meter_id="M-WIND",
        start=start,
        end=end,
        energy_wh="100",
    )
    model, answer = lock.step("transfer", "alice", bundle_id=1, to_account="ACC-BOB", quantity=40)
    assert model.accepted and answer.accepted
    assert session.steps[-1].request["bundle_id"] == "GC-7"
    assert lock.registry_id(model.result["remainder_id"]) == answer.result["remainder_id"]


# ====================================================================== requirements named, SHOULDs


class AcceptsSameAccount(ReferenceAdapter):
    """Reads XFER-004 (a SHOULD) otherwise: a whole transfer into the holding account is a no-op."""

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        if request.get("action") == "transfer" and "quantity" not in request:
            bundle = self.registry.bundle(request.get("bundle_id"))  # type: ignore[arg-type]
            if bundle is not None and bundle.account_id == request.get("to_account"):
                other = super().execute(request)
                if other.get("code") == "SAME_ACCOUNT":
                    return {"accepted": True, "result": {"bundle_id": request["bundle_id"]}}
                return other
        return super().execute(request)


class AcceptsSameAccountAndLosesIt(ReferenceAdapter):
    """As above, but the 'no-op' withdraws the bundle: a SHALL (DC-007) the SHOULD cannot hide."""

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        if request.get("action") == "transfer" and "quantity" not in request:
            bundle = self.registry.bundle(request.get("bundle_id"))  # type: ignore[arg-type]
            same = bundle is not None and bundle.account_id == request.get("to_account")
            if same and super().execute(request).get("code") == "SAME_ACCOUNT":
                lost = {"action": "withdraw", "actor": "ISSUER-T", "now": request["now"],
                        "bundle_id": request["bundle_id"], "reason": "lost"}  # fmt: skip
                super().execute(lost)
                return {"accepted": True, "result": {"bundle_id": request["bundle_id"]}}
        return super().execute(request)


class SplitsInPlace(ReferenceAdapter):
    """Accepts a *partial* transfer into the holding account (XFER-004 is a SHOULD) by splitting
    the bundle in place: two bundles, the same certificates, account and status. Done on the
    model by moving the part through a hidden account and back (``keep`` False: not back)."""

    SCRATCH = "ACC-HIDDEN"
    keep = True

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        if request.get("action") == "transfer" and request.get("quantity") is not None:
            bundle = self.registry.bundle(request.get("bundle_id"))  # type: ignore[arg-type]
            same = bundle is not None and bundle.account_id == request.get("to_account")
            if same and super().execute(request).get("code") == "SAME_ACCOUNT":
                return self._split(request)
        return super().execute(request)

    def _split(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        now, holder = request["now"], request["actor"]
        account = {"account_id": self.SCRATCH, "holder_id": "hidden", "account_name": "hidden"}
        super().execute({"action": "open_account", "actor": "ISSUER-T", "now": now,
                         "account": account})  # fmt: skip
        moved = super().execute({**request, "to_account": self.SCRATCH})
        if not moved.get("accepted"):
            return moved
        part = moved["result"]["bundle_id"]
        if self.keep:
            back = {"action": "transfer", "actor": "hidden", "now": now, "bundle_id": part,
                    "to_account": request["to_account"]}  # fmt: skip
            assert super().execute(back).get("accepted"), holder
        return {"accepted": True, "result": dict(moved["result"])}

    def observe(self) -> Mapping[str, Any]:
        state = dict(super().observe())
        state["accounts"] = [a for a in state["accounts"] if a["account_id"] != self.SCRATCH]
        state["bundles"] = [b for b in state["bundles"] if b["account_id"] != self.SCRATCH]
        return state


class SplitsInPlaceAndLosesThePart(SplitsInPlace):
    """As above, but the part never comes back: certificates gone from the holder's account."""

    keep = False


class IgnoresCapacity(ReferenceAdapter):
    """Declares NAMEPLATE plausibility (PROD-005, a SHOULD) but accepts any reading."""

    def __init__(self) -> None:
        from gc_conformance.reference import Policies
        from gc_conformance.reference.policies import CapacityPlausibility

        super().__init__(Policies(capacity=CapacityPlausibility.DISABLED))

    def capabilities(self) -> Mapping[str, Any]:
        claimed = dict(super().capabilities())
        claimed["policies"] = {**claimed["policies"], "capacity": "NAMEPLATE"}
        return claimed


class IgnoresCapacityAndShortRemainder(IgnoresCapacity, ShortRemainder):
    """The SHOULD above, and a SHALL broken in every partial transfer."""


def test_a_failure_names_only_the_requirements_of_the_divergent_step() -> None:
    from gc_conformance.checks.differential import STATE_AFTER

    wrong_state = differential(ShortRemainder())
    assert wrong_state.status is Status.FAIL
    assert set(wrong_state.requirements) <= set(STATE_AFTER["transfer"])
    assert "AUTH-001" not in wrong_state.requirements
    zero = differential(ZeroMeansWhole(), max_examples=60)
    assert zero.requirements == ("QTY-001",), zero.describe()
    stranger = differential(OwnCodes())
    assert stranger.code_mismatch and set(stranger.requirements) <= {
        "AUTH-001", "AUTH-002", "AUTH-003", "AUTH-004"
    }, stranger.describe()  # fmt: skip


@pytest.mark.parametrize("broken", [AcceptsSameAccount, IgnoresCapacity, SplitsInPlace])
def test_a_should_divergence_fails_no_shall(broken: type[ReferenceAdapter]) -> None:
    from gc_conformance.catalogue import Level, load_catalogue

    result = differential(broken(), max_examples=60)
    assert result.status is Status.FAIL, result.describe()
    catalogue = load_catalogue()
    assert result.requirements
    assert all(catalogue[r].level is Level.SHOULD for r in result.requirements), result.describe()
    assert result.severity is Severity.MINOR and "every SHALL held" in result.message


@pytest.mark.parametrize(
    ("broken", "shall"),
    [
        (AcceptsSameAccountAndLosesIt, "DC-007"),
        (IgnoresCapacityAndShortRemainder, "SPLIT-001"),
        (SplitsInPlaceAndLosesThePart, "DC-007"),
    ],
)
def test_after_an_accepted_should_refusal_every_shall_is_still_checked(
    broken: type[ReferenceAdapter], shall: str
) -> None:
    result = differential(broken(), max_examples=60)
    assert result.status is Status.FAIL, result.describe()
    assert shall in result.requirements and result.severity is Severity.CRITICAL


def test_a_split_in_place_is_judged_up_to_the_split_and_named_as_the_should() -> None:
    result = differential(SplitsInPlace(), max_examples=60)
    assert "transfer: the registry accepts what the model refuses with SAME_ACCOUNT" in (
        result.observed
    ), result.describe()
    assert result.requirements == ("XFER-004",)


def test_merged_in_place_joins_adjacent_ranges_alike_only() -> None:
    from gc_conformance.checks.differential import merged_in_place

    def key(low: int, high: int, account: str = "A") -> Any:
        return ("D", "s", "e", low, high, high - low + 1, account, "ACTIVE", "", "")

    assert merged_in_place([key(0, 3), key(4, 9)]) == merged_in_place([key(0, 9)])
    assert merged_in_place([key(0, 3), key(5, 9)]) != merged_in_place([key(0, 9)])
    assert merged_in_place([key(0, 3), key(4, 9, "B")]) != merged_in_place([key(0, 9)])


def test_a_dodged_policy_declaration_leaves_the_check_not_verified() -> None:
    import attrs

    from gc_conformance.checks.differential import model_policies
    from gc_conformance.outcomes import SkipKind
    from gc_conformance.session import NotApplicable

    declared = Capabilities.from_plain(ReferenceAdapter().capabilities())
    # An unknown policy name is a configuration error when capabilities are read; the check
    # still refuses to run under a guess should one reach it.
    unknown = attrs.evolve(declared, policies={**declared.policies, "rounding_of_halves": "EVEN"})
    no_split = Capabilities.from_plain(DeclaresNoSplitOrigin().capabilities())
    for capabilities in (unknown, no_split):
        with pytest.raises(NotApplicable) as raised:
            model_policies(capabilities)
        assert raised.value.kind is SkipKind.NOT_VERIFIED
    nothing = Capabilities.from_plain({**ReferenceAdapter().capabilities(), "policies": {}})
    with pytest.raises(NotApplicable) as raised:
        model_policies(nothing)
    assert raised.value.kind is SkipKind.NOT_VERIFIED and "not verified" in raised.value.reason
