"""Sealing a #2/#3 registry: no path issues a GC without EACs behind it.

Every decider the registry had before the book joined is wrapped here, so an
ordinary issuance, a plain cancellation of a backed GC or any change the EAC
registry must follow is refused unless it goes through the coordinated path.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from gc_conformance.reference.commands import Cancel
from gc_conformance.reference.configurations._common import _refuse
from gc_conformance.reference.configurations._effects import EacSync, GcLinked
from gc_conformance.reference.configurations._state import _LinkBookState
from gc_conformance.reference.effects import Issued
from gc_conformance.reference.errors import ErrorCode
from gc_conformance.reference.registry import Refusal


class _Sealing(_LinkBookState):
    """Wrappers that seal the registry's deciders (D3)."""

    def _plain_cancel(self, decide: Any) -> Any:
        def decide_plain_cancel(cmd: Cancel, now: _dt.datetime) -> Any:
            """#2: a GC backed by EACs is cancelled only together with them (CancelLinkedGcs)."""
            bundle = (
                self._registry.bundle(cmd.bundle_id) if isinstance(cmd.bundle_id, int) else None
            )
            if bundle is not None and self._links.get(bundle.issuance_id):
                raise _refuse(
                    ErrorCode.NOT_COORDINATED,
                    "bundle_id",
                    f"bundle {bundle.bundle_id} is backed by EACs: cancel it with CancelLinkedGcs",
                )
            return decide(cmd, now)

        return decide_plain_cancel

    def _refused_unlinked(self, decide: Any) -> Any:
        def decide_refused(cmd: Any, now: _dt.datetime) -> Any:
            """Ordinary issuance has no EAC behind it: refused after its own checks (D3)."""
            decide(cmd, now)
            raise self._unlinked_refusal(cmd)

        return decide_refused

    def _unlinked_refusal(self, cmd: Any) -> Refusal:
        configuration = self._registry.issuer.configuration
        linked = "IssueLinkedGcs or ConvertEacs" if configuration == 2 else "IssueFromCancelledEacs"
        return _refuse(
            ErrorCode.WRONG_CONFIGURATION,
            "command",
            f"a configuration #{configuration} registry issues GCs only linked to EACs (D3); "
            f"{type(cmd).__name__} would issue GCs with no EAC behind them: use {linked}",
        )

    def _sealed(self, decide: Any) -> Any:
        def decide_sealed(cmd: Any, now: _dt.datetime) -> Any:
            value, effects = decide(cmd, now)
            return value, self._seal(cmd, value, effects)

        return decide_sealed

    def _seal(self, cmd: Any, value: Any, effects: list[Any]) -> list[Any]:
        """Refuse what would break D3 in this registry; add the #2 unlink effects.

        * every GC issued must be linked to EACs (storage-discharge GCs excepted:
          the GCs cancelled to charge the storage carry the link, D7);
        * what changes GCs backed by EACs must reach the EAC registry too, so
          outside :class:`LinkedRegistries` it is refused (NOT_COORDINATED).
        """
        linked = {e.issuance_id for e in effects if isinstance(e, GcLinked)}
        for effect in effects:
            if (
                isinstance(effect, Issued)
                and not effect.issuance.is_storage
                and effect.issuance.issuance_id not in linked
            ):
                raise self._unlinked_refusal(cmd)
        if self._registry.issuer.configuration == 2:
            effects = effects + self._unlinks(effects)
        primary = getattr(value, "eac_request", None)
        sync = self.eac_sync(effects, tuple(getattr(primary, "eac_ids", ())))
        if sync != EacSync() and not self._coordinating:
            raise _refuse(
                ErrorCode.NOT_COORDINATED,
                "command",
                f"{type(cmd).__name__} changes GCs backed by EACs: send it through both "
                "registries together (LinkedRegistries)",
            )
        return effects
