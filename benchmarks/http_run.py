"""Suite wall time over HTTP against ``serve`` vs in process, and the requests per second.

    python benchmarks/http_run.py [--repeat N] [--json PATH]

The in-process figure is ``gc-conformance run --adapter reference``; the HTTP
figure is ``gc-conformance run --adapter http://...`` against the served
reference registry (test mode), client and server in separate processes as a
vendor would run them. The server here runs on uvicorn in this process behind
a counting ASGI wrapper, so the request count is the server's, not an
estimate. Each figure is the best of ``--repeat`` runs. Never part of the
test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

from gc_conformance.server import ServerConfig, create_app
from gc_conformance.server.serve import bind

TOKEN = "benchmark-admin-token-0123456789"


class Counting:
    """An ASGI wrapper counting HTTP requests."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.count = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.count += 1
        await self.app(scope, receive, send)


def run_suite(adapter: str) -> tuple[float, dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run.json"
        env = {**os.environ, "GC_HTTP_TOKEN": TOKEN}
        started = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "gc_conformance",
                "run",
                "--adapter",
                adapter,
                "--json",
                str(out),
                "--quiet",
            ],
            capture_output=True,
            text=True,
            env=env,
        )
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"{adapter}: exit {done.returncode}\n{done.stdout}{done.stderr}")
        return elapsed, json.loads(out.read_text())["summary"]["counts"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    app = Counting(create_app(ServerConfig(admin_token=TOKEN, test_mode=True)))
    sock = bind("127.0.0.1", 0)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)

    in_process: list[float] = []
    over_http: list[float] = []
    requests: list[int] = []
    for _ in range(args.repeat):
        seconds, ref_counts = run_suite("reference")
        in_process.append(seconds)
        before = app.count
        seconds, http_counts = run_suite(url)
        over_http.append(seconds)
        requests.append(app.count - before)
        if http_counts != ref_counts:
            raise SystemExit(f"verdicts differ: http {http_counts} vs reference {ref_counts}")
    server.should_exit = True
    thread.join(timeout=10)

    best_http = min(over_http)
    figures = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "checks": http_counts,
        "in_process_s": round(min(in_process), 2),
        "over_http_s": round(best_http, 2),
        "slowdown": round(best_http / min(in_process), 1),
        "http_requests": requests[over_http.index(best_http)],
        "requests_per_s": round(requests[over_http.index(best_http)] / best_http),
    }
    print(
        f"suite in process {figures['in_process_s']} s; over HTTP {figures['over_http_s']} s "
        f"({figures['slowdown']}x); {figures['http_requests']} requests, "
        f"{figures['requests_per_s']} requests/s (python {figures['python']}, {figures['cpus']} cpus)"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
