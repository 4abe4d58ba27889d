"""Benchmark harness for the reference registry (never part of the test suite).

Usage::

    python benchmarks/run.py [--quick] [--storage-only] --json PATH

Method: for each registry size N (bundles), build a registry of N issued
bundles spread over many devices and accounts (so every per-account and
per-device set stays small), then time a fixed batch of K operations of each
kind at that size with ``time.perf_counter`` and report seconds per operation.
The build is never timed. Fixed seed, so runs are comparable. After a build
the registry is ``gc.freeze()``-d, as a long-running registry would be once
loaded: its millions of records leave the cyclic collector's full scans.

Full mode also runs, each in a fresh subprocess so that peak RSS is that run's
own: the end-to-end figure (10^6 bundles issued, each transferred with a split,
the transferred part cancelled; all timed, with the freeze after the issuance)
and the invariant check of a 10^6-action history.

Storage allocation (D7), operations ``storage_allocation_<method>``: a storage
system of N records (N/2 charge records of 1000 Wh, 900 Wh kept at the factor
0.9, then N/2 discharge records of 5-25 Wh, so the pool holds every charge and
grows with N: the case where weighted average used to cost O(pool) per
discharge), then every discharge allocated alone by the system's method, in
time order (under operator's discretion the lists name the oldest charges);
seconds per allocation request, the build not timed. N is 10^3..10^5
(``--quick``: 10^3 and 10^5); sizes under 2 x 10^4 are repeated (up to 10 times)
on the same data and the fastest run counts. ``--storage-only`` runs just these and, if
``--json`` names an existing results file, replaces their rows in it, keeping
the others.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from gc_conformance.reference import (
    Account,
    Cancel,
    Device,
    GrossOrNet,
    Issuer,
    Location,
    OpenAccount,
    Query,
    RegisterDevice,
    Registry,
    SubmitProduction,
    Transfer,
)
from gc_conformance.reference.invariants import check_invariants
from gc_conformance.reference.storage import (
    AllocateStorage,
    AssignUnknownBeneficiary,
    RegisterStorage,
    SetEfficiencyFactor,
    StorageBook,
    SubmitStorageData,
)

ISSUER = "issuer"
SEED = 20240301
BATCH = 2000
CHUNKS = 10  # timed slices per batch; the fastest counts
FULL_SIZES = (10**3, 10**4, 10**5, 10**6)
QUICK_SIZES = (10**3, 10**5)
HOURS_PER_DEVICE = 10  # bundles per device at build time: per-device sets stay small
ENERGY_WH = 1_000
START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
NOW = dt.datetime(2024, 12, 1, tzinfo=dt.UTC)  # after every production hour, before expiry
LOCATION = Location(country="NL", city="Utrecht")

# Storage allocation: records (SCRs + SDRs) per storage system.
STORAGE_FULL_SIZES = (10**3, 10**4, 10**5)
STORAGE_QUICK_SIZES = (10**3, 10**5)
STORAGE_METHODS = ("FIFO", "LIFO", "WEIGHTED_AVERAGE", "OPERATOR_DISCRETION")
STORAGE_CHARGE_WH = 1_000  # every charge; 900 Wh kept at the factor 0.9
STORAGE_DISCHARGE_WH = (5, 25)  # each discharge, uniformly at random
STORAGE_PERIOD = dt.timedelta(minutes=15)
STORAGE_NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)  # after every interval at 10^5 records
STORAGE_REPEAT_RECORDS = 2 * 10**4  # sizes below this are run this // size times,
STORAGE_MAX_REPEATS = 10  # at most this many

# Targets (this 2-core machine).
FLATNESS_MAX = 1.5
E2E_SIZE = 10**6
E2E_MAX_SECONDS = 30.0
E2E_MAX_RSS_MIB = 2048.0
INVARIANT_ACTIONS = 10**6
INVARIANT_MAX_SECONDS = 30.0


# --------------------------------------------------------------------------- building


class World:
    """A registry with ``devices`` devices, each issuing into its own producer account,
    and as many trader accounts; holder of account ``i`` is ``h<i>``."""

    def __init__(self, devices: int) -> None:
        self.registry = Registry(Issuer(ISSUER, "Bench Issuer", "NL"))
        self.devices = devices
        self.next_hour = [0] * devices
        self.now = NOW
        execute = self.registry.execute
        for i in range(devices):
            for account_id in (f"P{i}", f"T{i}"):
                execute(
                    OpenAccount(ISSUER, Account(account_id, f"h-{account_id}", account_id)), NOW
                )
            execute(
                RegisterDevice(
                    ISSUER,
                    Device(
                        device_id=f"D{i}",
                        device_name=f"device {i}",
                        account_id=f"P{i}",
                        capacity_w=10_000_000,
                        operational_date=dt.date(2020, 1, 1),
                        technology_type="Wind",
                        energy_source="Wind",
                        location=LOCATION,
                        meter_id=f"M{i}",
                        gross_or_net=GrossOrNet.NET,
                        measurement_body="TSO",
                    ),
                ),
                NOW,
            )

    def submit(self, device: int) -> SubmitProduction:
        hour = self.next_hour[device]
        self.next_hour[device] = hour + 1
        start = START + hour * HOUR
        return SubmitProduction(ISSUER, f"D{device}", f"M{device}", start, start + HOUR, ENERGY_WH)


def build(size: int) -> World:
    """A registry holding ``size`` issued bundles (not timed)."""
    world = World(max(1, size // HOURS_PER_DEVICE))
    execute = world.registry.execute
    for n in range(size):
        out = execute(world.submit(n % world.devices), NOW)
        assert out.accepted, out
    return world


# --------------------------------------------------------------------------- timing


def _time(
    commands: Sequence[Any],
    run: Callable[[Any], Any],
    chunks: int = CHUNKS,
    *,
    collect: bool = True,
) -> float:
    """Seconds per operation: the batch runs in ``chunks`` consecutive slices and the fastest
    slice counts (as timeit does), since load from other processes only ever adds time."""
    if collect:
        gc.collect()
    size = max(1, len(commands) // chunks)
    best = float("inf")
    for first in range(0, len(commands), size):
        chunk = commands[first : first + size]
        started = time.perf_counter()
        for command in chunk:
            run(command)
        best = min(best, (time.perf_counter() - started) / len(chunk))
    return best


def _check(outcome: Any) -> Any:
    if not outcome.accepted:
        raise AssertionError(f"benchmark request refused: {outcome}")
    return outcome


def measure_size(size: int, batch: int, rng: random.Random) -> list[dict[str, Any]]:
    world = build(size)
    gc.freeze()  # the loaded registry leaves the cyclic collector's scans (unfrozen at the end)
    registry = world.registry
    now = NOW

    def execute(command: Any) -> Any:
        return _check(registry.execute(command, now))

    results: list[dict[str, Any]] = []

    def record(operation: str, seconds: float) -> None:
        results.append({"operation": operation, "size": size, "seconds_per_op": seconds})

    # queries first, while every account and device holds exactly HOURS_PER_DEVICE bundles:
    # filters whose candidate sets are small whatever the registry size
    def query(q: Query) -> Any:
        return _check(registry.query(q))

    by_account = []
    by_device = []
    for _ in range(batch):
        i = rng.randrange(world.devices)
        by_account.append(Query(f"h-P{i}", account_id=f"P{i}"))
        by_device.append(Query(ISSUER, device_id=f"D{i}"))
    mixed = [q for pair in zip(by_account, by_device, strict=True) for q in pair][:batch]
    record("query", _time(mixed, query))
    record("query_by_account", _time(by_account, query))
    record("query_by_device", _time(by_device, query))
    # Diagnostic: the same account queries cycling over 16 accounts, so the data stays in CPU
    # cache. Flat across sizes, it separates the algorithm's cost from memory latency.
    hot = [by_account[n % 16] for n in range(batch)]
    record("query_hot_cache", _time(hot, query))

    # issue: new hours on existing devices
    commands = [world.submit(rng.randrange(world.devices)) for _ in range(batch)]
    record("issue", _time(commands, execute))

    # transfer_split / cancel on distinct, untouched bundles issued at build time
    picks = rng.sample(range(1, size + 1), min(size, 2 * batch))
    transfer_ids, cancel_ids = picks[: len(picks) // 2], picks[len(picks) // 2 :]
    commands = []
    for bundle_id in transfer_ids:
        bundle = registry.bundle(bundle_id)
        assert bundle is not None
        owner = registry.account(bundle.account_id)
        assert owner is not None
        to = f"T{rng.randrange(world.devices)}"
        commands.append(Transfer(owner.holder_id, bundle_id, to, bundle.quantity // 2))
    record("transfer_split", _time(commands, execute))
    commands = []
    for bundle_id in cancel_ids:
        bundle = registry.bundle(bundle_id)
        assert bundle is not None
        owner = registry.account(bundle.account_id)
        assert owner is not None
        commands.append(Cancel(owner.holder_id, bundle_id, "Beneficiary Ltd"))
    record("cancel", _time(commands, execute))

    # invariant check over the whole history, per action
    history = registry.export_history()
    gc.collect()
    started = time.perf_counter()
    report = check_invariants(history)
    elapsed = time.perf_counter() - started
    assert report.ok, report.findings[:3]
    record("invariant_check", elapsed / len(history))
    gc.unfreeze()
    return results


# --------------------------------------------------------------------------- storage


def storage_world(records: int, method: str, rng: random.Random) -> tuple[Registry, list[Any]]:
    """A storage system with ``records`` SCRs and SDRs (built, not timed) and the requests
    allocating each SDR alone, in time order."""
    registry = Registry(Issuer(ISSUER, "Bench Issuer", "NL"))

    def execute(command: Any) -> Any:
        return _check(registry.execute(command, STORAGE_NOW))

    execute(OpenAccount(ISSUER, Account("S-OP", "operator", "storage operator")))
    device = Device(
        device_id="BATT",
        device_name="battery",
        account_id="S-OP",
        capacity_w=10_000_000,
        operational_date=START.date(),
        technology_type="Lithium-ion battery",
        energy_source="Storage",
        location=LOCATION,
        meter_id="M-BATT",
        gross_or_net=GrossOrNet.NET,
        measurement_body="TSO",
        is_storage=True,
    )
    minutes = int(STORAGE_PERIOD.total_seconds() // 60)
    execute(
        RegisterStorage(ISSUER, device, 10**12, "EAN-BATT", minutes, method, "EFFICIENCY_FACTOR")
    )
    slot = 0

    def data(status: str, wh: int) -> Any:
        nonlocal slot
        start = START + slot * STORAGE_PERIOD
        slot += 1
        return execute(
            SubmitStorageData(
                ISSUER, "BATT", "M-BATT", start, start + STORAGE_PERIOD, minutes, status, wh
            )
        )

    # Commissioning (not counted): 1000 Wh in, 900 Wh out -> factor 0.9; that discharge
    # drains the commissioning charge and goes to the unknown beneficiary.
    data("CHARGING", 1000)
    data("DISCHARGING", 900)
    execute(SetEfficiencyFactor(ISSUER, "BATT", START, START + 2 * STORAGE_PERIOD))
    if method == "OPERATOR_DISCRETION":
        execute(AllocateStorage("operator", "BATT", ("SDR-1",), (("SCR-1", "SDR-1", 900),)))
    execute(AssignUnknownBeneficiary("operator", "SDR-1"))
    charges = records // 2
    for _ in range(charges):
        data("CHARGING", STORAGE_CHARGE_WH)
    needs = [rng.randint(*STORAGE_DISCHARGE_WH) for _ in range(records - charges)]
    for wh in needs:
        data("DISCHARGING", wh)
    sdr_ids = [f"SDR-{i + 2}" for i in range(len(needs))]
    if method != "OPERATOR_DISCRETION":
        return registry, [AllocateStorage("operator", "BATT", (sdr_id,)) for sdr_id in sdr_ids]
    # The operator's own lists: here oldest charge first (the registry only validates them).
    book = registry.book(StorageBook)
    held = [(r.scr_id, r.remaining_wh) for r in book.scrs("BATT")]
    commands: list[Any] = []
    oldest = 0
    for sdr_id, need in zip(sdr_ids, needs, strict=True):
        entries = []
        while need:
            scr_id, have = held[oldest]
            take = min(have, need)
            if take:
                entries.append((scr_id, sdr_id, take))
            need -= take
            held[oldest] = (scr_id, have - take)
            oldest += have == take
        commands.append(AllocateStorage("operator", "BATT", (sdr_id,), tuple(entries)))
    return registry, commands


def measure_storage(records: int) -> list[dict[str, Any]]:
    """Every method at ``records``; small sizes are repeated (same data) and the fastest counts,
    since a run of a few hundred requests is easily disturbed by other processes."""
    results = []
    for method in STORAGE_METHODS:
        best = float("inf")
        gc.collect()
        for _ in range(min(STORAGE_MAX_REPEATS, max(1, STORAGE_REPEAT_RECORDS // records))):
            registry, commands = storage_world(records, method, random.Random(SEED + records))

            def execute(command: Any, registry: Registry = registry) -> Any:
                return _check(registry.execute(command, STORAGE_NOW))

            best = min(best, _time(commands, execute, collect=False))
            book = registry.book(StorageBook)
            assert all(not r.unallocated_wh for r in book.sdrs("BATT")), "SDRs left unallocated"
            del registry, commands, book
        operation = f"storage_allocation_{method.lower()}"
        results.append({"operation": operation, "size": records, "seconds_per_op": best})
    return results


# --------------------------------------------------------------------------- big runs


def end_to_end(size: int) -> dict[str, Any]:
    """Issue ``size`` bundles, transfer part of each (a split), cancel the transferred part."""
    clock = GcClock()
    started = time.perf_counter()
    world = build(size)
    gc.freeze()  # as a long-running registry would once loaded: the build leaves the GC's scans
    registry = world.registry
    execute = registry.execute
    issued = time.perf_counter()
    moved = []
    for bundle_id in range(1, size + 1):
        i = (bundle_id - 1) % world.devices
        out = execute(Transfer(f"h-P{i}", bundle_id, f"T{i}", ENERGY_WH // 4), NOW)
        moved.append(out.unwrap().bundle_id)
    transferred = time.perf_counter()
    for n, bundle_id in enumerate(moved):
        i = n % world.devices
        out = execute(Cancel(f"h-T{i}", bundle_id, "Beneficiary Ltd"), NOW)
        assert out.accepted, out
    finished = time.perf_counter()
    bundles = sum(1 for _ in registry.current_bundles())
    assert bundles == 2 * size, bundles
    return {
        "bundles": size,
        "seconds": finished - started,
        "issue_seconds": issued - started,
        "transfer_seconds": transferred - issued,
        "cancel_seconds": finished - transferred,
        "peak_rss_mib": _peak_rss_mib(),
        **clock.report(),
    }


def invariant_history(actions: int) -> dict[str, Any]:
    """Check a history of ``actions`` actions: issue, then transfer with split, then cancel."""
    per = actions // 3
    world = build(per)
    registry = world.registry
    execute = registry.execute
    moved = []
    for bundle_id in range(1, per + 1):
        i = (bundle_id - 1) % world.devices
        moved.append(execute(Transfer(f"h-P{i}", bundle_id, f"T{i}", 250), NOW).unwrap().bundle_id)
    logged = len(registry.history)
    for n, bundle_id in enumerate(moved[: max(0, actions - logged)]):
        i = n % world.devices
        _check(execute(Cancel(f"h-T{i}", bundle_id, "Beneficiary Ltd"), NOW))
    logged = len(registry.history)
    for n in range(actions - logged):  # top up with issuances to exactly `actions`
        _check(execute(world.submit(n % world.devices), NOW))
    history = registry.export_history()[:actions]
    del world, registry, moved
    gc.collect()
    clock = GcClock()
    started = time.perf_counter()
    report = check_invariants(history)
    elapsed = time.perf_counter() - started
    assert report.ok, report.findings[:3]
    return {
        "actions": len(history),
        "seconds": elapsed,
        "peak_rss_mib": _peak_rss_mib(),
        **clock.report(),
    }


class GcClock:
    """Wall time spent in CPython's cyclic garbage collector, by generation (diagnostic)."""

    def __init__(self) -> None:
        self.seconds = [0.0, 0.0, 0.0]
        self.count = [0, 0, 0]
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            generation = info["generation"]
            self.seconds[generation] += time.perf_counter() - self._started
            self.count[generation] += 1

    def report(self) -> dict[str, Any]:
        gc.callbacks.remove(self._callback)
        return {
            "gc_seconds": sum(self.seconds),
            "gc_full_collections": self.count[2],
            "gc_full_seconds": self.seconds[2],
        }


def _peak_rss_mib() -> float:
    """This process's own peak RSS. On Linux, VmHWM of the current address space: ru_maxrss
    would also count the parent's RSS at fork (it survives exec), inflating a child's figure."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return peak / 1024 if sys.platform != "darwin" else peak / 2**20


def _subprocess(kind: str, size: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--child", kind, "--size", str(size)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# --------------------------------------------------------------------------- reporting


def run(
    sizes: Sequence[int],
    *,
    storage_sizes: Sequence[int] | None = None,
    batch: int = BATCH,
    big: bool = False,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """``storage_sizes`` None: the registry sizes up to the largest storage size (10^5)."""
    rng = random.Random(SEED)
    results: list[dict[str, Any]] = []
    for size in sizes:
        progress(f"size {size:,} ...")
        started = time.perf_counter()
        results.extend(measure_size(size, batch, rng))
        progress(f"size {size:,} done in {time.perf_counter() - started:.1f} s")
        gc.collect()
    if storage_sizes is None:
        storage_sizes = [size for size in sizes if size <= max(STORAGE_FULL_SIZES)]
    results.extend(run_storage(storage_sizes, progress))
    data: dict[str, Any] = {
        "results": results,
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "python": sys.version.split()[0],
        "batch": batch,
        "seed": SEED,
    }
    if big:
        progress("end-to-end 10^6 (subprocess) ...")
        data["end_to_end"] = _subprocess("e2e", E2E_SIZE)
        progress("invariant check of a 10^6-action history (subprocess) ...")
        data["invariant_history"] = _subprocess("invariants", INVARIANT_ACTIONS)
    data["targets"] = targets(data)
    return data


def run_storage(
    sizes: Sequence[int], progress: Callable[[str], None] = lambda _: None
) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for size in sizes:
        progress(f"storage allocation, {size:,} records ...")
        started = time.perf_counter()
        results.extend(measure_storage(size))
        progress(
            f"storage allocation, {size:,} records done in {time.perf_counter() - started:.1f} s"
        )
    return results


def merge_storage(path: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The results file at ``path`` with its storage-allocation rows replaced by ``rows``."""
    with open(path, encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    kept = [r for r in data["results"] if not r["operation"].startswith("storage_allocation")]
    data["results"] = kept + rows
    data["targets"] = targets(data)
    return data


def targets(data: dict[str, Any]) -> list[dict[str, Any]]:
    checks: list[dict[str, Any]] = []
    by_op: dict[str, dict[int, float]] = {}
    for row in data["results"]:
        by_op.setdefault(row["operation"], {})[row["size"]] = row["seconds_per_op"]
    for operation, per_size in by_op.items():
        smallest, largest = min(per_size), max(per_size)
        ratio = per_size[largest] / per_size[smallest]
        checks.append(
            {
                "target": f"flat {operation}",
                "passed": ratio <= FLATNESS_MAX,
                "detail": f"{largest:,}/{smallest:,} = {ratio:.2f} (<= {FLATNESS_MAX})",
            }
        )
    e2e = data.get("end_to_end")
    if e2e is not None:
        checks.append(
            {
                "target": "end-to-end 10^6 time",
                "passed": e2e["seconds"] <= E2E_MAX_SECONDS,
                "detail": f"{e2e['seconds']:.1f} s (<= {E2E_MAX_SECONDS:g} s; issue "
                f"{e2e['issue_seconds']:.1f} + transfer {e2e['transfer_seconds']:.1f} + cancel "
                f"{e2e['cancel_seconds']:.1f})",
            }
        )
        checks.append(
            {
                "target": "end-to-end 10^6 peak RSS",
                "passed": e2e["peak_rss_mib"] <= E2E_MAX_RSS_MIB,
                "detail": f"{e2e['peak_rss_mib']:.0f} MiB (<= {E2E_MAX_RSS_MIB:.0f} MiB)",
            }
        )
    inv = data.get("invariant_history")
    if inv is not None:
        checks.append(
            {
                "target": "invariant check 10^6 actions",
                "passed": inv["seconds"] <= INVARIANT_MAX_SECONDS,
                "detail": f"{inv['seconds']:.1f} s for {inv['actions']:,} actions "
                f"(<= {INVARIANT_MAX_SECONDS:g} s)",
            }
        )
    return checks


def table(data: dict[str, Any]) -> str:
    sizes = sorted({row["size"] for row in data["results"]})
    ops: dict[str, dict[int, float]] = {}
    for row in data["results"]:
        ops.setdefault(row["operation"], {})[row["size"]] = row["seconds_per_op"]
    width = max(18, *(len(row["operation"]) + 1 for row in data["results"]))
    head = f"{'operation':<{width}}" + "".join(f"{size:>14,}" for size in sizes) + "   max/min"
    lines = [
        "seconds per operation (microseconds) by registry size (bundles; storage: records)",
        head,
    ]
    for operation, per_size in ops.items():
        cells = "".join(
            f"{per_size[size] * 1e6:>14.2f}" if size in per_size else f"{'':>14}" for size in sizes
        )
        ratio = per_size[max(per_size)] / per_size[min(per_size)]
        lines.append(f"{operation:<{width}}{cells}   {ratio:7.2f}")
    lines.append("")
    for check in data["targets"]:
        lines.append(
            f"{'PASS' if check['passed'] else 'MISS'}  {check['target']}: {check['detail']}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sizes 10^3 and 10^5 only")
    parser.add_argument("--json", metavar="PATH", help="write the results here")
    parser.add_argument("--batch", type=int, default=BATCH, help="operations timed per batch")
    parser.add_argument(
        "--storage-only",
        action="store_true",
        help="only the storage allocation benchmark; merged into an existing --json file",
    )
    parser.add_argument("--child", choices=("e2e", "invariants"), help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        size = args.size or E2E_SIZE
        result = end_to_end(size) if args.child == "e2e" else invariant_history(size)
        print(json.dumps(result))
        return 0

    def progress(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    storage_sizes = STORAGE_QUICK_SIZES if args.quick else STORAGE_FULL_SIZES
    if args.storage_only:
        rows = run_storage(storage_sizes, progress)
        if args.json and os.path.exists(args.json):
            data = merge_storage(args.json, rows)
        else:
            data = {"results": rows, "seed": SEED}
            data["targets"] = targets(data)
    else:
        data = run(
            QUICK_SIZES if args.quick else FULL_SIZES,
            storage_sizes=storage_sizes,
            batch=args.batch,
            big=not args.quick,
            progress=progress,
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
    print(table(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
