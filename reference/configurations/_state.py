"""What a link book holds, and how one is built.

Every part of :class:`LinkBook` is a mixin over :class:`_LinkBookState`: the
links from issuances to EACs, the Wh linked per EAC, the beneficiaries of #3
issuances and the suspended hours are named once here. The methods one part
calls on another are declared here for the type checker only.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from gc_conformance.reference.configurations._commands import (
    CancelLinkedGcs,
    ConvertEacs,
    IssueFromCancelledEacs,
    IssueLinkedGcs,
)
from gc_conformance.reference.configurations._effects import EacSync, HourSuspended
from gc_conformance.reference.configurations._policies import ConfigurationPolicies
from gc_conformance.reference.eac import Eac, EacRegistry
from gc_conformance.reference.entities import Device
from gc_conformance.reference.registry import Registry
from gc_conformance.reference.timestamps import Interval


class _LinkBookState:
    """The state of one link book: its GC registry, the EAC registry, policies and links."""

    def __init__(
        self, registry: Registry, eac: EacRegistry, policies: ConfigurationPolicies
    ) -> None:
        self._registry = registry
        self.eac = eac
        self.policies = policies
        self._linked_wh: dict[str, int] = {}
        self._links: dict[int, tuple[tuple[str, int], ...]] = {}
        self._beneficiaries: dict[int, str] = {}  # #3 issuance -> the EACs' beneficiary
        self._issuances_of_eac: dict[str, tuple[int, ...]] = {}
        self._suspended: list[HourSuspended] = []
        self._coordinating = False  # not state: set only while LinkedRegistries decides

    if TYPE_CHECKING:
        # The methods one part calls on another, declared for mypy only (each is
        # defined once, in the mixin named in the comment; nothing here runs).

        # _Sealing (_sealing.py)
        def _plain_cancel(self, decide: Any) -> Any: ...
        def _refused_unlinked(self, decide: Any) -> Any: ...
        def _sealed(self, decide: Any) -> Any: ...

        # _EacSyncPlanning (_sync.py)
        def _unlinks(self, effects: Sequence[Any]) -> list[Any]: ...
        def eac_sync(self, effects: Sequence[Any], handled: Sequence[str] = ()) -> EacSync: ...

        # _CorrectionRouting (_routing.py)
        def _routed_correction(self, decide: Any) -> Any: ...
        def _link_effects(
            self,
            issuance_id: int,
            bundle_id: int,
            links: tuple[tuple[str, int], ...],
            beneficiary: str | None,
            location: str | None,
            interval: Interval,
            now: _dt.datetime,
        ) -> list[Any]: ...
        def _eligible_eacs(
            self, device_id: str, interval: Interval, gc_issuer_id: str, now: _dt.datetime
        ) -> list[Eac]: ...

        # _HourPlanning (_hours.py)
        def _preamble(self, configuration: int) -> None: ...
        def _same_device(self, device_id: object, meter_id: object) -> Device: ...
        def _hour(
            self, device: Device, start: object, end: object, energy: object, now: Any
        ) -> Any: ...
        def _draw(
            self, eacs: Sequence[Eac], wanted: int, taken: dict[str, int]
        ) -> tuple[int, tuple[tuple[str, int], ...]]: ...
        def _plan_hour(
            self,
            device: Device,
            interval: Interval,
            metered: Any,
            eacs: Sequence[Eac],
            taken: dict[str, int],
            now: _dt.datetime,
            effects: list[Any],
            *,
            account_id: str | None,
            transferable: bool,
            beneficiary: str | None,
            consumption_location: str | None,
        ) -> tuple[int | None, int | None, int, int, tuple[tuple[str, int], ...]]: ...

        # _Config2Decisions (_config2.py)
        def _decide_issue_linked(self, cmd: IssueLinkedGcs, now: _dt.datetime) -> Any: ...
        def _decide_cancel_linked(self, cmd: CancelLinkedGcs, now: _dt.datetime) -> Any: ...
        def _decide_convert(self, cmd: ConvertEacs, now: _dt.datetime) -> Any: ...

        # _Config3Decisions (_config3.py)
        def _named_eacs(self, eac_ids: object) -> list[Eac]: ...
        def _decide_issue_from_cancelled(
            self, cmd: IssueFromCancelledEacs, now: _dt.datetime
        ) -> Any: ...
