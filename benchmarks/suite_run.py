"""Benchmark: wall time of the full default conformance run against the reference.

Usage::

    python benchmarks/suite_run.py [--json PATH] [--workers N] [--deep N]

Each configuration runs ``gc-conformance run --adapter reference`` in a fresh
subprocess (so imports and Hypothesis start-up are counted, as a user sees
them) and reports the wall time. Target: <= 60 s on this 2-core machine. It is
a benchmark, never a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def timed_run(extra: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run.json"
        command = [
            sys.executable,
            "-m",
            "gc_conformance",
            "run",
            "--adapter",
            "reference",
            "--quiet",
            "--json",
            str(out),
        ]
        began = time.perf_counter()
        completed = subprocess.run([*command, *extra], capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - began
        document = json.loads(out.read_text()) if out.exists() else {"summary": {}, "checks": []}
    return {
        "operation": "suite_run" + ("".join(f" {x}" for x in extra) if extra else ""),
        "size": len(document["checks"]),
        "seconds_per_op": round(seconds, 2),
        "exit_code": completed.returncode,
        "verdict": document["summary"].get("verdict"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="PATH")
    parser.add_argument(
        "--workers", default="2", help="also time a run with -n WORKERS ('' to skip)"
    )
    parser.add_argument(
        "--deep",
        type=int,
        default=1000,
        help="also time a run with --max-examples DEEP (0 to skip): depth traded for time",
    )
    args = parser.parse_args(argv)
    results = [timed_run([])]
    if args.workers:
        results.append(timed_run(["-n", args.workers]))
    if args.deep:
        results.append(timed_run(["--max-examples", str(args.deep)]))
    for row in results:
        print(
            f"{row['operation']:24s} {row['size']:4d} checks  {row['seconds_per_op']:7.2f} s  "
            f"exit {row['exit_code']} ({row['verdict']})"
        )
    if args.json:
        Path(args.json).write_text(json.dumps({"results": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
