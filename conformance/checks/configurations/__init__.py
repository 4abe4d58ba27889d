"""Configuration #2 and #3 checks (profiles ``config-2`` and ``config-3``, D3 and D4 risk 6).

Both configurations put a GC registry next to an EAC registry, so every scenario
drives the two through one adapter: ``session.world(configuration=2|3)`` resets
with the EAC Issuing Body ``EIB-T``, and the EAC-side requests (``eac_*``,
``appoint_gc_issuer``) go to the EAC registry, the GC-side ones
(``issue_linked_gcs``, ``cancel_linked_gcs``, ``convert_eacs``,
``issue_from_cancelled_eacs``) to the GC registry, which consults the other.

The EAC world (:func:`eac_world`)
    The body opens EAC accounts for alice (``E-ALICE``, the producer), bob and,
    under #2, the GC Issuer (``E-ISSUER``); registers DEV-WIND with alice under
    the same meter as in the GC registry; appoints the GC Issuer (#2); and reports
    2 000 000 Wh for the production day. Whatever the EAC face value (it must
    divide 2 MWh; it is read from the number of EACs issued), the day is then
    backed by exactly 2 000 000 Wh of EACs and nothing is carried over, so every
    cap below is computed by hand from that figure.

What the suite observes
    GC bundles (quantities per device and hour, status, beneficiary, and the
    ``registry_configuration`` attribute where the registry shows it); the EAC IDs
    named in the ``eac_report_production`` result; and, where a rule lives in the
    EAC registry only, the optional ``eacs`` key of ``observe()``: a list of
    ``{"eac_id", "account_id", "status", "beneficiary", "gc_issuer_id",
    "gc_configuration", ...}``. A check that cannot see what it must verify
    without it is skipped, and says so.

Policies (capabilities ``policies``)
    ``monthly_cap`` (POOLED or WHOLE_EACS) and ``hour_suspension``
    (SUSPEND_WHOLE_HOUR, SUSPEND_UNCOVERED_PART or REFUSE) say how a registry
    handles hours whose production exceeds the EAC energy left (D3, D13). The
    SHALL checks hold whatever they are (never more GC energy than EAC energy);
    the MAY checks verify the declared practice exactly, and are skipped when
    nothing is declared.
"""

from __future__ import annotations

from gc_conformance.checks.configurations.config2 import (
    HOURS_2,
    backing_eac_frozen,
    backing_eac_not_convertible,
    cancel_cancels_eacs,
    convert_by_export,
    declared_cap_and_suspension_2,
    hour_issued_once_2,
    issuer_holds_only_backing,
    issuer_must_be_appointed,
    mandate_refused_2,
    never_exceeds_eacs_2,
    plain_cancel_coordinated,
    refuses_config3_requests,
    same_device_and_period,
)
from gc_conformance.checks.configurations.config3 import (
    HOURS_3,
    declared_cap_and_suspension_3,
    eac_cancelled_once,
    hour_issued_once_3,
    mandate_refused_3,
    never_exceeds_eacs_3,
    not_transferable,
    one_gc_issuer,
    only_from_cancelled_eacs,
    refuses_config2_requests,
    same_device,
    within_eac_period,
)
from gc_conformance.checks.configurations.every_path import (
    correction_within_eacs_2,
    deducted_from_linked_2,
    every_path_from_cancelled_3,
    every_path_linked_2,
)
from gc_conformance.checks.configurations.world import (
    ACME,
    BODY,
    CAPS,
    CONFIG_2,
    CONFIG_3,
    DEVICE,
    MANDATED_BODY,
    METER,
    PERIOD_WH,
    SUSPENSIONS,
    EacWorld,
    cancelled_hour,
    capped_hours,
    declared_hours,
    declared_practice,
    eac_extension,
    eac_world,
    expected_issuance,
    issued_wh,
    linked_hour,
    mandated,
    production_day,
    refused,
    reject_both,
    report,
    require_eacs,
)

__all__ = [
    "ACME",
    "BODY",
    "CAPS",
    "CONFIG_2",
    "CONFIG_3",
    "DEVICE",
    "HOURS_2",
    "HOURS_3",
    "MANDATED_BODY",
    "METER",
    "PERIOD_WH",
    "SUSPENSIONS",
    "EacWorld",
    "backing_eac_frozen",
    "backing_eac_not_convertible",
    "cancel_cancels_eacs",
    "cancelled_hour",
    "capped_hours",
    "convert_by_export",
    "correction_within_eacs_2",
    "declared_cap_and_suspension_2",
    "declared_cap_and_suspension_3",
    "declared_hours",
    "declared_practice",
    "deducted_from_linked_2",
    "eac_cancelled_once",
    "eac_extension",
    "eac_world",
    "every_path_from_cancelled_3",
    "every_path_linked_2",
    "expected_issuance",
    "hour_issued_once_2",
    "hour_issued_once_3",
    "issued_wh",
    "issuer_holds_only_backing",
    "issuer_must_be_appointed",
    "linked_hour",
    "mandate_refused_2",
    "mandate_refused_3",
    "mandated",
    "never_exceeds_eacs_2",
    "never_exceeds_eacs_3",
    "not_transferable",
    "one_gc_issuer",
    "only_from_cancelled_eacs",
    "plain_cancel_coordinated",
    "production_day",
    "refused",
    "refuses_config2_requests",
    "refuses_config3_requests",
    "reject_both",
    "report",
    "require_eacs",
    "same_device",
    "same_device_and_period",
    "within_eac_period",
]
