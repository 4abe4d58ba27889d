"""Reading histories: JSON Lines or Parquet in, one flat columnar table out.

The audit engines are set-based, so a history is flattened once into *rows*: one row per
effect (one per child for a split; one row with no effect for an action that has none),
in history order, carrying its action's columns. Instants are kept as their wire text
(for messages) and as epoch seconds (for arithmetic, identical in every SQL dialect).
Each action's original JSON is kept on its first row (``raw``), so the Python oracle
reads exactly what was given, whichever format the history came in.

Validation is strict and fast: a line that is not JSON, or a record that breaks the
published JSON Schema (``history-record.schema.json``), stops the audit with the file,
the line and the field named (:class:`HistoryError`, exit 2). The hand-written checks
here agree with the schema (the tests hold them to it) and are much faster than a
general validator, which matters at 10^9 records.
"""

from __future__ import annotations

import calendar
import json
import re
import sys
import time
from collections.abc import Callable, Iterator
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

import pyarrow as pa
import pyarrow.parquet as pq

from gc_conformance.reference.storage_checks import STORAGE_EFFECTS

SCHEMA_FILE = "history-record.schema.json"
BATCH = 65_536

_INSTANT = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z", re.ASCII)
_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?", re.ASCII)
_STATUSES = frozenset(
    {
        "ACTIVE",
        "RESERVED",
        "LOCKED",
        "CANCELLED",
        "CANCELLED_FOR_STORAGE",
        "CLAIMED",
        "WITHDRAWN",
        "EXPIRED",
        "EXPORTED",
        "BUNDLE_SPLIT",
    }
)
EFFECTS = frozenset(
    {"issue", "split", "transfer", "status", "reading", "debt", "account", "device"}
    | {"eac_link", "suspension"}
    | STORAGE_EFFECTS
)

# The flat table: name -> arrow type. ``seq`` orders rows, ``aseq`` actions, ``eid`` effects.
COLUMNS: dict[str, pa.DataType] = {
    "seq": pa.int64(),
    "aseq": pa.int64(),
    "eid": pa.int64(),
    "cseq": pa.int64(),
    "action_id": pa.int64(),
    "at_text": pa.string(),
    "at_s": pa.int64(),
    "action": pa.string(),
    "accepted": pa.bool_(),
    "effect": pa.string(),
    "issuance_id": pa.int64(),
    "bundle_id": pa.int64(),
    "parent_id": pa.int64(),
    "device_id": pa.string(),
    "account_id": pa.string(),
    "p_start": pa.string(),
    "p_end": pa.string(),
    "p_start_s": pa.int64(),
    "p_end_s": pa.int64(),
    "range_start": pa.int64(),
    "range_end": pa.int64(),
    "expiry": pa.string(),
    "expiry_s": pa.int64(),
    "corrects": pa.int64(),
    "from_account": pa.string(),
    "to_account": pa.string(),
    "to_status": pa.string(),
    "has_beneficiary": pa.bool_(),
    "beneficiary": pa.string(),
    "purpose": pa.string(),
    "claimant": pa.string(),
    "recognised_wh": pa.int64(),
    "metered_int": pa.int64(),
    "metered_text": pa.string(),
    "carried_null": pa.bool_(),
    "rounded_alone": pa.bool_(),
    "own_from": pa.string(),
    "own_from_s": pa.int64(),
    "cons_start": pa.string(),
    "cons_end": pa.string(),
    "cons_start_s": pa.int64(),
    "cons_end_s": pa.int64(),
    "raw": pa.string(),
}
ARROW_SCHEMA = pa.schema(list(COLUMNS.items()))
_NAMES = tuple(COLUMNS)


class HistoryError(ValueError):
    """A history the audit cannot read: names the file, the line and the field (exit 2)."""


@cache
def record_schema() -> dict[str, Any]:
    """The published JSON Schema of one history record."""
    text = resources.files("gc_conformance.audit").joinpath(SCHEMA_FILE).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


class _Bad(ValueError):
    pass


def _epoch(text: Any, field: str, cache_: dict[str, int]) -> int:
    if type(text) is not str:
        raise _Bad(f"{field}: {text!r} is not a timestamp string")
    value = cache_.get(text)
    if value is None:
        match = _INSTANT.fullmatch(text)
        if match is None:
            raise _Bad(f"{field}: {text!r} is not of the form YYYY-MM-DDThh:mm:ssZ")
        y, mo, d, h, mi, s = (int(g) for g in match.groups())
        if not (1 <= mo <= 12 and 1 <= d <= calendar.monthrange(y, mo)[1]):
            raise _Bad(f"{field}: {text!r} is not a real date")
        if h > 23 or mi > 59 or s > 59:
            raise _Bad(f"{field}: {text!r} is not a real time")
        value = calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0))
        if len(cache_) > 200_000:
            cache_.clear()
        cache_[text] = value
    return value


def _int(value: Any, field: str, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if type(value) is not int:
        raise _Bad(f"{field}: {value!r} is not an integer")
    if not -(2**63) <= value < 2**63:
        raise _Bad(f"{field}: {value!r} is out of the 64-bit range")
    return value


def _text(value: Any, field: str, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if type(value) is not str:
        raise _Bad(f"{field}: {value!r} is not a string")
    return value


class Flattener:
    """Turns plain history records into Arrow record batches of the audit's columns.

    Validates as it goes (a record the schema refuses raises with the field named), so the
    DuckDB and Spark engines only ever see well-formed columns. Public because writing
    Parquet from records already in memory (the audit benchmark's generated histories)
    needs exactly this step without the JSON Lines reader around it.
    """

    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []
        self.seq = 0
        self.aseq = 0
        self.eid = 0
        self.stamps: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.rows)

    def take(self) -> pa.RecordBatch:
        columns = list(zip(*self.rows, strict=True)) if self.rows else [()] * len(_NAMES)
        batch = pa.RecordBatch.from_arrays(
            [pa.array(c, type=COLUMNS[n]) for n, c in zip(_NAMES, columns, strict=True)],
            schema=ARROW_SCHEMA,
        )
        self.rows = []
        return batch

    def add(self, record: Any, raw: str) -> None:
        if type(record) is not dict:
            raise _Bad(f"the record is a JSON {type(record).__name__}, not an object")
        for name in ("action_id", "at", "accepted", "effects"):
            if name not in record:
                raise _Bad(f"'{name}' is a required property")
        accepted = record["accepted"]
        if type(accepted) is not bool:
            raise _Bad(f"accepted: {accepted!r} is not a boolean")
        effects = record["effects"]
        if type(effects) is not list:
            raise _Bad(f"effects: {effects!r} is not an array")
        action_name = _text(record.get("action"), "action", optional=True)
        _text(record.get("actor"), "actor", optional=True)
        _text(record.get("code"), "code", optional=True)
        action: dict[str, Any] = {
            "aseq": self.aseq,
            "action_id": _int(record["action_id"], "action_id"),
            "at_text": record["at"],
            "at_s": _epoch(record["at"], "at", self.stamps),
            "action": action_name,
            "accepted": accepted,
        }
        rows: list[dict[str, Any]] = []
        for index, effect in enumerate(effects):
            rows.extend(self._effect(effect, f"effects/{index}"))
        self.aseq += 1
        first = True
        append = self.rows.append
        for row in rows or [{}]:
            merged = {**action, **row}
            merged["seq"] = self.seq
            self.seq += 1
            if first:
                merged["raw"] = raw
                first = False
            append(tuple(map(merged.get, _NAMES)))

    def _effect(self, e: Any, where: str) -> list[dict[str, Any]]:
        if type(e) is not dict:
            raise _Bad(f"{where}: {e!r} is not an object")
        kind = e.get("effect")
        if kind not in EFFECTS:
            raise _Bad(f"{where}/effect: unknown effect {kind!r}")
        eid = self.eid
        self.eid += 1
        row: dict[str, Any] = {"effect": kind, "eid": eid}
        reader = _EFFECT_ROWS.get(kind)
        return [row] if reader is None else reader(e, where, row, self.stamps)


def _require(e: dict[str, Any], where: str, *names: str) -> None:
    """The first of ``names`` missing from effect ``e``, as the schema would name it."""
    for name in names:
        if name not in e:
            raise _Bad(f"{where}: '{name}' is a required property")


def _issue_rows(
    e: dict[str, Any], where: str, row: dict[str, Any], stamps: dict[str, int]
) -> list[dict[str, Any]]:
    _require(e, where, "issuance_id", "bundle_id", "range_start", "range_end")
    row["issuance_id"] = _int(e["issuance_id"], f"{where}/issuance_id")
    row["bundle_id"] = _int(e["bundle_id"], f"{where}/bundle_id")
    row["range_start"] = _int(e["range_start"], f"{where}/range_start")
    row["range_end"] = _int(e["range_end"], f"{where}/range_end")
    row["device_id"] = _text(e.get("device_id"), f"{where}/device_id", True)
    row["account_id"] = _text(e.get("account_id"), f"{where}/account_id", True)
    row["corrects"] = _int(e.get("corrects_issuance_id"), f"{where}/corrects_issuance_id", True)
    _instants(e, where, row, stamps, ISSUE_INSTANTS)
    return [row]


#: The optional instants an issuance carries: (field of the effect, column).
ISSUE_INSTANTS = (
    ("production_start", "p_start"),
    ("production_end", "p_end"),
    ("expiry", "expiry"),
    ("own_hour_only_from", "own_from"),
)
#: What a cancellation was matched to (D8's own-hour rule compares it with the GC's hour).
CONSUMPTION_INSTANTS = (("consumption_start", "cons_start"), ("consumption_end", "cons_end"))


def _instants(
    e: dict[str, Any],
    where: str,
    row: dict[str, Any],
    stamps: dict[str, int],
    fields: tuple[tuple[str, str], ...],
) -> None:
    """Each optional instant of ``fields`` present in ``e``: its text and its epoch second."""
    for name, col in fields:
        value = e.get(name)
        if value is not None:
            row[col + "_s"] = _epoch(value, f"{where}/{name}", stamps)
            row[col] = value


def _split_rows(
    e: dict[str, Any], where: str, row: dict[str, Any], stamps: dict[str, int]
) -> list[dict[str, Any]]:
    _require(e, where, "parent_id", "children")
    row["parent_id"] = _int(e["parent_id"], f"{where}/parent_id")
    children = e["children"]
    if type(children) is not list:
        raise _Bad(f"{where}/children: {children!r} is not an array")
    if not children:
        return [{**row, "cseq": -1}]
    rows = []
    for n, child in enumerate(children):
        at = f"{where}/children/{n}"
        if type(child) is not dict:
            raise _Bad(f"{at}: {child!r} is not an object")
        _require(child, at, "bundle_id", "range_start", "range_end")
        rows.append(
            {
                **row,
                "cseq": n,
                "bundle_id": _int(child["bundle_id"], f"{at}/bundle_id"),
                "range_start": _int(child["range_start"], f"{at}/range_start"),
                "range_end": _int(child["range_end"], f"{at}/range_end"),
            }
        )
    return rows


def _transfer_rows(
    e: dict[str, Any], where: str, row: dict[str, Any], stamps: dict[str, int]
) -> list[dict[str, Any]]:
    _require(e, where, "bundle_id", "from_account", "to_account")
    row["bundle_id"] = _int(e["bundle_id"], f"{where}/bundle_id")
    row["from_account"] = _text(e["from_account"], f"{where}/from_account")
    row["to_account"] = _text(e["to_account"], f"{where}/to_account")
    return [row]


def _status_rows(
    e: dict[str, Any], where: str, row: dict[str, Any], stamps: dict[str, int]
) -> list[dict[str, Any]]:
    _require(e, where, "bundle_id", "to")
    row["bundle_id"] = _int(e["bundle_id"], f"{where}/bundle_id")
    for name in ("to", "from"):
        if name in e and e[name] not in _STATUSES:
            raise _Bad(f"{where}/{name}: {e[name]!r} is not a bundle status")
    row["to_status"] = e["to"]
    row["has_beneficiary"] = "beneficiary" in e
    for name in ("beneficiary", "purpose", "claimant"):
        row[name] = _text(e.get(name), f"{where}/{name}", True)
    _instants(e, where, row, stamps, CONSUMPTION_INSTANTS)
    return [row]


def _reading_rows(
    e: dict[str, Any], where: str, row: dict[str, Any], stamps: dict[str, int]
) -> list[dict[str, Any]]:
    _require(e, where, "device_id", "recognised_wh", "metered_wh")
    row["device_id"] = _text(e["device_id"], f"{where}/device_id")
    row["recognised_wh"] = _int(e["recognised_wh"], f"{where}/recognised_wh")
    metered = e["metered_wh"]
    if type(metered) is int:
        if metered < 0:
            raise _Bad(f"{where}/metered_wh: {metered!r} is below 0")
        row["metered_int"] = _int(metered, f"{where}/metered_wh")
        row["metered_text"] = str(metered)
    elif type(metered) is str and _DECIMAL.fullmatch(metered):
        row["metered_text"] = metered
        if metered.isdigit() and int(metered) < 2**63:
            row["metered_int"] = int(metered)
    else:
        raise _Bad(f"{where}/metered_wh: {metered!r} is not a number of Wh")
    for name, col in (("production_start", "p_start"), ("production_end", "p_end")):
        row[col + "_s"] = _epoch(e.get(name), f"{where}/{name}", stamps)
        row[col] = e.get(name)
    carried = e.get("carried_wh")
    if carried is not None and type(carried) not in (str, int, float):
        raise _Bad(f"{where}/carried_wh: {carried!r} is not a number")
    row["carried_null"] = carried is None
    row["rounded_alone"] = e.get("rounded_alone") is not None
    return [row]


def _account_rows(
    e: dict[str, Any], where: str, row: dict[str, Any], stamps: dict[str, int]
) -> list[dict[str, Any]]:
    _require(e, where, "account_id")
    row["account_id"] = _text(e["account_id"], f"{where}/account_id")
    return [row]


#: The columns each kind of effect fills (an effect with nothing more to read keeps its row).
_EFFECT_ROWS: dict[
    str, Callable[[dict[str, Any], str, dict[str, Any], dict[str, int]], list[dict[str, Any]]]
] = {
    "issue": _issue_rows,
    "split": _split_rows,
    "transfer": _transfer_rows,
    "status": _status_rows,
    "reading": _reading_rows,
    "account": _account_rows,
}


ProgressFn = Callable[[str], None]


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    try:
        handle: TextIO = path.open(encoding="utf-8")
    except OSError as exc:
        raise HistoryError(f"{path}: cannot read: {exc.strerror or exc}") from None
    with handle:
        number = 0
        try:
            for number, line in enumerate(handle, 1):
                yield number, line
        except UnicodeDecodeError as exc:
            raise HistoryError(f"{path}:{number + 1}: not UTF-8 text: {exc.reason}") from None


def is_parquet(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(4) == b"PAR1"
    except OSError as exc:
        raise HistoryError(f"{path}: cannot read: {exc.strerror or exc}") from None


def jsonl_batches(
    paths: list[Path], progress: ProgressFn | None = None
) -> Iterator[pa.RecordBatch]:
    """Validate and flatten JSON Lines histories (concatenated in order) into record batches."""
    flat = Flattener()
    started = time.monotonic()
    for path in paths:
        for number, line in _lines(path):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise HistoryError(
                    f"{path}:{number}: not JSON: {exc.msg} (column {exc.colno})"
                ) from None
            try:
                flat.add(record, line.rstrip("\n"))
            except _Bad as exc:
                raise HistoryError(f"{path}:{number}: {exc}") from None
            if len(flat) >= BATCH:
                yield flat.take()
                if progress is not None:
                    progress(
                        f"read {flat.aseq:,} actions ({path.name}:{number:,}, "
                        f"{time.monotonic() - started:.0f} s)"
                    )
    if len(flat):
        yield flat.take()


def parquet_tables(paths: list[Path]) -> list[pq.ParquetFile]:
    files = []
    for path in paths:
        try:
            handle = pq.ParquetFile(path)
        except (OSError, pa.ArrowInvalid) as exc:
            raise HistoryError(f"{path}: not a readable Parquet history: {exc}") from None
        missing = [name for name in _NAMES if name not in handle.schema_arrow.names]
        if missing:
            raise HistoryError(
                f"{path}: not an audit Parquet history (missing columns {', '.join(missing)}); "
                "write one with `gc-conformance audit convert`"
            )
        files.append(handle)
    return files


def read_table(paths: list[Path], progress: ProgressFn | None = None) -> pa.Table:
    """Every history (JSON Lines or Parquet, in the order given) as one flat table.

    Several Parquet files are renumbered (``seq``, ``aseq``, ``eid``) so they read as one
    history in the order given.
    """
    kinds = {is_parquet(p) for p in paths}
    if kinds == {False}:
        batches = list(jsonl_batches(paths, progress))
        return pa.Table.from_batches(batches, schema=ARROW_SCHEMA)
    if kinds == {True}:
        tables = []
        offsets = {"seq": 0, "aseq": 0, "eid": 0}
        for handle in parquet_tables(paths):
            table = handle.read(columns=list(_NAMES)).cast(ARROW_SCHEMA)
            if len(paths) > 1:
                import pyarrow.compute as pc

                for name in ("seq", "aseq", "eid"):
                    column = table.column(name)
                    shifted = pc.add(column, offsets[name])
                    table = table.set_column(_NAMES.index(name), name, shifted)
                    top = pc.max(column).as_py()
                    if top is not None:
                        offsets[name] += top + 1
            tables.append(table)
        return pa.concat_tables(tables)
    raise HistoryError("give either JSON Lines or Parquet histories, not both at once")


def raw_records(paths: list[Path]) -> Iterator[Any]:
    """The original records, in order (for the Python oracle), from either format."""
    for path in paths:
        if is_parquet(path):
            for handle in parquet_tables([path]):
                last = None
                for batch in handle.iter_batches(columns=["aseq", "raw"], batch_size=BATCH):
                    for aseq, raw in zip(
                        batch.column(0).to_pylist(), batch.column(1).to_pylist(), strict=True
                    ):
                        if aseq == last:
                            continue
                        last = aseq
                        if raw is None:
                            # e.g. the benchmark's copies of a generated history: auditing
                            # the records that are there would judge part of the history.
                            raise HistoryError(
                                f"{path}: action #{aseq + 1} has no original record (raw), "
                                "which the python engine reads; write the Parquet with "
                                "`gc-conformance audit convert`"
                            )
                        yield json.loads(raw)
        else:
            for _, line in _lines(path):
                if line.strip():
                    yield json.loads(line)


def convert(sources: list[Path], target: Path, progress: ProgressFn | None = None) -> int:
    """Validate JSON Lines histories and write them as one Parquet history; the action count."""
    writer = None
    actions = 0
    try:
        for batch in jsonl_batches(sources, progress):
            if writer is None:
                writer = pq.ParquetWriter(target, ARROW_SCHEMA, compression="zstd")
            writer.write_batch(batch)
            actions = batch.column(1)[len(batch) - 1].as_py() + 1
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        pq.write_table(ARROW_SCHEMA.empty_table(), target)
    return actions


def stderr_progress(enabled: bool) -> ProgressFn | None:
    if not enabled:
        return None

    def report(message: str) -> None:
        print(f"audit: {message}", file=sys.stderr, flush=True)

    return report
