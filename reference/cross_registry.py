"""The cross-registry view of the invariant checker: EAC registry and GC registries together.

Configurations #2 and #3 (D3) put one unit of energy in two registries: an EAC
in the EAC registry and GCs in a GC registry. Each history can be sound on its
own while the pair discloses the same energy twice (D4 risk 6). This checker
reads the plain histories of both sides (``EacRegistry.export_history`` and
``Registry.export_history``, or histories observed from other registries in the
same vocabulary) and reports:

* DOUBLE_ISSUANCE    GC energy linked to an EAC above the EAC's face value, or
                     GCs linked to an EAC the EAC registry never issued;
* DOUBLE_DISCLOSURE  an EAC linked to two GC Issuers; a #2 EAC (backing GCs)
                     also cancelled for an ordinary beneficiary, or not
                     recorded in the EAC registry as backing that Issuer's GCs;
                     a #3 GC whose EAC was not cancelled for the GC's
                     beneficiary;
* DOUBLE_CANCELLATION / DOUBLE_IN_TRANSFER  an EAC change that does not follow
                     the EAC's previous state (e.g. cancelled twice).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from gc_conformance.reference.errors import InvalidInput
from gc_conformance.reference.invariants import Finding, Risk
from gc_conformance.reference.timestamps import parse_timestamp


@attrs.frozen
class CrossRegistryReport:
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not self.findings

    def by_risk(self, risk: Risk) -> list[Finding]:
        return [f for f in self.findings if f.risk is risk]


@attrs.define
class _EacView:
    face_value_wh: int
    status: str
    gc_issuer_id: Any = None
    beneficiaries: set[Any] = attrs.Factory(set)  # named at an ordinary (EAC-side) cancellation
    #: When each ordinary cancellation happened (None: the history gave no readable instant).
    cancelled_at: list[_dt.datetime | None] = attrs.Factory(list)


@attrs.frozen
class _Link:
    action_id: Any
    issuer_id: Any
    configuration: Any
    eac_id: Any
    wh: int
    beneficiary: Any
    at: _dt.datetime | None = None


#: Per EAC, when a GC registry's withdrawal gave linked Wh back, and how many.
_Unlinks = dict[Any, list[tuple[_dt.datetime | None, int]]]


def _accepted_effects(history: Iterable[Mapping[str, Any]]) -> Iterable[tuple[Any, Any]]:
    for action in history:
        if not action.get("accepted", True):
            continue
        for effect in action.get("effects", ()):
            yield action.get("action_id"), effect


def _accepted_effects_at(
    history: Iterable[Mapping[str, Any]],
) -> Iterable[tuple[Any, _dt.datetime | None, Any]]:
    """Each accepted action's effects with the action's ID and instant (None when unreadable);
    only the readers that order events across registries pay for parsing the instant."""
    for action in history:
        if not action.get("accepted", True):
            continue
        at = _stamp(action.get("at"))
        for effect in action.get("effects", ()):
            yield action.get("action_id"), at, effect


def check_cross_registry(
    eac_history: Iterable[Mapping[str, Any]], *gc_histories: Iterable[Mapping[str, Any]]
) -> CrossRegistryReport:
    """Check one EAC registry's history against the histories of the GC registries linked to it.

    Four named steps, each adding its findings in turn (the order is part of the report):
    replay the EACs, read every GC registry's links (and its own #1/#2/#3 findings), judge
    each link against the EAC it names, then judge the totals per EAC.
    """
    findings: list[Finding] = []
    eac_history = list(eac_history)
    eacs = _replay_eacs(eac_history, findings)
    links, unlinks = _read_links(gc_histories, _eac_periods(eac_history), findings)
    linked_wh, issuers = _judge_links(links, unlinks, eacs, findings)
    unlinked_wh = {eac_id: sum(wh for _, wh in given) for eac_id, given in unlinks.items()}
    _judge_totals(eacs, linked_wh, unlinked_wh, issuers, findings)
    return CrossRegistryReport(tuple(findings))


def _replay_eacs(
    eac_history: list[Mapping[str, Any]], findings: list[Finding]
) -> dict[Any, _EacView]:
    """Each EAC's state as its registry's effects leave it; an effect that does not follow
    the EAC's previous state is a finding (cancelled twice, changed before issue, relinked)."""
    eacs: dict[Any, _EacView] = {}
    for action_id, at, effect in _accepted_effects_at(eac_history):
        if effect.get("effect") != "eac":
            continue
        try:
            _replay_eac(eacs, action_id, effect, findings, at)
        except (KeyError, TypeError, ValueError) as exc:
            findings.append(Finding(Risk.MALFORMED_HISTORY, f"unreadable EAC effect: {exc}"))
    return eacs


def _replay_eac(
    eacs: dict[Any, _EacView],
    action_id: Any,
    effect: Mapping[str, Any],
    findings: list[Finding],
    at: _dt.datetime | None = None,
) -> None:
    eac_id, old, new = effect["eac_id"], effect.get("from"), effect["status"]
    view = eacs.get(eac_id)
    if view is None:
        if old is not None:
            findings.append(
                Finding(Risk.MALFORMED_HISTORY, f"EAC {eac_id} changed before issue", action_id)
            )
        view = eacs[eac_id] = _EacView(int(effect["face_value_wh"]), new)
    elif old != view.status:
        risk = Risk.DOUBLE_CANCELLATION if "CANCELLED" in new else Risk.DOUBLE_IN_TRANSFER
        findings.append(
            Finding(risk, f"EAC {eac_id} went {old} -> {new} but was {view.status}", action_id)
        )
    view.status = new
    if effect.get("gc_issuer_id") is not None:
        if view.gc_issuer_id not in (None, effect["gc_issuer_id"]):
            findings.append(
                Finding(
                    Risk.DOUBLE_DISCLOSURE,
                    f"EAC {eac_id} relinked from GC Issuer {view.gc_issuer_id!r} to "
                    f"{effect['gc_issuer_id']!r}",
                    action_id,
                )
            )
        view.gc_issuer_id = effect["gc_issuer_id"]
    if new == "CANCELLED" and old != "CANCELLED":
        view.beneficiaries.add(effect.get("beneficiary"))
        view.cancelled_at.append(at)


def _read_links(
    gc_histories: tuple[Iterable[Mapping[str, Any]], ...],
    eac_certified: Mapping[Any, list[tuple[_dt.datetime, _dt.datetime, Any, Any]]],
    findings: list[Finding],
) -> tuple[list[_Link], _Unlinks]:
    """Every GC registry's links to EACs, and when and how many Wh its withdrawals gave back
    per EAC; each history's own GC-side and configuration-#1 findings on the way."""
    links: list[_Link] = []
    unlinks: _Unlinks = {}
    for history in gc_histories:
        history = list(history)
        findings.extend(_gc_side(history))
        for action_id, at, effect in _accepted_effects_at(history):
            kind = effect.get("effect")
            if kind not in ("eac_link", "eac_unlink"):
                continue
            try:
                if kind == "eac_unlink":
                    for link in effect["links"]:
                        unlinks.setdefault(link["eac_id"], []).append((at, int(link["wh"])))
                    continue
                links.extend(
                    _Link(
                        action_id,
                        effect["issuer_id"],
                        effect.get("configuration"),
                        link["eac_id"],
                        int(link["wh"]),
                        effect.get("beneficiary"),
                        at,
                    )
                    for link in effect["links"]
                )
            except (KeyError, TypeError, ValueError) as exc:
                findings.append(Finding(Risk.MALFORMED_HISTORY, f"unreadable link: {exc}"))
        findings.extend(_configuration_1_eacs(eac_certified, history))
    return links, unlinks


def _judge_links(
    links: list[_Link], unlinks: _Unlinks, eacs: Mapping[Any, _EacView], findings: list[Finding]
) -> tuple[dict[Any, int], dict[Any, set[Any]]]:
    """Each link against the EAC it names: issued, the same GC Issuer, and (D3) a #3 EAC
    cancelled for the GCs' beneficiary, a #2 EAC never cancelled for an ordinary one while it
    backs GCs.
    Returns the Wh linked per EAC and the GC Issuers naming each."""
    linked_wh: dict[Any, int] = {}
    issuers: dict[Any, set[Any]] = {}
    by_eac: dict[Any, list[_Link]] = {}  # each EAC's links, read once
    for link in links:
        by_eac.setdefault(link.eac_id, []).append(link)
    for link in links:
        view = eacs.get(link.eac_id)
        if view is None:
            findings.append(
                Finding(
                    Risk.DOUBLE_ISSUANCE,
                    f"GCs of {link.issuer_id!r} linked to EAC {link.eac_id}, never issued",
                    link.action_id,
                )
            )
            continue
        linked_wh[link.eac_id] = linked_wh.get(link.eac_id, 0) + link.wh
        issuers.setdefault(link.eac_id, set()).add(link.issuer_id)
        if view.gc_issuer_id != link.issuer_id:
            findings.append(
                Finding(
                    Risk.DOUBLE_DISCLOSURE,
                    f"EAC {link.eac_id} backs GCs of {link.issuer_id!r} but the EAC registry "
                    f"records GC Issuer {view.gc_issuer_id!r}",
                    link.action_id,
                )
            )
        if link.configuration == 3:
            if link.beneficiary not in view.beneficiaries:
                findings.append(
                    Finding(
                        Risk.DOUBLE_DISCLOSURE,
                        f"#3 GCs for {link.beneficiary!r} from EAC {link.eac_id}, cancelled for "
                        f"{sorted(map(str, view.beneficiaries))}",
                        link.action_id,
                    )
                )
        elif view.beneficiaries and _backing_when_cancelled(
            link, by_eac[link.eac_id], unlinks, view
        ):
            findings.append(
                Finding(
                    Risk.DOUBLE_DISCLOSURE,
                    f"EAC {link.eac_id} backs #2 GCs and was also cancelled for "
                    f"{sorted(map(str, view.beneficiaries))}",
                    link.action_id,
                )
            )
    return linked_wh, issuers


def _backing_when_cancelled(
    link: _Link, same_eac: list[_Link], unlinks: _Unlinks, view: _EacView
) -> bool:
    """Whether a #2 link and an ordinary cancellation of its EAC disclose the same energy twice.

    They do when the link was made after a cancellation, or when, at the instant of a
    cancellation, the EAC still backed #2 GCs (Wh linked so far less Wh withdrawals gave back
    is above zero). An EAC whose GCs were all withdrawn, and so released, may then be
    cancelled on the EAC side (D3, D10). Without readable instants the answer is yes: the
    checker never passes what it cannot order.
    """
    for cancelled in view.cancelled_at:
        if cancelled is None or link.at is None or link.at > cancelled:
            return True
        linked = sum(
            other.wh
            for other in same_eac
            if other.configuration != 3 and (other.at is None or other.at <= cancelled)
        )
        given_back = sum(
            wh for at, wh in unlinks.get(link.eac_id, ()) if at is not None and at <= cancelled
        )
        if linked - given_back > 0:
            return True
    return False


def _judge_totals(
    eacs: Mapping[Any, _EacView],
    linked_wh: Mapping[Any, int],
    unlinked_wh: Mapping[Any, int],
    issuers: Mapping[Any, set[Any]],
    findings: list[Finding],
) -> None:
    """Per EAC: GC energy linked (less what withdrawals gave back) within its face value, and
    one GC Issuer only."""
    for eac_id, wh in sorted(linked_wh.items(), key=lambda kv: str(kv[0])):
        wh -= unlinked_wh.get(eac_id, 0)  # withdrawn GCs gave their Wh back (#2)
        if wh > eacs[eac_id].face_value_wh:
            findings.append(
                Finding(
                    Risk.DOUBLE_ISSUANCE,
                    f"{wh} Wh of GCs linked to EAC {eac_id} of {eacs[eac_id].face_value_wh} Wh",
                )
            )
    for eac_id, names in sorted(issuers.items(), key=lambda kv: str(kv[0])):
        if len(names) > 1:
            findings.append(
                Finding(
                    Risk.DOUBLE_DISCLOSURE,
                    f"EAC {eac_id} linked to GC Issuers {sorted(map(str, names))}",
                )
            )


def _stamp(value: Any) -> _dt.datetime | None:
    try:
        return parse_timestamp(value, "timestamp")
    except InvalidInput:
        return None


def _eac_periods(
    eac_history: Iterable[Mapping[str, Any]],
) -> dict[Any, list[tuple[_dt.datetime, _dt.datetime, Any, Any]]]:
    """device -> (start, end, EAC ID, issuing body) of every EAC issued for it.

    The issuing body is the actor of the action that issued the EAC (the body
    reports production to itself), so the history alone says who issued it.
    """
    found: dict[Any, list[tuple[_dt.datetime, _dt.datetime, Any, Any]]] = {}
    eac_history = list(eac_history)
    actors = {a.get("action_id"): a.get("actor") for a in eac_history}
    for action_id, effect in _accepted_effects(eac_history):
        if effect.get("effect") != "eac" or effect.get("from") is not None:
            continue
        issuing_body = actors.get(action_id)
        start = _stamp(effect.get("production_start"))
        end = _stamp(effect.get("production_end"))
        if start is not None and end is not None:
            found.setdefault(effect.get("device_id"), []).append(
                (start, end, effect.get("eac_id"), issuing_body)
            )
    return found


def _configuration_1_eacs(
    eac_certified: Mapping[Any, list[tuple[_dt.datetime, _dt.datetime, Any, Any]]],
    gc_history: Iterable[Mapping[str, Any]],
) -> list[Finding]:
    """D3 #1: the EAC Issuing Body issues GCs *instead of* EACs.

    A #1 GC registry's issuance for a device and hour inside the production
    period of an EAC issued for the same device certifies that energy twice.
    """
    findings: list[Finding] = []
    if not eac_certified:
        return findings
    reported: set[Any] = set()
    for action_id, effect in _accepted_effects(gc_history):
        if effect.get("effect") != "issue" or effect.get("registry_configuration") != 1:
            continue
        periods = eac_certified.get(effect.get("device_id"))
        start = _stamp(effect.get("production_start"))
        end = _stamp(effect.get("production_end"))
        if not periods or start is None or end is None:
            continue
        for eac_start, eac_end, eac_id, body in periods:
            if body != effect.get("issuer_id"):
                continue  # another body's EAC: the #1 rule binds the body that became GC Issuer
            if eac_start < end and start < eac_end and eac_id not in reported:
                reported.add(eac_id)
                findings.append(
                    Finding(
                        Risk.DOUBLE_ISSUANCE,
                        f"EAC {eac_id} issued for device {effect.get('device_id')!r} over a period "
                        f"whose production configuration-#1 GCs certify (issuance "
                        f"{effect.get('issuance_id')}): #1 issues GCs instead of EACs",
                        action_id,
                    )
                )
    return findings


def _gc_side(history: list[Mapping[str, Any]]) -> list[Finding]:
    """D3 rules a #2/#3 GC history shows on its own.

    * every #2/#3 GC is linked to EACs (storage-discharge GCs excepted: the
      GCs cancelled to charge the storage carry the link), for no more Wh
      than its links give it;
    * a #3 GC is non-transferable, never transferred, and cancelled only for
      the beneficiary its EACs were cancelled for.
    """
    findings: list[Finding] = []
    issued: dict[Any, tuple[int, Any, Any]] = {}  # issuance -> (Wh, configuration, action)
    linked: dict[Any, int] = {}
    beneficiary: dict[Any, Any] = {}
    bundle_issuance: dict[Any, Any] = {}
    for action_id, effect in _accepted_effects(history):
        kind = effect.get("effect")
        try:
            if kind == "issue":
                iid = effect["issuance_id"]
                bundle_issuance[effect["bundle_id"]] = iid
                configuration = effect.get("registry_configuration")
                if configuration in (2, 3) and not effect.get("is_storage"):
                    wh = int(effect["range_end"]) - int(effect["range_start"]) + 1
                    issued[iid] = (wh, configuration, action_id)
                    if configuration == 3 and effect.get("transferable") is not False:
                        findings.append(
                            Finding(
                                Risk.DOUBLE_DISCLOSURE,
                                f"#3 issuance {iid} issued transferable: #3 GCs go only to the "
                                "EAC's beneficiary",
                                action_id,
                            )
                        )
            elif kind == "eac_link":
                try:
                    wh = sum(int(x["wh"]) for x in effect["links"])
                except (KeyError, TypeError, ValueError):
                    continue  # reported once, by the link reader
                iid = effect.get("issuance_id")
                linked[iid] = linked.get(iid, 0) + wh
                if effect.get("beneficiary") is not None:
                    beneficiary[iid] = effect["beneficiary"]
            elif kind == "split":
                parent = bundle_issuance.get(effect["parent_id"])
                for child in effect["children"]:
                    bundle_issuance[child["bundle_id"]] = parent
            elif kind == "transfer":
                iid = bundle_issuance.get(effect["bundle_id"])
                if iid in issued and issued[iid][1] == 3:
                    findings.append(
                        Finding(
                            Risk.DOUBLE_DISCLOSURE,
                            f"#3 GC bundle {effect['bundle_id']} transferred",
                            action_id,
                        )
                    )
            elif kind == "status" and effect.get("to") == "CANCELLED":
                iid = bundle_issuance.get(effect["bundle_id"])
                named = beneficiary.get(iid)
                if iid in issued and issued[iid][1] == 3 and effect.get("beneficiary") != named:
                    findings.append(
                        Finding(
                            Risk.DOUBLE_DISCLOSURE,
                            f"#3 GC bundle {effect['bundle_id']} cancelled for "
                            f"{effect.get('beneficiary')!r}, its EACs for {named!r}",
                            action_id,
                        )
                    )
        except (KeyError, TypeError, ValueError) as exc:
            findings.append(Finding(Risk.MALFORMED_HISTORY, f"unreadable GC effect: {exc}"))
    for iid, (wh, configuration, action_id) in issued.items():
        backed = linked.get(iid, 0)
        if backed == 0:
            findings.append(
                Finding(
                    Risk.DOUBLE_ISSUANCE,
                    f"#{configuration} issuance {iid} of {wh} Wh linked to no EAC (D3)",
                    action_id,
                )
            )
        elif wh > backed:
            findings.append(
                Finding(
                    Risk.DOUBLE_ISSUANCE,
                    f"#{configuration} issuance {iid} of {wh} Wh, its EACs give it {backed} Wh",
                    action_id,
                )
            )
    return findings
