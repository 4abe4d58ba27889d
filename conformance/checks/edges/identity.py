"""Certificate identity across issuances: IDs never handed out twice (per device and registry
wide), and IDs beyond 64 bits that must name nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gc_conformance.checks import check
from gc_conformance.checks.edges.helpers import (
    CRITICAL,
    SOLAR,
    EdgeFailed,
    issue_wh,
    refused,
)
from gc_conformance.session import (
    ISSUER_ID,
    Session,
    World,
)

# ====================================================================== identity across issuances


@check(
    "edges.ids.unique_across_issuances",
    requirements=["ID-002", "DC-003", "REC-001"],
)
def certificate_ids_unique_across_issuances(s: Session) -> None:
    """No certificate ID is handed out twice, per device or registry-wide, across issuances,
    withdrawn certificates included: a new issuance after a withdrawal gets new IDs."""
    w = s.world()
    seen: dict[tuple[Any, Any, str], set[tuple[int, int]]] = {}

    def remember() -> None:
        for b in s.observe()["bundles"]:
            issuance = (b.get("device_id"), b.get("production_starting_interval"))
            span = (b["certificate_bundle_id_range_start"], b["certificate_bundle_id_range_end"])
            seen.setdefault((*issuance, str(b.get("issuance_id"))), set()).add(span)

    first = issue_wh(s, w, 1000, hour=0)
    solar = _solar_reading(s, w, hour=0)
    remember()
    s.accept("withdraw", ISSUER_ID, bundle_id=first, reason="metering error")
    remember()
    if solar is not None:
        s.accept("withdraw", ISSUER_ID, bundle_id=solar, reason="metering error")
        remember()
    for hour in (1, 2):
        issue_wh(s, w, 1000, hour=hour)
        _solar_reading(s, w, hour=hour)
        remember()
    _judge_overlaps(s, seen)


def _solar_reading(s: Session, w: World, hour: int) -> Any:
    """A reading of the small solar device (another device), within its 1 kW capacity."""
    return s.issue(SOLAR, w.meters[SOLAR], hour, 500, account=w.account(w.alice))


def _judge_overlaps(s: Session, seen: Mapping[tuple[Any, Any, str], set[tuple[int, int]]]) -> None:
    """Certificates of different issuances never share an ID: on one device, nor across the
    registry. A registry numbering per device (each device from 1) qualifies an ID by its
    device, so registry-wide the identity compared is (device, ID) for such a registry."""
    groups = sorted(seen.items(), key=lambda item: repr(item[0]))
    per_device = _numbers_per_device(groups)
    for index, (one, spans) in enumerate(groups):
        for other, others in groups[index + 1 :]:
            if one[:2] == other[:2] and one[2] == other[2]:
                continue
            same_device = one[0] == other[0]
            if not same_device and per_device:
                continue
            clash = [(a, b) for a in spans for b in others if a[0] <= b[1] and b[0] <= a[1]]
            if clash:
                scope = "of the same device" if same_device else "registry-wide"
                raise EdgeFailed(
                    f"two issuances {scope} share certificate IDs (IDs are never reused, not "
                    "even those of withdrawn certificates)",
                    expected="disjoint certificate ID ranges across issuances",
                    observed=f"{one[0]} {one[1]} {clash[0][0]} and {other[0]} {other[1]} "
                    f"{clash[0][1]}",
                    severity=CRITICAL,
                    requirements=("ID-002", "DC-003"),
                )


def _numbers_per_device(groups: list[tuple[tuple[Any, Any, str], set[tuple[int, int]]]]) -> bool:
    """Whether the registry numbers per device: each device's lowest ID is the same number."""
    lowest: dict[Any, int] = {}
    for (device, _, _), spans in groups:
        low = min(start for start, _ in spans)
        lowest[device] = min(lowest.get(device, low), low)
    return len(lowest) > 1 and len(set(lowest.values())) == 1


#: Bundle IDs no registry hands out, at the edge of 64-bit integers (the limit, one over, one
#: under its negative end, far beyond) and as digit strings of 19 and 20 digits.
OUT_OF_RANGE_IDS: tuple[int | str, ...] = (
    2**63 - 1,
    2**63,
    2**64,
    -(2**63) - 1,
    10**30,
    "9223372036854775807",
    "9223372036854775808",
    "99999999999999999999",
)


@check("edges.ids.beyond_64_bits_name_nothing", requirements=["IT-004", "IT-001"])
def ids_beyond_64_bits(s: Session) -> None:
    """A bundle ID at or beyond the end of 64-bit integers (as a JSON integer or a digit
    string) names no bundle: a transfer or cancellation naming one is refused and changes
    nothing, and a real bundle is then transferred as usual.

    Why: registries that keep generated integer IDs in a database convert the ID of a request
    to the database's 64-bit integer; at 2^63 that conversion overflows, and a registry that
    lets it escape answers a server error (not a refusal) or, worse, wraps the ID round onto
    another bundle. The suite's own IDs never come near that edge, so it is tested here.
    """
    w = s.world()
    bundle = issue_wh(s, w, 10)
    for far in OUT_OF_RANGE_IDS:
        refused(s, "transfer", w.alice, f"the bundle ID {far!r} names no bundle",
                requirements=("IT-004",), bundle_id=far, to_account=w.account(w.bob))  # fmt: skip
        refused(s, "cancel", w.alice, f"the bundle ID {far!r} names no bundle",
                requirements=("IT-004",), bundle_id=far, beneficiary="Consumer-X")  # fmt: skip
    s.accept("transfer", w.alice, bundle_id=bundle, to_account=w.account(w.bob))
