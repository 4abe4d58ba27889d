"""Benchmark of `gc-conformance audit`: every engine side by side on generated histories.

    python benchmarks/audit_run.py --json benchmarks/audit_results.json
    python benchmarks/audit_run.py --sizes 100000 --engines duckdb,python --json out.json

For each size, a history with every kind of injected fault is generated straight into an
audit Parquet file (the generator of tests/audit/histories.py), then each engine audits
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
    import pyarrow.parquet as pq
    from histories import FAULTS, generate

    from gc_conformance.audit import load

    started = time.perf_counter()
    flat = load.Flattener()
    writer = pq.ParquetWriter(path, load.ARROW_SCHEMA, compression="zstd")
    faults = list(FAULTS) * max(1, actions // 100_000)
    for record in generate(actions, seed=seed, faults=faults):
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
            generated = _generate(path, size, seed=size % 97)
            generated["load_after_generating"] = _load()
            info.write_text(json.dumps(generated))
        row: dict[str, Any] = {"size": size, **generated}
        runs = []
        for engine in args.engines.split(","):
            if size > limits.get(engine, size):
                runs.append({"engine": engine, "skipped": f"above --{engine}-max"})
                continue
            print(f"  {engine} ...", file=sys.stderr, flush=True)
            runs.append(_run_engine(engine, path, args.timeout))
            print(f"    {runs[-1]}", file=sys.stderr, flush=True)
        digests = {r["digest"] for r in runs if "digest" in r}
        row["runs"] = runs
        row["identical_findings"] = len(digests) == 1 if digests else None
        timed = {r["engine"]: r["seconds"] for r in runs if "seconds" in r}
        if "duckdb" in timed and "python" in timed:
            row["duckdb_speedup_over_python"] = round(timed["python"] / timed["duckdb"], 1)
        results["sizes"].append(row)
        if not args.reuse:
            path.unlink(missing_ok=True)
            info.unlink(missing_ok=True)
        if args.json:
            args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
