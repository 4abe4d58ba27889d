"""The reference GC registry: the certificate lifecycle of D3-D10, executable.

How a request is handled, and why:

1. ``execute(command, now)`` is the only entry for changes. It refuses a
   ``now`` earlier than the last recorded action (the log is append-only and
   time-ordered), then *decides* the request: parses every field, checks
   existence, authority, state and quantities, and plans the effects
   (:mod:`.effects`) without touching any state.
2. If anything is wrong the request is answered with a :class:`Rejected`
   naming the code and the field; the state is exactly as before (the
   rejection itself is logged, as D8 record keeping expects).
3. Otherwise the effects are applied by ``_apply``, the one place state
   changes, which re-checks the local invariants each effect must keep (a
   split partitions its parent exactly, a transfer leaves the account the
   bundle was in, ...). A violation there is a bug in this oracle and raises
   :class:`ModelInvariantBroken` rather than produce a verdict.

Checks run in a fixed order so that a request with several faults always gets
the same code: field syntax; the actor's role (issuer-only requests); existence
of what is named; ownership; state and validity; quantities.

The registry keeps indices (by account, issuance, device, ID range, expiry)
so that every operation costs the same at 10^3 or 10^6 bundles. Records are
frozen; the containers are private and change only in ``_apply``.

Memory (a registry of millions of bundles stays small and cheap for the garbage
collector): the action log is kept in columns (commands, instants, the effects
in one flat list) and its :class:`ActionRecord` objects are built when read;
the production held for a reading is the ``ReadingRecognised`` effect that
recognised it (a :class:`ProductionRecord` is built when read); an index entry
that names one bundle or issuance holds the ID itself, not a one-element set
or list.

The registry is a package, one concept per module: ``_state`` (what a
registry holds), ``_api`` (execute, prepare/commit, reads), ``_log`` (the
column log), ``_guards`` (the guard API the books decide with), ``_checks``
(checks the deciders share), ``_registration``, ``_issuance``, ``_lifecycle``
and ``_correction`` (the deciders), ``_queries``, ``_apply`` (the one place
state changes), and ``_contract``/``_values``/``_plain`` (the book contract,
record helpers and plain-data views). :class:`Registry` (``_core``) is the
composition of their mixins; a subclass overriding a private helper (a faulty
registry) reaches every caller of it through the MRO, as before.
"""

from __future__ import annotations

from gc_conformance.reference.registry._contract import (
    Book,
    BookFactory,
    Decider,
    Decision,
    Refusal,
)
from gc_conformance.reference.registry._core import Registry
from gc_conformance.reference.registry._plain import bundle_to_plain, issuance_to_plain

__all__ = [
    "Book",
    "BookFactory",
    "Decider",
    "Decision",
    "Refusal",
    "Registry",
    "bundle_to_plain",
    "issuance_to_plain",
]
