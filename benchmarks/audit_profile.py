"""Where DuckDB's audit time goes: each statement's wall and CPU seconds, its share, and
the process's peak RSS after it (which statement raised the peak).

    python benchmarks/audit_profile.py /tmp/gc-audit-bench/history-1000000.parquet

The machine may be shared: CPU seconds and the shares are steadier than wall time, and
the load average is printed with the figures. Statements under 20 ms are summed, not
listed. (For one statement's plan, prefix it with ``EXPLAIN ANALYZE`` on a connection
where the earlier steps ran.)
"""

from __future__ import annotations

import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gc_conformance.audit import engines, rules


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    path = Path(sys.argv[1])
    names = {sql: name for name, sql in rules.FINDINGS}
    names[rules.PREPARE[-1][1] + " ORDER BY first_aseq"] = "unsupported"
    timings: list[tuple[str, float, float, float]] = []

    def timed(method: str) -> None:
        original: Callable[..., Any] = getattr(engines.DuckRunner, method)

        def wrapper(self: engines.DuckRunner, *args: Any) -> Any:
            wall, cpu = time.perf_counter(), _cpu()
            result = original(self, *args)
            first = args[0] if args else ""
            label = names.get(first, first) if isinstance(first, str) else "load"
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            timings.append(
                (f"{method} {label[:50]}", time.perf_counter() - wall, _cpu() - cpu, peak)
            )
            return result

        setattr(engines.DuckRunner, method, wrapper)

    for method in ("load", "materialise", "append", "count", "fetch", "drop"):
        timed(method)
    wall, cpu = time.perf_counter(), _cpu()
    result = engines.audit([path], "duckdb")
    wall, cpu = time.perf_counter() - wall, _cpu() - cpu
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{result.actions:,} actions, {len(result.findings)} findings ({result.engine_used})")
    print(f"total: wall {wall:.2f} s, CPU {cpu:.2f} s, load {load}")
    small = [0.0, 0.0]
    print(f"  {'statement':60s} {'wall':>6s} {'CPU':>6s}  share  peak RSS after (MiB)")
    for label, w, c, peak in timings:
        if w < float(os.environ.get("GC_PROFILE_SMALL", "0.02")):
            small[0] += w
            small[1] += c
            continue
        print(f"  {label:60s} {w:6.2f} {c:6.2f}  {100 * c / cpu:4.1f}%  {peak:6.0f}")
    print(f"  {'(statements under 20 ms)':60s} {small[0]:6.2f} {small[1]:6.2f}")


if __name__ == "__main__":
    main()
