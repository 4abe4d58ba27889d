"""The configuration differentials (``differential.config2``, ``differential.config3``) judge honestly.

The reference against itself never diverges, at any seed and under every
declared cap and suspension practice, however it names its EACs; the faulty
registries whose defect the machine reaches are caught for the rule they
break, on a short replayable step list; a registry without the profile, or
with no declared practice, is skipped with the reason; an optional action not
offered is left out and named; a hidden EAC state is compared; and a registry
that reads its declared practice otherwise fails only that MAY.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from test_tiers import Tiered

from gc_conformance.adapter import Capabilities, RegistryAdapter
from gc_conformance.adapters import load_adapter
from gc_conformance.adapters.faulty import FAULTS
from gc_conformance.adapters.reference import ReferenceAdapter
from gc_conformance.checks import get_check
from gc_conformance.checks.differential.configuration_records import (
    as_model_eacs,
    eac_difference,
    learn_eacs,
    over_the_eacs,
    practice_only,
    translate_eacs,
)
from gc_conformance.outcomes import CheckResult, Status
from gc_conformance.reference import ConfigurationPolicies, HourSuspension, MonthlyCap
from gc_conformance.replay import load_failure, replay, save_failure
from gc_conformance.runner import RunOptions, execute_check

EXAMPLES = 20
#: The cast and the EAC world (10 or 11 requests) and the few the defect needs.
SHORT = 16
CONFIG_CHECKS = {2: "differential.config2", 3: "differential.config3"}


def config_differential(
    adapter: RegistryAdapter, configuration: int, **options: Any
) -> CheckResult:
    options.setdefault("max_examples", EXAMPLES)
    capabilities = Capabilities.from_plain(adapter.capabilities())
    check = get_check(CONFIG_CHECKS[configuration])
    return execute_check(check, adapter, capabilities, RunOptions(**options))


# ====================================================================== registries built here


class RenamedEacs:
    """A registry that names its EACs its own way (``eac/EIB-T-GO-...``): the machine must
    learn them from the report's answer and translate them in every later request."""

    PREFIX = "eac/"

    def __init__(self, inner: RegistryAdapter | None = None) -> None:
        self.inner = inner if inner is not None else ReferenceAdapter()
        self.sent: list[Any] = []

    def capabilities(self) -> Mapping[str, Any]:
        return self.inner.capabilities()

    def reset(self, setup: Mapping[str, Any]) -> None:
        self.inner.reset(setup)

    def close(self) -> None:
        self.inner.close()

    def _out(self, value: Any) -> Any:
        return self.PREFIX + value if isinstance(value, str) else value

    def _in(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith(self.PREFIX):
            return value[len(self.PREFIX) :]
        return value

    def observe(self) -> Mapping[str, Any]:
        state = dict(self.inner.observe())
        if isinstance(state.get("eacs"), list):
            state["eacs"] = [{**e, "eac_id": self._out(e["eac_id"])} for e in state["eacs"]]
        return state

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        sent = dict(request)
        if isinstance(sent.get("eac_ids"), list):
            self.sent += sent["eac_ids"]
            sent["eac_ids"] = [self._in(e) for e in sent["eac_ids"]]
        answer = dict(self.inner.execute(sent))
        result = answer.get("result")
        if isinstance(result, Mapping) and isinstance(result.get("eac_ids"), list):
            answer["result"] = {**result, "eac_ids": [self._out(e) for e in result["eac_ids"]]}
        return answer


def WithoutConversion() -> Tiered:
    """Offers every action but conversion by export (a MAY of #2), and fails loudly if
    the suite sends it anyway."""
    return Tiered(drop=("convert_eacs",))


class WithoutEacState(ReferenceAdapter):
    """Shows no EACs in observe(): the GC side is still compared."""

    def observe(self) -> Mapping[str, Any]:
        return {k: v for k, v in super().observe().items() if k != "eacs"}


class WithoutConfigurations(ReferenceAdapter):
    def capabilities(self) -> Mapping[str, Any]:
        claimed = dict(super().capabilities())
        claimed["profiles"] = [p for p in claimed["profiles"] if not p.startswith("config-")]
        return claimed


class NoPracticeDeclared(ReferenceAdapter):
    def capabilities(self) -> Mapping[str, Any]:
        claimed = dict(super().capabilities())
        claimed["policies"] = {
            k: v
            for k, v in claimed["policies"].items()
            if k not in ("monthly_cap", "hour_suspension")
        }
        return claimed


class BackingShownActive(ReferenceAdapter):
    """Shows EACs that back #2 GCs as still ACTIVE: free to be claimed twice (CONF-004)."""

    def observe(self) -> Mapping[str, Any]:
        state = dict(super().observe())
        if isinstance(state.get("eacs"), list):
            state["eacs"] = [
                {**e, "status": "ACTIVE"} if e["status"] == "BACKING_GC" else e
                for e in state["eacs"]
            ]
        return state


class SuspendsWhereItDeclaresRefusal(ReferenceAdapter):
    """Suspends a short hour while it declares that it refuses one (a MAY read otherwise)."""

    def __init__(self) -> None:
        super().__init__(configuration_policies=ConfigurationPolicies(MonthlyCap.POOLED))

    def capabilities(self) -> Mapping[str, Any]:
        claimed = dict(super().capabilities())
        claimed["policies"] = {**claimed["policies"], "hour_suspension": "REFUSE"}
        return claimed


# ====================================================================== no false failure


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("configuration", [2, 3])
def test_the_reference_never_diverges_from_itself(configuration: int, seed: int) -> None:
    result = config_differential(ReferenceAdapter(), configuration, seed=seed)
    assert result.status is Status.PASS, result.describe()
    assert not result.code_mismatch
    assert result.steps == ()


@pytest.mark.parametrize("cap", [c.name for c in MonthlyCap])
@pytest.mark.parametrize("suspension", [h.name for h in HourSuspension])
@pytest.mark.parametrize("configuration", [2, 3])
def test_every_declared_practice_is_followed(configuration: int, cap: str, suspension: str) -> None:
    spec = f"reference:monthly_cap={cap},hour_suspension={suspension}"
    result = config_differential(load_adapter(spec), configuration, adapter_spec=spec)
    assert result.status is Status.PASS, result.describe()


@pytest.mark.parametrize("configuration", [2, 3])
@pytest.mark.parametrize("registry", [RenamedEacs, WithoutEacState])
def test_registries_that_differ_only_where_the_standard_lets_them_pass(
    registry: type[RegistryAdapter], configuration: int
) -> None:
    result = config_differential(registry(), configuration)
    assert result.status is Status.PASS, result.describe()


def test_requests_carry_the_registry_s_eac_ids() -> None:
    renamed = RenamedEacs()
    assert config_differential(renamed, 3).status is Status.PASS
    assert renamed.sent and all(str(e).startswith(RenamedEacs.PREFIX) for e in renamed.sent)


def test_an_optional_configuration_action_not_offered_is_named_as_left_out() -> None:
    result = config_differential(WithoutConversion(), 2)
    assert result.status is Status.PASS, result.describe()
    assert "convert_eacs" in result.describe()


def test_an_eac_state_not_shown_is_named_as_left_out() -> None:
    result = config_differential(WithoutEacState(), 2)
    assert result.status is Status.PASS
    assert "eacs" in result.describe()


@pytest.mark.parametrize("configuration", [2, 3])
@pytest.mark.parametrize("registry", [WithoutConfigurations, NoPracticeDeclared])
def test_a_registry_without_the_profile_or_a_declared_practice_is_skipped(
    registry: type[RegistryAdapter], configuration: int
) -> None:
    result = config_differential(registry(), configuration)
    assert result.status is Status.SKIP, result.describe()
    assert result.message


def test_the_checks_name_configuration_requirements_and_are_property_based() -> None:
    two, three = get_check(CONFIG_CHECKS[2]), get_check(CONFIG_CHECKS[3])
    assert {"CONF-003", "CONF-004", "CONF-005", "CONF-009", "CONF-023"} <= set(two.requirements)
    assert {"CONF-012", "CONF-013", "CONF-017", "CONF-019", "CONF-026"} <= set(three.requirements)
    assert two.slow and two.profile.value == "config-2"
    assert three.slow and three.profile.value == "config-3"


# ====================================================================== it can fail


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    ("fault", "configuration"),
    [
        ("config3-gc-transferable", 3),
        ("config-ordinary-issuance-unlinked", 2),
        ("config-ordinary-issuance-unlinked", 3),
    ],
)
def test_the_configuration_faulty_registries_are_caught_for_their_rule(
    fault: str, configuration: int, seed: int
) -> None:
    spec = f"faulty:{fault}"
    result = config_differential(load_adapter(spec), configuration, adapter_spec=spec, seed=seed)
    assert result.status is Status.FAIL, result.describe()
    assert set(result.requirements) & set(FAULTS[fault].breaks), result.describe()
    assert set(result.requirements) <= set(FAULTS[fault].breaks), result.describe()
    assert result.expected and result.observed
    assert len(result.steps) <= SHORT, result.describe()
    assert result.reproduce and spec in result.reproduce


def test_a_hidden_eac_state_is_compared() -> None:
    result = config_differential(BackingShownActive(), 2)
    assert result.status is Status.FAIL, result.describe()
    assert result.requirements == ("CONF-004",), result.describe()
    assert "BACKING_GC" in str(result.expected)


def test_a_declared_practice_read_otherwise_fails_only_that_may() -> None:
    result = config_differential(SuspendsWhereItDeclaresRefusal(), 2, max_examples=40)
    assert result.status is Status.FAIL, result.describe()
    assert result.requirements == ("CONF-008",), result.describe()
    assert "every SHALL held" in result.message


@pytest.mark.parametrize(
    ("fault", "configuration"),
    [("config3-gc-transferable", 3), ("config-ordinary-issuance-unlinked", 2)],
)
def test_a_configuration_failure_replays_against_the_broken_registry_and_passes_the_reference(
    tmp_path: Path, fault: str, configuration: int
) -> None:
    spec = f"faulty:{fault}"
    result = config_differential(load_adapter(spec), configuration, adapter_spec=spec)
    assert result.status is Status.FAIL
    path = save_failure(result, tmp_path)
    assert load_failure(path)["steps"]
    again = replay(path, load_adapter(spec))
    assert again.status is Status.FAIL, again.describe()
    assert again.expected == result.expected and again.observed == result.observed
    fixed = replay(path, load_adapter("reference"))
    assert fixed.status is Status.PASS, fixed.describe()


class WithoutReset(ReferenceAdapter):
    """The reference, configured as #2 once, offering no reset (as a real registry)."""

    def __init__(self) -> None:
        super().__init__()
        super().reset({"issuer": {"issuer_id": "ISSUER", "name": "T", "domain": "NL"}})

    def capabilities(self) -> Mapping[str, Any]:
        return {**super().capabilities(), "reset": False}


def test_a_configuration_failure_replayed_on_a_registry_without_reset_is_a_skip(
    tmp_path: Path,
) -> None:
    # A #2/#3 sequence sets the registry up through reset(): without it the replay cannot
    # start, which is a skip saying so (it was a traceback).
    spec = "faulty:config-ordinary-issuance-unlinked"
    result = config_differential(load_adapter(spec), 2, adapter_spec=spec)
    assert result.status is Status.FAIL
    again = replay(save_failure(result, tmp_path), WithoutReset())
    assert again.status is Status.SKIP, again.describe()
    assert "reset()" in again.message


def test_a_configuration_failure_replayed_on_a_registry_declaring_no_practice_is_a_skip(
    tmp_path: Path,
) -> None:
    # The model takes the cap and suspension practice from the registry's declaration; a
    # replay on a registry that declares none is a skip saying so, never a verdict against
    # a practice the model assumed (it silently took POOLED / SUSPEND_WHOLE_HOUR).
    spec = "faulty:config-ordinary-issuance-unlinked"
    result = config_differential(load_adapter(spec), 2, adapter_spec=spec)
    assert result.status is Status.FAIL
    again = replay(save_failure(result, tmp_path), NoPracticeDeclared())
    assert again.status is Status.SKIP, again.describe()
    assert "monthly_cap" in again.message


def test_a_failure_of_a_registry_with_its_own_eac_ids_replays(tmp_path: Path) -> None:
    renamed = RenamedEacs(load_adapter("faulty:config3-gc-transferable"))
    result = config_differential(renamed, 3)
    assert result.status is Status.FAIL, result.describe()
    assert "CONF-012" in result.requirements
    assert any(RenamedEacs.PREFIX in str(s.request.get("eac_ids", "")) for s in result.steps)
    path = save_failure(result, tmp_path)
    again = replay(path, RenamedEacs(load_adapter("faulty:config3-gc-transferable")))
    assert again.status is Status.FAIL, again.describe()
    assert again.expected == result.expected
    assert replay(path, RenamedEacs()).status is Status.PASS
    assert replay(path, ReferenceAdapter()).status is Status.PASS


def test_a_core_defect_in_a_configuration_registry_names_its_core_rule() -> None:
    spec = "faulty:claim-by-non-beneficiary"
    result = config_differential(load_adapter(spec), 3, adapter_spec=spec)
    assert result.status is Status.FAIL, result.describe()
    assert result.requirements == ("DC-006",), result.describe()


# ====================================================================== the EAC records


def test_eac_ids_are_learned_from_a_report_and_translated() -> None:
    eacs: dict[Any, Any] = {}
    assert learn_eacs({"eac_ids": ["A", "B"]}, {"eac_ids": ["x", "y"]}, eacs) is None
    assert eacs == {"A": "x", "B": "y"}
    assert translate_eacs(eacs, {"eac_ids": ["B", "C"], "beneficiary": "Acme"}) == {
        "eac_ids": ["y", "C"],
        "beneficiary": "Acme",
    }
    other_face = learn_eacs({"eac_ids": ["A", "B"]}, {"eac_ids": ["x"]}, {})
    assert other_face is not None and "face value" in other_face
    assert learn_eacs({"eac_ids": ["A"]}, {}, {}) is not None
    # a replay names the registry's EACs: the model is sent its own
    assert as_model_eacs(eacs, {"eac_ids": ["y", "A", "z"]}) == {"eac_ids": ["B", "A", "z"]}
    assert as_model_eacs({"A": "A"}, {"eac_ids": ["A"]}) == {"eac_ids": ["A"]}


def test_eacs_are_compared_in_the_model_s_ids_on_the_fields_shown() -> None:
    mine = [{"eac_id": "A", "status": "BACKING_GC", "account_id": "E-ISSUER", "gc_issuer_id": "i"}]
    same = [{"eac_id": "x", "status": "BACKING_GC", "account_id": "E-ISSUER"}]
    assert eac_difference(mine, same, {"A": "x"}) == ("", "")
    wrong = [{"eac_id": "x", "status": "ACTIVE", "account_id": "E-ALICE"}]
    expected, observed = eac_difference(mine, wrong, {"A": "x"})
    assert "BACKING_GC" in expected and "ACTIVE" in observed
    assert eac_difference(mine, [], {"A": "x"})[1] == "A: no such EAC"


def test_an_hour_given_otherwise_is_the_practice_only_where_its_gcs_belong() -> None:
    hour = ("DEV-WIND", "T1", "T2")
    issued = (*hour, 0, 99, 100, "ACC-ALICE", "ACTIVE", "", "")
    part = (*hour, 0, 49, 50, "ACC-ALICE", "ACTIVE", "", "")
    belongs = ("ACC-ALICE", "ACTIVE", "")
    assert practice_only([issued], [part], [hour], belongs)
    assert practice_only([issued], [], [hour], belongs)
    elsewhere = (*hour, 0, 99, 100, "ACC-BOB", "ACTIVE", "", "")
    assert not practice_only([issued], [elsewhere], [hour], belongs)
    other_hour = ("DEV-WIND", "T2", "T3", 0, 99, 100, "ACC-ALICE", "ACTIVE", "", "")
    assert not practice_only([], [other_hour], [hour], belongs)


def test_no_hour_above_its_metering_and_no_period_above_its_eacs() -> None:
    def key(start: str, end: str, wh: int, status: str = "ACTIVE") -> Any:
        return ("DEV-WIND", start, end, 0, wh - 1, wh, "ACC-ALICE", status, "", "")

    periods = {("DEV-WIND", "D0", "D1"): 1000}
    within = [key("D0h1", "D0h2", 600), key("D0h2", "D0h3", 400)]
    assert over_the_eacs(within, [("DEV-WIND", "D0h1", "D0h2", 600)], periods) is None
    assert over_the_eacs(within, [("DEV-WIND", "D0h1", "D0h2", 500)], periods) is not None
    over = [*within, key("D0h3", "D0h4", 1)]
    assert over_the_eacs(over, [], periods) is not None
    withdrawn = [*within, key("D0h3", "D0h4", 1, "WITHDRAWN")]
    assert over_the_eacs(withdrawn, [], periods) is None
