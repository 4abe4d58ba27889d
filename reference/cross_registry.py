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

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from gc_conformance.reference.invariants import Finding, Risk


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


@attrs.frozen
class _Link:
    action_id: Any
    issuer_id: Any
    configuration: Any
    eac_id: Any
    wh: int
    beneficiary: Any


def _accepted_effects(history: Iterable[Mapping[str, Any]]) -> Iterable[tuple[Any, Any]]:
    for action in history:
        if not action.get("accepted", True):
            continue
        for effect in action.get("effects", ()):
            yield action.get("action_id"), effect


def check_cross_registry(
    eac_history: Iterable[Mapping[str, Any]], *gc_histories: Iterable[Mapping[str, Any]]
) -> CrossRegistryReport:
    """Check one EAC registry's history against the histories of the GC registries linked to it."""
    findings: list[Finding] = []
    eacs: dict[Any, _EacView] = {}
    for action_id, effect in _accepted_effects(eac_history):
        if effect.get("effect") != "eac":
            continue
        try:
            eac_id, old, new = effect["eac_id"], effect.get("from"), effect["status"]
            view = eacs.get(eac_id)
            if view is None:
                if old is not None:
                    findings.append(
                        Finding(
                            Risk.MALFORMED_HISTORY, f"EAC {eac_id} changed before issue", action_id
                        )
                    )
                view = eacs[eac_id] = _EacView(int(effect["face_value_wh"]), new)
            elif old != view.status:
                risk = Risk.DOUBLE_CANCELLATION if "CANCELLED" in new else Risk.DOUBLE_IN_TRANSFER
                findings.append(
                    Finding(
                        risk, f"EAC {eac_id} went {old} -> {new} but was {view.status}", action_id
                    )
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
        except (KeyError, TypeError, ValueError) as exc:
            findings.append(Finding(Risk.MALFORMED_HISTORY, f"unreadable EAC effect: {exc}"))

    links: list[_Link] = []
    for history in gc_histories:
        for action_id, effect in _accepted_effects(history):
            if effect.get("effect") != "eac_link":
                continue
            try:
                for link in effect["links"]:
                    links.append(
                        _Link(
                            action_id,
                            effect["issuer_id"],
                            effect.get("configuration"),
                            link["eac_id"],
                            int(link["wh"]),
                            effect.get("beneficiary"),
                        )
                    )
            except (KeyError, TypeError, ValueError) as exc:
                findings.append(Finding(Risk.MALFORMED_HISTORY, f"unreadable link: {exc}"))

    linked_wh: dict[Any, int] = {}
    issuers: dict[Any, set[Any]] = {}
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
        elif view.beneficiaries:
            findings.append(
                Finding(
                    Risk.DOUBLE_DISCLOSURE,
                    f"EAC {link.eac_id} backs #2 GCs and was also cancelled for "
                    f"{sorted(map(str, view.beneficiaries))}",
                    link.action_id,
                )
            )
    for eac_id, wh in sorted(linked_wh.items(), key=lambda kv: str(kv[0])):
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
    return CrossRegistryReport(tuple(findings))
