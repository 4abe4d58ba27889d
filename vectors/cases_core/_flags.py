"""The flags of the core-lifecycle cases, the area names, and the production request they share.

A flag names what a case exercises and what a registry failing it gets wrong; registering
them here, before any case module, keeps their order in the index as it has always been.
"""

from __future__ import annotations

from typing import Any

from gc_conformance.vectors.catalog import ISSUER, METERS, WIND, flag
from gc_conformance.vectors.tape import Tape

BAD_STAMP = flag(
    "MalformedTimestamp",
    "A production stamp that is not strict UTC YYYY-MM-DDThh:mm:ssZ (TIME-001): missing Z, an "
    "offset, fractional seconds, an impossible time or date, another layout.",
    "The registry accepts a stamp the standard's format excludes, so two registries may read the "
    "same certificate's hour differently.",
)
D15_STAMP = flag(
    "DigestD15Example",
    "The digest's worked example (D15): the standard's own example end stamp 2023-10-03T00:14:95Z "
    "has 95 seconds and must be refused. Written by hand, not taken from the model.",
    "The registry accepts an impossible time, the typo the standard's text carries.",
)
INTERVAL = flag(
    "IntervalLength",
    "Production intervals: at most one hour (TIME-002), start strictly before end (TIME-003), "
    "shorter intervals accepted as given (TIME-004), ended before it is reported (PROD-006).",
    "The registry issues GCs for an interval the standard does not allow, or refuses one it does.",
)
DATES = flag(
    "DateStamp",
    "Calendar dates (device start of operation) are strict YYYY-MM-DD (TIME-006).",
    "The registry records a date the format excludes, or refuses a real one (a leap day).",
)
VALID = flag(
    "ValidRequest",
    "A request the standard allows; the case pins its effect on the state (IT-002).",
    "The registry refuses an allowed request, or carries it out with another effect.",
)
ENERGY = flag(
    "EnergyValue",
    "Production volumes are finite, non-negative Wh (PROD-004), made whole by the declared "
    "rounding (ATTR-004); 0 Wh issues nothing (SPLIT-004).",
    "The registry issues for a malformed volume, or issues a different number of certificates.",
)
DOUBLE_ISSUANCE = flag(
    "DoubleIssuance",
    "D4 risk 1: a second issuance for production already issued (DC-001).",
    "The same Wh is certified twice: double counting.",
)
REGISTRATION = flag(
    "Registration",
    "Accounts and devices: unique IDs, complete D6 data, issued by the GC Issuer only "
    "(ROLE-003, DEV-001..004, AUTH-007).",
    "The registry lets a record be duplicated or created by a party without the authority.",
)
PRODUCTION_DATA = flag(
    "ProductionData",
    "Production data must come from the device's registered meter, with its gross/net "
    "indicator, for a registered device, and the issuance goes to the device's account "
    "(PROD-001..003, PROD-007).",
    "The registry certifies readings it cannot attribute to the registered device.",
)
AUTHORITY = flag(
    "Authority",
    "D2 roles: only the holder acts on its bundles, only the GC Issuer issues and withdraws "
    "(AUTH-001..008).",
    "A party without the authority moved, used or created certificates.",
)
CAPACITY = flag(
    "Capacity",
    "Reported energy above capacity x interval length (PROD-005, a named policy).",
    "The registry certifies more energy than the device can produce, or refuses what it can.",
)
ISSUER_CREATED = flag(
    "IssuerCreated",
    "Issuer-created bundles: the registry validates the asserted range, quantity, account and "
    "production (ISS-001..006).",
    "The registry records an asserted bundle the standard requires it to refuse, or the reverse.",
)
SPLIT = flag(
    "PartialOperation",
    "A partial transfer, cancellation, reservation or withdrawal splits the bundle; the "
    "children partition the parent's range (SPLIT-001, SPLIT-002, DC-007).",
    "Certificates are created, lost or held twice when a bundle is split.",
)
QUANTITY = flag(
    "QuantityValue",
    "Quantities are positive whole numbers, never more than the bundle holds (QTY-001, QTY-002).",
    "The registry acts on a malformed or excessive quantity, e.g. treating 0 as 'everything'.",
)
UNKNOWN_REF = flag(
    "UnknownReference",
    "A request naming a bundle or account that does not exist (IT-004, XFER-005); the case's "
    "symbol X.. is bound to no ID the registry gave.",
    "The registry answers 'accepted' for a request that did nothing, or acts on something else.",
)
ATOMIC = flag(
    "Atomicity",
    "A refused request must change nothing (IT-001); the expected state is the state before it.",
    "The registry's state changed although the request was refused.",
)
ENDED = flag(
    "EndedBundle",
    "Certificates cancelled, claimed, withdrawn or split can no longer be moved or reused "
    "(XFER-003, DC-004, DC-008, WDR-001, WDR-002).",
    "Used or retired certificates come back into circulation: double counting.",
)
HOLDING = flag(
    "Reservation",
    "Reserve, lock and release (RES-001, RES-002, AUTH-004).",
    "Reserved certificates move, or a release makes active what was never reserved.",
)
WITHDRAWAL = flag(
    "Withdrawal",
    "Withdrawal by the GC Issuer is final (WDR-001, AUTH-006).",
    "Withdrawn certificates are usable again, or a holder withdraws.",
)
QUERY = flag(
    "Query",
    "A query returns exactly the matching current bundles, and only the holder's own (IT-003, "
    "AUTH-008).",
    "The registry shows the wrong bundles, or another holder's.",
)
CANCEL = flag(
    "Cancellation",
    "Cancellation records a beneficiary and ends tradeability (CANC-001..003, AUTH-002).",
    "Certificates are cancelled without a beneficiary, by the wrong party, or stay tradeable.",
)
CLAIM = flag(
    "Claim",
    "Claims: only cancelled certificates, only by their holder, only for the named beneficiary, "
    "at most once (CLAIM-001, CLAIM-002, DC-005, DC-006, AUTH-003).",
    "The same cancelled energy supports two claims, or a claim for someone else: double use.",
)
HAND = flag(
    "HandComputed",
    "The expectation is written by hand in the generator from the standard's rule; the "
    "generator checks that the reference model agrees, so the case tests the model too.",
    "The registry disagrees with a value computed by hand from the standard.",
)

TIMES, ISS, SPL, CC = "timestamps", "issuance", "split_transfer", "cancel_claim"


def production(
    t: Tape,
    start: str,
    end: str,
    wh: Any = "100",
    device: str = WIND,
    meter: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return t.send(
        "submit_production",
        ISSUER,
        device_id=device,
        meter_id=METERS.get(device, "M-NONE") if meter is None else meter,
        start=start,
        end=end,
        energy_wh=wh,
        **extra,
    )
