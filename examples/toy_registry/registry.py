"""The Toy Registry: a small, self-contained granular-certificate registry.

This module plays the part of a vendor's product. It is written in its own
words, on purpose unlike the conformance suite's, so that the adapter beside
it (``adapter.py``) has real translating to do:

==================  ==========================================================
toy word            what it is
==================  ==========================================================
operator            the GC Issuer: opens accounts, registers units, issues
unit                a production device (with its meter and D6 data)
reading             metered production of a unit over at most one hour
lot                 one issuance: the attributes its certificates carry
serial              one certificate of 1 Wh; serials count up from 1 000 000
parcel              a run of consecutive serials of one lot in one account
live / held /       parcel states: usable / reserved / locked / cancelled /
frozen / retired /  claimed / withdrawn (and ``split`` for a parcel replaced
redeemed / revoked  by its pieces)
==================  ==========================================================

Its rules are those of the EnergyTag GC Scheme Standard's core (D2 roles,
D4 double counting, D5 attributes, D6 metering data, D8 validity), applied in
a fixed order for every request: the form of each value, then who is asking,
then whether what is named exists, then whose it is, then its state, then
amounts. A refused request changes nothing: every method checks everything
before it changes anything.

Where the standard leaves a choice open, the toy has made one, and the
adapter declares it: face values are rounded **down** to whole Wh (each
reading on its own), a part of a parcel is taken from the **end** of its
serial range, certificates are valid until the end of the **calendar year**
their production ended in, and readings above a unit's **nameplate**
capacity are refused.

Nothing here reads a clock: every change is stamped with the ``at`` its
caller passes, and stamps must never go back in time.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

FIRST_SERIAL = 1_000_000
MAX_READING = dt.timedelta(hours=1)

_STAMP = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z", re.ASCII)
_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)


# ====================================================================== errors


class Fault(enum.IntEnum):
    """The toy's numbered errors, as its API documentation would list them."""

    # the form of a value
    BAD_FIELD = 1001
    BAD_TIME = 1002
    BAD_DATE = 1003
    EMPTY_PERIOD = 1004
    PERIOD_TOO_LONG = 1005
    BAD_ENERGY = 1006
    BAD_AMOUNT = 1007
    CLOCK_WENT_BACK = 1008
    # things that do not exist, or already do
    NO_SUCH_ACCOUNT = 2001
    NO_SUCH_UNIT = 2002
    NO_SUCH_PARCEL = 2003
    ACCOUNT_EXISTS = 2004
    UNIT_EXISTS = 2005
    METER_TAKEN = 2006
    WRONG_METER = 2007
    WRONG_BASIS = 2008
    # who may do what
    OPERATOR_ONLY = 3001
    NOT_YOURS = 3002
    OPERATOR_CANNOT_HOLD = 3003
    OPERATOR_CANNOT_TRADE = 3004
    # issuance
    ALREADY_METERED = 4001
    ABOVE_NAMEPLATE = 4002
    PERIOD_NOT_OVER = 4003
    TOO_LATE_TO_ISSUE = 4004
    # parcels
    PARCEL_NOT_LIVE = 5001
    AMOUNT_TOO_LARGE = 5002
    SAME_ACCOUNT = 5003
    PARCEL_EXPIRED = 5004
    NOT_RETIRED = 5005
    ALREADY_REDEEMED = 5006
    WRONG_BENEFICIARY = 5007
    NOT_ON_HOLD = 5008
    NO_STORAGE_HERE = 5009


class LedgerError(Exception):
    """A refused request: the toy's error number and a sentence saying what was wrong."""

    def __init__(self, fault: Fault, text: str) -> None:
        super().__init__(f"E{fault.value} {fault.name}: {text}")
        self.fault = fault
        self.text = text


# ====================================================================== records


class State(enum.Enum):
    LIVE = "live"
    HELD = "held"
    FROZEN = "frozen"
    RETIRED = "retired"
    REDEEMED = "redeemed"
    REVOKED = "revoked"
    SPLIT = "split"  # replaced by its pieces; its ID is never used again


#: Why the operator may keep certificates at all (D2): only these, and each for its own use.
OPERATOR_PURPOSES = ("own-use", "testing", "support-recovery")


@dataclass(frozen=True)
class Account:
    number: str
    owner: str
    label: str
    purpose: str | None = None  # set only on the operator's own accounts


@dataclass(frozen=True)
class Unit:
    """A production device as registered (D6)."""

    unit_id: str
    name: str
    payout_account: str
    rated_power_w: int
    commissioned_on: dt.date
    technology: str
    source: str
    site: dict[str, Any]
    meter: str
    basis: str  # "GROSS" or "NET" generation
    meter_operator: str


@dataclass(frozen=True)
class Lot:
    """One issuance. Everything a certificate states is copied here once, and never changes."""

    lot_id: str
    unit: Unit  # the unit as it was registered when the lot was issued
    start: dt.datetime
    end: dt.datetime
    first_serial: int
    count: int
    issued_on: dt.date
    operator_id: str
    country: str
    valid_until: dt.datetime


@dataclass(frozen=True)
class Parcel:
    parcel_id: str
    lot_id: str
    first: int
    last: int
    account: str
    state: State
    beneficiary: str | None = None
    claimant: str | None = None

    @property
    def amount(self) -> int:
        return self.last - self.first + 1


# ====================================================================== the registry


class ToyLedger:
    """The registry. Public methods are its API; each either completes or raises LedgerError."""

    def __init__(self, operator_id: str, operator_name: str, country: str) -> None:
        self.operator_id = operator_id
        self.operator_name = operator_name
        self.country = country
        self.accounts: dict[str, Account] = {}
        self.units: dict[str, Unit] = {}
        self.lots: dict[str, Lot] = {}
        self.parcels: dict[str, Parcel] = {}  # every parcel ever made, split ones included
        self._unit_by_meter: dict[str, str] = {}
        self._readings: dict[str, list[tuple[dt.datetime, dt.datetime]]] = {}
        self._next_serial = FIRST_SERIAL
        self._next_parcel = 1
        self._next_lot = 1
        self._last_change: dt.datetime | None = None

    # ------------------------------------------------------------------ accounts and units

    def open_account(
        self, by: str, number: object, owner: object, label: object, purpose: object, at: object
    ) -> Account:
        """Open an account; one the operator holds itself must name its D2 purpose."""
        when = self._clock(at)
        account_no, owner_id, name = (
            _text(number, "number"),
            _text(owner, "owner"),
            _text(label, "label"),
        )
        if purpose is not None and purpose not in OPERATOR_PURPOSES:
            raise LedgerError(
                Fault.BAD_FIELD, f"purpose {purpose!r} is not one of {OPERATOR_PURPOSES}"
            )
        self._operator_only(by)
        if account_no in self.accounts:
            raise LedgerError(Fault.ACCOUNT_EXISTS, f"account {account_no} exists")
        if owner_id == self.operator_id and purpose is None:
            raise LedgerError(
                Fault.OPERATOR_CANNOT_HOLD,
                "the operator may hold certificates only for own use, testing or support recovery",
            )
        if purpose is not None and owner_id != self.operator_id:
            raise LedgerError(Fault.BAD_FIELD, "only the operator's own accounts have a purpose")
        account = Account(account_no, owner_id, name, None if purpose is None else str(purpose))
        self.accounts[account_no] = account
        self._last_change = when
        return account

    def register_unit(self, by: str, sheet: dict[str, Any], at: object) -> Unit:
        """Register a production unit from its registration sheet (the D6 data)."""
        when = self._clock(at)
        power = sheet.get("rated_power_w")
        if isinstance(power, bool) or not isinstance(power, int) or power <= 0:
            raise LedgerError(Fault.BAD_FIELD, f"rated_power_w {power!r} is not a positive W")
        basis = sheet.get("basis")
        if basis not in ("GROSS", "NET"):
            raise LedgerError(Fault.BAD_FIELD, f"basis {basis!r} is not GROSS or NET")
        unit = Unit(
            unit_id=_text(sheet.get("unit_id"), "unit_id"),
            name=_text(sheet.get("name"), "name"),
            payout_account=_text(sheet.get("payout_account"), "payout_account"),
            rated_power_w=power,
            commissioned_on=_day(sheet.get("commissioned_on"), "commissioned_on"),
            technology=_text(sheet.get("technology"), "technology"),
            source=_text(sheet.get("source"), "source"),
            site=_site(sheet.get("site")),
            meter=_text(sheet.get("meter"), "meter"),
            basis=str(basis),
            meter_operator=_text(sheet.get("meter_operator"), "meter_operator"),
        )
        self._operator_only(by)
        if unit.unit_id in self.units:
            raise LedgerError(Fault.UNIT_EXISTS, f"unit {unit.unit_id} is registered already")
        if unit.meter in self._unit_by_meter:
            owner = self._unit_by_meter[unit.meter]
            raise LedgerError(Fault.METER_TAKEN, f"meter {unit.meter} belongs to unit {owner}")
        self._account(unit.payout_account)
        self.units[unit.unit_id] = unit
        self._unit_by_meter[unit.meter] = unit.unit_id
        self._readings[unit.unit_id] = []
        self._last_change = when
        return unit

    # ------------------------------------------------------------------ issuance

    def record_reading(
        self,
        by: str,
        unit_id: object,
        meter: object,
        start: object,
        end: object,
        energy_wh: object,
        basis: object,
        at: object,
    ) -> Parcel | None:
        """Record a metered reading and issue its certificates; None when it rounds to 0 Wh."""
        when = self._clock(at)
        begin, finish = _period(start, end)
        energy = _energy(energy_wh)
        if basis not in ("GROSS", "NET"):
            raise LedgerError(Fault.BAD_FIELD, f"basis {basis!r} is not GROSS or NET")
        self._operator_only(by)
        unit = self.units.get(unit_id) if isinstance(unit_id, str) else None
        if unit is None:
            raise LedgerError(Fault.NO_SUCH_UNIT, f"no unit {unit_id!r}")
        if meter != unit.meter:
            raise LedgerError(Fault.WRONG_METER, f"meter {meter!r} is not unit {unit_id}'s")
        if basis != unit.basis:
            raise LedgerError(Fault.WRONG_BASIS, f"unit {unit_id} meters {unit.basis} generation")
        if finish > when:
            raise LedgerError(Fault.PERIOD_NOT_OVER, f"the period ends after {_stamp(when)}")
        valid_until = _end_of_validity(finish)
        if when >= valid_until:
            raise LedgerError(Fault.TOO_LATE_TO_ISSUE, f"it was valid until {_stamp(valid_until)}")
        for done_start, done_end in self._readings[unit.unit_id]:
            if done_start < finish and begin < done_end:  # overlaps: D4 double issuance
                raise LedgerError(
                    Fault.ALREADY_METERED,
                    f"unit {unit_id} has a reading for {_stamp(done_start)}/{_stamp(done_end)}",
                )
        seconds = int((finish - begin).total_seconds())
        if Fraction(energy) * 3600 > unit.rated_power_w * seconds:
            raise LedgerError(
                Fault.ABOVE_NAMEPLATE,
                f"{energy} Wh is more than {unit.rated_power_w} W can make in {seconds} s",
            )
        whole_wh = int(energy)  # rounded down to whole Wh
        self._readings[unit.unit_id].append((begin, finish))
        self._last_change = when
        if whole_wh == 0:
            return None
        lot = Lot(
            lot_id=f"LOT-{self._next_lot}",
            unit=unit,
            start=begin,
            end=finish,
            first_serial=self._next_serial,
            count=whole_wh,
            issued_on=when.date(),
            operator_id=self.operator_id,
            country=self.country,
            valid_until=valid_until,
        )
        self._next_lot += 1
        self._next_serial += whole_wh  # serials are never handed out twice
        self.lots[lot.lot_id] = lot
        parcel = self._new_parcel(
            lot.lot_id, lot.first_serial, lot.first_serial + whole_wh - 1, unit.payout_account
        )
        return parcel

    # ------------------------------------------------------------------ parcels

    def move(
        self, by: str, parcel_id: object, to_account: object, amount: object, at: object
    ) -> tuple[Parcel, Parcel | None]:
        """Transfer a parcel, or ``amount`` serials of it, to another account."""
        when = self._clock(at)
        wanted = _amount(amount)
        target = _text(to_account, "to_account")
        parcel = self._parcel(parcel_id)
        self._account(target)
        self._owned(by, parcel)
        purpose = self.accounts[parcel.account].purpose
        if purpose is not None and purpose != "support-recovery":
            raise LedgerError(Fault.OPERATOR_CANNOT_TRADE, f"{purpose} certificates stay put")
        if target == parcel.account:
            raise LedgerError(Fault.SAME_ACCOUNT, f"parcel is in {target} already")
        self._usable(parcel, when)
        self._fits(parcel, wanted)
        return self._change(parcel, wanted, when, account=target)

    def retire(
        self,
        by: str,
        parcel_id: object,
        beneficiary: object,
        amount: object,
        purpose: object,
        at: object,
    ) -> tuple[Parcel, Parcel | None]:
        """Cancel certificates for a named beneficiary (who alone may claim them later)."""
        when = self._clock(at)
        wanted = _amount(amount)
        for_whom = _text(beneficiary, "beneficiary")
        if purpose not in ("consumption", "storage-charge"):
            raise LedgerError(Fault.BAD_FIELD, f"purpose {purpose!r} is not consumption")
        if purpose == "storage-charge":
            raise LedgerError(Fault.NO_STORAGE_HERE, "storage charging needs a charge record")
        parcel = self._parcel(parcel_id)
        self._owned(by, parcel)
        kept_for = self.accounts[parcel.account].purpose
        if kept_for == "support-recovery" or (
            kept_for is not None and for_whom not in (self.operator_id, self.operator_name)
        ):
            raise LedgerError(Fault.OPERATOR_CANNOT_TRADE, f"{kept_for} certificates serve only it")
        self._usable(parcel, when)
        self._fits(parcel, wanted)
        return self._change(parcel, wanted, when, state=State.RETIRED, beneficiary=for_whom)

    def redeem(
        self, by: str, parcel_id: object, claimant: object, amount: object, at: object
    ) -> tuple[Parcel, Parcel | None]:
        """Use retired certificates for the beneficiary's claim, once."""
        when = self._clock(at)
        wanted = _amount(amount)
        who = _text(claimant, "claimant")
        parcel = self._parcel(parcel_id)
        self._owned(by, parcel)
        if parcel.state is State.REDEEMED:
            raise LedgerError(Fault.ALREADY_REDEEMED, f"parcel {parcel.parcel_id} was redeemed")
        if parcel.state is not State.RETIRED:
            raise LedgerError(
                Fault.NOT_RETIRED, f"parcel {parcel.parcel_id} is {parcel.state.value}"
            )
        if who != parcel.beneficiary:
            raise LedgerError(Fault.WRONG_BENEFICIARY, f"retired for {parcel.beneficiary!r}")
        self._fits(parcel, wanted)
        return self._change(parcel, wanted, when, state=State.REDEEMED, claimant=who)

    def hold(
        self, by: str, parcel_id: object, amount: object, mode: object, at: object
    ) -> tuple[Parcel, Parcel | None]:
        """Put a parcel (or part of it) on hold, or freeze it; either stops every use."""
        when = self._clock(at)
        wanted = _amount(amount)
        if mode not in ("hold", "freeze"):
            raise LedgerError(Fault.BAD_FIELD, f"mode {mode!r} is not hold or freeze")
        parcel = self._parcel(parcel_id)
        self._owned(by, parcel)
        self._usable(parcel, when)
        self._fits(parcel, wanted)
        state = State.HELD if mode == "hold" else State.FROZEN
        return self._change(parcel, wanted, when, state=state)

    def unhold(self, by: str, parcel_id: object, at: object) -> Parcel:
        when = self._clock(at)
        parcel = self._parcel(parcel_id)
        self._owned(by, parcel)
        if parcel.state not in (State.HELD, State.FROZEN):
            raise LedgerError(
                Fault.NOT_ON_HOLD, f"parcel {parcel.parcel_id} is {parcel.state.value}"
            )
        self._still_valid(parcel, when)
        return self._change(parcel, None, when, state=State.LIVE)[0]

    def revoke(
        self, by: str, parcel_id: object, reason: object, amount: object, at: object
    ) -> tuple[Parcel, Parcel | None]:
        """The operator withdraws certificates that were not used yet; for good."""
        when = self._clock(at)
        wanted = _amount(amount)
        _text(reason, "reason")
        self._operator_only(by)
        parcel = self._parcel(parcel_id)
        if parcel.state not in (State.LIVE, State.HELD, State.FROZEN):
            raise LedgerError(
                Fault.PARCEL_NOT_LIVE, f"parcel {parcel.parcel_id} is {parcel.state.value}"
            )
        self._still_valid(parcel, when)
        self._fits(parcel, wanted)
        return self._change(parcel, wanted, when, state=State.REVOKED)

    # ------------------------------------------------------------------ reading

    def find(
        self,
        by: str,
        *,
        account: object = None,
        unit: object = None,
        lot: object = None,
        state: object = None,
        source: object = None,
        between: tuple[object, object] | None = None,
    ) -> list[Parcel]:
        """Current parcels matching every filter given; others than the operator see only theirs.

        ``state`` is a State value; ``between`` a pair of stamps, matching the
        parcels whose production period overlaps it.
        """
        if state is not None and state not in {s.value for s in State}:
            raise LedgerError(Fault.BAD_FIELD, f"state {state!r} is not a parcel state")
        window = None
        if between is not None:
            window = (_instant(between[0], "between.start"), _instant(between[1], "between.end"))
            if not window[0] < window[1]:
                raise LedgerError(Fault.EMPTY_PERIOD, "the window's start is not before its end")
        if account is not None:
            owner = self._account(account).owner
            if by not in (owner, self.operator_id):
                raise LedgerError(Fault.NOT_YOURS, f"{by} does not hold account {account}")
        only_own = account is None and by != self.operator_id
        found = []
        for parcel in self.current_parcels():
            if only_own and self.accounts[parcel.account].owner != by:
                continue
            lot_record = self.lots[parcel.lot_id]
            checks = (
                (account, parcel.account),
                (unit, lot_record.unit.unit_id),
                (lot, lot_record.lot_id),
                (state, parcel.state.value),
                (source, lot_record.unit.source),
            )
            if any(wanted is not None and wanted != actual for wanted, actual in checks):
                continue
            if window is not None and not (
                lot_record.start < window[1] and window[0] < lot_record.end
            ):
                continue
            found.append(parcel)
        return found

    def current_parcels(self) -> list[Parcel]:
        """Every parcel that has not been split, ordered by serial."""
        current = (p for p in self.parcels.values() if p.state is not State.SPLIT)
        return sorted(current, key=lambda p: p.first)

    # ------------------------------------------------------------------ rules shared by requests

    def _clock(self, at: object) -> dt.datetime:
        when = _instant(at, "at")
        if self._last_change is not None and when < self._last_change:
            raise LedgerError(
                Fault.CLOCK_WENT_BACK, f"{_stamp(when)} is before {_stamp(self._last_change)}"
            )
        return when

    def _operator_only(self, by: str) -> None:
        if by != self.operator_id:
            raise LedgerError(Fault.OPERATOR_ONLY, f"only the operator may do this, not {by!r}")

    def _account(self, number: object) -> Account:
        account = self.accounts.get(number) if isinstance(number, str) else None
        if account is None:
            raise LedgerError(Fault.NO_SUCH_ACCOUNT, f"no account {number!r}")
        return account

    def _parcel(self, parcel_id: object) -> Parcel:
        if parcel_id is None:
            raise LedgerError(Fault.BAD_FIELD, "parcel is required")
        parcel = self.parcels.get(parcel_id) if isinstance(parcel_id, str) else None
        if parcel is None:
            raise LedgerError(Fault.NO_SUCH_PARCEL, f"no parcel {parcel_id!r}")
        if parcel.state is State.SPLIT:
            raise LedgerError(Fault.PARCEL_NOT_LIVE, f"parcel {parcel_id} was split")
        return parcel

    def _owned(self, by: str, parcel: Parcel) -> None:
        if self.accounts[parcel.account].owner != by:
            raise LedgerError(Fault.NOT_YOURS, f"{by!r} does not hold parcel {parcel.parcel_id}")

    def _usable(self, parcel: Parcel, when: dt.datetime) -> None:
        if parcel.state is not State.LIVE:
            raise LedgerError(
                Fault.PARCEL_NOT_LIVE, f"parcel {parcel.parcel_id} is {parcel.state.value}"
            )
        self._still_valid(parcel, when)

    def _still_valid(self, parcel: Parcel, when: dt.datetime) -> None:
        valid_until = self.lots[parcel.lot_id].valid_until
        if when >= valid_until:
            raise LedgerError(Fault.PARCEL_EXPIRED, f"valid until {_stamp(valid_until)}")

    @staticmethod
    def _fits(parcel: Parcel, wanted: int | None) -> None:
        if wanted is not None and wanted > parcel.amount:
            raise LedgerError(
                Fault.AMOUNT_TOO_LARGE,
                f"{wanted} asked of parcel {parcel.parcel_id} of {parcel.amount}",
            )

    # ------------------------------------------------------------------ the only changes to parcels

    def _change(
        self, parcel: Parcel, wanted: int | None, when: dt.datetime, **new: Any
    ) -> tuple[Parcel, Parcel | None]:
        """Apply ``new`` values to the parcel, or to its last ``wanted`` serials.

        A part is split off the *end* of the range: the parcel is replaced by
        two new parcels (the rest keeps the lowest serials) and its own ID
        retires, so nobody can act on the whole again. Returns the changed
        parcel and the rest (None when the whole parcel changed).
        """
        self._last_change = when
        if wanted is None or wanted == parcel.amount:
            changed = replace(parcel, **new)
            self.parcels[parcel.parcel_id] = changed
            return changed, None
        self.parcels[parcel.parcel_id] = replace(parcel, state=State.SPLIT)
        rest = self._copy(parcel, parcel.first, parcel.last - wanted)
        part = self._copy(parcel, parcel.last - wanted + 1, parcel.last, **new)
        return part, rest

    def _copy(self, parcel: Parcel, first: int, last: int, **new: Any) -> Parcel:
        piece = replace(parcel, parcel_id=self._new_parcel_id(), first=first, last=last, **new)
        self.parcels[piece.parcel_id] = piece
        return piece

    def _new_parcel(self, lot_id: str, first: int, last: int, account: str) -> Parcel:
        parcel = Parcel(self._new_parcel_id(), lot_id, first, last, account, State.LIVE)
        self.parcels[parcel.parcel_id] = parcel
        return parcel

    def _new_parcel_id(self) -> str:
        parcel_id = f"PCL-{self._next_parcel:05d}"
        self._next_parcel += 1
        return parcel_id


# ====================================================================== values


def _text(value: object, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise LedgerError(Fault.BAD_FIELD, f"{name} must be a non-empty text, got {value!r}")
    return value


def _amount(value: object) -> int | None:
    """None (the whole parcel) or a positive whole number of serials."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise LedgerError(Fault.BAD_AMOUNT, f"amount {value!r} is not a positive whole number")
    return value


def _instant(value: object, name: str) -> dt.datetime:
    """A strict ``YYYY-MM-DDThh:mm:ssZ`` stamp: no offsets, no fractions, a real instant."""
    match = _STAMP.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise LedgerError(Fault.BAD_TIME, f"{name} {value!r} is not YYYY-MM-DDThh:mm:ssZ")
    try:
        year, month, day, hour, minute, second = (int(g) for g in match.groups())
        return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)
    except ValueError:
        raise LedgerError(Fault.BAD_TIME, f"{name} {value!r} is not a real instant") from None


def _day(value: object, name: str) -> dt.date:
    match = _DAY.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise LedgerError(Fault.BAD_DATE, f"{name} {value!r} is not YYYY-MM-DD")
    try:
        return dt.date(*(int(g) for g in match.groups()))
    except ValueError:
        raise LedgerError(Fault.BAD_DATE, f"{name} {value!r} is not a real date") from None


def _period(start: object, end: object) -> tuple[dt.datetime, dt.datetime]:
    """A production period: two strict stamps, start before end, one hour at most."""
    begin, finish = _instant(start, "start"), _instant(end, "end")
    if not begin < finish:
        raise LedgerError(Fault.EMPTY_PERIOD, "start is not before end")
    if finish - begin > MAX_READING:
        raise LedgerError(Fault.PERIOD_TOO_LONG, f"{finish - begin} is longer than one hour")
    return begin, finish


def _energy(value: object) -> Decimal:
    """Metered Wh: a finite, non-negative decimal number (as text or an integer)."""
    try:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise InvalidOperation
        energy = Decimal(value)
    except InvalidOperation:
        raise LedgerError(Fault.BAD_ENERGY, f"energy {value!r} is not a number of Wh") from None
    if not energy.is_finite() or energy < 0 or energy.adjusted() > 18:
        raise LedgerError(Fault.BAD_ENERGY, f"energy {value!r} is not a plausible meter value")
    return energy


def _site(value: object) -> dict[str, Any]:
    """Where a unit is: a country, and an address (city, street or postcode) or GPS."""
    if not isinstance(value, dict):
        raise LedgerError(Fault.BAD_FIELD, "site is required")
    _text(value.get("country"), "site.country")
    has_gps = value.get("latitude") is not None and value.get("longitude") is not None
    if not has_gps and not any(value.get(k) for k in ("city", "street", "postcode")):
        raise LedgerError(Fault.BAD_FIELD, "site needs an address or GPS coordinates")
    return {k: v for k, v in value.items() if v is not None}


def _end_of_validity(production_end: dt.datetime) -> dt.datetime:
    """Certificates may be used until the end of the calendar year their production ended in."""
    year = (production_end - dt.timedelta(seconds=1)).year
    return dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC)


def _stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
