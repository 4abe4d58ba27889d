"""The vector file format: names, canonical JSON, hashes, symbolic IDs and the numbering-free state.

Everything the generator writes and the verifier reads agrees through this
module, so that the two can never disagree on what a hash covers or how a
bundle is described. The format itself is documented in ``vectors/README.md``.

Symbolic IDs
    A registry numbers bundles, storage records and EACs its own way, so a
    vector never contains one. A request field that names something the
    registry created holds ``{"$id": "B3"}``; the symbol is *bound* by an
    earlier step's answer (the same position of the answer holds
    ``{"$id": "B3"}`` in the step's ``output``) or *located* in the observed
    state by its numbering-free description (the step's ``locate``). A symbol
    that nothing binds (prefix ``X``) stands for an ID the registry never gave.

Numbering-free state
    A bundle is described by its device and production interval, the offsets
    of its first and last certificate inside that device-and-interval group,
    its quantity, account, status, beneficiary and claimant (the differential
    check's description, grouped by interval so that a registry need not
    expose issuance IDs).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any, cast

from gc_conformance.checks.differential import Key, bundle_keys

#: The vector set's format; bumped only for a change a reader must know about.
FORMAT = "gc-conformance-vectors/1"
#: The standard revision the shipped vectors are written for (the "valid_from" of every case).
REVISION = "v2"
#: Test types: one JSON Schema each, ``schema/<type>.schema.json``.
TEST_TYPES = ("request_sequence", "storage_sequence", "configuration_sequence")
REF = "$id"

#: Symbol prefixes by what the registry numbers.
BUNDLE, RECORD, EAC, UNKNOWN = "B", "R", "E", "X"

# Where IDs sit in requests and answers (the generator only; the verifier walks ``$id`` objects).
SCALAR_IDS: Mapping[str, str] = {
    "bundle_id": BUNDLE,
    "remainder_id": BUNDLE,
    "record_id": RECORD,
    "scr_id": RECORD,
    "sdr_id": RECORD,
}
LIST_IDS: Mapping[str, str] = {
    "bundle_ids": BUNDLE,
    "eac_ids": EAC,
    "sdr_ids": RECORD,
    "scr_ids": RECORD,
}
TUPLE_IDS: Mapping[str, Mapping[int, str]] = {
    "allocations": {0: RECORD, 1: RECORD},
    "links": {0: EAC},
}
NESTED = ("issued",)

#: Answer fields a vector holds the registry to (IDs bind symbols; the others are compared).
OUTPUT_FIELDS = (
    "bundle_id",
    "remainder_id",
    "record_id",
    "bundle_ids",
    "eac_ids",
    "allocations",
    "loss_wh",
    "bundles",
)


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the form every hash is taken of."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def content_hash(document: Mapping[str, Any]) -> str:
    """SHA-256 of a vector file's canonical JSON without its ``_info`` block."""
    return sha256(canonical_json({k: v for k, v in document.items() if k != "_info"}))


def dumps(document: Any) -> str:
    """The on-disk form: two-space indent, keys in the order built, a final newline."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def root_hash(files: Mapping[str, str], extra: Mapping[str, str] | None = None) -> str:
    """One hash over ``path -> sha256`` (and named sub-hashes): lines sorted, then hashed."""
    lines = [f"{path}\t{digest}" for path, digest in sorted(files.items())]
    lines += [f"@{name}\t{digest}" for name, digest in sorted((extra or {}).items())]
    return sha256("\n".join(lines).encode("utf-8"))


def ref(symbol: str) -> dict[str, str]:
    return {REF: symbol}


def is_ref(value: object) -> bool:
    return isinstance(value, Mapping) and len(value) == 1 and isinstance(value.get(REF), str)


def map_ids(fields: Mapping[str, Any], convert: Callable[[str, Any], Any]) -> dict[str, Any]:
    """``fields`` with every registry-assigned ID replaced by ``convert(kind, value)``.

    Knows where the contract puts IDs (:data:`SCALAR_IDS`, :data:`LIST_IDS`,
    :data:`TUPLE_IDS`, and the same inside ``issued``); everything else is copied.
    """
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if value is None:
            out[key] = None
        elif key in SCALAR_IDS:
            out[key] = convert(SCALAR_IDS[key], value)
        elif key in LIST_IDS and isinstance(value, list | tuple):
            out[key] = [convert(LIST_IDS[key], item) for item in value]
        elif key in TUPLE_IDS and isinstance(value, list | tuple):
            positions = TUPLE_IDS[key]
            out[key] = [
                [
                    convert(positions[i], part) if i in positions else part
                    for i, part in enumerate(entry)
                ]
                for entry in value
            ]
        elif key in NESTED and isinstance(value, Mapping):
            out[key] = map_ids(value, convert)
        else:
            out[key] = value
    return out


# ====================================================================== numbering-free state

STATE_FIELDS = (
    "device_id",
    "start",
    "end",
    "first",
    "last",
    "quantity",
    "account_id",
    "status",
    "beneficiary",
    "claimant",
)


def key_to_plain(key: Key) -> dict[str, Any]:
    return dict(zip(STATE_FIELDS, key, strict=True))


def plain_to_key(plain: Mapping[str, Any]) -> Key:
    values: Any = tuple(plain[name] for name in STATE_FIELDS)
    return cast(Key, values)


def described_bundles(state: Mapping[str, Any]) -> dict[Any, tuple[Any, Key]]:
    """Observed bundles by hashable ID: ``(registry ID, numbering-free key)``."""
    return bundle_keys(state, issuances=False)


def sort_key(plain: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(plain.get(name)) for name in (*STATE_FIELDS, "id"))
