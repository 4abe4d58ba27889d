"""The limits of declared policies: the nameplate capacity tolerance, device capacity bounds."""

from __future__ import annotations

from gc_conformance.adapter import IssuanceStyle
from gc_conformance.checks import check
from gc_conformance.checks.edges.helpers import (
    CRITICAL,
    MINOR,
    EdgeFailed,
    production,
    refused,
    shifted,
)
from gc_conformance.session import (
    ISSUER_ID,
    Session,
    device_record,
)

# ====================================================================== limits of declared policies


@check("edges.capacity.at_the_nameplate_limit", requirements=["ATTR-003", "PROD-005"])
def capacity_edges(s: Session) -> None:
    """Under the declared NAMEPLATE plausibility, exactly capacity x interval is issued in full;
    one Wh more is refused (PROD-005 is a SHOULD: reported alone); 1 W devices count too."""
    s.require_style(IssuanceStyle.PRODUCTION_DATA)
    if s.policy("capacity", "NAMEPLATE") != "NAMEPLATE":
        from gc_conformance.session import NotApplicable

        raise NotApplicable("the registry declares no NAMEPLATE capacity plausibility")
    w = s.world()
    s.accept("register_device", ISSUER_ID,
             device=device_record("DEV-ONE-WATT", "M-ONE-WATT", w.account(w.alice), 1, "solar"))  # fmt: skip
    s.accept("register_device", ISSUER_ID,
             device=device_record("DEV-MW", "M-MW", w.account(w.alice), 1_000_000, "wind"))  # fmt: skip
    for device, meter, capacity in (("DEV-ONE-WATT", "M-ONE-WATT", 1), ("DEV-MW", "M-MW", 10**6)):
        start, end = s.hour(0)
        refused(s, "submit_production", ISSUER_ID,
                f"{capacity + 1} Wh in one hour is above the {capacity} W nameplate",
                severity=MINOR, requirements=("PROD-005",),
                **production(s, device, meter, start, end, capacity + 1))  # fmt: skip
        result = s.accept("submit_production", ISSUER_ID,
                          **production(s, device, meter, start, end, capacity))  # fmt: skip
        issued = s.bundle(result.get("bundle_id"))
        s.expect(issued is not None and issued["bundle_quantity"] == capacity,
                 f"{capacity} Wh at the nameplate limit issue {capacity} certificates",
                 expected=capacity, observed=issued, severity=CRITICAL)  # fmt: skip
        half, half_end = s.hour(1)
        half_end = shifted(half, minutes=30)
        if capacity > 1:
            refused(s, "submit_production", ISSUER_ID,
                    f"{capacity // 2 + 1} Wh in 30 minutes is above the {capacity} W nameplate",
                    severity=MINOR, requirements=("PROD-005",),
                    **production(s, device, meter, half, half_end, capacity // 2 + 1))  # fmt: skip
            s.accept("submit_production", ISSUER_ID,
                     **production(s, device, meter, half, half_end, capacity // 2))  # fmt: skip


@check("edges.devices.capacity_limits", requirements=["DEV-001"])
def device_capacity_limits(s: Session) -> None:
    """A device's capacity is a positive number of W: 1 W is registered, 0 and -1 are refused."""
    w = s.world()
    for capacity in (0, -1):
        refused(s, "register_device", ISSUER_ID, f"a capacity of {capacity} W is not positive",
                requirements=("DEV-001",),
                device=device_record(f"DEV-C{capacity}", f"M-C{capacity}",
                                     w.account(w.alice), capacity, "solar"))  # fmt: skip
    s.accept("register_device", ISSUER_ID,
             device=device_record("DEV-C1", "M-C1", w.account(w.alice), 1, "solar"))  # fmt: skip


__all__ = ["EdgeFailed", "refused"]
