"""The standard cast every scenario starts from: an issuer, three holders, a wind and a solar device.

Checks, golden vectors and the vector tape all build their worlds from the same few names and
the same complete D6 registration record, so a registry sees one cast whichever tool drives it.
The session opens the cast (:meth:`~gc_conformance.session.Session.world`); this module only
says who is in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs


@attrs.frozen
class World:
    """The standard cast every scenario starts from (see :meth:`Session.world`)."""

    issuer: str
    holders: tuple[str, str, str]  # alice, bob, carol
    accounts: Mapping[str, str]  # holder -> account
    devices: tuple[str, str]  # wind (large), solar (small capacity)
    meters: Mapping[str, str]  # device -> meter

    @property
    def alice(self) -> str:
        return self.holders[0]

    @property
    def bob(self) -> str:
        return self.holders[1]

    @property
    def carol(self) -> str:
        return self.holders[2]

    def account(self, holder: str) -> str:
        return self.accounts[holder]


ISSUER_ID = "ISSUER-T"
SOLAR_CAPACITY_W = 1_000


def device_record(
    device_id: str, meter_id: str, account_id: str, capacity_w: int, source: str
) -> dict[str, Any]:
    """A complete D6 registration record, as plain data."""
    return {
        "device_id": device_id,
        "device_name": f"{source} park {device_id}",
        "account_id": account_id,
        "capacity_w": capacity_w,
        "operational_date": "2020-01-01",
        "technology_type": source,
        "energy_source": source,
        "location": {"country": "NL", "city": "Delft"},
        "meter_id": meter_id,
        "gross_or_net": "NET",
        "measurement_body": "TSO-NL",
    }
