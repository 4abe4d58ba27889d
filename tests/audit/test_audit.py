"""`gc-conformance audit`: every engine finds exactly what the Python oracle finds.

The differential tests compare whole findings (risk, action ID, bundle ID and message),
on generated histories with every kind of injected fault, and on histories exported from
the reference model. A columnar engine may hand a history it does not model to the
oracle (``engine_used``), but the generated faults must all be judged natively.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gc_conformance.audit import audit, convert, engines, record_schema
from gc_conformance.audit.engines import AuditResult
from gc_conformance.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "reference"))
from histories import FAULTS, generate, lineage_history, reuse_child_ids, write_jsonl
from histories import stamp as histories_stamp


def _plain(result: AuditResult) -> Counter[tuple[str, str, str, str]]:
    return Counter(
        (f.risk.name, repr(f.action_id), repr(f.bundle_id), f.message) for f in result.findings
    )


def _history(tmp_path: Path, actions: int, seed: int, faults: list[str]) -> Path:
    path = tmp_path / f"history-{seed}.jsonl"
    write_jsonl(path, generate(actions, seed=seed, faults=faults))
    return path


def test_a_sound_generated_history_is_clean_for_every_embedded_engine(tmp_path: Path) -> None:
    path = _history(tmp_path, 2500, 1, [])
    for engine in ("python", "duckdb"):
        result = audit([path], engine)
        assert result.ok, result.findings[:5]
        assert result.engine_used == engine


#: Findings of another risk that an injected fault brings with it: an issuance ID issued again
#: with a new range leaves the first range's bundles outside the ID's (latest) range.
_FOLLOWS = {"reused_issuance_id": ("CONSERVATION",)}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_each_injected_fault_is_found_natively_and_identically(tmp_path: Path, fault: str) -> None:
    path = _history(tmp_path, 400, 7, [fault])
    oracle = audit([path], "python")
    duck = audit([path], "duckdb")
    assert duck.engine_used == "duckdb", duck.fallback
    # Exactly the injected fault: found, and nothing of another risk but what follows from it
    # (a fault's setup is sound).
    risks = {f.risk.name for f in oracle.findings}
    assert FAULTS[fault] in risks and risks <= {FAULTS[fault], *_FOLLOWS.get(fault, ())}, risks
    assert _plain(duck) == _plain(oracle)


@pytest.mark.parametrize("seed", [11, 12])
def test_every_fault_at_once_gives_identical_findings(tmp_path: Path, seed: int) -> None:
    path = _history(tmp_path, 4000, seed, list(FAULTS) * 2)
    oracle = audit([path], "python")
    duck = audit([path], "duckdb")
    assert duck.engine_used == "duckdb"
    assert {f.risk.name for f in oracle.findings} >= set(FAULTS.values())
    assert _plain(duck) == _plain(oracle)


@pytest.mark.parametrize("parts", [1, 3])
@pytest.mark.parametrize("storage", ["disk", "memory"])
def test_either_table_storage_gives_the_oracles_findings(
    tmp_path: Path, storage: str, parts: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large histories keep DuckDB's tables in a database file (``auto`` picks by size) and
    build the bundle-event window in parts; each storage, in one part or several, is held
    to the oracle on a small one."""
    monkeypatch.setenv("GC_AUDIT_DUCKDB_STORAGE", storage)
    if parts > 1:  # a part per event or bundle, at most ``parts``
        monkeypatch.setattr(engines, "EVENT_STATE_ROWS", 1)
        monkeypatch.setattr(engines, "MAX_EVENT_STATE_PARTS", parts)
    used: list[int] = []
    asked = engines.DuckRunner.event_state_parts
    monkeypatch.setattr(
        engines.DuckRunner, "event_state_parts", lambda self: used.append(asked(self)) or used[-1]
    )
    path = _history(tmp_path, 1500, 13, list(FAULTS))
    duck = audit([path], "duckdb")
    assert duck.engine_used == "duckdb", duck.fallback
    assert _plain(duck) == _plain(audit([path], "python"))
    assert used == [parts]


@pytest.mark.parametrize(
    ("storage", "explicit", "limit"),
    [
        ("memory", None, engines.IN_MEMORY_MEMORY),
        ("disk", None, engines.ON_DISK_MEMORY),
        ("memory", "700MB", "700MB"),
        ("disk", "900MB", "900MB"),
    ],
)
def test_the_memory_limit_follows_where_the_tables_live(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    storage: str,
    explicit: str | None,
    limit: str,
) -> None:
    """In memory the tables count against DuckDB's limit, so it is larger there; a limit the
    user sets holds for both."""
    monkeypatch.setenv("GC_AUDIT_DUCKDB_STORAGE", storage)
    if explicit is None:
        monkeypatch.delenv("GC_AUDIT_DUCKDB_MEMORY", raising=False)
    else:
        monkeypatch.setenv("GC_AUDIT_DUCKDB_MEMORY", explicit)
    runner = engines.DuckRunner()
    try:
        runner.load([_history(tmp_path, 50, 3, [])], None)
        shown = runner.fetch("SELECT current_setting('memory_limit')")
        runner.con.execute(f"SET memory_limit = '{limit}'")  # DuckDB's own spelling of it
        assert shown == runner.fetch("SELECT current_setting('memory_limit')")
    finally:
        runner.close()


def test_parquet_gives_the_same_findings_as_json_lines(tmp_path: Path) -> None:
    path = _history(tmp_path, 1500, 3, list(FAULTS))
    parquet = tmp_path / "history.parquet"
    assert convert([path], parquet) == 1500 + len(FAULTS) or parquet.exists()
    from_jsonl = audit([path], "duckdb")
    assert _plain(audit([parquet], "duckdb")) == _plain(from_jsonl)
    assert _plain(audit([parquet], "python")) == _plain(from_jsonl)


def test_several_files_read_as_one_history(tmp_path: Path) -> None:
    path = _history(tmp_path, 1200, 4, list(FAULTS))
    lines = path.read_text().splitlines(keepends=True)
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text("".join(lines[:600]))
    second.write_text("".join(lines[600:]))
    whole = _plain(audit([path], "python"))
    assert _plain(audit([first, second], "duckdb")) == whole
    pa, pb = tmp_path / "a.parquet", tmp_path / "b.parquet"
    convert([first], pa)
    convert([second], pb)
    assert _plain(audit([pa, pb], "duckdb")) == whole


# --- histories exported from the reference model ----------------------------------


def _model_histories() -> list[list[dict[str, Any]]]:
    """Histories of the reference registry: a trading day, and the stateful machine's runs."""
    import datetime as dt

    from core_builders import (
        ALICE,
        BOB,
        ISSUER,
        SUPPLIER_ACCOUNT,
        WIND,
        WIND_METER,
        World,
    )

    from gc_conformance.reference import (
        Cancel,
        Claim,
        Expire,
        Policies,
        SubmitProduction,
        Transfer,
    )

    histories = []
    world = World(Policies())
    now = dt.datetime(2024, 3, 2, tzinfo=dt.UTC)
    registry = world.registry
    for hour in range(6):
        start = dt.datetime(2024, 3, 1, hour, tzinfo=dt.UTC)
        stamp = f"{start:%Y-%m-%dT%H:%M:%SZ}"
        end = f"{start + dt.timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}"
        outcome = registry.execute(
            SubmitProduction(ISSUER, WIND, WIND_METER, stamp, end, 1000 + hour), now
        )
        bundle = outcome.unwrap().bundle_id
        moved = registry.execute(Transfer(ALICE, bundle, SUPPLIER_ACCOUNT, 400), now)
        sold = moved.unwrap().bundle_id
        cancelled = registry.execute(Cancel(BOB, sold, "Acme", quantity=100), now)
        if cancelled.accepted and hour % 2:
            registry.execute(Claim(BOB, cancelled.unwrap().bundle_id, "Acme"), now)
        now += dt.timedelta(minutes=7)
    registry.execute(Expire(ISSUER), now + dt.timedelta(days=3 * 366))
    histories.append(registry.export_history())
    return histories


def test_reference_model_histories_give_identical_findings(tmp_path: Path) -> None:
    for n, history in enumerate(_model_histories()):
        path = tmp_path / f"model-{n}.jsonl"
        write_jsonl(path, history)
        oracle = audit([path], "python")
        duck = audit([path], "duckdb")
        assert _plain(duck) == _plain(oracle)
        # A tampered copy: the same history with one transfer's effects replayed twice.
        doubled = tmp_path / f"model-{n}-doubled.jsonl"
        records = [dict(r) for r in history]
        transfer = next(r for r in records if r["action"] == "transfer" and r["accepted"])
        records.append({**transfer, "action_id": records[-1]["action_id"] + 1})
        write_jsonl(doubled, records)
        oracle = audit([doubled], "python")
        assert not oracle.ok
        assert _plain(audit([doubled], "duckdb")) == _plain(oracle)


def test_the_stateful_machine_histories_give_identical_findings(tmp_path: Path) -> None:
    """Histories of the reference model's Hypothesis machine (corrections, debts, storage
    go to the oracle; whatever engine judges, the findings are the oracle's)."""
    from hypothesis import HealthCheck, settings
    from hypothesis.stateful import run_state_machine_as_test
    from test_stateful import RegistryMachine

    seen: list[list[dict[str, Any]]] = []

    class Recording(RegistryMachine):  # type: ignore[misc]
        def teardown(self) -> None:
            seen.append(self.registry.export_history())

    run_state_machine_as_test(
        Recording,
        settings=settings(
            max_examples=6,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        ),
    )
    assert seen
    for n, history in enumerate(seen[:6]):
        path = tmp_path / f"machine-{n}.jsonl"
        write_jsonl(path, history)
        assert _plain(audit([path], "duckdb")) == _plain(audit([path], "python"))


# --- histories the set-based rules hand to the oracle -------------------------------


def test_unmodelled_features_are_judged_by_the_oracle_and_said_so(tmp_path: Path) -> None:
    records = list(generate(300, seed=2, faults=["double_cancel"]))
    issue = next(r for r in records if r["action"] == "submit_production")
    records.append(
        {
            **issue,
            "action_id": 10**6,
            "effects": [
                {
                    "effect": "debt",
                    "device_id": "DEV-1",
                    "debt_id": 1,
                    "hour_of_day": None,
                    "remaining_wh": 5,
                }
            ],
        }
    )
    path = tmp_path / "debt.jsonl"
    write_jsonl(path, records)
    result = audit([path], "duckdb")
    assert result.engine_used == "python"
    assert any("D10 deductions" in reason for reason in result.fallback)
    assert _plain(result) == _plain(audit([path], "python"))


def test_own_hour_use_past_the_consumption_period_is_judged_natively(tmp_path: Path) -> None:
    """D8's own-hour exemption (own_hour_use): a GC cancelled after its consumption period
    must name its own production hour. A reference-model export carries
    ``own_hour_only_from`` on every issuance; DuckDB judges it itself, as the oracle does."""
    import datetime as dt

    from core_builders import ALICE, ISSUER, SUPPLIER_ACCOUNT, WIND, WIND_METER, World

    from gc_conformance.reference import Cancel, Policies, SubmitProduction, Transfer

    world = World(Policies())  # CALENDAR_YEAR, own_hour_use EXEMPT_12_MONTHS
    registry = world.registry
    now = dt.datetime(2024, 3, 2, tzinfo=dt.UTC)
    issued = registry.execute(
        SubmitProduction(
            ISSUER, WIND, WIND_METER, "2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z", "1000"
        ),
        now,
    )
    bundle = registry.execute(
        Transfer(ALICE, issued.unwrap().bundle_id, SUPPLIER_ACCOUNT, 400), now
    ).unwrap()
    late = dt.datetime(2025, 2, 1, tzinfo=dt.UTC)  # past 2024's end, before the 12 months
    own_hour = registry.execute(
        Cancel(
            "bob",
            bundle.bundle_id,
            "Acme",
            consumption_start="2024-03-01T10:00:00Z",
            consumption_end="2024-03-01T11:00:00Z",
        ),
        late,
    )
    assert own_hour.accepted, own_hour
    history = registry.export_history()
    assert any("own_hour_only_from" in e for r in history for e in r["effects"])
    sound = tmp_path / "own-hour.jsonl"
    write_jsonl(sound, history)
    duck = audit([sound], "duckdb")
    assert duck.engine_used == "duckdb", duck.fallback
    assert duck.ok, duck.findings
    assert audit([sound], "python").ok
    # The same history with the cancellation's consumption period removed: a misuse.
    tampered = [json.loads(json.dumps(r)) for r in history]
    for record in tampered:
        for effect in record.get("effects", ()):
            effect.pop("consumption_start", None)
            effect.pop("consumption_end", None)
    misused = tmp_path / "own-hour-misused.jsonl"
    write_jsonl(misused, tampered)
    oracle = audit([misused], "python")
    assert "VALIDITY" in {f.risk.name for f in oracle.findings}, oracle.findings
    duck = audit([misused], "duckdb")
    assert duck.engine_used == "duckdb", duck.fallback
    assert _plain(duck) == _plain(oracle)


# One second either side of each boundary of the own-hour rule: the instant the stretch
# begins (own_hour_only_from) and each end of the production interval the cancellation
# must match. (offset of the cancellation from own_hour_only_from, consumption start and
# end as offsets from the production hour's start or None, whether the oracle objects)
OWN_HOUR_EDGES = [
    (-1, -3600, 0, False),  # a second before the stretch: any period, none needed
    (-1, None, None, False),
    (0, 0, 3600, False),  # at its first instant: the own hour is fine
    (0, None, None, True),  # ... naming none is not
    (0, 3600, 7200, True),  # ... nor the next hour
    (1, 0, 3600, False),
    (1, -1, 3600, True),  # starts a second before the production interval
    (1, 0, 3601, True),  # ends a second after it
    (1, 1, 3600, False),  # inside it, a second short at the start
    (1, 0, 3599, False),  # inside it, a second short at the end
    (1, 0, None, True),  # a start without an end
]


def test_own_hour_rule_at_its_edges_gives_the_oracles_findings(tmp_path: Path) -> None:
    hour0 = 1_750_000_000 - 1_750_000_000 % 3600
    own_from = hour0 + 30 * 3600
    stamp = histories_stamp
    records: list[dict[str, Any]] = [
        {
            "action_id": 1,
            "at": stamp(hour0),
            "accepted": True,
            "action": "open_account",
            "effects": [{"effect": "account", "account_id": "ACC"}],
        }
    ]
    for n, _ in enumerate(OWN_HOUR_EDGES):
        start = hour0 + n * 3600
        records.append(
            {
                "action_id": len(records) + 1,
                "at": stamp(hour0 + 20 * 3600),
                "accepted": True,
                "action": "submit_production",
                "effects": [
                    {
                        "effect": "reading",
                        "device_id": "DEV",
                        "production_start": stamp(start),
                        "production_end": stamp(start + 3600),
                        "recognised_wh": 10,
                        "metered_wh": 10,
                        "carried_wh": "0",
                    },
                    {
                        "effect": "issue",
                        "issuance_id": n + 1,
                        "bundle_id": n + 1,
                        "device_id": "DEV",
                        "account_id": "ACC",
                        "production_start": stamp(start),
                        "production_end": stamp(start + 3600),
                        "range_start": 10 * n + 1,
                        "range_end": 10 * n + 10,
                        "expiry": stamp(own_from + 100 * 3600),
                        "own_hour_only_from": stamp(own_from),
                    },
                ],
            }
        )
    order = sorted(range(len(OWN_HOUR_EDGES)), key=lambda n: OWN_HOUR_EDGES[n][0])
    for n in order:
        offset, first, last, _ = OWN_HOUR_EDGES[n]
        start = hour0 + n * 3600
        effect: dict[str, Any] = {
            "effect": "status",
            "bundle_id": n + 1,
            "from": "ACTIVE",
            "to": "CANCELLED",
            "beneficiary": "Acme",
            "purpose": "CONSUMPTION",
        }
        if first is not None:
            effect["consumption_start"] = stamp(start + first)
        if last is not None:
            effect["consumption_end"] = stamp(start + last)
        records.append(
            {
                "action_id": len(records) + 1,
                "at": stamp(own_from + offset),
                "accepted": True,
                "action": "cancel",
                "effects": [effect],
            }
        )
    path = tmp_path / "edges.jsonl"
    write_jsonl(path, records)
    oracle = audit([path], "python")
    flagged = {f.bundle_id for f in oracle.findings}
    assert {f.risk.name for f in oracle.findings} <= {"VALIDITY"}, oracle.findings
    assert flagged == {n + 1 for n, edge in enumerate(OWN_HOUR_EDGES) if edge[3]}
    for engine in ("duckdb", "parquet"):
        source = path
        if engine == "parquet":
            source = tmp_path / "edges.parquet"
            convert([path], source)
        duck = audit([source], "duckdb")
        assert duck.engine_used == "duckdb", duck.fallback
        assert _plain(duck) == _plain(oracle)


# Production intervals of one device at the edges of overlapping (seconds from an hour's
# start; each at most an hour long): the same interval twice (a correction), touching ends,
# one second of overlap, a chain whose ends do not meet, one inside another, overlaps across
# an hour boundary, and a later record for an earlier interval.
OVERLAP_EDGES = {
    "same-twice": [(0, 3600), (0, 3600), (3600, 7200)],
    "one-second": [(0, 3600), (3599, 7199), (7199, 7200)],
    "chain": [(0, 1800), (1700, 3500), (3400, 5000)],
    "inside": [(0, 3600), (600, 1200), (600, 1200), (1200, 1201)],
    "across-hours": [(3599, 7199), (7198, 7300), (10799, 14399)],
    "backwards": [(7200, 10800), (3601, 7201), (2, 3602)],
}


def _overlapping_pairs(intervals: list[tuple[int, int]]) -> int:
    """Pairs of the intervals that overlap, counted by brute force."""
    return sum(
        1 for k, (s1, e1) in enumerate(intervals) for s2, e2 in intervals[:k] if s1 < e2 and s2 < e1
    )


def test_overlapping_intervals_at_their_edges_give_the_oracles_findings(
    tmp_path: Path,
) -> None:
    """Readings and issuances of overlapping production intervals (the same device only):
    DuckDB pairs exactly the intervals the oracle pairs, and as many as overlap. Readings
    recognising more than they metered, on some devices only, are judged alike."""
    from histories import HOUR, START, Generator

    g = Generator(seed=3, devices=3 * len(OVERLAP_EDGES) + 2, accounts=4)
    records = list(g.open_accounts())
    base = START + 24 * HOUR
    read, issued = 0, 0
    for n, intervals in enumerate(OVERLAP_EDGES.values()):
        reader, issuer, other = g.devices[3 * n : 3 * n + 3]
        for start, end in intervals:
            # The same intervals read for one device, issued for another, and read for a
            # third: each reading device pairs its own intervals, never another's.
            for device in (reader, other):
                reading = g.reading(device, base + start, 10, end=base + end)
                records.append(g.record("submit_production", [reading]))
            effect, _ = g.issue_effect(issuer, base + start, 10)
            effect["production_end"] = histories_stamp(base + end)
            records.append(g.record("submit_production", [effect]))
        read += _overlapping_pairs(list(dict.fromkeys(intervals)))  # a correction is no pair
        issued += _overlapping_pairs(intervals)
    over, under = g.devices[-2:]
    for device, (wh, metered) in ((over, (50, 40)), (over, (30, 40)), (under, (40, 40))):
        reading = g.reading(device, base + 5 * HOUR, wh, metered=metered, carried=None)
        records.append(g.record("submit_production", [reading]))
    path = tmp_path / "overlaps.jsonl"
    write_jsonl(path, records)
    oracle = audit([path], "python")
    duck = audit([path], "duckdb")
    assert duck.engine_used == "duckdb", duck.fallback
    assert _plain(duck) == _plain(oracle)
    messages = [f.message for f in oracle.findings]
    assert sum(" and again for " in m for m in messages) == 2 * read
    assert sum(" overlaps issuance " in m for m in messages) == issued
    assert sum("beyond rounding" in m for m in messages) == 1, messages


@pytest.mark.parametrize("seed", [21, 22, 23])
def test_reused_issuance_ids_are_judged_natively(tmp_path: Path, seed: int) -> None:
    """An issuance ID issued again, with both sets of certificates living on under it
    (transferred, split, withdrawn, swept, cancelled in the own-hour stretch): DuckDB
    follows the oracle's replay, where the later issue takes the ID's place."""
    path = _history(tmp_path, 3000, seed, ["reused_issuance_id"] * 6 + ["double_cancel"])
    oracle = audit([path], "python")
    assert any("issued twice" in f.message for f in oracle.findings)
    duck = audit([path], "duckdb")
    assert duck.engine_used == "duckdb", duck.fallback
    assert _plain(duck) == _plain(oracle)


def test_a_bundle_id_issued_again_still_goes_to_the_oracle(tmp_path: Path) -> None:
    """An issuance reusing a bundle ID shares one node of the oracle's lineage graph between
    two bundles (its conservation and sweeps walk through it); the set-based rules do not
    model that, and say so."""
    records = list(generate(300, seed=3))
    first = next(r for r in records if r["action"] == "submit_production")
    issue = next(e for e in first["effects"] if e["effect"] == "issue")
    again = json.loads(json.dumps(first))
    for effect in again["effects"]:
        if effect["effect"] == "issue":
            effect["issuance_id"] = 10**6
            effect["range_start"] = effect["range_end"] = 10**9
            effect["bundle_id"] = issue["bundle_id"]
    again["effects"] = [e for e in again["effects"] if e["effect"] == "issue"]
    again["action_id"] = records[-1]["action_id"] + 1
    again["at"] = records[-1]["at"]
    records.append(again)
    path = tmp_path / "reused-bundle.jsonl"
    write_jsonl(path, records)
    duck = audit([path], "duckdb")
    assert duck.engine_used == "python"
    assert any("bundle IDs issued again" in reason for reason in duck.fallback)
    assert _plain(duck) == _plain(audit([path], "python"))


@pytest.mark.parametrize("seed", [31, 32, 33])
def test_split_children_reusing_bundle_ids_are_judged_natively(tmp_path: Path, seed: int) -> None:
    """A split child whose bundle ID was created before is not created (the oracle reports
    it and goes on): DuckDB resolves the lineage the same way, down to the parents left with
    no child (still holding their certificates, still seen by the expiry sweep)."""
    records = list(generate(2500, seed=seed, faults=["double_cancel"], close=True))
    assert reuse_child_ids(records, 3) >= 8
    path = tmp_path / "reused-children.jsonl"
    write_jsonl(path, records)
    oracle = audit([path], "python")
    assert sum("split reuses bundle ID" in f.message for f in oracle.findings) >= 8
    duck = audit([path], "duckdb")
    assert duck.engine_used == "duckdb", duck.fallback
    assert _plain(duck) == _plain(oracle)


#: (splits, splits per action): the edges of a bundle ID created twice by splits
REUSE_EDGES = [
    ([(1, [2, 1])], 1),  # a child reusing its parent's ID
    ([(1, [1])], 1),  # the only child: the parent is left with no child
    ([(1, [2, 2, 3])], 1),  # twice in one split
    ([(1, [2, 3]), (100, [3, 4])], 1),  # in two actions
    ([(1, [2, 3]), (100, [3, 4])], 2),  # in two splits of one action
    ([(1, [100, 2])], 1),  # the ID of another issuance's bundle
    ([(1, [2, 3]), (2, [4, 5]), (3, [5, 6])], 1),  # a cousin's ID, at the same level
    ([(1, [2, 3]), (100, [5, 6]), (2, [4, 5]), (5, [7, 8])], 1),  # made higher up, earlier
    ([(1, [2, 3]), (3, [1, 4])], 1),  # a grandparent's ID
]


@pytest.mark.parametrize(("splits", "per_action"), REUSE_EDGES)
def test_bundle_ids_created_twice_by_splits_at_their_edges(
    tmp_path: Path, splits: list[tuple[int, list[int]]], per_action: int
) -> None:
    path = tmp_path / "edges.jsonl"
    write_jsonl(path, lineage_history(splits, per_action))
    oracle = audit([path], "python")
    assert any("split reuses bundle ID" in f.message for f in oracle.findings)
    for source in ("jsonl", "parquet"):
        if source == "parquet":
            convert([path], tmp_path / "edges.parquet")
            path = tmp_path / "edges.parquet"
        duck = audit([path], "duckdb")
        assert duck.engine_used == "duckdb", duck.fallback
        assert _plain(duck) == _plain(oracle)


def test_a_split_reusing_an_id_a_deeper_split_made_earlier_is_resolved_again(
    tmp_path: Path,
) -> None:
    """The lineage is resolved level by level: a child whose ID a deeper level created
    earlier is seen only afterwards, and the lineage is resolved again, knowing it."""
    # 5 is made by 2's split (level 2) before 100's split (level 1) names it again; once
    # that child is refused, 8 is made by 4's split (level 3) before 6's (level 2) does
    splits = [(1, [2, 3]), (2, [4, 5]), (100, [5, 6]), (4, [8, 9]), (6, [8, 10])]
    path = tmp_path / "deep.jsonl"
    write_jsonl(path, lineage_history(splits))
    oracle = audit([path], "python")
    assert sum("split reuses bundle ID" in f.message for f in oracle.findings) == 2
    said: list[str] = []
    duck = audit([path], "duckdb", progress=said.append)
    assert duck.engine_used == "duckdb", duck.fallback
    assert sum("lineage resolved again" in line for line in said) == 2
    assert _plain(duck) == _plain(oracle)


def test_a_reported_state_is_compared_by_the_oracle(tmp_path: Path) -> None:
    path = _history(tmp_path, 200, 5, [])
    result = audit([path], "duckdb", state={"accounts": [], "bundles": []})
    assert result.engine_used == "python"
    assert {f.risk.name for f in result.findings} == {"STATE_MISMATCH"}


# --- the published schema and bad input ---------------------------------------------


def test_generated_and_exported_records_satisfy_the_published_schema() -> None:
    validator = jsonschema.Draft202012Validator(record_schema())
    for record in generate(500, seed=9, faults=list(FAULTS)):
        validator.validate(record)
    for history in _model_histories():
        for record in history:
            validator.validate(record)


BAD = {
    "not JSON": ("{not json", ":2: not JSON"),
    "unknown effect": (
        '{"action_id": 9, "at": "2025-01-01T00:00:00Z", "accepted": true, '
        '"effects": [{"effect": "teleport"}]}',
        ":2: effects/0/effect: unknown effect 'teleport'",
    ),
    "wrong type": (
        '{"action_id": 9, "at": "2025-01-01T00:00:00Z", "accepted": true, "effects": '
        '[{"effect": "transfer", "bundle_id": "seven", "from_account": "a", "to_account": "b"}]}',
        ":2: effects/0/bundle_id: 'seven' is not an integer",
    ),
    "missing field": (
        '{"action_id": 9, "at": "2025-01-01T00:00:00Z", "effects": []}',
        ":2: 'accepted' is a required property",
    ),
    "bad instant": (
        '{"action_id": 9, "at": "2025-02-30T00:00:00Z", "accepted": true, "effects": []}',
        ":2: at: '2025-02-30T00:00:00Z' is not a real date",
    ),
    "bad status": (
        '{"action_id": 9, "at": "2025-01-01T00:00:00Z", "accepted": true, '
        '"effects": [{"effect": "status", "bundle_id": 1, "to": "GONE"}]}',
        ":2: effects/0/to: 'GONE' is not a bundle status",
    ),
    "not an object": ("[1, 2]", ":2: the record is a JSON list, not an object"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_named_with_file_and_line_and_exit_2(
    tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    line, expected = BAD[case]
    good = json.dumps(next(iter(generate(1))))
    path = tmp_path / "bad.jsonl"
    path.write_text(good + "\n" + line + "\n")
    for engine in ("duckdb", "python"):
        assert main(["audit", str(path), "--engine", engine]) == 2
        err = capsys.readouterr().err
        assert f"{path}{expected}" in err, err
        assert "Traceback" not in err
    # the schema agrees: the record is invalid for it too (or not JSON at all; the schema
    # gives an instant's form, the reader also requires it to be a real one)
    if case == "bad instant":
        return
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return
    assert list(jsonschema.Draft202012Validator(record_schema()).iter_errors(record))


def test_a_missing_file_and_mixed_formats_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", str(tmp_path / "nope.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err
    path = _history(tmp_path, 50, 1, [])
    parquet = tmp_path / "h.parquet"
    assert main(["audit", "convert", str(path), str(parquet)]) == 0
    assert main(["audit", str(path), str(parquet)]) == 2
    assert "not both" in capsys.readouterr().err


def test_cli_writes_json_junit_and_html_and_exits_by_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean = _history(tmp_path, 300, 1, [])
    assert main(["audit", str(clean), "--quiet"]) == 0
    faulty = _history(tmp_path, 300, 2, ["double_cancel"])
    out = tmp_path / "audit.json"
    xml = tmp_path / "audit.xml"
    page = tmp_path / "audit.html"
    code = main(
        ["audit", str(faulty), "--json", str(out), "--junitxml", str(xml), "--report", str(page)]
    )
    assert code == 1
    doc = json.loads(out.read_text())
    assert doc["verdict"] == "findings" and doc["engine_used"] == "duckdb"
    assert doc["counts"]["DOUBLE_CANCELLATION"] >= 1
    assert {"risk", "action_id", "bundle_id", "message"} <= set(doc["findings"][0])
    assert "<failure" in xml.read_text() and "DOUBLE_CANCELLATION" in xml.read_text()
    assert "DOUBLE_CANCELLATION" in page.read_text()
    assert "DOUBLE_CANCELLATION" in capsys.readouterr().out


def test_progress_goes_to_stderr_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _history(tmp_path, 200, 1, [])
    assert main(["audit", str(path), "--progress", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "audit: rule f_production" in captured.err
    assert "audit: bundle state, part 1 of 1 done" in captured.err
    assert "rule" not in captured.out
    assert main(["audit", str(path), "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_the_schema_command_prints_the_published_schema(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["audit", "schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"].startswith("gc-conformance audit")
