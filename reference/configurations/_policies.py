"""The configuration policies: how EAC energy caps an hour's GCs and what a short hour gets.

Each ambiguity of D3/D13 for #2/#3 is a named enum with a documented default,
kept in one place so reports can describe the values a run used.
"""

from __future__ import annotations

import enum

import attrs


class MonthlyCap(enum.Enum):
    """How the EAC energy behind an hour's GCs is counted (D3 #2/#3, D13 'monthly caps').

    Either way the GC energy issued for hours inside an EAC production period
    (a month, by default) never exceeds the face value of that period's EACs.
    """

    POOLED = (
        "the period's EACs form one pool of Wh; each hour's GCs draw on it in EAC ID order "
        "and one EAC may back several hours"
    )
    WHOLE_EACS = (
        "each hour's GCs use EACs no other hour used; an EAC's unused part backs nothing "
        "(simple one-to-many links, at the cost of stranded energy)"
    )


class HourSuspension(enum.Enum):
    """What happens to an hour whose production exceeds the EAC energy left (D3 #2, D13)."""

    SUSPEND_WHOLE_HOUR = "no GCs for that hour; the whole hour is recorded as suspended"
    SUSPEND_UNCOVERED_PART = "GCs for the covered part; the rest of the hour is suspended"
    REFUSE = "no suspension practice: the request is refused with EXCEEDS_EAC_ENERGY"


@attrs.frozen
class ConfigurationPolicies:
    """Policy values of a #2/#3 GC registry; defaults: pooled cap, whole-hour suspension."""

    monthly_cap: MonthlyCap = MonthlyCap.POOLED
    suspension: HourSuspension = HourSuspension.SUSPEND_WHOLE_HOUR

    def describe(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name).name for f in attrs.fields(ConfigurationPolicies)}
