"""Who and what a registry knows about: the issuer, accounts, devices, production data.

Field names follow the EnergyTag API specification where it has one, so that
adapters map them one-to-one; D6 registration data the API lacks (meter ID,
gross/net, measurement body, support) are added in the same style.
"""

from __future__ import annotations

import datetime as _dt
import enum

import attrs

from gc_conformance.reference.errors import ErrorCode, InvalidInput


def require_text(value: object, field: str) -> str:
    """A non-empty string; the error names the field."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(ErrorCode.INVALID_FIELD, field, f"{value!r} is not a non-empty string")
    return value


class IssuerExemption(enum.Enum):
    """The only reasons a GC Issuer may hold certificates (D2)."""

    OWN_CONSUMPTION = "to prove the issuer's own consumption"
    TESTING = "for testing"
    SUPPORT_RECOVERY = "for recovery from a public support mechanism"


@attrs.frozen
class Issuer:
    """The GC Issuer: accredited, identified in every scheme, and the only party that issues."""

    issuer_id: str
    name: str
    domain: str  # country/region of issuance (D5 'country_of_issuance')
    configuration: int = 1  # the scheme configuration its GCs are issued under (D3, D5)

    def __attrs_post_init__(self) -> None:
        require_text(self.issuer_id, "issuer.issuer_id")
        require_text(self.name, "issuer.name")
        require_text(self.domain, "issuer.domain")
        if self.configuration not in (1, 2, 3):
            raise InvalidInput(ErrorCode.INVALID_FIELD, "issuer.configuration", "must be 1, 2 or 3")


@attrs.frozen
class Account:
    """A registry account. ``holder_id`` is the party allowed to act on its certificates."""

    account_id: str
    holder_id: str
    account_name: str
    exemption: IssuerExemption | None = None  # set only on the issuer's own accounts


class GrossOrNet(enum.Enum):
    GROSS = "gross generation"
    NET = "net generation"


@attrs.frozen
class Location:
    """Postcode/street/city/country and/or GPS; GPS is stated where available (D5)."""

    country: str
    city: str | None = None
    street: str | None = None
    postcode: str | None = None
    latitude: float | None = None
    longitude: float | None = None

    def __attrs_post_init__(self) -> None:
        require_text(self.country, "location.country")
        if (self.latitude is None) != (self.longitude is None):
            raise InvalidInput(
                ErrorCode.INVALID_FIELD,
                "location",
                "latitude and longitude come together or not at all",
            )
        if self.latitude is not None and not -90.0 <= self.latitude <= 90.0:
            raise InvalidInput(ErrorCode.INVALID_FIELD, "location.latitude", "outside -90..90")
        if self.longitude is not None and not -180.0 <= self.longitude <= 180.0:
            raise InvalidInput(ErrorCode.INVALID_FIELD, "location.longitude", "outside -180..180")
        if self.latitude is None and not (self.city or self.street or self.postcode):
            raise InvalidInput(
                ErrorCode.INVALID_FIELD, "location", "give an address (city/street/postcode) or GPS"
            )


@attrs.frozen
class Device:
    """A registered production device with the registration data of D6.

    ``device_id`` is unique within the issuer's domain; ``account_id`` is the
    account its certificates are issued into; ``capacity_w`` is in watts, the
    unit the API uses for ``device_capacity``.
    """

    device_id: str
    device_name: str
    account_id: str
    capacity_w: int
    operational_date: _dt.date
    technology_type: str
    energy_source: str
    location: Location
    meter_id: str
    gross_or_net: GrossOrNet
    measurement_body: str
    support_received: str | None = None
    grid: str | None = None  # grid injection reference ('connected_grid_identification')
    issue_market_zone: str | None = None  # bidding zone / balancing authority / price node
    meter_type: str | None = None
    meter_serial: str | None = None
    labelling_scheme: str | None = None
    applicant_contact: str | None = None
    is_storage: bool = False  # a storage system is also registered as a production device (D6, D7)
    # D5 flags its certificates carry (settable at registration; the seed's values by default)
    disclosure: bool = True  # may be used to inform consumers of the origin of their energy
    post_energy_carrier_conversion: bool = False  # the conversion tag
    # further D6 registration data (optional: not every scheme collects them)
    production_auxiliaries: str | None = None
    convertible_energy_sources: tuple[str, ...] = ()  # every source it may convert (D6)
    metering_diagram_reference: str | None = None  # the diagram of metering points
    behind_the_meter_consumption_meter_ids: tuple[str, ...] = ()  # utility meter(s) it is behind


@attrs.frozen
class ProductionRecord:
    """The production data of D6 as the registry holds it for one device and interval.

    ``energy_wh`` is the metered value exactly as last submitted (or corrected);
    ``recognised_wh`` is the whole-Wh face value the rounding policy made of it.
    """

    device_id: str
    meter_id: str
    start: _dt.datetime
    end: _dt.datetime
    energy_wh: str
    recognised_wh: int
    gross_or_net: GrossOrNet
