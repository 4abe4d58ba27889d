"""The three audit engines: DuckDB (embedded default), Spark (national scale), Python (oracle).

DuckDB and Spark run the same statements (:mod:`.rules`): DuckDB as written, Spark as
transpiled by sqlglot. The Python engine is the reference model's own checker,
:func:`gc_conformance.reference.invariants.check_invariants`, over the original records.

A history that uses what the set-based rules do not model (see ``unsupported`` in
:mod:`.rules`) is handed whole to the Python oracle by the columnar engines, and the
result says so (``engine_used``, ``fallback``): a partial verdict would be a false PASS.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

import attrs
import pyarrow as pa

from gc_conformance.audit import load, rules
from gc_conformance.reference.invariants import Finding, Risk, check_invariants

ENGINES = ("duckdb", "spark", "python")
MAX_LEVELS = 100_000
#: How often the lineage may be resolved again for bundle IDs made twice (then: the oracle)
MAX_LINEAGE_PASSES = 20


@attrs.frozen
class AuditResult:
    findings: tuple[Finding, ...]
    actions: int
    engine: str
    engine_used: str
    fallback: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.findings


def finding_key(finding: Finding) -> tuple[str, str, str]:
    """What the differential tests compare: the risk, the action and the bundle."""
    return (finding.risk.name, repr(finding.action_id), repr(finding.bundle_id))


class _Runner(Protocol):
    def materialise(self, name: str, sql: str) -> None: ...

    def append(self, name: str, sql: str) -> None: ...

    def event_state_parts(self) -> int: ...

    def count(self, name: str) -> int: ...

    def drop(self, name: str) -> None: ...

    def fetch(self, sql: str) -> list[tuple[Any, ...]]: ...


def run_rules(runner: _Runner, progress: Callable[[str], None] | None = None) -> list[Finding]:
    """The rules on a runner where :func:`unsupported` has prepared the shared tables."""
    runner.materialise("known0", rules.KNOWN_NONE)
    refuse = bool(runner.fetch(rules.ANY_TWICE))
    for attempt in range(MAX_LINEAGE_PASSES):
        level = _lineage(runner, f"known{attempt}", refuse, progress)
        if not refuse or not runner.fetch(rules.TWICE_IN_BUNDLES):
            break
        # A split child was created whose ID a deeper level made earlier: what was made
        # before the first such child is settled; the lineage is resolved again knowing it.
        runner.materialise(f"known{attempt + 1}", rules.known_next(f"known{attempt}"))
        _drop_levels(runner, level)
        if progress is not None:
            progress(f"lineage resolved again (pass {attempt + 2}): a bundle ID made twice")
    else:
        raise Unmodelled(_reasons(runner.fetch(rules.LINEAGE_UNRESOLVED)))
    for name, sql in rules.union_steps(level)[1:]:
        if name == "evs":
            _event_state(runner, progress)
        else:
            runner.materialise(name, sql)
    # What only the lineage read goes now: held to the end, these tables took the memory
    # the later sorts needed, and at 10^7 actions DuckDB spilled them to disk instead.
    # (The levels themselves stay: ``bundles`` is a view of them.)
    _drop_levels(runner, level, keep_levels=True)
    for name in [*rules.LINEAGE_ONLY, *(f"known{k}" for k in range(attempt + 1))]:
        runner.drop(name)
    findings: list[tuple[Any, ...]] = []
    for name, sql in rules.FINDINGS:
        if progress is not None:
            progress(f"rule {name}")
        findings.extend(runner.fetch(sql))
    findings.sort(key=lambda f: (f[3] if f[3] is not None else 2**63, f[0], f[2] or 0, f[4]))
    return [
        Finding(Risk[risk], message, action_id, bundle_id)
        for risk, action_id, bundle_id, _, message in findings
    ]


def _lineage(
    runner: _Runner, known: str, refuse: bool, progress: Callable[[str], None] | None
) -> int:
    """The bundle lineage, level by level, then ``bundles``; the number of levels."""
    runner.materialise("lvl0_raw", rules.LEVEL_ZERO)
    level = 0
    while True:
        for name, sql in rules.level_steps(level, known, refuse):
            runner.materialise(name, sql)
        level += 1
        if progress is not None:
            progress(f"lineage level {level} done")
        if level >= MAX_LEVELS or runner.count(f"lvl{level}_raw") == 0:
            break
    name, sql = rules.union_steps(level)[0]
    runner.materialise(name, sql)
    return level


def _event_state(runner: _Runner, progress: Callable[[str], None] | None = None) -> None:
    """``evs``, in as many parts (by bundle) as the runner asks for: one window over every
    event and bundle spilled at 10^7 actions, where parts that each fit in memory did not
    (28 s against 17 s, under a 1000MB limit). A bundle's rows are all in one part."""
    parts = runner.event_state_parts()
    for part in range(parts):
        sql = rules.event_state("bundles", part, parts)
        if part == 0:
            runner.materialise("evs", sql)
        else:
            runner.append("evs", sql)
        if progress is not None:
            progress(f"bundle state, part {part + 1} of {parts} done")


def _drop_levels(runner: _Runner, levels: int, keep_levels: bool = False) -> None:
    for k in range(levels + 1):
        for name in (f"lvl{k}_raw", f"lvl{k}", f"fin{k}", f"dup{k}"):
            if not (keep_levels and name == f"lvl{k}"):
                runner.drop(name)


def unsupported(runner: _Runner) -> list[str]:
    """Build the shared tables (each once: they are the expensive scans) and say what in
    the history the set-based rules do not model."""
    query = ""
    for name, sql in rules.PREPARE:
        if name == "unsupported":
            query = sql
        else:
            runner.materialise(name, sql)
    return _reasons(runner.fetch(query + " ORDER BY first_aseq"))


def _reasons(rows: list[tuple[Any, ...]]) -> list[str]:
    return [f"{reason} ({n}, first at action #{aseq + 1})" for reason, aseq, n in rows]


class Unmodelled(Exception):
    """What the set-based rules found, once the lineage was resolved, that they do not model."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


# --- DuckDB ------------------------------------------------------------------------


#: ``GC_AUDIT_DUCKDB_STORAGE=auto`` (the default) keeps larger histories' tables on disk
ON_DISK_ABOVE = 2_000_000

#: DuckDB's memory limit with the tables in the database file (large histories). The process
#: grows past its limit (Python, Arrow, the sorts' overshoot); at 10^7 actions on the 2-core
#: machine (2026-12-03): 775 MiB peak RSS and 109 s under 600MB, 1.15 GiB and 85 s under
#: 1000MB, 1.44 GiB and 82 s under 1200MB. (With an earlier form of the bundle-event window,
#: whose joins overshot, 1GB once reached 3.0 GiB.) This one keeps well within 2 GiB.
ON_DISK_MEMORY = "1000MB"
#: The limit with the tables in memory (up to ON_DISK_ABOVE actions): there the tables count
#: against the limit, and under 600MB they left the sorts no room, so the bundle-state window
#: spilled (10^6 actions, idle machine: 6.7-8.1 s wall under 600MB, 5.0-5.9 s under 1500MB,
#: peak RSS 700 against 930-960 MiB).
IN_MEMORY_MEMORY = "1500MB"

#: Events and bundles per part of the bundle-event window (:func:`_event_state`): a part
#: this size sorts within the memory limit. Each part scans the events and bundles again,
#: so the parts are capped: past the cap, parts grow (and spill) instead.
EVENT_STATE_ROWS = 2_000_000
MAX_EVENT_STATE_PARTS = 16


class DuckRunner:
    def __init__(self, memory_limit: str | None = None) -> None:
        import duckdb

        self.tmp = tempfile.TemporaryDirectory(prefix="gc-audit-duckdb-")
        # Where the intermediate tables live: in memory (temp tables), or in a compressed
        # database file (buffer-managed). Large histories go to the file: in memory,
        # uncompressed, the tables took the memory limit's room from the sorts, which then
        # spilled (10^7 actions: 210 CPU-s in memory, 154 in the file); small ones stay in
        # memory, where they fit (10^6: 11.3 CPU-s against 14.4). ``auto`` picks by size.
        self.storage = os.environ.get("GC_AUDIT_DUCKDB_STORAGE", "auto")
        self.on_disk = self.storage == "disk"
        self.con = duckdb.connect(f"{self.tmp.name}/audit.duckdb")
        self.con.execute("SET preserve_insertion_order = false")
        # The memory limit depends on where the tables live, so it is set once the size is
        # known (load). An explicit limit (argument or GC_AUDIT_DUCKDB_MEMORY) holds for both.
        self.memory_limit = memory_limit or os.environ.get("GC_AUDIT_DUCKDB_MEMORY")
        self.con.execute(f"SET memory_limit = '{self.memory_limit or ON_DISK_MEMORY}'")
        self.con.execute(f"SET temp_directory = '{self.tmp.name}/spill'")

    def load(self, paths: list[Path], progress: Callable[[str], None] | None) -> int:
        if all(load.is_parquet(p) for p in paths) and len(paths) == 1:
            load.parquet_tables(paths)  # the columns are checked
            path = str(paths[0]).replace("'", "''")
            self.con.execute(f"CREATE VIEW rows AS SELECT * FROM read_parquet('{path}')")
        else:
            table = load.read_table(paths, progress)
            self.con.register("rows_arrow", table)
            self.con.execute("CREATE VIEW rows AS SELECT * FROM rows_arrow")
        row = self.con.execute("SELECT COUNT(DISTINCT aseq) FROM rows").fetchone()
        actions = int(row[0]) if row else 0
        if self.storage == "auto":
            self.on_disk = actions > ON_DISK_ABOVE
        if self.memory_limit is None and not self.on_disk:
            self.con.execute(f"SET memory_limit = '{IN_MEMORY_MEMORY}'")
        if not self.on_disk:
            # Nothing here outlives the audit, so nothing is worth a checkpoint; DuckDB still
            # ran one partway (10^6 actions: 0.6-0.8 s of one core, a tenth of the audit).
            self.con.execute("SET checkpoint_threshold = '1TB'")
        return actions

    def materialise(self, name: str, sql: str) -> None:
        if name in rules.VIEWS:
            self.con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")
        else:
            temp = "" if self.on_disk else "TEMP "
            self.con.execute(f"CREATE OR REPLACE {temp}TABLE {name} AS {sql}")

    def append(self, name: str, sql: str) -> None:
        self.con.execute(f"INSERT INTO {name} {sql}")

    def event_state_parts(self) -> int:
        rows = self.count("bev") + self.count("bundles")
        return min(MAX_EVENT_STATE_PARTS, max(1, -(-rows // EVENT_STATE_ROWS)))

    def count(self, name: str) -> int:
        row = self.con.execute(f"SELECT COUNT(*) FROM {name}").fetchone()
        return int(row[0]) if row else 0

    def drop(self, name: str) -> None:
        kind = "VIEW" if name in rules.VIEWS else "TABLE"
        self.con.execute(f"DROP {kind} IF EXISTS {name}")

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.con.execute(sql).fetchall()]

    def close(self) -> None:
        self.con.close()
        self.tmp.cleanup()


# --- Spark -------------------------------------------------------------------------


def spark_sql(sql: str) -> str:
    """One rule, from the DuckDB dialect it is written in to Spark SQL (sqlglot)."""
    import sqlglot

    return str(sqlglot.transpile(sql, read="duckdb", write="spark")[0])


class SparkRunner:
    def __init__(self, master: str | None = None) -> None:
        from pyspark.sql import SparkSession

        builder = (
            SparkSession.builder.appName("gc-conformance-audit")
            .master(master or os.environ.get("GC_AUDIT_SPARK_MASTER", "local[2]"))
            .config(
                "spark.sql.shuffle.partitions", os.environ.get("GC_AUDIT_SPARK_PARTITIONS", "8")
            )
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.ansi.enabled", "false")
            .config("spark.driver.memory", os.environ.get("GC_AUDIT_SPARK_DRIVER_MEMORY", "2g"))
        )
        self.spark = builder.getOrCreate()
        self.spark.sparkContext.setLogLevel("ERROR")
        self.tmp: tempfile.TemporaryDirectory[str] | None = None
        self.steps = 0
        self.targets: dict[str, str] = {}  # where each table's Parquet is
        shared = os.environ.get("GC_AUDIT_SPARK_WORKDIR")  # on a cluster: storage every node reads
        if shared:
            self.workdir = f"{shared.rstrip('/')}/gc-audit-{os.getpid()}-{int(time.time())}"
        else:
            self.tmp = tempfile.TemporaryDirectory(prefix="gc-audit-spark-")
            self.workdir = self.tmp.name

    def load(self, paths: list[Path], progress: Callable[[str], None] | None) -> int:
        if len(paths) == 1 and load.is_parquet(paths[0]):
            load.parquet_tables(paths)
            source = str(paths[0])
        else:
            import pyarrow.parquet as pq

            source = f"{self.workdir}/rows.parquet"
            pq.write_table(load.read_table(paths, progress), source)
        frame = self.spark.read.parquet(source)
        frame.createOrReplaceTempView("rows")
        return int(frame.select("aseq").distinct().count())

    def materialise(self, name: str, sql: str) -> None:
        """Each step is written as Parquet and read back: the next step's plan starts there.

        (Caching would keep every earlier step's plan inside the next one, and the lineage
        levels reference each other, so plans would grow exponentially with the depth.)
        """
        if name in rules.VIEWS:
            self.spark.sql(spark_sql(sql)).createOrReplaceTempView(name)
            return
        self.steps += 1
        target = f"{self.workdir}/{self.steps:04d}-{name}"
        self.targets[name] = target
        self.spark.sql(spark_sql(sql)).write.mode("overwrite").parquet(target)
        self.spark.read.parquet(target).createOrReplaceTempView(name)

    def append(self, name: str, sql: str) -> None:
        self.spark.sql(spark_sql(sql)).write.mode("append").parquet(self.targets[name])
        self.spark.read.parquet(self.targets[name]).createOrReplaceTempView(name)

    def event_state_parts(self) -> int:
        return 1  # Spark partitions (and spills) a window itself

    def count(self, name: str) -> int:
        return int(self.spark.table(name).count())

    def drop(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.spark.sql(spark_sql(sql)).collect()]

    def close(self) -> None:
        if self.tmp is not None:
            self.tmp.cleanup()


# --- the facade --------------------------------------------------------------------


def run_python(paths: list[Path], state: Any = None) -> tuple[list[Finding], int]:
    counted = [0]

    def records() -> Iterable[Any]:
        for record in load.raw_records(paths):
            counted[0] += 1
            yield record

    report = check_invariants(records(), state)
    return list(report.findings), counted[0]


def audit(
    paths: list[Path],
    engine: str = "duckdb",
    state: Any = None,
    spark_master: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> AuditResult:
    """Audit the histories (in order, as one) with ``engine``; ``state`` is a reported state."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r} (one of {', '.join(ENGINES)})")
    started = time.perf_counter()
    if engine == "python":
        # The oracle reads exactly what the others read: validate every record first.
        for _ in load.jsonl_batches([p for p in paths if not load.is_parquet(p)], progress):
            pass
        if progress is not None:
            progress("checking with the Python oracle")
        findings, actions = run_python(paths, state)
        return AuditResult(
            tuple(findings), actions, engine, "python", (), time.perf_counter() - started
        )
    runner: DuckRunner | SparkRunner = (
        DuckRunner() if engine == "duckdb" else SparkRunner(spark_master)
    )
    found: list[Finding] = []
    try:
        actions = runner.load(paths, progress)
        reasons = unsupported(runner)
        if state is not None:
            reasons.append("a reported state to compare (--state)")
        if not reasons:
            try:
                found = run_rules(runner, progress)
            except Unmodelled as exc:  # seen only once the lineage is resolved
                reasons = exc.reasons
    finally:
        runner.close()
    if reasons:
        if progress is not None:
            progress("handing the history to the Python oracle: " + "; ".join(reasons))
        findings, _ = run_python(paths, state)
        return AuditResult(
            tuple(findings),
            actions,
            engine,
            "python",
            tuple(reasons),
            time.perf_counter() - started,
        )
    return AuditResult(tuple(found), actions, engine, engine, (), time.perf_counter() - started)


def empty_table() -> pa.Table:
    return load.ARROW_SCHEMA.empty_table()
