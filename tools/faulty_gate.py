"""CI gate: the suite must fail every built-in faulty registry, through the real CLI.

For each ``faulty:NAME`` adapter, ``gc-conformance run`` must exit 1 (a SHALL
check failed) and at least one failing check must verify a requirement the
fault documents as broken (caught for the right reason). A fault that breaks
only SHOULD requirements must be caught the same way, by a failed check of one
of them, while the run exits 0: a missed recommendation is no SHALL failure. The reference itself
must exit 0. Prints one line per registry; exits 1 if any is missed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from gc_conformance.adapters import builtin_adapters


def run(spec: str, out: Path) -> tuple[int, dict[str, object]]:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "gc_conformance",
            "run",
            "--quiet",
            "--adapter",
            spec,
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    document = json.loads(out.read_text()) if out.exists() else {}
    return completed.returncode, document


def main() -> int:
    missed = []
    with tempfile.TemporaryDirectory() as tmp:
        for adapter in builtin_adapters():
            out = Path(tmp) / f"{adapter.name.replace(':', '_')}.json"
            code, document = run(adapter.name, out)
            checks = document.get("checks", [])
            assert isinstance(checks, list)
            if adapter.name == "reference":
                ok = code == 0
                detail = f"exit {code}"
            else:
                failing = [c for c in checks if c["status"] == "fail"]
                right_reason = [
                    c["id"] for c in failing if set(c["requirements"]) & set(adapter.breaks)
                ]
                # A fault that breaks only recommendations (SHOULD) is caught by a failed
                # check of one of them, and the run still passes: no SHALL was broken.
                levels = {r["id"]: r.get("level") for r in document.get("requirements", ())}
                should_only = all(levels.get(r) == "SHOULD" for r in adapter.breaks)
                ok = code == (0 if should_only else 1) and bool(right_reason)
                detail = f"exit {code}; caught by {', '.join(right_reason) or 'nothing for the documented reason'}"
            print(f"{'ok ' if ok else 'MISSED'} {adapter.name}: {detail}")
            if not ok:
                missed.append(adapter.name)
    if missed:
        print(f"not caught: {', '.join(missed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
