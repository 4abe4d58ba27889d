"""``gc-conformance audit``: the double-counting audit of a registry's whole action history.

Facade: :func:`audit` (histories in, :class:`AuditResult` out), :func:`convert` (JSON Lines
to Parquet), :class:`HistoryError` (bad input, exit 2) and :func:`record_schema` (the
published JSON Schema of one history record). Engines: ``duckdb`` (embedded default),
``spark`` (a cluster, or ``local[2]``) and ``python`` (the reference model's checker, the
oracle). See docs/audit.md.
"""

from gc_conformance.audit.engines import ENGINES, AuditResult, audit, finding_key
from gc_conformance.audit.load import HistoryError, convert, record_schema

__all__ = [
    "ENGINES",
    "AuditResult",
    "HistoryError",
    "audit",
    "convert",
    "finding_key",
    "record_schema",
]
