"""The EAC registry's policies: the face value of one EAC.

A named enum with a documented default, as every ambiguity of the model is,
so reports can show which value a run used.
"""

from __future__ import annotations

import enum

import attrs

from gc_conformance.reference.policies import Rounding, ValidityReading


class EacFaceValue(enum.Enum):
    """The energy one EAC stands for (D3: 'e.g. 1 MWh'); the part below it is carried forward."""

    ONE_MWH = "each EAC is 1 MWh (1,000,000 Wh), the usual EAC unit"
    ONE_KWH = "each EAC is 1 kWh (1,000 Wh)"

    @property
    def wh(self) -> int:
        return 1_000_000 if self is EacFaceValue.ONE_MWH else 1_000


@attrs.frozen
class EacPolicies:
    """Policy values of one EAC registry. Defaults: 1 MWh EACs valid 12 months, Wh to nearest."""

    face_value: EacFaceValue = EacFaceValue.ONE_MWH
    validity: ValidityReading = ValidityReading.ROLLING_12_MONTHS
    rounding: Rounding = Rounding.NEAREST

    def describe(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name).name for f in attrs.fields(EacPolicies)}
