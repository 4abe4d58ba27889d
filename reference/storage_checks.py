"""Storage invariants (D7) for the plain-history checker in :mod:`.invariants`.

Reads the storage effects (``storage_device``, ``scr``, ``sdr``, ``storage_idle``,
``storage_loss``, ``efficiency_factor``, ``scr_source``, ``storage_allocation``,
``sd_gc``, ``unknown_beneficiary``, ``time_shift_claim``) as plain data and adds
the lineage GC -> SCR -> SDR -> SD-GC to the checker's graph:

  bundle (cancelled for storage) --charge--> ("scr", id) --allocate--> ("sdr", id)
  --sd_gc--> ("issuance", SD-GC issuance id)

Findings (each names a :class:`~.invariants.Risk`):

* STORAGE_OVERALLOCATION  an SCR gives away (to SDRs and losses) more than it
  charged; an SDR receives more than it discharged; GCs backing an SCR exceed
  its charge, or an SCR counts other Wh of a bundle than the bundle holds; an
  SD-GC larger than its SDR or its SDR's allocated Wh, or an SD-GC issuance of
  another size than the SD-GC record says
* STORAGE_LINEAGE         an SD-GC for Wh of an SCR beyond its part backed by GCs
  cancelled for storage (its backed Wh, net of losses, counted as allocated first:
  what both readings of the model's ``sd_gc_inputs`` allow); a second SD-GC (or an unknown beneficiary) for one SDR;
  a storage-system issuance not made from an SDR, or an SD-GC issued for another
  device than the SDR's storage system; an allocation from a charge that ended
  after the discharge began, from a charge whose losses were not yet calculated,
  or between two storage systems; GCs backing an SCR that were not produced in
  its interval; a time-shift claim on a bundle that is not its SDR's SD-GC;
  references to unknown records
* DOUBLE_USE              a GC bundle backing two SCRs, an SD-GC bundle serving two
  time-shift claims, or an SDR whose time-shift claims add up to more Wh than it
  discharged. A claim uses the Wh of its SD-GC bundle, and with them the matching
  share of the SCRs and GCs the history allocated to its SDR (D7: each Wh of an
  SCR goes to one SDR only), so bounding each SDR bounds its inputs: one SCR split
  across two SDRs serves a claim through each, which is no double use (the
  model's ``time_shift_scope`` WHOLE_RECORDS refuses the second, a stricter
  reading, not a double-counting rule). A claim listing SCRs or GC bundles that
  are not behind its SDR is a STORAGE_LINEAGE finding.
* DOUBLE_DISCLOSURE       a storage cancellation that also backs a consumption
  claim (the core checker flags the claim itself)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

STORAGE_EFFECTS = frozenset(
    {
        "storage_device",
        "scr",
        "sdr",
        "storage_idle",
        "storage_loss",
        "efficiency_factor",
        "scr_source",
        "storage_allocation",
        "sd_gc",
        "unknown_beneficiary",
        "time_shift_claim",
    }
)


def scr_node(scr_id: Any) -> tuple[str, Any]:
    return ("scr", scr_id)


def sdr_node(sdr_id: Any) -> tuple[str, Any]:
    return ("sdr", sdr_id)


class StorageReplay:
    """Replay state of the storage records; ``replay`` is the core checker's ``_Replay``."""

    def __init__(self) -> None:
        self.storages: set[Any] = set()
        self.scrs: dict[Any, dict[str, Any]] = {}
        self.sdrs: dict[Any, dict[str, Any]] = {}
        self.charge_bundles: dict[Any, Any] = {}  # bundle -> SCR it backs
        self.sd_gc_issuances: set[Any] = set()
        self.sd_gcs: list[tuple[Any, Any, int, Any]] = []  # (issuance, SDR, Wh, action)
        self.claimed_bundles: set[Any] = set()  # SD-GC bundles that served a time-shift claim

    @staticmethod
    def _find(replay: Any, risk: str, message: str, bundle_id: Any = None) -> None:
        from gc_conformance.reference.invariants import Risk

        replay.find(Risk[risk], message, bundle_id)

    def handle(self, replay: Any, e: Mapping[str, Any]) -> None:
        kind = e["effect"]
        graph = replay.graph
        if kind == "storage_device":
            self.storages.add(e["storage_id"])
        elif kind == "scr":
            sid = e["scr_allocation_id"]
            if sid in self.scrs:
                self._find(replay, "STORAGE_LINEAGE", f"SCR {sid} recorded twice")
            loss = e.get("loss_wh")
            self.scrs[sid] = {
                "charge": int(e["charging_energy"]),
                "loss": int(loss or 0),
                "loss_known": loss is not None,
                "covered": 0,
                "allocated": 0,
                "start": e["charging_start_datetime"],
                "end": e["charging_end_datetime"],
                "storage": e.get("storage_id"),
                "bundles": [],
                "given": [],  # (SDR, Wh) in allocation order
            }
            graph.add_node(scr_node(sid), charging_energy=int(e["charging_energy"]))
        elif kind == "sdr":
            did = e["sdr_allocation_id"]
            if did in self.sdrs:
                self._find(replay, "STORAGE_LINEAGE", f"SDR {did} recorded twice")
            self.sdrs[did] = {
                "discharge": int(e["discharge_energy"]),
                "allocated": 0,
                "start": e["discharging_start_datetime"],
                "storage": e.get("storage_id"),
                "scrs": [],
                "used": None,
                "sd_gc": None,
                "claimed": 0,
            }
            graph.add_node(sdr_node(did), discharge_energy=int(e["discharge_energy"]))
        elif kind == "storage_loss":
            sid = e.get("scr_allocation_id")
            if sid is not None:
                scr = self._scr(replay, sid)
                if scr is not None:
                    scr["loss"] += int(e["loss_wh"])
                    scr["loss_known"] = True
                    self._check_scr(replay, sid, scr)
        elif kind == "scr_source":
            self._source(replay, e)
        elif kind == "storage_allocation":
            self._allocation(replay, e)
        elif kind == "sd_gc":
            self._sd_gc(replay, e)
        elif kind == "unknown_beneficiary":
            did = e["sdr_allocation_id"]
            sdr = self._sdr(replay, did)
            if sdr is not None:
                if sdr["used"] is not None:
                    self._find(replay, "STORAGE_LINEAGE", f"SDR {did} closed twice ({sdr['used']})")
                sdr["used"] = "unknown beneficiary"
        elif kind == "time_shift_claim":
            self._time_shift(replay, e)

    def _scr(self, replay: Any, sid: Any) -> dict[str, Any] | None:
        scr = self.scrs.get(sid)
        if scr is None:
            self._find(replay, "STORAGE_LINEAGE", f"reference to unknown SCR {sid!r}")
        return scr

    def _sdr(self, replay: Any, did: Any) -> dict[str, Any] | None:
        sdr = self.sdrs.get(did)
        if sdr is None:
            self._find(replay, "STORAGE_LINEAGE", f"reference to unknown SDR {did!r}")
        return sdr

    def _check_scr(self, replay: Any, sid: Any, scr: Mapping[str, Any]) -> None:
        if scr["allocated"] + scr["loss"] > scr["charge"]:
            self._find(
                replay,
                "STORAGE_OVERALLOCATION",
                f"SCR {sid} charged {scr['charge']} Wh but gave {scr['allocated']} Wh to SDRs "
                f"and {scr['loss']} Wh to losses",
            )

    def _source(self, replay: Any, e: Mapping[str, Any]) -> None:
        sid, bid = e["scr_allocation_id"], e["bundle_id"]
        scr = self._scr(replay, sid)
        if bid in self.charge_bundles:
            self._find(
                replay,
                "DOUBLE_USE",
                f"bundle {bid} backs SCR {self.charge_bundles[bid]} and SCR {sid}",
                bid,
            )
        self.charge_bundles[bid] = sid
        live = replay.bundles.get(bid)
        if live is None or live.status != "CANCELLED_FOR_STORAGE":
            status = None if live is None else live.status
            self._find(
                replay,
                "STORAGE_LINEAGE",
                f"SCR {sid} cites bundle {bid}, which is {status} and not cancelled for storage",
                bid,
            )
        if scr is None:
            return
        scr["bundles"].append(bid)
        if live is not None:
            self._check_source(replay, sid, scr, bid, live, int(e["quantity"]))
        scr["covered"] += int(e["quantity"])
        if scr["covered"] > scr["charge"]:
            self._find(
                replay,
                "STORAGE_OVERALLOCATION",
                f"SCR {sid}: {scr['covered']} Wh of GCs cancelled for a {scr['charge']} Wh charge",
                bid,
            )
        from gc_conformance.reference.lineage import bundle_node

        replay.graph.add_edge(bundle_node(bid), scr_node(sid), kind="charge", wh=int(e["quantity"]))

    @staticmethod
    def _check_source(
        replay: Any, sid: Any, scr: Mapping[str, Any], bid: Any, live: Any, quantity: int
    ) -> None:
        """D7 GC -> SCR: the bundle holds the Wh the SCR counts, produced in the SCR's interval."""
        from gc_conformance.reference.invariants import Risk
        from gc_conformance.reference.lineage import issuance_node

        if quantity != live.end - live.start + 1:
            replay.find(
                Risk.STORAGE_OVERALLOCATION,
                f"SCR {sid} counts {quantity} Wh of bundle {bid}, which holds "
                f"{live.end - live.start + 1} Wh",
                bid,
            )
        node = replay.graph.nodes.get(issuance_node(live.issuance_id), {})
        produced = (node.get("production_start"), node.get("production_end"))
        if None in produced:
            return
        try:
            same = [replay._stamp(t, "production") for t in produced] == [
                replay._stamp(scr["start"], "charging_start_datetime"),
                replay._stamp(scr["end"], "charging_end_datetime"),
            ]
        except Exception:  # a malformed stamp is reported by the core checker
            return
        if not same:
            replay.find(
                Risk.STORAGE_LINEAGE,
                f"SCR {sid} ({scr['start']}/{scr['end']}) is backed by bundle {bid}, produced "
                f"{produced[0]}/{produced[1]}: not the charge interval",
                bid,
            )

    def _allocation(self, replay: Any, e: Mapping[str, Any]) -> None:
        sid, did, wh = e["scr_allocation_id"], e["sdr_allocation_id"], int(e["wh"])
        scr, sdr = self._scr(replay, sid), self._sdr(replay, did)
        if scr is None or sdr is None:
            return
        if wh <= 0:
            self._find(replay, "STORAGE_OVERALLOCATION", f"allocation of {wh} Wh {sid} -> {did}")
        if scr["storage"] != sdr["storage"]:
            self._find(
                replay,
                "STORAGE_LINEAGE",
                f"SCR {sid} of {scr['storage']!r} allocated to SDR {did} of {sdr['storage']!r}",
            )
        if not scr["loss_known"]:
            self._find(
                replay,
                "STORAGE_LINEAGE",
                f"SCR {sid} allocated to SDR {did} before its losses were calculated",
            )
        scr["allocated"] += wh
        scr["given"].append((did, wh))
        sdr["allocated"] += wh
        sdr["scrs"].append(sid)
        self._check_scr(replay, sid, scr)
        if sdr["allocated"] > sdr["discharge"]:
            self._find(
                replay,
                "STORAGE_OVERALLOCATION",
                f"SDR {did} discharged {sdr['discharge']} Wh but was allocated {sdr['allocated']} Wh",
            )
        if scr["end"] > sdr["start"]:
            self._find(
                replay,
                "STORAGE_LINEAGE",
                f"SCR {sid} (ends {scr['end']}) allocated to SDR {did} (starts {sdr['start']})",
            )
        if sdr["used"] is not None:
            self._find(replay, "STORAGE_LINEAGE", f"allocation to SDR {did} after {sdr['used']}")
        graph = replay.graph
        if graph.has_edge(scr_node(sid), sdr_node(did)):
            graph.edges[scr_node(sid), sdr_node(did)]["wh"] += wh
        else:
            graph.add_edge(scr_node(sid), sdr_node(did), kind="allocate", wh=wh)

    def _sd_gc(self, replay: Any, e: Mapping[str, Any]) -> None:
        from gc_conformance.reference.lineage import issuance_node

        did, iid, quantity = e["sdr_allocation_id"], e["issuance_id"], int(e["quantity"])
        sdr = self._sdr(replay, did)
        self.sd_gc_issuances.add(iid)
        if sdr is None:
            return
        self.sd_gcs.append((iid, did, quantity, replay.action_id))
        if sdr["used"] is not None:
            self._find(replay, "STORAGE_LINEAGE", f"second use of SDR {did} ({sdr['used']})")
        sdr["used"] = f"SD-GC issuance {iid}"
        sdr["sd_gc"] = iid
        if not quantity <= sdr["discharge"] <= sdr["allocated"]:
            self._find(
                replay,
                "STORAGE_OVERALLOCATION",
                f"SD-GC {iid} of {quantity} Wh for SDR {did} of {sdr['discharge']} Wh with "
                f"{sdr['allocated']} Wh of SCRs allocated (needs SD-GC <= SDR <= allocated)",
            )
        for sid in dict.fromkeys(sdr["scrs"]):
            scr = self.scrs[sid]
            if scr["covered"] == scr["charge"]:
                continue
            # D7: no Wh of an SD-GC without a cancelled GC behind it. Both readings of the
            # model's sd_gc_inputs meet this: the SCR's backed Wh (net of its share of losses)
            # go first, and what it gave up to this SDR lies within them.
            through = given = 0
            for did_given, wh in scr["given"]:
                given += wh
                if did_given == did:
                    through = given
            net = scr["charge"] - scr["loss"]
            if through * scr["charge"] > scr["covered"] * net:
                self._find(
                    replay,
                    "STORAGE_LINEAGE",
                    f"SD-GC {iid} issued while SCR {sid} gave {through} Wh up to SDR {did}, "
                    f"beyond its backed part ({scr['covered']} of {scr['charge']} Wh charged "
                    f"backed by GCs cancelled for storage, {net} Wh net)",
                )
        if not sdr["scrs"]:
            self._find(replay, "STORAGE_LINEAGE", f"SD-GC {iid} issued from SDR {did} with no SCRs")
        replay.graph.add_edge(sdr_node(did), issuance_node(iid), kind="sd_gc", wh=quantity)

    def _time_shift(self, replay: Any, e: Mapping[str, Any]) -> None:
        did, bid, claim = e["sdr_allocation_id"], e["bundle_id"], e.get("claim_id")
        sdr = self._sdr(replay, did)
        if bid in self.claimed_bundles:
            self._find(
                replay, "DOUBLE_USE", f"bundle {bid} serves a second time-shift claim ({claim})"
            )
        self.claimed_bundles.add(bid)
        if sdr is None:
            return
        live = replay.bundles.get(bid)
        if sdr["sd_gc"] is None or live is None or live.issuance_id != sdr["sd_gc"]:
            self._find(
                replay,
                "STORAGE_LINEAGE",
                f"time-shift claim {claim} on bundle {bid}, which is not the SD-GC of SDR {did}",
                bid,
            )
        # The Wh the claim uses: what it states, else the claimed bundle's, else the SDR's.
        wh = e.get("wh")
        if type(wh) is not int or wh <= 0:
            wh = sdr["discharge"] if live is None else live.end - live.start + 1
        sdr["claimed"] += wh
        if sdr["claimed"] > sdr["discharge"]:
            self._find(
                replay,
                "DOUBLE_USE",
                f"SDR {did}: time-shift claims of {sdr['claimed']} Wh on a discharge of "
                f"{sdr['discharge']} Wh (claim {claim})",
                bid,
            )
        behind_scrs = set(sdr["scrs"])
        behind_gcs = {b for sid in behind_scrs for b in self.scrs[sid]["bundles"]}
        stray = [f"SCR {s}" for s in e.get("scr_ids", ()) if s not in behind_scrs] + [
            f"GC bundle {b}" for b in e.get("gc_bundle_ids", ()) if b not in behind_gcs
        ]
        if stray:
            self._find(
                replay,
                "STORAGE_LINEAGE",
                f"time-shift claim {claim} cites {', '.join(stray)}, not allocated to SDR {did}",
                bid,
            )

    def finish(self, replay: Any) -> None:
        """Whole-history checks: issuances of storage systems not made from an SDR, and
        SD-GC records against the issuances they name (whichever came first)."""
        from gc_conformance.reference.lineage import issuance_node

        current = replay.action_id
        for iid, did, quantity, action_id in self.sd_gcs:
            replay.action_id = action_id
            node = replay.graph.nodes.get(issuance_node(iid))
            storage = self.sdrs[did]["storage"]
            if node is None or node.get("device_id") != storage:
                self._find(
                    replay,
                    "STORAGE_LINEAGE",
                    f"SD-GC of SDR {did} names issuance {iid}, which is not an issuance of "
                    f"its storage system {storage!r}",
                )
            elif node.get("quantity") != quantity:
                self._find(
                    replay,
                    "STORAGE_OVERALLOCATION",
                    f"SD-GC of SDR {did} records {quantity} Wh but issuance {iid} issued "
                    f"{node.get('quantity')} Wh",
                )
        replay.action_id = current
        for node, data in replay.graph.nodes(data=True):
            if node[0] != "issuance" or data.get("device_id") not in self.storages:
                continue
            if node[1] not in self.sd_gc_issuances:
                self._find(
                    replay,
                    "STORAGE_LINEAGE",
                    f"issuance {node[1]} for storage system {data.get('device_id')!r} was not "
                    "made from a discharge record",
                )
        for bid, sid in self.charge_bundles.items():
            live = replay.bundles.get(bid)
            if live is not None and live.status == "CLAIMED":
                self._find(
                    replay,
                    "DOUBLE_DISCLOSURE",
                    f"bundle {bid} backs SCR {sid} and was also claimed for consumption",
                    bid,
                )
