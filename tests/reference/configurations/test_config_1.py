"""Configuration #1: the EAC Issuing Body is the GC Issuer and issues GCs instead of EACs."""

from __future__ import annotations

import pytest
from config_world import BODY, at, device, may_hour

from gc_conformance.reference import (
    Account,
    BundleStatus,
    Cancel,
    Claim,
    ErrorCode,
    InvalidInput,
    OpenAccount,
    RegisterDevice,
    SubmitProduction,
    Transfer,
)
from gc_conformance.reference.configurations import IssueLinkedGcs, configuration_1_registry
from gc_conformance.reference.eac import EacIssuingBody
from gc_conformance.reference.invariants import check_invariants

BODY_1 = EacIssuingBody("EIB", "Issuing Body turned GC Issuer", "NL", configuration=1)


def test_issuing_body_issues_gcs_instead_of_eacs() -> None:
    registry = configuration_1_registry(BODY_1)
    assert registry.issuer.issuer_id == "EIB" and registry.issuer.configuration == 1
    now = at(1, 0, 5)
    registry.execute(OpenAccount("EIB", Account("G-PROD", "PRODUCER", "producer")), now).unwrap()
    registry.execute(OpenAccount("EIB", Account("G-BUYER", "BUYER", "buyer")), now).unwrap()
    registry.execute(RegisterDevice("EIB", device()), now).unwrap()
    issued = registry.execute(
        SubmitProduction("EIB", "DEV-1", "M-1", *may_hour(1, 0), 400_000), at(1, 2, 5)
    ).unwrap()
    issuance = registry.issuance(issued.issuance_id)
    assert issuance is not None
    assert issuance.registry_configuration == 1 and issuance.eac_ids == ()
    assert issuance.transferable and issuance.quantity == 400_000
    # Same five steps as #0: measure, issue, transfer any number of times, cancel, claim.
    moved = registry.execute(
        Transfer("PRODUCER", issued.bundle_id, "G-BUYER", 100_000), at(2, 0, 5)
    )
    part = moved.unwrap().bundle_id
    back = registry.execute(Transfer("BUYER", part, "G-PROD", 40_000), at(3, 0, 5)).unwrap()
    kept = back.remainder_id  # the 60,000 Wh the buyer kept
    assert kept is not None and registry.balance("G-BUYER") == 60_000
    cancelled = registry.execute(Cancel("BUYER", kept, "ACME"), at(4, 0, 5)).unwrap()
    registry.execute(Claim("BUYER", cancelled.bundle_id, "ACME"), at(5, 0, 5)).unwrap()
    bundle = registry.bundle(cancelled.bundle_id)
    assert bundle is not None and bundle.status is BundleStatus.CLAIMED
    assert check_invariants(registry.export_history(), registry.export_state()).ok


def test_configuration_1_needs_a_body_running_it() -> None:
    with pytest.raises(InvalidInput) as raised:
        configuration_1_registry(BODY)
    assert raised.value.code is ErrorCode.WRONG_CONFIGURATION


def test_a_configuration_1_registry_has_no_linked_requests() -> None:
    registry = configuration_1_registry(BODY_1)
    outcome = registry.execute(
        IssueLinkedGcs("EIB", "DEV-1", "M-1", *may_hour(1, 0), 1), at(1, 2, 5)
    )
    assert outcome.code is ErrorCode.INVALID_FIELD and outcome.problem.field == "command"
