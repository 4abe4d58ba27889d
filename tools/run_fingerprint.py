"""Fingerprint the run documents of the reference and of every faulty registry.

A refactoring that moves code must not move a verdict. This tool runs the whole suite
(``gc-conformance run --json``) against each built-in adapter and keeps each run document with
the fields that legitimately differ between two runs of the same code removed (wall times,
start and finish instants, the machine description and the integrity digest that covers them).
Run it before a change (``--out before/``) and after (``--out after/``), then
``--compare before/ after/``: every other byte of every run document must be equal.

    python tools/run_fingerprint.py --out DIR [--only reference,faulty:rounds-up] [-j 2]
    python tools/run_fingerprint.py --compare DIR_A DIR_B
"""

from __future__ import annotations

import argparse
import difflib
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from gc_conformance.adapters import builtin_adapters

RUN = (sys.executable, "-m", "gc_conformance", "run", "--quiet")

#: Keys whose values depend on when and where a run happened, never on what the code decided.
VOLATILE_KEYS = frozenset({"duration", "started", "finished", "environment", "integrity"})


def normalised(document: object) -> object:
    """The run document without its volatile keys, at every depth."""
    if isinstance(document, dict):
        return {k: normalised(v) for k, v in document.items() if k not in VOLATILE_KEYS}
    if isinstance(document, list):
        return [normalised(item) for item in document]
    return document


def fingerprint(spec: str, out_dir: Path) -> str:
    """Run the suite against one adapter and write its normalised run document."""
    target = out_dir / f"{spec.replace(':', '_')}.json"
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "run.json"
        completed = subprocess.run(
            [*RUN, "--adapter", spec, "--json", str(raw)],
            capture_output=True,
            text=True,
            check=False,
        )
        if not raw.exists():
            return (
                f"{spec}: no run document (exit {completed.returncode}): {completed.stderr[-400:]}"
            )
        document = normalised(json.loads(raw.read_text()))
    target.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    return f"{spec}: exit {completed.returncode}"


def compare(left: Path, right: Path) -> int:
    """Print every difference between two fingerprint folders; 0 when byte-identical."""
    names = sorted({p.name for p in left.glob("*.json")} | {p.name for p in right.glob("*.json")})
    differing = 0
    for name in names:
        a, b = left / name, right / name
        if not a.exists() or not b.exists():
            print(f"ONLY IN {'right' if not a.exists() else 'left'}: {name}")
            differing += 1
            continue
        if a.read_bytes() == b.read_bytes():
            print(f"same {name}")
            continue
        differing += 1
        print(f"DIFFERENT {name}")
        diff: Iterable[str] = difflib.unified_diff(
            a.read_text().splitlines(), b.read_text().splitlines(), str(a), str(b), lineterm="", n=2
        )
        for line in list(diff)[:80]:
            print("   ", line)
    print(f"{len(names) - differing} of {len(names)} run documents identical")
    return 1 if differing else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="folder to write the fingerprints into")
    parser.add_argument("--only", help="comma-separated adapter specs (default: every built-in)")
    parser.add_argument("-j", type=int, default=2, help="runs in parallel (default 2)")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("LEFT", "RIGHT"))
    args = parser.parse_args(argv)
    if args.compare:
        return compare(*args.compare)
    if args.out is None:
        parser.error("give --out DIR or --compare LEFT RIGHT")
    args.out.mkdir(parents=True, exist_ok=True)
    specs = args.only.split(",") if args.only else [a.name for a in builtin_adapters()]
    with ThreadPoolExecutor(max_workers=max(1, args.j)) as pool:
        for line in pool.map(lambda spec: fingerprint(spec, args.out), specs):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
