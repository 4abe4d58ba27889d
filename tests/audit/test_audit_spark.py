"""The Spark engine (local[2]) gives the oracle's findings. The Spark run is slow (JVM
start): select it with `-m spark`, leave it out with `-m "not spark"`.

Needs pyspark (the `spark` extra) and Java 17 (`java` on the PATH or JAVA_HOME).
"""

from __future__ import annotations

import shutil
import sys
from collections import Counter
from pathlib import Path

import pytest

from gc_conformance.audit import audit, convert
from gc_conformance.audit.engines import spark_sql
from gc_conformance.audit.rules import (
    FINDINGS,
    KNOWN_NONE,
    LINEAGE_UNRESOLVED,
    PREPARE,
    TWICE_IN_BUNDLES,
    known_next,
    level_steps,
    union_steps,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from histories import FAULTS, generate, lineage_history, reuse_child_ids, write_jsonl


def test_every_rule_transpiles_to_spark_sql() -> None:
    """The one definition of each rule has a Spark form (no Spark needed to check this)."""
    extra = [KNOWN_NONE, TWICE_IN_BUNDLES, LINEAGE_UNRESOLVED, known_next("known0")]
    for sql in [
        *(sql for _, sql in [*PREPARE, *level_steps(0), *union_steps(1), *FINDINGS]),
        *extra,
    ]:
        assert spark_sql(sql).strip()


@pytest.mark.spark
@pytest.mark.skipif(shutil.which("java") is None, reason="no Java (Debian openjdk-17-jre-headless)")
def test_spark_local_finds_what_the_oracle_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pyspark")
    from gc_conformance.audit import engines

    # Spark windows in one part; in three here, so that appending a part is held too
    monkeypatch.setattr(engines.SparkRunner, "event_state_parts", lambda self: 3)
    path = tmp_path / "history.jsonl"
    write_jsonl(path, generate(300, seed=5, faults=list(FAULTS)))
    parquet = tmp_path / "history.parquet"
    convert([path], parquet)
    spark = audit([parquet], "spark")
    assert spark.engine_used == "spark", spark.fallback
    oracle = audit([path], "python")

    def plain(result: object) -> Counter[tuple[str, str, str, str]]:
        return Counter(
            (f.risk.name, repr(f.action_id), repr(f.bundle_id), f.message)
            for f in result.findings  # type: ignore[attr-defined]
        )

    assert plain(spark) == plain(oracle)
    assert {f.risk.name for f in oracle.findings} >= set(FAULTS.values())
    # Bundle IDs created twice by splits: refused children, and a lineage resolved again
    records = list(generate(600, seed=31, close=True))
    assert reuse_child_ids(records, 2) >= 4
    splits = [(1, [2, 3]), (2, [4, 5]), (100, [5, 6]), (4, [8, 9]), (6, [8, 10])]
    for n, history in enumerate([records, lineage_history(splits)]):
        path = tmp_path / f"reused-{n}.jsonl"
        write_jsonl(path, history)
        spark = audit([path], "spark")
        assert spark.engine_used == "spark", spark.fallback
        assert plain(spark) == plain(audit([path], "python"))
