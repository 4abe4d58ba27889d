"""What the invariant checker reports: the risks it names, each finding, the whole report.

These are the checker's public vocabulary, read by the harness, the audit and the
cross-registry checks; they carry plain values, so a finding prints and serialises
the same whichever registry's history produced it.
"""

from __future__ import annotations

import enum
from typing import Any

import attrs
import networkx as nx


class Risk(enum.Enum):
    DOUBLE_ISSUANCE = "D4 risk 1: more than one certificate for the same energy"
    DOUBLE_IN_TRANSFER = "D4 risk 2: a certificate in two accounts at once"
    DOUBLE_REGISTRATION = "D4 risk 3: the same certificate registered more than once"
    DOUBLE_CANCELLATION = "D4 risk 4: the same certificate cancelled more than once"
    DOUBLE_USE = "D4 risk 5: a cancelled certificate used for more than one claim"
    DOUBLE_DISCLOSURE = "D4 risk 6: attributes claimed other than by cancelling the certificate"
    VALIDITY = "D8: a certificate used outside its validity, or left live after an expiry sweep"
    CONSERVATION = "Wh of an issuance not exactly accounted for by its bundles"
    STATE_MISMATCH = "the registry's reported state disagrees with its own history"
    MALFORMED_HISTORY = "a history entry could not be read"
    # --- storage (D7) ---
    STORAGE_OVERALLOCATION = "storage Wh given out beyond what was charged or discharged"
    STORAGE_LINEAGE = "a storage record or SD-GC without the cancelled inputs behind it"


@attrs.frozen
class Finding:
    risk: Risk
    message: str
    action_id: Any = None
    bundle_id: Any = None

    def to_plain(self) -> dict[str, Any]:
        return {
            "risk": self.risk.name,
            "message": self.message,
            "action_id": self.action_id,
            "bundle_id": self.bundle_id,
        }


@attrs.frozen
class InvariantReport:
    findings: tuple[Finding, ...]
    actions_checked: int
    graph: nx.DiGraph = attrs.field(eq=False, repr=False)

    @property
    def ok(self) -> bool:
        return not self.findings

    def by_risk(self, risk: Risk) -> list[Finding]:
        return [f for f in self.findings if f.risk is risk]
