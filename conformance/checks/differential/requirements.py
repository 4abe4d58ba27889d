"""Which requirement a differential step is about: the rule an accepted, refused or diverging request of each action stands on."""

from __future__ import annotations

import re
from collections.abc import Iterable

from gc_conformance.outcomes import Severity
from gc_conformance.session import (
    ISSUER_ID,
    CheckFailed,
    CodeMismatch,
)

CRITICAL = Severity.CRITICAL
MAJOR = Severity.MAJOR
MINOR = Severity.MINOR

#: Steps per generated sequence (after the standard cast is set up).
STEP_COUNT = 25
#: Requests that set up the standard cast (three accounts, two devices) before each sequence.
SETUP_REQUESTS = 5

ALICE, BOB, CAROL, DAVE = "alice", "bob", "carol", "dave"
STRANGER = "mallory"  # a party with no account at all
WIND, SOLAR, HYDRO = "DEV-WIND", "DEV-SOLAR", "DEV-HYDRO"
METERS = {WIND: "M-WIND", SOLAR: "M-SOLAR", HYDRO: "M-HYDRO"}
ISSUES_INTO = {WIND: "ACC-ALICE", SOLAR: "ACC-ALICE", HYDRO: "ACC-BOB"}
ISSUER_ACCOUNT = "ACC-ISSUER"
OTHER_ACTORS = [ISSUER_ID, ALICE, BOB, CAROL, STRANGER]
BENEFICIARIES = ["Acme", "Other Corp"]
#: A model bundle ID that never exists: requests naming an unknown bundle use it.
GHOST = 999_999

#: The policies whose value decides verdicts the machine provokes, by the rules that need them.
ALWAYS_NEEDED = ("capacity", "split_origin")
#: Policies that are not the model's lifecycle policies: the storage methods (which the storage
#: machine chooses among, per registration, from what the registry offers) and the #2/#3 cap and
#: suspension practice (which only the configuration checks' model applies, see
#: ``driver.configuration_policies``).
NOT_EXERCISED = frozenset(
    {"allocation_method", "loss_method", "loss_convention", "monthly_cap", "hour_suspension"}
)

ANNOTATION = re.compile(r"\s*\[reference bundle_id=(?P<id>.+)\]$")


# ====================================================================== which requirement a step is about


class Divergence(CheckFailed):
    """A divergence from the model, naming only the requirements the divergent step is about.

    The runner reports a failure under ``requirements`` (not under every
    requirement the check lists), so that a wrong split fails SPLIT-001, not
    the eighteen rules the machine exercises, and a SHOULD divergence fails
    no SHALL requirement.
    """


class CodeDivergence(CodeMismatch):
    """A refusal with another canonical code than the model's, naming the rule behind that code."""


#: Who may ask for each action (D2): the requirement a request by anyone else breaks.
AUTHORITY = {
    "transfer": "AUTH-001",
    "cancel": "AUTH-002",
    "claim": "AUTH-003",
    "reserve": "AUTH-004",
    "release": "AUTH-004",
    "withdraw": "AUTH-006",
    "submit_production": "AUTH-005",
    "issue_bundle": "AUTH-005",
    "open_account": "AUTH-007",
    "register_device": "AUTH-007",
    "expire": "VAL-007",
    "correct_production": "CORR-009",
    "query": "AUTH-008",
    "register_storage": "AUTH-007",
    "change_storage_allocation_method": "STOR-002",
    "submit_storage_data": "STOR-030",
    "set_efficiency_factor": "STOR-030",
    "issue_storage_gc": "STOR-030",
    "cancel_for_charge": "AUTH-002",
    "allocate_storage": "STOR-023",
    "assign_unknown_beneficiary": "STOR-028",
    "claim_time_shift": "AUTH-003",
}
#: The requirement an accepted request of each action stands on (what a wrong refusal breaks).
ALLOWED_BY = {
    "transfer": ("XFER-002",),
    "cancel": ("CANC-001",),
    "claim": ("CLAIM-002",),
    "reserve": ("RES-001",),
    "release": ("RES-002",),
    "withdraw": ("AUTH-006",),
    "submit_production": ("PROD-007",),
    "issue_bundle": ("ISS-001",),
    "open_account": ("AUTH-007",),
    "register_device": ("DEV-001",),
    "query": ("IT-003",),
    "expire": ("VAL-002",),
    "correct_production": ("CORR-001",),
    "register_storage": ("STOR-001",),
    "submit_storage_data": ("STOR-008",),
    "set_efficiency_factor": ("STOR-015",),
    "cancel_for_charge": ("STOR-010", "STOR-011"),
    "allocate_storage": ("STOR-018",),
    "issue_storage_gc": ("STOR-024",),
    "assign_unknown_beneficiary": ("STOR-028",),
    "claim_time_shift": ("STOR-029",),
}
#: What the state after an accepted request of each action must show.
STATE_AFTER = {
    "transfer": ("XFER-001", "SPLIT-001", "SPLIT-002", "DC-002", "DC-003", "DC-007", "ID-001"),
    "cancel": ("CANC-001", "SPLIT-001", "SPLIT-002", "DC-003", "DC-004", "DC-007", "ID-001"),
    "claim": ("CLAIM-002", "SPLIT-001", "DC-005", "DC-006", "DC-007", "ID-001"),
    "reserve": ("RES-001", "DC-007", "ID-001"),
    "release": ("RES-002", "DC-007", "ID-001"),
    "withdraw": ("WDR-001", "SPLIT-001", "DC-007", "ID-002"),
    "submit_production": ("PROD-007", "ATTR-003", "DC-001", "DC-007"),
    "issue_bundle": ("ISS-001", "DC-001", "DC-007"),
    "open_account": ("AUTH-007",),
    "register_device": ("DEV-001",),
    "expire": ("VAL-002", "VAL-005", "VAL-006"),
    "correct_production": ("CORR-001", "CORR-006"),
    "register_storage": ("STOR-001",),
    "submit_storage_data": ("STOR-008",),
    "set_efficiency_factor": ("STOR-014",),
    "cancel_for_charge": ("STOR-011", "STOR-012", "DC-004", "DC-007"),
    "allocate_storage": ("STOR-018",),
    "issue_storage_gc": ("STOR-024", "STOR-025", "DC-001"),
    "assign_unknown_beneficiary": ("STOR-027",),
    "claim_time_shift": ("STOR-029", "DC-005"),
}
#: A refusal code of the model -> the requirement(s) that make the registry refuse.
REFUSED_BY = {
    "INVALID_QUANTITY": ("QTY-001",),
    "QUANTITY_EXCEEDS_BUNDLE": ("QTY-002",),
    "DUPLICATE_ISSUANCE": ("DC-001",),
    "NOT_CANCELLED": ("CLAIM-001",),
    "ALREADY_CLAIMED": ("DC-005",),
    "BENEFICIARY_MISMATCH": ("DC-006",),
    "CERTIFICATE_EXPIRED": ("VAL-004",),
    "PRODUCTION_TOO_OLD": ("VAL-008",),
    "INVALID_TIMESTAMP": ("TIME-001",),
    "INTERVAL_TOO_LONG": ("TIME-002",),
    "INVALID_INTERVAL": ("TIME-003",),
    "INTERVAL_NOT_ENDED": ("PROD-006",),
    "INVALID_ENERGY": ("PROD-004",),
    "METER_MISMATCH": ("PROD-001",),
    "GROSS_NET_MISMATCH": ("PROD-003",),
    "UNKNOWN_DEVICE": ("PROD-002", "IT-004"),
    "UNKNOWN_BUNDLE": ("IT-004",),
    "UNKNOWN_ACCOUNT": ("XFER-005", "DEV-003", "IT-004"),
    "UNKNOWN_PRODUCTION": ("CORR-007",),
    "DUPLICATE_ACCOUNT": ("ROLE-003",),
    "ISSUER_MAY_NOT_HOLD": ("ROLE-001",),
    "DUPLICATE_DEVICE": ("DEV-002",),
    "DUPLICATE_METER_ID": ("DEV-004",),
    "STORAGE_CHARGE_NEEDS_SCR": ("CANC-003",),
    "RANGE_OVERLAP": ("ISS-003",),
    "RANGE_QUANTITY_MISMATCH": ("ISS-002",),
    "QUANTITY_EXCEEDS_PRODUCTION": ("ISS-004",),
    "ACCOUNT_MISMATCH": ("ISS-005",),
    "INVALID_FIELD": ("IT-004",),
    # storage (D7)
    "NOT_A_STORAGE_DEVICE": ("STOR-005",),
    "UNKNOWN_STORAGE_RECORD": ("IT-004",),
    "ALLOCATION_METHOD_FIXED": ("STOR-002",),
    "STORAGE_INTERVAL_MISMATCH": ("STOR-004",),
    "GC_INTERVAL_MISMATCH": ("STOR-010",),
    "CHARGE_EXCEEDED": ("STOR-011",),
    "LOSSES_NOT_CALCULATED": ("STOR-017",),
    "ALLOCATION_EXCEEDS_CHARGE": ("STOR-018", "STOR-023"),
    "ALLOCATION_EXCEEDS_DISCHARGE": ("STOR-018", "STOR-023"),
    "ALLOCATION_BEFORE_CHARGE": ("STOR-019",),
    "ALLOCATION_NOT_EXPLICIT": ("STOR-023",),
    "SDR_NOT_FULLY_ALLOCATED": ("STOR-024",),
    "INPUTS_NOT_CANCELLED": ("STOR-024",),
    "SDR_ALREADY_USED": ("STOR-027",),
    "NOT_A_STORAGE_GC": ("STOR-029",),
    "TIME_SHIFT_ALREADY_CLAIMED": ("STOR-029",),
    "STORAGE_OUTPUT_NEEDS_SDR": ("STOR-009",),
    "STATE_OF_CHARGE_REQUIRED": ("STOR-016",),
    "STATE_OF_CHARGE_INCONSISTENT": ("STOR-016",),
    # SHOULD-level refusals: a registry that accepts these is not failed on a SHALL.
    "CAPACITY_EXCEEDED": ("PROD-005",),
    "SAME_ACCOUNT": ("XFER-004",),
    "NOT_RESERVED": ("RES-002",),
    "TIME_REVERSAL": ("IT-005",),
    "CORRECTION_UNCHANGED": ("CORR-008",),
}
#: Of the requirements above, those the standard states as SHOULD or MAY (see the catalogue): a
#: divergence there fails no SHALL.
SHOULD_LEVEL = frozenset(
    {"PROD-005", "XFER-004", "RES-002", "IT-005", "CORR-008", "AUTH-008"}
    | {"STOR-007", "STOR-015", "STOR-016", "STOR-028", "STOR-031"}
    | {"CONF-007", "CONF-008", "CONF-011", "CONF-018", "CONF-021"}
)
#: A refusal code that means something else for a storage request than for a core one.
_STORAGE_REFUSALS = {
    ("submit_storage_data", "METER_MISMATCH"): ("STOR-005",),
    ("submit_storage_data", "INVALID_ENERGY"): ("STOR-005",),
    ("submit_storage_data", "INVALID_FIELD"): ("STOR-005",),
    # the data start before the end of the last interval recorded: the two overlap (the
    # machine sends no data that is merely out of order, which STOR-007 asks as a SHOULD)
    ("submit_storage_data", "STORAGE_INTERVAL_OUT_OF_ORDER"): ("STOR-006",),
    ("register_storage", "INVALID_FIELD"): ("STOR-001", "STOR-003"),
    ("register_storage", "DUPLICATE_DEVICE"): ("STOR-001", "DEV-002"),
    ("cancel_for_charge", "BUNDLE_NOT_ACTIVE"): ("STOR-012", "DC-004"),
    ("cancel_for_charge", "INVALID_QUANTITY"): ("QTY-001",),
    ("claim_time_shift", "ALREADY_CLAIMED"): ("STOR-029", "DC-005"),
}
#: BUNDLE_NOT_ACTIVE by what the bundle is: the rule that makes that state final.
_NOT_ACTIVE = {
    "SPLIT": ("DC-008",),
    "CANCELLED": ("DC-004", "XFER-003", "WDR-002"),
    "CLAIMED": ("DC-005", "XFER-003", "WDR-002"),
    "WITHDRAWN": ("WDR-001",),
    "RESERVED": ("RES-001",),
    "LOCKED": ("RES-001",),
    "EXPIRED": ("VAL-003",),
}
#: The invariant checker's findings -> the D4 obligations they evidence.
RISKS = {
    "DOUBLE_ISSUANCE": "DC-001",
    "DOUBLE_IN_TRANSFER": "DC-002",
    "DOUBLE_REGISTRATION": "DC-003",
    "DOUBLE_CANCELLATION": "DC-004",
    "DOUBLE_USE": "DC-005",
    "DOUBLE_DISCLOSURE": "DC-006",
    "CONSERVATION": "DC-007",
    "STATE_MISMATCH": "IT-002",
}


def refusal_requirements(
    action: str, code: str | None, status: str | None = None, configuration: int = 1
) -> tuple[str, ...]:
    """The requirement(s) behind the model's refusal ``code`` of ``action``.

    ``status`` is the named bundle's status in the model (``"SPLIT"`` for a
    split parent), which decides which rule makes a bundle no longer usable;
    ``configuration`` (2 or 3) the registry's, whose rules some codes name.
    """
    if configuration in (2, 3):
        found = config_refusal(configuration, action, code)
        if found is not None:
            return found
    if (action, code) in _STORAGE_REFUSALS:
        return _STORAGE_REFUSALS[action, str(code)]
    if code in ("NOT_OWNER", "NOT_AUTHORISED", "ISSUER_MAY_NOT_TRADE"):
        return (AUTHORITY.get(action, "AUTH-001"),)
    if code == "BUNDLE_NOT_ACTIVE":
        found = _NOT_ACTIVE.get(status or "", ("DC-008", "XFER-003"))
        if action == "transfer":
            found = tuple(r for r in found if r != "WDR-002") or found
        return found
    if code == "QUANTITY_EXCEEDS_BUNDLE" and action == "claim":
        return ("QTY-002", "CLAIM-002")
    if code == "INVALID_FIELD" and action == "cancel":
        return ("CANC-002", "IT-004")
    return REFUSED_BY.get(str(code), ("IT-004",))


def is_should(requirements: Iterable[str]) -> bool:
    """Whether every requirement named is a SHOULD: a divergence there fails no SHALL."""
    found = list(requirements)
    return bool(found) and all(r in SHOULD_LEVEL for r in found)


# ====================================================================== configurations #2 and #3

#: Who may ask for each configuration action (D2, D3): the rule a request by anyone else breaks.
AUTHORITY.update(
    {
        "issue_linked_gcs": "AUTH-005",
        "issue_from_cancelled_eacs": "AUTH-005",
        "cancel_linked_gcs": "AUTH-002",
        "convert_eacs": "AUTH-001",
        "eac_transfer": "AUTH-001",
        "eac_cancel": "AUTH-002",
    }
)
#: The configuration action whose accepted request a wrong refusal breaks: what an hour gets
#: follows the declared practice (a MAY, CONF-008/018), conversion is a MAY itself (CONF-007).
ALLOWED_BY.update(
    {
        "issue_linked_gcs": ("CONF-008",),
        "convert_eacs": ("CONF-007",),
        "cancel_linked_gcs": ("CONF-005",),
        "issue_from_cancelled_eacs": ("CONF-018",),
    }
)
#: What the GC state after an accepted configuration request must show.
STATE_AFTER.update(
    {
        "issue_linked_gcs": ("CONF-002", "CONF-003", "CONF-009"),
        "convert_eacs": ("CONF-003", "CONF-007"),
        "cancel_linked_gcs": ("CONF-005", "SPLIT-001", "DC-004", "DC-007"),
        "issue_from_cancelled_eacs": ("CONF-012", "CONF-013"),
    }
)
#: A refusal code of the model -> the rule behind it, per configuration (then per action).
_CONFIG_REFUSALS: dict[tuple[int, str | None, str], tuple[str, ...]] = {
    # configuration #2
    (2, None, "WRONG_CONFIGURATION"): ("CONF-023",),
    (2, None, "GC_ISSUER_NOT_APPOINTED"): ("CONF-001",),
    (2, None, "NO_UNDERLYING_EAC"): ("CONF-002",),
    (2, None, "EAC_DEVICE_MISMATCH"): ("CONF-002",),
    (2, "issue_linked_gcs", "METER_MISMATCH"): ("CONF-002", "PROD-001"),
    (2, None, "OUTSIDE_EAC_PERIOD"): ("CONF-002",),
    (2, None, "DUPLICATE_ISSUANCE"): ("CONF-009", "DC-001"),
    (2, None, "EXCEEDS_EAC_ENERGY"): ("CONF-008",),
    (2, None, "EAC_BACKS_GC"): ("CONF-004",),
    (2, None, "EAC_NOT_ACTIVE"): ("CONF-004",),
    (2, None, "EAC_LINKED_ELSEWHERE"): ("CONF-004",),
    (2, None, "ISSUER_MAY_NOT_HOLD"): ("CONF-006",),
    (2, None, "NOT_COORDINATED"): ("CONF-005",),
    (2, None, "CONFIGURATION_MANDATED"): ("CONF-010",),
    # configuration #3
    (3, None, "WRONG_CONFIGURATION"): ("CONF-026",),
    (3, None, "EAC_NOT_CANCELLED"): ("CONF-012",),
    (3, "issue_from_cancelled_eacs", "BENEFICIARY_MISMATCH"): ("CONF-012",),
    (3, None, "EAC_LINKED_ELSEWHERE"): ("CONF-014",),
    (3, None, "OUTSIDE_EAC_PERIOD"): ("CONF-015",),
    (3, None, "EAC_DEVICE_MISMATCH"): ("CONF-016",),
    (3, "issue_from_cancelled_eacs", "METER_MISMATCH"): ("CONF-016", "PROD-001"),
    (3, None, "DUPLICATE_ISSUANCE"): ("CONF-019", "DC-001"),
    (3, None, "EXCEEDS_EAC_ENERGY"): ("CONF-018",),
    (3, None, "EAC_NOT_ACTIVE"): ("CONF-022",),
    (3, None, "EAC_BACKS_GC"): ("CONF-022",),
    (3, None, "CONFIGURATION_MANDATED"): ("CONF-020",),
}


#: Ordinary issuance and corrections in a #2/#3 registry: what the state after them shows.
_CONFIG_STATE_AFTER = {
    (2, "submit_production"): ("CONF-023",),
    (2, "issue_bundle"): ("CONF-023",),
    (2, "correct_production"): ("CONF-024",),
    (3, "submit_production"): ("CONF-026",),
    (3, "issue_bundle"): ("CONF-026",),
    (3, "correct_production"): ("CONF-026",),
}


def state_after(action: str, configuration: int = 1) -> tuple[str, ...]:
    """What the GC state after an accepted ``action`` must show (IT-002 if nothing else)."""
    found = _CONFIG_STATE_AFTER.get((configuration, action))
    return found if found is not None else STATE_AFTER.get(action, ("IT-002",))


def config_refusal(configuration: int, action: str, code: str | None) -> tuple[str, ...] | None:
    """The configuration rule behind a refusal (None: the rule of a configuration #1 registry).

    Only the codes a #2/#3 registry gives for its own rules are here; the
    core codes (a stranger acting, a bad quantity, a claim for another
    beneficiary) keep their core rules.
    """
    if code is None:
        return None
    for key in ((configuration, action, code), (configuration, None, code)):
        if key in _CONFIG_REFUSALS:
            return _CONFIG_REFUSALS[key]
    return None
