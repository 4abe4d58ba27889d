"""Generated registry histories, sound or with injected faults, for the audit tests and benchmark.

A generated history is what a well-behaved registry would log (in the plain record form
of ``export_history()``): accounts opened, production read and issued per device-hour,
transfers (whole, or split first), cancellations and claims, reservations, withdrawals,
expiry sweeps, and some rejected requests. ``faults`` injects named defects, each at a
seeded position; :data:`FAULTS` maps each to the risk the oracle must report for it.
"""

from __future__ import annotations

import calendar
import heapq
import json
import random
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

START = calendar.timegm((2025, 1, 1, 0, 0, 0, 0, 0, 0))
HOUR = 3600
VALIDITY = 400 * HOUR  # how long after its production hour a certificate stays valid
# D8's own-hour stretch (policy own_hour_use): from this long after its production hour
# until its expiry a certificate may be cancelled only against its own hour. Every
# issuance carries it, as every reference-model export does.
OWN_HOUR_AFTER = 200 * HOUR

FAULTS: dict[str, str] = {
    "double_issuance": "DOUBLE_ISSUANCE",
    "over_issuance": "DOUBLE_ISSUANCE",
    "no_reading": "DOUBLE_ISSUANCE",
    "reading_twice": "DOUBLE_ISSUANCE",
    "metered_excess": "DOUBLE_ISSUANCE",
    "range_overlap": "DOUBLE_REGISTRATION",
    "reused_issuance_id": "DOUBLE_REGISTRATION",
    "transfer_wrong_source": "DOUBLE_IN_TRANSFER",
    "transfer_to_self": "DOUBLE_IN_TRANSFER",
    "transfer_unknown_account": "DOUBLE_IN_TRANSFER",
    "transfer_after_split": "DOUBLE_IN_TRANSFER",
    "transfer_cancelled": "DOUBLE_IN_TRANSFER",
    "transfer_never_issued": "DOUBLE_IN_TRANSFER",
    "reactivate": "DOUBLE_IN_TRANSFER",
    "double_cancel": "DOUBLE_CANCELLATION",
    "cancel_after_split": "DOUBLE_CANCELLATION",
    "claim_uncancelled": "DOUBLE_USE",
    "double_claim": "DOUBLE_USE",
    "claim_storage_cancelled": "DOUBLE_DISCLOSURE",
    "claim_by_other": "DOUBLE_DISCLOSURE",
    "use_after_expiry": "VALIDITY",
    "expire_early": "VALIDITY",
    "sweep_leaves_live": "VALIDITY",
    "own_hour_misuse": "VALIDITY",
    "split_gap": "CONSERVATION",
    "split_overlap": "CONSERVATION",
}
LIVE = ("ACTIVE", "RESERVED", "LOCKED")


def stamp(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


class _Bundle:
    __slots__ = (
        "account",
        "beneficiary",
        "end",
        "expiry",
        "hour",
        "id",
        "iid",
        "own_from",
        "start",
        "status",
    )

    def __init__(self, bid: int, start: int, end: int, account: str, expiry: int) -> None:
        self.id, self.start, self.end, self.account, self.expiry = bid, start, end, account, expiry
        self.status = "ACTIVE"
        self.beneficiary: str | None = None
        self.hour = 0  # its production hour's start
        self.iid = 0  # its issuance
        self.own_from = expiry  # from then on only its own hour may be matched


class _Pool:
    """Bundles by status, for O(1) random picks."""

    def __init__(self) -> None:
        self.items: list[_Bundle] = []
        self.where: dict[int, int] = {}

    def add(self, b: _Bundle) -> None:
        self.where[b.id] = len(self.items)
        self.items.append(b)

    def remove(self, b: _Bundle) -> None:
        i = self.where.pop(b.id)
        last = self.items.pop()
        if last is not b:
            self.items[i] = last
            self.where[last.id] = i

    def pick(self, rng: random.Random) -> _Bundle | None:
        return self.items[rng.randrange(len(self.items))] if self.items else None


class Generator:
    def __init__(self, seed: int = 0, devices: int = 50, accounts: int = 20) -> None:
        self.rng = random.Random(seed)
        self.devices = [f"DEV-{i}" for i in range(devices)]
        self.hour = dict.fromkeys(self.devices, START)
        self.accounts = [f"ACC-{i}" for i in range(accounts)]
        self.now = START + 24 * 3600 * 30
        self.action_id = 0
        self.next_cert = 1
        self.next_bundle = 1
        self.next_issuance = 1
        self.pools: dict[str, _Pool] = {s: _Pool() for s in ("ACTIVE", "RESERVED", "CANCELLED")}
        self.expiring: list[tuple[int, int, _Bundle]] = []  # a heap: (expiry, id, bundle)

    # --- records ---------------------------------------------------------------------

    def record(
        self,
        action: str,
        effects: list[dict[str, Any]],
        accepted: bool = True,
        advance: bool = True,
    ) -> dict[str, Any]:
        self.action_id += 1
        if advance:
            self.now += self.rng.randrange(0, 40)
        return {
            "action_id": self.action_id,
            "at": stamp(self.now),
            "actor": "someone",
            "action": action,
            "accepted": accepted,
            "code": None if accepted else "NOT_FOUND",
            "effects": effects if accepted else [],
        }

    def _set(self, b: _Bundle, status: str) -> None:
        if b.status in self.pools:
            self.pools[b.status].remove(b)
        b.status = status
        if status in self.pools:
            self.pools[status].add(b)

    def _new_bundle(
        self, start: int, end: int, account: str, expiry: int, parent: _Bundle | None = None
    ) -> _Bundle:
        b = _Bundle(self.next_bundle, start, end, account, expiry)
        if parent is not None:
            b.hour, b.own_from, b.iid = parent.hour, parent.own_from, parent.iid
        self.next_bundle += 1
        return b

    # --- operations ------------------------------------------------------------------

    def open_accounts(self) -> Iterator[dict[str, Any]]:
        for account in self.accounts:
            yield self.record(
                "open_account",
                [{"effect": "account", "account_id": account, "holder_id": "h", "exemption": None}],
            )
        for device in self.devices:
            yield self.record(
                "register_device",
                [
                    {
                        "effect": "device",
                        "device_id": device,
                        "account_id": self.accounts[0],
                        "meter_id": "M-" + device,
                        "capacity_w": 10**6,
                    }
                ],
            )

    def reading(
        self,
        device: str,
        start: int,
        wh: int,
        metered: int | None = None,
        end: int | None = None,
        carried: str | None = "0",
    ) -> dict[str, Any]:
        return {
            "effect": "reading",
            "device_id": device,
            "meter_id": "M-" + device,
            "production_start": stamp(start),
            "production_end": stamp(end or start + HOUR),
            "recognised_wh": wh,
            "metered_wh": wh if metered is None else metered,
            "gross_or_net": "NET",
            "carried_wh": carried,
        }

    def next_hour(self, device: str, hours: int = 1) -> int:
        """The device's next production hour: never far behind the clock."""
        start = max(self.hour[device], (self.now // HOUR - 2) * HOUR)
        self.hour[device] = start + hours * HOUR
        return start

    def issue_effect(
        self,
        device: str,
        start: int,
        wh: int,
        range_start: int | None = None,
        expiry: int | None = None,
        own_from: int | None = None,
    ) -> tuple[dict[str, Any], _Bundle]:
        first = self.next_cert if range_start is None else range_start
        if range_start is None:
            self.next_cert += wh
        account = self.accounts[int(device.rsplit("-", 1)[1]) % len(self.accounts)]
        expiry = start + VALIDITY if expiry is None else expiry
        b = self._new_bundle(first, first + wh - 1, account, expiry)
        b.hour = start
        b.own_from = min(expiry, start + OWN_HOUR_AFTER) if own_from is None else own_from
        iid = self.next_issuance
        self.next_issuance += 1
        b.iid = iid
        effect = {
            "effect": "issue",
            "issuance_id": iid,
            "bundle_id": b.id,
            "device_id": device,
            "account_id": account,
            "production_start": stamp(start),
            "production_end": stamp(start + HOUR),
            "range_start": first,
            "range_end": first + wh - 1,
            "issuance_date": stamp(start)[:10],
            "expiry": stamp(expiry),
            "corrects_issuance_id": None,
            "own_hour_only_from": stamp(b.own_from),
        }
        return effect, b

    def _live(self, b: _Bundle) -> None:
        self.pools["ACTIVE"].add(b)
        heapq.heappush(self.expiring, (b.expiry, b.id, b))

    def issue(
        self,
        wh_extra: int = 0,
        with_reading: bool = True,
        range_start: int | None = None,
        expiry: int | None = None,
        own_from: int | None = None,
    ) -> dict[str, Any]:
        device = self.rng.choice(self.devices)
        start = self.next_hour(device)
        wh = self.rng.randrange(1, 3000)
        effect, b = self.issue_effect(device, start, wh + wh_extra, range_start, expiry, own_from)
        self._live(b)
        effects = ([self.reading(device, start, wh)] if with_reading else []) + [effect]
        return self.record("submit_production", effects)

    def transfer(
        self,
        b: _Bundle,
        target: str | None = None,
        source: str | None = None,
        split: bool | None = None,
        gap: int = 0,
    ) -> dict[str, Any]:
        target = target or self.rng.choice([a for a in self.accounts[:5] if a != b.account])
        effects: list[dict[str, Any]] = []
        if (split if split is not None else self.rng.random() < 0.5) and b.end > b.start:
            cut = self.rng.randrange(b.start, b.end)
            first = self._new_bundle(b.start, cut, b.account, b.expiry, b)
            rest = self._new_bundle(cut + 1 + gap, b.end, b.account, b.expiry, b)
            effects.append(
                {
                    "effect": "split",
                    "parent_id": b.id,
                    "children": [
                        {"bundle_id": first.id, "range_start": first.start, "range_end": first.end},
                        {"bundle_id": rest.id, "range_start": rest.start, "range_end": rest.end},
                    ],
                }
            )
            self._set(b, "SPLIT")
            self._live(rest)
            moved = first
            self._live(moved)
        else:
            moved = b
        effects.append(
            {
                "effect": "transfer",
                "bundle_id": moved.id,
                "from_account": source or moved.account,
                "to_account": target,
            }
        )
        moved.account = target
        return self.record("transfer", effects)

    def status(self, b: _Bundle, to: str, **extra: Any) -> dict[str, Any]:
        effect = {"effect": "status", "bundle_id": b.id, "from": b.status, "to": to, **extra}
        if to in ("CANCELLED", "CANCELLED_FOR_STORAGE"):
            b.beneficiary = extra.get("beneficiary")
        self._set(b, to)
        name = {
            "CANCELLED": "cancel",
            "CLAIMED": "claim",
            "RESERVED": "reserve",
            "WITHDRAWN": "withdraw",
            "EXPIRED": "expire",
        }.get(to, "status")
        return self.record(name, [effect])

    def cancel(
        self, b: _Bundle, purpose: str = "CONSUMPTION", matched: int | None = None
    ) -> dict[str, Any]:
        """Cancel ``b``, matched to its own hour past its consumption period; before that to
        its own hour, the next one or nothing named (``matched``: that hour instead)."""
        to = "CANCELLED" if purpose == "CONSUMPTION" else "CANCELLED_FOR_STORAGE"
        extra: dict[str, Any] = {"beneficiary": f"Beneficiary {b.id % 7}", "purpose": purpose}
        if matched is None:
            choice = 0 if self.now + 40 >= b.own_from else self.rng.randrange(3)
            matched = (b.hour, b.hour + HOUR, None)[choice]
        if matched is not None:
            extra["consumption_start"] = stamp(matched)
            extra["consumption_end"] = stamp(matched + HOUR)
        return self.status(b, to, **extra)

    def sweep(self, skip_one: bool = False) -> dict[str, Any]:
        """Expire everything live whose validity has ended (optionally forgetting one)."""
        self.now += self.rng.randrange(0, 40)
        effects = []
        kept = []
        while self.expiring and self.expiring[0][0] <= self.now:
            entry = heapq.heappop(self.expiring)
            b = entry[2]
            if b.status not in LIVE:
                continue
            if skip_one:
                skip_one = False
                kept.append(entry)
                continue
            effects.append(
                {"effect": "status", "bundle_id": b.id, "from": b.status, "to": "EXPIRED"}
            )
            self._set(b, "EXPIRED")
        record = self.record("expire", effects, advance=False)
        self.now += 1
        for entry in kept:  # expired by the next sweep
            heapq.heappush(self.expiring, entry)
        return record

    # --- the history -----------------------------------------------------------------

    def step(self) -> dict[str, Any]:
        r = self.rng.random()
        active = self.pools["ACTIVE"].pick(self.rng)
        if active is not None and active.expiry <= self.now + 40:
            return self.sweep()
        if r < 0.35 or active is None:
            return self.issue()
        if r < 0.60:
            return self.transfer(active)
        if r < 0.72:
            return self.cancel(active)
        if r < 0.80:
            cancelled = self.pools["CANCELLED"].pick(self.rng)
            if cancelled is not None:
                return self.status(cancelled, "CLAIMED", claimant=cancelled.beneficiary)
            return self.cancel(active)
        if r < 0.85:
            return self.status(active, "RESERVED")
        if r < 0.88:
            reserved = self.pools["RESERVED"].pick(self.rng)
            if reserved is not None:
                return self.status(reserved, "ACTIVE")
            return self.issue()
        if r < 0.90:
            return self.status(active, "WITHDRAWN")
        if r < 0.905:
            return self.sweep()
        return self.record("transfer", [], accepted=False)

    def fault(self, kind: str) -> list[dict[str, Any]]:
        """The records of one injected defect (a few sound records may set it up)."""
        rng = self.rng
        active = self.pools["ACTIVE"].pick(rng)
        if active is None or active.expiry <= self.now + 200:
            return [self.sweep(), self.issue(), *self.fault(kind)]
        if kind == "double_issuance":
            device = rng.choice(self.devices)
            start = self.next_hour(device)
            first = self.issue_effect(device, start, 100)
            second = self.issue_effect(device, start, 100)
            self._live(first[1])
            self._live(second[1])
            return [
                self.record("submit_production", [self.reading(device, start, 100), first[0]]),
                self.record("submit_production", [second[0]]),
            ]
        if kind == "over_issuance":
            return [self.issue(wh_extra=5)]
        if kind == "no_reading":
            return [self.issue(with_reading=False)]
        if kind == "reading_twice":
            device = rng.choice(self.devices)
            start = self.next_hour(device, 2)
            return [
                self.record("submit_production", [self.reading(device, start, 10)]),
                self.record("submit_production", [self.reading(device, start + HOUR // 2, 10)]),
            ]
        if kind == "metered_excess":
            device = rng.choice(self.devices)
            start = self.next_hour(device)
            return [
                self.record(
                    "submit_production", [self.reading(device, start, 50, metered=40, carried=None)]
                )
            ]
        if kind == "reused_issuance_id":
            # A later issuance under the ID of a live one: both sets of certificates then
            # live on (transferred, withdrawn, swept, cancelled in the stretch) under one ID.
            device = rng.choice(self.devices)
            effect, b = self.issue_effect(device, self.next_hour(device), 100)
            effect["issuance_id"] = b.iid = active.iid
            self._live(b)
            return [self.record("submit_production", [self.reading(device, b.hour, 100), effect])]
        if kind == "range_overlap":
            return [self.issue(range_start=max(1, self.next_cert - 10))]
        if kind == "transfer_wrong_source":
            return [self.transfer(active, source="ACC-NOT-THE-HOLDER", split=False)]
        if kind == "transfer_to_self":
            return [self.transfer(active, target=active.account, split=False)]
        if kind == "transfer_unknown_account":
            return [self.transfer(active, target="ACC-NOBODY", split=False)]
        if kind == "transfer_after_split":
            parent = active
            records = [self.transfer(parent, split=True)]
            records.append(
                self.record(
                    "transfer",
                    [
                        {
                            "effect": "transfer",
                            "bundle_id": parent.id,
                            "from_account": parent.account,
                            "to_account": self.accounts[1],
                        }
                    ],
                )
            )
            return records
        if kind == "transfer_cancelled":
            records = [self.cancel(active)]
            records.append(
                self.record(
                    "transfer",
                    [
                        {
                            "effect": "transfer",
                            "bundle_id": active.id,
                            "from_account": active.account,
                            "to_account": self.accounts[2],
                        }
                    ],
                )
            )
            return records
        if kind == "transfer_never_issued":
            return [
                self.record(
                    "transfer",
                    [
                        {
                            "effect": "transfer",
                            "bundle_id": 10**12 + rng.randrange(10**6),
                            "from_account": self.accounts[0],
                            "to_account": self.accounts[1],
                        }
                    ],
                )
            ]
        if kind == "reactivate":
            return [self.cancel(active), self.status(active, "ACTIVE")]
        if kind == "double_cancel":
            return [self.cancel(active), self.cancel(active)]
        if kind == "cancel_after_split":
            parent = active
            records = [self.transfer(parent, split=True)]
            records.append(
                self.record(
                    "cancel",
                    [
                        {
                            "effect": "status",
                            "bundle_id": parent.id,
                            "from": "ACTIVE",
                            "to": "CANCELLED",
                            "beneficiary": "X",
                            "purpose": "CONSUMPTION",
                        }
                    ],
                )
            )
            return records
        if kind == "claim_uncancelled":
            return [self.status(active, "CLAIMED", claimant="Someone")]
        if kind == "double_claim":
            records = [self.cancel(active)]
            records.append(self.status(active, "CLAIMED", claimant=active.beneficiary))
            records.append(self.status(active, "CLAIMED", claimant=active.beneficiary))
            return records
        if kind == "claim_storage_cancelled":
            records = [self.cancel(active, purpose="STORAGE_CHARGE")]
            records.append(self.status(active, "CLAIMED", claimant=active.beneficiary))
            return records
        if kind == "claim_by_other":
            records = [self.cancel(active)]
            records.append(self.status(active, "CLAIMED", claimant="Not The Beneficiary"))
            return records
        if kind == "use_after_expiry":
            record = self.issue(expiry=self.now - HOUR)
            fresh = self.pools["ACTIVE"].items[-1]
            return [record, self.transfer(fresh, split=False)]
        if kind == "expire_early":
            # An early expiry is itself an expire action, which every checker reads as a sweep
            # at its instant: a real sweep just before it leaves nothing else overdue then, so
            # the fault's own finding is its only one.
            records = [self.sweep()]
            while any(b.status in LIVE for e, _, b in self.expiring if e <= self.now):
                records.append(self.sweep())
            effect = {"effect": "status", "bundle_id": active.id, "from": "ACTIVE", "to": "EXPIRED"}
            self._set(active, "EXPIRED")
            return [*records, self.record("expire", [effect], advance=False)]
        if kind == "own_hour_misuse":
            record = self.issue(own_from=self.now - HOUR)
            fresh = self.pools["ACTIVE"].items[-1]
            return [record, self.cancel(fresh, matched=fresh.hour - HOUR)]
        if kind == "sweep_leaves_live":
            record = self.issue(expiry=self.now - HOUR)
            return [record, self.sweep(skip_one=True)]
        if kind == "split_gap":
            return (
                [self.transfer(active, split=True, gap=1)]
                if active.end - active.start > 2
                else [self.issue()]
            )
        if kind == "split_overlap":
            return (
                [self.transfer(active, split=True, gap=-1)]
                if active.end > active.start
                else [self.issue()]
            )
        raise ValueError(f"unknown fault {kind!r}")


def generate(
    actions: int,
    seed: int = 0,
    faults: Iterable[str] = (),
    devices: int = 50,
    close: bool = False,
) -> Iterator[dict[str, Any]]:
    """``actions`` records (about: a fault's records may overrun by a few), faults spread evenly.

    ``close`` ends the history with an expiry sweep after every live certificate's expiry,
    so nothing is left live: copies of a closed history shifted in time and IDs (the
    benchmark's large sizes) do not act on one another.
    """
    gen = Generator(seed, devices)
    emitted = 0
    for record in gen.open_accounts():
        emitted += 1
        yield record
    pending = list(faults)
    rng = random.Random(seed + 1)
    slots = sorted(rng.randrange(emitted, max(emitted + 1, actions)) for _ in pending)
    while emitted < actions or pending:
        if pending and emitted >= slots[0]:
            slots.pop(0)
            for record in gen.fault(pending.pop(0)):
                emitted += 1
                yield record
            continue
        emitted += 1
        yield gen.step()
    if close:
        live = [b for status in ("ACTIVE", "RESERVED") for b in gen.pools[status].items]
        gen.now = max([gen.now, *(b.expiry for b in live)])
        yield gen.sweep()


def write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, separators=(",", ":")))
            handle.write("\n")
            count += 1
    return count


# --- bundle IDs created twice by splits -----------------------------------------


def reuse_child_ids(records: list[dict[str, Any]], every: int) -> int:
    """Give every ``every``-th split child a bundle ID created before, in turn: its parent's,
    its sibling's (twice in one split), an issued bundle's, and an earlier split child's.
    The generator goes on using the IDs as it meant them, so the events on them land on
    the bundles that hold them (or on none): the reuses' consequences are tested too."""
    issued: list[Any] = []
    made: list[Any] = []
    n = 0
    for record in records:
        for effect in record["effects"]:
            if effect["effect"] == "issue":
                issued.append(effect["bundle_id"])
            if effect["effect"] != "split":
                continue
            children = effect["children"]
            if len(made) > 2 and len(children) > 1 and (len(made) // 2) % every == 0:
                mode = n % 4
                n += 1
                if mode == 0:
                    children[0]["bundle_id"] = effect["parent_id"]
                elif mode == 1:
                    children[1]["bundle_id"] = children[0]["bundle_id"]
                elif mode == 2:
                    children[-1]["bundle_id"] = issued[len(issued) // 2]
                else:
                    children[0]["bundle_id"] = made[len(made) // 3]
            made.extend(c["bundle_id"] for c in children)
    return n


def lineage_history(splits: list[tuple[int, list[int]]], per_action: int = 1) -> list[Any]:
    """Two issuances (bundles 1 and 100, 100 certificates each), then ``splits`` (parent,
    child IDs: the parent's range cut in equal parts), ``per_action`` to an action, a
    transfer of every bundle ID named, and an expiry sweep past the expiry."""
    records: list[dict[str, Any]] = []

    def add(action: str, effects: list[dict[str, Any]], second: int) -> None:
        records.append(
            {
                "action_id": len(records) + 1,
                "at": stamp(second),
                "accepted": True,
                "action": action,
                "effects": effects,
            }
        )

    add("open_account", [{"effect": "account", "account_id": "A"}], 0)
    add("open_account", [{"effect": "account", "account_id": "B"}], 1)
    ranges = {}
    for n, bid in enumerate((1, 100)):
        start = 1 + 100 * n
        ranges[bid] = (start, start + 99)
        hour = 3600 * (n + 1)
        window = {
            "production_start": stamp(hour),
            "production_end": stamp(hour + 3600),
        }
        add(
            "submit_production",
            [
                {
                    "effect": "reading",
                    "device_id": "D",
                    "recognised_wh": 100,
                    "metered_wh": 100,
                    **window,
                },
                {
                    "effect": "issue",
                    "issuance_id": 10 + n,
                    "bundle_id": bid,
                    "device_id": "D",
                    "account_id": "A",
                    "range_start": start,
                    "range_end": start + 99,
                    "expiry": stamp(10**6),
                    **window,
                },
            ],
            10 + n,
        )
    effects = []
    for parent, kids in splits:
        start, end = ranges.get(parent, (1000, 1099))
        size = (end - start + 1) // len(kids)
        children = []
        for k, kid in enumerate(kids):
            last = end if k == len(kids) - 1 else start + size * (k + 1) - 1
            children.append({"bundle_id": kid, "range_start": start + size * k, "range_end": last})
            ranges.setdefault(kid, (start + size * k, last))
        effects.append({"effect": "split", "parent_id": parent, "children": children})
        if len(effects) == per_action:
            add("transfer", effects, 100 + len(records))
            effects = []
    if effects:
        add("transfer", effects, 100 + len(records))
    named = sorted({1, 100, *(k for _, kids in splits for k in kids)})
    for bid in named:
        add(
            "transfer",
            [{"effect": "transfer", "bundle_id": bid, "from_account": "A", "to_account": "B"}],
            500 + bid,
        )
    add("expire", [], 2 * 10**6)
    return records
