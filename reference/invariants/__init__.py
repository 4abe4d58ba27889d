"""The double-counting invariant checker (D4), over plain histories.

Input is plain data, not model objects, because the same checker judges
histories observed from third-party registries: a list of actions in the form
:meth:`ActionRecord.to_plain` produces (``action_id``, ``at``, ``action``,
``accepted``, ``effects``), and optionally the registry's reported current
state (``{"accounts": [...], "bundles": [...]}`` as ``export_state`` writes
it). Rejected actions are skipped; malformed entries are findings, never
crashes, and never a silent pass: an entry the checker cannot interpret is a
MALFORMED_HISTORY finding, whatever else it might have hidden.

Each finding names the D4 risk it evidences:

1. DOUBLE_ISSUANCE      more certificates than recognised production: two
                        issuances for one device and overlapping interval (an
                        upward D10 correction must name what it corrects and be
                        backed by a corrected reading); issued Wh above the
                        production recognised for the device and interval, or
                        for the device in total; recognised Wh above the
                        metered Wh (beyond rounding); production recognised
                        twice; a D10 deduction not backed by a downward
                        correction
2. DOUBLE_IN_TRANSFER   a transfer of a bundle that was not live in the source
                        account, to the source account itself or to an unknown
                        account, or a bundle acted on after it was superseded
3. DOUBLE_REGISTRATION  a certificate ID or bundle ID issued twice (e.g. reused
                        after a withdrawal)
4. DOUBLE_CANCELLATION  cancelling certificates that were no longer live
5. DOUBLE_USE           claiming certificates not cancelled for consumption, or
                        claimed already
6. DOUBLE_DISCLOSURE    a claim by someone other than the beneficiary the
                        certificates were cancelled for, or on certificates
                        cancelled for storage charging

plus VALIDITY (D8: certificates transferred, cancelled, reserved, released or
exported at or after their expiry, expired before it, or left live by an expiry
sweep after it), CONSERVATION (an issuance's certificates are not
exactly partitioned by its current bundles), STATE_MISMATCH (the reported
state disagrees with the history) and MALFORMED_HISTORY.

Production accounting (risk 1). Issuances are attributed to the device and
production interval they name; ``reading`` effects give the Wh recognised for
each (the latest reading of an interval replaces the earlier ones: a D10
correction). SD-GC issuances (named by an ``sd_gc`` effect) are left to the
storage checks. Checked at the end of every action that touches them:

* per device and interval, exactly (all whole Wh): issued - withdrawn <=
  recognised + the D10 deductions recorded when that interval was corrected
  downward (certificates that could no longer be withdrawn);
* per device: issued - withdrawn <= recognised + outstanding deductions (so a
  deduction marked settled must have been taken from a later issuance), where a
  deduction counts only up to the recognised Wh a downward correction removed
  in the same action;
* per device: recognised <= floor(metered + (1 + n) / 2), metered summed over
  the latest reading of each interval and n the number of readings recorded
  without a carried remainder (``carried_wh`` absent or null). A registry that
  rounds each device's running total (carrying the sub-Wh remainder, halves
  up or down) keeps recognised <= round-half-up(metered) exactly; one that
  rounds each reading alone gains at most half a Wh per reading. Per interval
  no sound bound exists: carrying moves up to a Wh between readings, and
  corrections can stack those moves, so the metered comparison is per device
  only.

An issuance needs its reading in the same action or an earlier one. An upward
correction (``corrects_issuance_id``) needs, in the same action, a reading of
the same device and interval that raises the recognised Wh.

Validity (D8) is judged at the action's ``at`` against the issuance's
``expiry`` (the first instant it is no longer valid): accepted actions must be
in time order. Claims are not judged: a claim uses certificates cancelled
while valid. An action named ``expire`` is an expiry sweep: every bundle still
live after it whose validity ended by then is a finding.

The package: ``findings`` (the public report types), ``_plain`` (strict reading of plain
values), ``_records`` (the replay's state records), the replay split by effect family into
mixins (``_core``, ``_issuance``, ``_lineage``, ``_production``, ``_reported``) and
``_replay``, which composes them and holds :func:`check_invariants`.
"""

from __future__ import annotations

# The private names the single module had, still importable from here (nothing outside the
# checker should need them, but a split must not break a caller that reached for one).
from gc_conformance.reference.invariants._plain import _EXACT as _EXACT
from gc_conformance.reference.invariants._plain import _HALF as _HALF
from gc_conformance.reference.invariants._plain import _HOUR as _HOUR
from gc_conformance.reference.invariants._plain import _NEEDS_VALIDITY as _NEEDS_VALIDITY
from gc_conformance.reference.invariants._plain import _PURPOSE as _PURPOSE
from gc_conformance.reference.invariants._plain import _STORAGE_NUMBERS as _STORAGE_NUMBERS
from gc_conformance.reference.invariants._plain import _WIRE as _WIRE
from gc_conformance.reference.invariants._plain import (
    _check_storage_numbers as _check_storage_numbers,
)
from gc_conformance.reference.invariants._plain import _energy as _energy
from gc_conformance.reference.invariants._plain import _fmt as _fmt
from gc_conformance.reference.invariants._plain import _identifier as _identifier
from gc_conformance.reference.invariants._plain import _Malformed as _Malformed
from gc_conformance.reference.invariants._plain import _named as _named
from gc_conformance.reference.invariants._plain import _whole as _whole
from gc_conformance.reference.invariants._records import _NEVER as _NEVER
from gc_conformance.reference.invariants._records import Key as Key
from gc_conformance.reference.invariants._records import _Device as _Device
from gc_conformance.reference.invariants._records import _IntervalIndex as _IntervalIndex
from gc_conformance.reference.invariants._records import _Live as _Live
from gc_conformance.reference.invariants._records import _Production as _Production
from gc_conformance.reference.invariants._records import _Scratch as _Scratch
from gc_conformance.reference.invariants._replay import _EFFECTS as _EFFECTS
from gc_conformance.reference.invariants._replay import _IGNORED as _IGNORED
from gc_conformance.reference.invariants._replay import _check as _check
from gc_conformance.reference.invariants._replay import _Replay as _Replay
from gc_conformance.reference.invariants._replay import check_invariants
from gc_conformance.reference.invariants._reported import _entries as _entries
from gc_conformance.reference.invariants.findings import Finding, InvariantReport, Risk

__all__ = ["Finding", "InvariantReport", "Risk", "check_invariants"]
