"""Benchmark of `gc-conformance audit`: every engine side by side on generated histories.

    python benchmarks/audit_run.py --json benchmarks/audit_results.json
    python benchmarks/audit_run.py --sizes 100000 --engines duckdb,python --json out.json

For each size, a history with every kind of injected fault is generated straight into an
audit Parquet file (the generator of tests/audit/histories.py; sizes above ``--block`` are
copies of a generated block, shifted apart, written by DuckDB), then each engine audits
it in its own process (so peak RSS is that engine's alone): seconds, peak RSS, actions/s,
and a digest of the findings, which must be identical across engines. Targets (issue 17):
DuckDB >= 10x Python at 10^6 with identical findings; 10^7 in <= 120 s and <= 2 GiB with
DuckDB from Parquet; cost per action flat (<= 1.5x) from 10^5 to 10^7.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "audit"))


def _generate(path: Path, actions: int, seed: int) -> dict[str, Any]:
    """A history of ``actions`` from the Python generator, written as audit Parquet."""
    import pyarrow.parquet as pq
    from histories import FAULTS, generate

    from gc_conformance.audit import load

    started = time.perf_counter()
    flat = load.Flattener()
    writer = pq.ParquetWriter(path, load.ARROW_SCHEMA, compression="zstd")
    faults = list(FAULTS) * max(1, actions // 100_000)
    for record in generate(actions, seed=seed, faults=faults, close=True):
        flat.add(record, json.dumps(record, separators=(",", ":")))
        if len(flat) >= load.BATCH:
            writer.write_batch(flat.take())
    if len(flat):
        writer.write_batch(flat.take())
    writer.close()
    return {
        "generate_seconds": round(time.perf_counter() - started, 1),
        "actions": flat.aseq,
        "faults": len(faults),
        "parquet_mib": round(path.stat().st_size / 2**20, 1),
    }


# How each column of copy ``k`` of a block is shifted: in time by ``k`` spans (the texts
# re-derived from the seconds), in IDs, action order and certificate IDs by ``k`` blocks;
# devices are renamed per copy. Accounts are shared (opened again by every copy, which
# the audit allows). The original record (``raw``) is kept for copy 0 only: the Python
# engine refuses such a file rather than audit part of it (``load.raw_records``).
_SHIFTS = {
    "seq": "seq + k * {rows}",
    "aseq": "aseq + k * {actions}",
    "eid": "eid + k * {effects}",
    "action_id": "action_id + k * {action_ids}",
    "issuance_id": "issuance_id + k * {ids}",
    "bundle_id": "bundle_id + k * {ids}",
    "parent_id": "parent_id + k * {ids}",
    "corrects": "corrects + k * {ids}",
    "range_start": "range_start + k * {certs}",
    "range_end": "range_end + k * {certs}",
    "device_id": "device_id || '.' || CAST(k AS VARCHAR)",
    "raw": "CAST(NULL AS VARCHAR)",
}
_INSTANTS = {
    "at_text": "at_s",
    "p_start": "p_start_s",
    "p_end": "p_end_s",
    "expiry": "expiry_s",
    "own_from": "own_from_s",
    "cons_start": "cons_start_s",
    "cons_end": "cons_end_s",
}


def _tile(block: Path, path: Path, copies: int) -> dict[str, Any]:
    """``copies`` of a closed generated history, one after another, as one history.

    The Python generator writes about 15,000 actions a second; this writes a million in a
    few seconds, with the same density of injected faults. Each copy is the block shifted
    past the previous one in time, IDs and certificate IDs, so copies never act on one
    another and the audit must find exactly ``copies`` times the block's findings.
    """
    import duckdb
    import pyarrow.parquet as pq

    from gc_conformance.audit import load

    started = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET memory_limit = '2GB'")
    source = f"read_parquet('{block}')"
    row = con.execute(
        "SELECT MAX(seq) + 1, MAX(aseq) + 1, MAX(eid) + 1, MAX(action_id), "
        "GREATEST(MAX(issuance_id), MAX(bundle_id), MAX(parent_id), MAX(corrects)) + 1, "
        "MAX(range_end) + 1, MIN(at_s), GREATEST(MAX(at_s), MAX(p_end_s), MAX(expiry_s), "
        f"MAX(own_from_s), MAX(cons_end_s)) FROM {source}"
    ).fetchall()[0]
    rows, actions, effects, action_ids, ids, certs, first, last = row
    day = 86_400
    span = ((last - first) // day + 2) * day  # whole days: hours stay aligned
    sizes = {
        "rows": rows,
        "actions": actions,
        "effects": effects,
        "action_ids": action_ids,
        "ids": ids,
        "certs": certs,
    }
    columns = []
    for name in load.COLUMNS:
        if name in _INSTANTS:
            seconds = f"({_INSTANTS[name]} + k * {span})"
            expr = f"strftime(make_timestamp({seconds} * 1000000), '%Y-%m-%dT%H:%M:%SZ')"
        elif name in _INSTANTS.values():
            expr = f"{name} + k * {span}"
        else:
            expr = _SHIFTS.get(name, name).format(**sizes)
        columns.append(f"{expr} AS {name}")
    select = ", ".join(columns)
    writer = pq.ParquetWriter(path, load.ARROW_SCHEMA, compression="zstd")
    try:
        writer.write_table(pq.read_table(block), row_group_size=load.BATCH)
        for k in range(1, copies):
            table = con.sql(
                f"SELECT {select} FROM {source}, (SELECT CAST({k} AS BIGINT) AS k) ORDER BY seq"
            )
            writer.write_table(
                table.to_arrow_table().cast(load.ARROW_SCHEMA), row_group_size=load.BATCH
            )
    finally:
        writer.close()
    return {
        "tile_seconds": round(time.perf_counter() - started, 1),
        "actions": actions * copies,
        "parquet_mib": round(path.stat().st_size / 2**20, 1),
    }


def _history(path: Path, size: int, block: int, workdir: Path) -> dict[str, Any]:
    """Sizes up to ``block`` come from the generator; larger ones are copies of a block."""
    if size <= block:
        return _generate(path, size, seed=size % 97)
    copies = -(-size // block)
    block_path = workdir / f"block-{block}.parquet"
    block_info = workdir / f"block-{block}.json"
    if not block_path.exists() and (workdir / f"history-{block}.parquet").exists():
        # the history of that size from this run (--reuse keeps it): the same generator
        # and seed, so no need to write it twice
        block_path = workdir / f"history-{block}.parquet"
        block_info = workdir / f"history-{block}.json"
    if block_path.exists() and block_info.exists():
        generated = json.loads(block_info.read_text())
    else:
        print(f"  generating the {block:,}-action block ...", file=sys.stderr, flush=True)
        generated = _generate(block_path, block, seed=block % 97)
        block_info.write_text(json.dumps(generated))
    tiled = _tile(block_path, path, copies)
    return {
        **tiled,
        "tiled_from": {"block_size": block, "copies": copies, **generated},
        "faults": generated["faults"] * copies,
        "generate_seconds": round(generated["generate_seconds"] + tiled["tile_seconds"], 1),
    }


def _child(engine: str, path: str) -> None:
    from gc_conformance.audit import audit

    started = time.perf_counter()
    result = audit([Path(path)], engine)
    seconds = time.perf_counter() - started
    keys = sorted(
        (f.risk.name, repr(f.action_id), repr(f.bundle_id), f.message) for f in result.findings
    )
    digest = hashlib.sha256(json.dumps(keys).encode()).hexdigest()[:16]
    risks: dict[str, int] = {}
    for f in result.findings:
        risks[f.risk.name] = risks.get(f.risk.name, 0) + 1
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak = usage.ru_maxrss / 1024  # KiB on Linux
    print(
        json.dumps(
            {
                "engine": engine,
                "engine_used": result.engine_used,
                "actions": result.actions,
                "seconds": round(seconds, 2),
                "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
                "us_per_action": round(seconds / result.actions * 1e6, 2)
                if result.actions
                else None,
                "peak_rss_mib": round(peak, 1),
                "actions_per_second": round(result.actions / seconds) if seconds else None,
                "findings": len(result.findings),
                "by_risk": risks,
                "digest": digest,
            }
        )
    )


def _load() -> str:
    """The machine's load averages (1, 5, 15 min): the machine may be shared."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _run_engine(engine: str, path: Path, timeout: float) -> dict[str, Any]:
    load_before = _load()
    try:
        done = subprocess.run(
            [sys.executable, __file__, "--child", engine, str(path)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"engine": engine, "skipped": f"over the {timeout:.0f} s budget"}
    if done.returncode != 0:
        return {"engine": engine, "error": done.stderr.strip().splitlines()[-1:]}
    data: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    data["load_before"] = load_before
    data["load_after"] = _load()
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--sizes", default="100000,1000000,10000000")
    parser.add_argument("--engines", default="duckdb,python,spark")
    parser.add_argument("--python-max", type=int, default=1_000_000, help="largest size for python")
    parser.add_argument("--spark-max", type=int, default=1_000_000, help="largest size for spark")
    parser.add_argument("--timeout", type=float, default=1800, help="per engine run, seconds")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/gc-audit-bench"))
    parser.add_argument(
        "--block",
        type=int,
        default=1_000_000,
        help="larger sizes are copies of a generated history of this many actions",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="audit an existing WORKDIR/history-SIZE.parquet (and keep it) instead of generating",
    )
    parser.add_argument("--child", nargs=2, metavar=("ENGINE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    args.workdir.mkdir(parents=True, exist_ok=True)
    limits = {"python": args.python_max, "spark": args.spark_max}
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "sizes": [],
    }
    for size in (int(float(s)) for s in args.sizes.split(",")):
        path = args.workdir / f"history-{size}.parquet"
        info = args.workdir / f"history-{size}.json"
        if args.reuse and path.exists() and info.exists():
            print(f"reusing {path}", file=sys.stderr, flush=True)
            generated = json.loads(info.read_text())
        else:
            print(f"generating {size:,} actions ...", file=sys.stderr, flush=True)
            generated = _history(path, size, args.block, args.workdir)
            generated["load_after_generating"] = _load()
            info.write_text(json.dumps(generated))
        row: dict[str, Any] = {"size": size, **generated}
        runs = []
        for engine in args.engines.split(","):
            if size > limits.get(engine, size):
                runs.append({"engine": engine, "skipped": f"above --{engine}-max"})
                continue
            if engine == "python" and "tiled_from" in generated:
                runs.append({"engine": engine, "skipped": "copies keep no original records"})
                continue
            print(f"  {engine} ...", file=sys.stderr, flush=True)
            runs.append(_run_engine(engine, path, args.timeout))
            print(f"    {runs[-1]}", file=sys.stderr, flush=True)
        digests = {r["digest"] for r in runs if "digest" in r}
        row["runs"] = runs
        row["identical_findings"] = len(digests) == 1 if digests else None
        tiled = generated.get("tiled_from")
        if tiled is not None:
            # The Python engine cannot read the copies (only the block keeps its original
            # records); the check at this size is that every engine finds, risk by risk,
            # exactly ``copies`` times what the block's own audit found.
            block_runs = [r for r in results["sizes"] if r["size"] == tiled["block_size"]]
            block_risks = [r["by_risk"] for b in block_runs for r in b["runs"] if "by_risk" in r]
            if block_risks:
                expected = {k: v * tiled["copies"] for k, v in block_risks[0].items()}
                row["expected_by_risk"] = expected
                row["findings_as_expected"] = all(
                    r["by_risk"] == expected for r in runs if "by_risk" in r
                )
        timed = {r["engine"]: r["seconds"] for r in runs if "seconds" in r}
        if "duckdb" in timed and "python" in timed:
            row["duckdb_speedup_over_python"] = round(timed["python"] / timed["duckdb"], 1)
        results["sizes"].append(row)
        if not args.reuse:
            path.unlink(missing_ok=True)
            info.unlink(missing_ok=True)
            for name in (f"block-{args.block}.parquet", f"block-{args.block}.json"):
                if size > args.block:
                    (args.workdir / name).unlink(missing_ok=True)
        if args.json:
            args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
