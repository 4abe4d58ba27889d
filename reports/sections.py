"""Where each digest key (D1 … D15) sits in the standard, so a reader can look a requirement up.

Requirements cite a clause as ``"GC attributes / D5"``: the standard's section
name and the project digest's key. The digest key is the project's own; an
auditor needs the standard's section. The project's source restates the
EnergyTag GC Scheme Standard v2 section by section in part 三(三) (III.3)
"時間價值顆粒化憑證規範" of the 2024 study report (shared seed 002), numbered
1 to 14; this table maps each digest key to that numbering. It is the one
place the mapping lives: requirements are not edited one by one.
"""

from __future__ import annotations

import re

#: digest key -> the standard's section, as numbered in seed 002, part III.3 (三(三)).
SECTION_OF_KEY: dict[str, str] = {
    "D1": "Standard v2 introduction (seed 002 part III.3, opening)",
    "D2": "Standard v2 §1 Roles (seed 002 part III.3 item 1)",
    "D3": "Standard v2 §2–§8 Scheme configurations #0–#3 (seed 002 part III.3 items 2–8)",
    "D4": "Standard v2 §2(2) Double counting risk mitigation (seed 002 part III.3 item 2(2))",
    "D5": "Standard v2 §9 GC attributes (seed 002 part III.3 item 9)",
    "D6": "Standard v2 §10 Production metering and registration data (seed 002 part III.3 item 10)",
    "D7": "Standard v2 §11 Storage (seed 002 part III.3 item 11)",
    "D8": "Standard v2 §12 Validity and record keeping (seed 002 part III.3 item 12)",
    "D9": "Standard v2 §13 IT systems (seed 002 part III.3 item 13)",
    "D10": "Standard v2 §14 Market design (seed 002 part III.3 item 14)",
    "D11": "not the EnergyTag standard: US EPA Green Power Partnership (seed 002 part III.1)",
    "D12": "not the EnergyTag standard: tariff context (seed 002 part III.4)",
    "D13": "points the sources leave open (digest D13: named policies)",
    "D14": "GC Matching Standard (outline only; its text is not in the seeds)",
    "D15": "worked examples of the seed (digest D15)",
}


def digest_key(clause: str) -> str | None:
    """The digest key a clause cites (``"GC attributes / D5"`` -> ``"D5"``), if any."""
    match = re.search(r"\bD(\d+)\b\s*$", clause.strip())
    return f"D{match.group(1)}" if match else None


def section_reference(clause: str) -> str:
    """The standard's section for a clause, or ``""`` when it cites no known digest key."""
    key = digest_key(clause)
    return SECTION_OF_KEY.get(key, "") if key else ""


__all__ = ["SECTION_OF_KEY", "digest_key", "section_reference"]
