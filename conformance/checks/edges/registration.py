"""Registration at its edges: a device location complete, the issuer's D2 exemptions."""

from __future__ import annotations

from gc_conformance.checks import check
from gc_conformance.checks.edges.helpers import (
    refused,
)
from gc_conformance.session import (
    ISSUER_ID,
    Session,
    device_record,
)

# ====================================================================== registration at its edges


@check("edges.devices.location_complete", requirements=["DEV-001"])
def device_location_complete(s: Session) -> None:
    """A device location needs its country and an address or both GPS coordinates: without the
    country, with neither, or with one coordinate only it is refused."""
    w = s.world()
    incomplete = (
        {"city": "Delft"},
        {"country": "NL"},
        {"country": "NL", "latitude": 52.0},
        {"country": "NL", "longitude": 4.3},
    )
    for index, location in enumerate(incomplete):
        record = device_record(
            f"DEV-LOC-{index}", f"M-LOC-{index}", w.account(w.alice), 10, "solar"
        )
        refused(s, "register_device", ISSUER_ID, f"the location {location} is incomplete",
                requirements=("DEV-001",), device={**record, "location": location})  # fmt: skip
    record = device_record("DEV-GPS", "M-GPS", w.account(w.alice), 10, "solar")
    s.accept("register_device", ISSUER_ID,
             device={**record, "location": {"country": "NL", "latitude": 52.0, "longitude": 4.3}})  # fmt: skip


@check("edges.roles.issuer_exemptions", requirements=["ROLE-001"])
def issuer_exemptions(s: Session) -> None:
    """The GC Issuer's own account must name one of the three D2 purposes: another purpose,
    or none, is refused; each of the three is accepted."""
    s.world()
    for index, exemption in enumerate(("GIFT", "own_consumption", "", None)):
        account = {"account_id": f"ACC-ISSUER-{index}", "holder_id": ISSUER_ID,
                   "account_name": "issuer's own", "exemption": exemption}  # fmt: skip
        if exemption is None:
            del account["exemption"]
        refused(s, "open_account", ISSUER_ID, f"the exemption {exemption!r} is not a D2 purpose",
                requirements=("ROLE-001",), account=account)  # fmt: skip
    for exemption in ("OWN_CONSUMPTION", "TESTING", "SUPPORT_RECOVERY"):
        s.accept("open_account", ISSUER_ID,
                 account={"account_id": f"ACC-ISSUER-{exemption}", "holder_id": ISSUER_ID,
                          "account_name": "issuer's own", "exemption": exemption})  # fmt: skip
