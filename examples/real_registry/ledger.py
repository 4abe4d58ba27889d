"""GridLedger's rules and storage: one sqlite3 database, one writer at a time.

Every request is decided in a fixed order — the form of each value, who is
asking, whether what it names exists, whose it is, its state, amounts — and
is applied in one transaction, so a refused request changes nothing. Errors
are sentences (``Refused``), the way most registries answer; the HTTP layer
(``app.py``) only picks the status.

Choices the standard leaves open, as GridLedger makes them: face values are
rounded **down** to whole Wh; a part of a bundle is taken from the **start**
of its range; certificates are valid until the end of the **calendar year**
their production ended in (``--validity rolling-12-months``: for 12 months after
it); readings above a device's nameplate capacity are refused. Certificates are numbered per device, from 1, never reused.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

MAX_READING = dt.timedelta(hours=1)
#: How long certificates stay valid (``--validity``): until the end of the calendar year their
#: production ended in (the default), or for 12 months after it.
VALIDITY_READINGS = ("calendar-year", "rolling-12-months")
EXEMPTIONS = ("OWN_CONSUMPTION", "TESTING", "SUPPORT_RECOVERY")
_STAMP = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z", re.ASCII)
_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, is_issuer INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS api_keys (
    key TEXT PRIMARY KEY, user_id INTEGER NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    id INTEGER PRIMARY KEY, reference TEXT UNIQUE, name TEXT NOT NULL,
    user_id INTEGER NOT NULL, exemption TEXT);
CREATE TABLE IF NOT EXISTS devices (
    id INTEGER PRIMARY KEY, reference TEXT UNIQUE, name TEXT NOT NULL,
    account_id INTEGER NOT NULL, capacity_w INTEGER NOT NULL, commissioned_on TEXT NOT NULL,
    technology TEXT NOT NULL, energy_source TEXT NOT NULL, location TEXT NOT NULL,
    meter_id TEXT NOT NULL UNIQUE, gross_or_net TEXT NOT NULL, measurement_body TEXT NOT NULL,
    next_certificate INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS readings (
    id INTEGER PRIMARY KEY, device_id INTEGER NOT NULL, start TEXT NOT NULL, end TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS issuances (
    id INTEGER PRIMARY KEY, device_id INTEGER NOT NULL, start TEXT NOT NULL, end TEXT NOT NULL,
    issued_on TEXT NOT NULL, valid_until TEXT NOT NULL, device TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS bundles (
    id INTEGER PRIMARY KEY, issuance_id INTEGER NOT NULL, first INTEGER NOT NULL,
    last INTEGER NOT NULL, account_id INTEGER NOT NULL, status TEXT NOT NULL,
    beneficiary TEXT, claimant TEXT, current INTEGER NOT NULL DEFAULT 1);
"""


class Refused(Exception):
    """A refused request: the HTTP status and a sentence saying what was wrong."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


class Ledger:
    """The registry. Each public method is one API operation, decided and applied atomically."""

    def __init__(
        self, path: str, issuer_name: str, country: str, validity: str = "calendar-year"
    ) -> None:
        if validity not in VALIDITY_READINGS:
            raise ValueError(f"validity {validity!r} is not one of {', '.join(VALIDITY_READINGS)}")
        self.validity = validity
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self.country = country
        self.issuer_name = issuer_name
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM users WHERE is_issuer = 1").fetchone() is None:
                db.execute("INSERT INTO users (name, is_issuer) VALUES (?, 1)", (issuer_name,))

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # ------------------------------------------------------------------ users and keys

    def issuer_id(self) -> int:
        row = self._db.execute("SELECT id FROM users WHERE is_issuer = 1").fetchone()
        return int(row["id"])

    def add_key(self, key: str, user_id: object, expires_at: float) -> None:
        with self.transaction() as db:
            self._user(db, user_id)
            db.execute(
                "INSERT INTO api_keys VALUES (?, ?, ?)", (key, int(str(user_id)), expires_at)
            )

    def user_for_key(self, key: str, now: float) -> sqlite3.Row | None:
        row = self._db.execute(
            "SELECT u.* FROM api_keys k JOIN users u ON u.id = k.user_id "
            "WHERE k.key = ? AND k.expires_at > ?",
            (key, now),
        ).fetchone()
        return row  # type: ignore[no-any-return]

    def create_user(self, user: sqlite3.Row, body: dict[str, Any]) -> dict[str, Any]:
        name = _text(body.get("name"), "name")
        _only(body, "name")
        _issuer_only(user)
        with self.transaction() as db:
            cursor = db.execute("INSERT INTO users (name) VALUES (?)", (name,))
            return {"id": cursor.lastrowid, "name": name}

    # ------------------------------------------------------------------ accounts and devices

    def create_account(self, user: sqlite3.Row, body: dict[str, Any]) -> dict[str, Any]:
        _only(body, "reference", "name", "user_ids", "exemption")
        reference = _text(body.get("reference"), "reference")
        name = _text(body.get("name"), "name")
        users = body.get("user_ids")
        if not isinstance(users, list) or len(users) != 1:
            raise Refused(422, "user_ids must list exactly one account holder")
        exemption = body.get("exemption")
        if exemption is not None and exemption not in EXEMPTIONS:
            raise Refused(422, f"exemption {exemption!r} is not one of {', '.join(EXEMPTIONS)}")
        _issuer_only(user)
        with self.transaction() as db:
            holder = self._user(db, users[0])
            if db.execute("SELECT 1 FROM accounts WHERE reference = ?", (reference,)).fetchone():
                raise Refused(409, f"an account with reference {reference!r} already exists")
            if holder["is_issuer"] and exemption is None:
                raise Refused(
                    422,
                    "the issuing body may hold certificates only for own consumption, testing "
                    "or support recovery",
                )
            if exemption is not None and not holder["is_issuer"]:
                raise Refused(422, "exemption: only the issuing body's own accounts have one")
            cursor = db.execute(
                "INSERT INTO accounts (reference, name, user_id, exemption) VALUES (?, ?, ?, ?)",
                (reference, name, holder["id"], exemption),
            )
            return {"id": cursor.lastrowid, "reference": reference}

    def create_device(self, user: sqlite3.Row, body: dict[str, Any]) -> dict[str, Any]:
        fields = (
            "reference",
            "name",
            "account_id",
            "capacity_w",
            "commissioning_date",
            "technology",
            "energy_source",
            "location",
            "meter_id",
            "gross_or_net",
            "measurement_body",
        )
        _only(body, *fields)
        capacity = body.get("capacity_w")
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity <= 0:
            raise Refused(422, f"capacity_w {capacity!r} is not a positive number of W")
        if body.get("gross_or_net") not in ("GROSS", "NET"):
            raise Refused(422, f"gross_or_net {body.get('gross_or_net')!r} is not GROSS or NET")
        values = {
            "reference": _text(body.get("reference"), "reference"),
            "name": _text(body.get("name"), "name"),
            "capacity_w": capacity,
            "commissioned_on": _day(body.get("commissioning_date"), "commissioning_date"),
            "technology": _text(body.get("technology"), "technology"),
            "energy_source": _text(body.get("energy_source"), "energy_source"),
            "location": json.dumps(_location(body.get("location")), sort_keys=True),
            "meter_id": _text(body.get("meter_id"), "meter_id"),
            "gross_or_net": body["gross_or_net"],
            "measurement_body": _text(body.get("measurement_body"), "measurement_body"),
        }
        _issuer_only(user)
        with self.transaction() as db:
            ref = values["reference"]
            if db.execute("SELECT 1 FROM devices WHERE reference = ?", (ref,)).fetchone():
                raise Refused(409, f"a device with reference {ref!r} is registered already")
            meter = values["meter_id"]
            if db.execute("SELECT 1 FROM devices WHERE meter_id = ?", (meter,)).fetchone():
                raise Refused(409, f"meter {meter!r} is registered to another device")
            account = self._account(db, body.get("account_id"))
            cursor = db.execute(
                "INSERT INTO devices (reference, name, account_id, capacity_w, commissioned_on, "
                "technology, energy_source, location, meter_id, gross_or_net, measurement_body) "
                "VALUES (:reference, :name, :account_id, :capacity_w, :commissioned_on, "
                ":technology, :energy_source, :location, :meter_id, :gross_or_net, "
                ":measurement_body)",
                {**values, "account_id": account["id"]},
            )
            return {"id": cursor.lastrowid, "reference": ref}

    # ------------------------------------------------------------------ issuance

    def submit_reading(
        self, user: sqlite3.Row, body: dict[str, Any], now: dt.datetime
    ) -> dict[str, Any]:
        """Record a metered reading and issue its certificates into the device's account."""
        _only(body, "device_id", "meter_id", "start", "end", "energy_wh", "gross_or_net")
        begin, finish = _period(body.get("start"), body.get("end"))
        energy = _energy(body.get("energy_wh"))
        basis = body.get("gross_or_net", "NET")
        if basis not in ("GROSS", "NET"):
            raise Refused(422, f"gross_or_net {basis!r} is not GROSS or NET")
        _issuer_only(user)
        with self.transaction() as db:
            device = self._device(db, body.get("device_id"))
            if body.get("meter_id") != device["meter_id"]:
                raise Refused(422, f"meter {body.get('meter_id')!r} does not belong to the device")
            if basis != device["gross_or_net"]:
                raise Refused(422, f"the device is metered {device['gross_or_net']}, not {basis}")
            if finish > now:
                raise Refused(422, "the production period has not ended yet")
            valid_until = _end_of_validity(finish, self.validity)
            if now >= valid_until:
                raise Refused(422, f"the production is too old: valid until {_stamp(valid_until)}")
            for row in db.execute("SELECT * FROM readings WHERE device_id = ?", (device["id"],)):
                if _instant(row["start"], "s") < finish and begin < _instant(row["end"], "e"):
                    raise Refused(409, "production for this period was already submitted")
            seconds = int((finish - begin).total_seconds())
            if Fraction(energy) * 3600 > device["capacity_w"] * seconds:
                raise Refused(422, f"{energy} Wh exceeds the device capacity over {seconds} s")
            whole = int(energy)  # rounded down
            db.execute(
                "INSERT INTO readings (device_id, start, end) VALUES (?, ?, ?)",
                (device["id"], _stamp(begin), _stamp(finish)),
            )
            if whole == 0:
                return {"issued_wh": 0}
            snapshot = {k: device[k] for k in device.keys() if k != "next_certificate"}  # noqa: SIM118 (a Row iterates values)
            cursor = db.execute(
                "INSERT INTO issuances (device_id, start, end, issued_on, valid_until, device) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    device["id"],
                    _stamp(begin),
                    _stamp(finish),
                    now.date().isoformat(),
                    _stamp(valid_until),
                    json.dumps(snapshot),
                ),
            )
            first = device["next_certificate"]
            db.execute(
                "UPDATE devices SET next_certificate = ? WHERE id = ?",
                (first + whole, device["id"]),
            )
            db.execute(
                "INSERT INTO bundles (issuance_id, first, last, account_id, status) "
                "VALUES (?, ?, ?, ?, 'active')",
                (cursor.lastrowid, first, first + whole - 1, device["account_id"]),
            )
            return {"issued_wh": whole, "issuance_id": cursor.lastrowid}

    # ------------------------------------------------------------------ bundles

    def transfer(self, user: sqlite3.Row, body: dict[str, Any], now: dt.datetime) -> None:
        _only(body, "bundle_ids", "target_account_id", "quantity_wh", "source_id", "user_id")
        wanted = _quantity(body.get("quantity_wh"))
        if body.get("target_account_id") is None:
            raise Refused(422, "target_account_id is required")
        with self.transaction() as db:
            bundles = self._bundles(db, body.get("bundle_ids"), wanted)
            target = self._account(db, body.get("target_account_id"))
            for bundle in bundles:
                account = self._owned(db, user, bundle)
                if account["exemption"] not in (None, "SUPPORT_RECOVERY"):
                    raise Refused(
                        422, "certificates held for own consumption or testing cannot be traded"
                    )
                if target["id"] == bundle["account_id"]:
                    raise Refused(422, "the bundle is in the target account already")
                self._usable(db, bundle, now)
                self._fits(bundle, wanted)
            for bundle in bundles:
                self._change(db, bundle, wanted, account_id=target["id"])

    def cancel(self, user: sqlite3.Row, body: dict[str, Any], now: dt.datetime) -> None:
        _only(body, "bundle_ids", "beneficiary", "quantity_wh", "purpose", "source_id", "user_id")
        wanted = _quantity(body.get("quantity_wh"))
        beneficiary = _text(body.get("beneficiary"), "beneficiary")
        purpose = body.get("purpose", "consumption")
        if purpose not in ("consumption", "storage-charge"):
            raise Refused(422, f"cancellation purpose {purpose!r} is not supported")
        if purpose == "storage-charge":
            raise Refused(422, "cancelling for storage charging needs a storage charge record")
        with self.transaction() as db:
            bundles = self._bundles(db, body.get("bundle_ids"), wanted)
            for bundle in bundles:
                account = self._owned(db, user, bundle)
                kept_for = account["exemption"]
                if kept_for == "SUPPORT_RECOVERY" or (
                    kept_for is not None and beneficiary != self.issuer_name
                ):
                    raise Refused(
                        422, "certificates held by the issuing body serve only its own use"
                    )
                self._usable(db, bundle, now)
                self._fits(bundle, wanted)
            for bundle in bundles:
                self._change(db, bundle, wanted, status="cancelled", beneficiary=beneficiary)

    def claim(self, user: sqlite3.Row, body: dict[str, Any], now: dt.datetime) -> None:
        _only(body, "bundle_ids", "claimant", "quantity_wh", "source_id", "user_id")
        wanted = _quantity(body.get("quantity_wh"))
        claimant = _text(body.get("claimant"), "claimant")
        with self.transaction() as db:
            bundles = self._bundles(db, body.get("bundle_ids"), wanted)
            for bundle in bundles:
                self._owned(db, user, bundle)
                if bundle["status"] == "claimed":
                    raise Refused(409, f"bundle {bundle['id']} has been claimed already")
                if bundle["status"] != "cancelled":
                    raise Refused(422, f"bundle {bundle['id']} must be cancelled before a claim")
                if claimant != bundle["beneficiary"]:
                    raise Refused(422, "the claimant is not the beneficiary of the cancellation")
                self._fits(bundle, wanted)
            for bundle in bundles:
                self._change(db, bundle, wanted, status="claimed", claimant=claimant)

    def withdraw(self, user: sqlite3.Row, body: dict[str, Any], now: dt.datetime) -> None:
        _only(body, "bundle_ids", "reason", "quantity_wh", "source_id", "user_id")
        wanted = _quantity(body.get("quantity_wh"))
        _text(body.get("reason"), "reason")
        _issuer_only(user)
        with self.transaction() as db:
            bundles = self._bundles(db, body.get("bundle_ids"), wanted)
            for bundle in bundles:
                if bundle["status"] != "active":
                    raise Refused(422, f"bundle {bundle['id']} is {bundle['status']}, not active")
                self._still_valid(db, bundle, now)
                self._fits(bundle, wanted)
            for bundle in bundles:
                self._change(db, bundle, wanted, status="withdrawn")

    def query(self, user: sqlite3.Row, params: dict[str, str]) -> list[dict[str, Any]]:
        """Current bundles matching every filter; holders see only their own accounts'."""
        known = {"account_id", "device_id", "issuance_id", "status", "energy_source"}
        unknown = sorted(set(params) - known - {"period_start", "period_end"})
        if unknown:
            raise Refused(400, f"unknown query parameter {unknown[0]!r}")
        status = params.get("status")
        if status is not None and status not in ("active", "cancelled", "claimed", "withdrawn"):
            raise Refused(400, f"status {status!r} is not a bundle status")
        window = None
        if "period_start" in params or "period_end" in params:
            window = (
                _instant(params.get("period_start"), "period_start"),
                _instant(params.get("period_end"), "period_end"),
            )
            if not window[0] < window[1]:
                raise Refused(422, "the period's start is not before its end")
        sql = (
            "SELECT b.*, i.device_id, i.start, i.end, i.issued_on, i.device, a.user_id "
            "FROM bundles b JOIN issuances i ON i.id = b.issuance_id "
            "JOIN accounts a ON a.id = b.account_id WHERE b.current = 1"
        )
        args: list[Any] = []
        if "account_id" in params:
            account = self._account(self._db, params["account_id"])
            if not user["is_issuer"] and account["user_id"] != user["id"]:
                raise Refused(403, "you do not hold this account")
            sql += " AND b.account_id = ?"
            args.append(account["id"])
        elif not user["is_issuer"]:
            sql += " AND a.user_id = ?"
            args.append(user["id"])
        for key, column in (("device_id", "i.device_id"), ("issuance_id", "b.issuance_id")):
            if key in params:
                sql += f" AND {column} = ?"
                args.append(_int_or_text(params[key]))
        if status is not None:
            sql += " AND b.status = ?"
            args.append(status)
        rows = self._db.execute(sql + " ORDER BY b.id", args).fetchall()
        found = []
        for row in rows:
            device = json.loads(row["device"])
            if "energy_source" in params and device["energy_source"] != params["energy_source"]:
                continue
            if window is not None and not (
                _instant(row["start"], "s") < window[1] and window[0] < _instant(row["end"], "e")
            ):
                continue
            found.append(self._render(row, device))
        return found

    # ------------------------------------------------------------------ shared rules

    def _render(self, row: sqlite3.Row, device: dict[str, Any]) -> dict[str, Any]:
        bundle = {
            "id": row["id"],
            "issuance_id": row["issuance_id"],
            "first_certificate": row["first"],
            "last_certificate": row["last"],
            "quantity_wh": row["last"] - row["first"] + 1,
            "account_id": row["account_id"],
            "status": row["status"],
            "device_id": row["device_id"],
            "production_start": row["start"],
            "production_end": row["end"],
            "issued_on": row["issued_on"],
            "energy_carrier": "Electricity",
            "energy_source": device["energy_source"],
            "technology": device["technology"],
            "device_name": device["name"],
            "capacity_w": device["capacity_w"],
            "commissioning_date": device["commissioned_on"],
            "location": json.loads(device["location"]),
            "country": self.country,
            "issuing_body": self.issuer_name,
            "face_value_wh": 1,
            "storage": False,
            "disclosed": True,
            "converted_carrier": False,
            "registry_configuration": 1,
        }
        if row["beneficiary"] is not None:
            bundle["beneficiary"] = row["beneficiary"]
        if row["claimant"] is not None:
            bundle["claimant"] = row["claimant"]
        return bundle

    def _user(self, db: sqlite3.Connection, user_id: object) -> sqlite3.Row:
        row = db.execute("SELECT * FROM users WHERE id = ?", (_int_or_text(user_id),)).fetchone()
        if row is None:
            raise Refused(404, f"user {user_id!r} not found")
        return row  # type: ignore[no-any-return]

    def _account(self, db: sqlite3.Connection, account_id: object) -> sqlite3.Row:
        if account_id is None:
            raise Refused(422, "account_id is required")
        row = db.execute(
            "SELECT * FROM accounts WHERE id = ?", (_int_or_text(account_id),)
        ).fetchone()
        if row is None:
            raise Refused(404, f"account {account_id!r} not found")
        return row  # type: ignore[no-any-return]

    def _device(self, db: sqlite3.Connection, device_id: object) -> sqlite3.Row:
        row = db.execute(
            "SELECT * FROM devices WHERE id = ?", (_int_or_text(device_id),)
        ).fetchone()
        if row is None:
            raise Refused(404, f"device {device_id!r} not found")
        return row  # type: ignore[no-any-return]

    def _bundles(
        self, db: sqlite3.Connection, ids: object, wanted: int | None
    ) -> list[sqlite3.Row]:
        if not isinstance(ids, list) or not ids:
            raise Refused(422, "bundle_ids must be a non-empty list")
        if wanted is not None and len(ids) != 1:
            raise Refused(422, "a quantity can be given for one bundle only")
        found = []
        for bundle_id in ids:
            if bundle_id is None or isinstance(bundle_id, bool | dict | list | float):
                raise Refused(422, f"bundle id {bundle_id!r} is not an identifier")
            row = db.execute(
                "SELECT * FROM bundles WHERE id = ?", (_int_or_text(bundle_id),)
            ).fetchone()
            if row is None:
                raise Refused(404, f"bundle {bundle_id!r} not found")
            if not row["current"]:
                raise Refused(422, f"bundle {bundle_id!r} was split and is no longer active")
            found.append(row)
        return found

    def _owned(self, db: sqlite3.Connection, user: sqlite3.Row, bundle: sqlite3.Row) -> sqlite3.Row:
        account = self._account(db, bundle["account_id"])
        if account["user_id"] != user["id"]:
            raise Refused(403, f"bundle {bundle['id']} is not in an account you hold")
        return account

    def _usable(self, db: sqlite3.Connection, bundle: sqlite3.Row, now: dt.datetime) -> None:
        if bundle["status"] != "active":
            raise Refused(422, f"bundle {bundle['id']} is {bundle['status']}, not active")
        self._still_valid(db, bundle, now)

    def _still_valid(self, db: sqlite3.Connection, bundle: sqlite3.Row, now: dt.datetime) -> None:
        row = db.execute(
            "SELECT valid_until FROM issuances WHERE id = ?", (bundle["issuance_id"],)
        ).fetchone()
        if now >= _instant(row["valid_until"], "valid_until"):
            raise Refused(422, f"the certificates expired at {row['valid_until']}")

    @staticmethod
    def _fits(bundle: sqlite3.Row, wanted: int | None) -> None:
        amount = bundle["last"] - bundle["first"] + 1
        if wanted is not None and wanted > amount:
            raise Refused(422, f"quantity {wanted} is more than the bundle holds ({amount})")

    def _change(
        self, db: sqlite3.Connection, bundle: sqlite3.Row, wanted: int | None, **new: Any
    ) -> None:
        """Apply ``new`` to the bundle, or split its first ``wanted`` certificates off.

        A split retires the parent (``current = 0``) and makes two new bundles
        with new IDs: the part (changed) and the rest (as the parent was).
        """
        columns = ("account_id", "status", "beneficiary", "claimant")
        values = {c: bundle[c] for c in columns}
        amount = bundle["last"] - bundle["first"] + 1
        if wanted is None or wanted == amount:
            sets = ", ".join(f"{k} = :{k}" for k in new)
            db.execute(f"UPDATE bundles SET {sets} WHERE id = :id", {**new, "id": bundle["id"]})
            return
        db.execute("UPDATE bundles SET current = 0 WHERE id = ?", (bundle["id"],))
        cut = bundle["first"] + wanted
        insert = (
            "INSERT INTO bundles (issuance_id, first, last, account_id, status, beneficiary, "
            "claimant) VALUES (:issuance_id, :first, :last, :account_id, :status, :beneficiary, "
            ":claimant)"
        )
        base = {"issuance_id": bundle["issuance_id"], **values}
        db.execute(insert, {**base, **new, "first": bundle["first"], "last": cut - 1})
        db.execute(insert, {**base, "first": cut, "last": bundle["last"]})


# ====================================================================== values


def _issuer_only(user: sqlite3.Row) -> None:
    if not user["is_issuer"]:
        raise Refused(403, "only the issuing body may do this")


def _only(body: dict[str, Any], *known: str) -> None:
    extra = sorted(set(body) - set(known))
    if extra:
        raise Refused(422, f"unexpected field {extra[0]!r}")


def _int_or_text(value: object) -> object:
    if isinstance(value, bool):  # JSON true is no ID (sqlite would read it as row 1)
        return repr(value)
    if isinstance(value, str) and value.isdigit() and len(value) < 19:
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
        return str(value)  # sqlite integers are 64-bit: such an ID exists nowhere
    return value if isinstance(value, int | str) else repr(value)


def _text(value: object, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Refused(422, f"{name} must be a non-empty text")
    return value


def _quantity(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise Refused(422, f"quantity {value!r} must be a positive whole number of Wh")
    return value


def _instant(value: object, name: str) -> dt.datetime:
    match = _STAMP.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise Refused(422, f"{name} {value!r} is not an ISO 8601 UTC time (YYYY-MM-DDThh:mm:ssZ)")
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise Refused(422, f"{name} {value!r} is not a real date and time") from None
    return parsed.astimezone(dt.UTC)


def _day(value: object, name: str) -> str:
    match = _DAY.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise Refused(422, f"{name} {value!r} is not a date (YYYY-MM-DD)")
    try:
        return dt.date(*(int(g) for g in match.groups())).isoformat()
    except ValueError:
        raise Refused(422, f"{name} {value!r} is not a real date") from None


def _period(start: object, end: object) -> tuple[dt.datetime, dt.datetime]:
    begin, finish = _instant(start, "start"), _instant(end, "end")
    if not begin < finish:
        raise Refused(422, "the production period must start before it ends")
    if finish - begin > MAX_READING:
        raise Refused(422, "the production period is longer than one hour")
    return begin, finish


def _energy(value: object) -> Decimal:
    try:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise InvalidOperation
        energy = Decimal(value)
    except InvalidOperation:
        raise Refused(422, f"energy_wh {value!r} is not a number of Wh") from None
    if not energy.is_finite() or energy < 0 or energy.adjusted() > 18:
        raise Refused(422, f"energy_wh {value!r} is not a plausible meter value")
    return energy


def _location(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Refused(422, "location is required")
    _text(value.get("country"), "location.country")
    has_gps = value.get("latitude") is not None and value.get("longitude") is not None
    if not has_gps and not any(value.get(k) for k in ("city", "street", "postcode")):
        raise Refused(422, "location needs an address or GPS coordinates")
    return {k: v for k, v in value.items() if v is not None}


def _end_of_validity(production_end: dt.datetime, reading: str) -> dt.datetime:
    if reading == "rolling-12-months":  # the same instant a year later (28 Feb for 29 Feb)
        try:
            return production_end.replace(year=production_end.year + 1)
        except ValueError:
            return production_end.replace(year=production_end.year + 1, day=28)
    year = (production_end - dt.timedelta(seconds=1)).year
    return dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC)


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
