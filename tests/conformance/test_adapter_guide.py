"""docs/adapters.md cannot drift from the contract it documents.

The guide's tables are what a vendor writes an adapter from. These tests read
them back and compare them with the code: every action of the contract has a
row, each row lists exactly the request fields the reference adapter accepts
for it (``?`` marking the optional ones), the nested records list exactly
their fields, and every observed key the core checks require is named.
"""

from __future__ import annotations

import re
from pathlib import Path

import attrs
import pytest

from gc_conformance.adapter import ACTIONS, Profile
from gc_conformance.adapters.reference import COMMANDS, QueryAction
from gc_conformance.checks.core import MANDATORY_ATTRIBUTES
from gc_conformance.reference import Account, Device, Location, Query

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "adapters.md"
ROW = re.compile(r"^\| `(?P<name>[a-z_0-9]+)` \|(?P<cells>.*)\|\s*$")
FIELD = re.compile(r"`([a-z_0-9]+\??)`")


def guide_rows() -> dict[str, list[str]]:
    """Table rows whose first cell is a code word: name -> the remaining cells."""
    rows: dict[str, list[str]] = {}
    for line in GUIDE.read_text(encoding="utf-8").splitlines():
        found = ROW.match(line)
        if found is not None:
            assert found["name"] not in rows, f"{found['name']} has two rows in the guide"
            rows[found["name"]] = [cell.strip() for cell in found["cells"].split("|")]
    return rows


def documented_fields(cell: str) -> set[str]:
    """The field names a request-fields cell lists (code words before any explanation).

    Values such as ``GROSS`` or ``CONSUMPTION`` are upper case and not matched;
    a field is written ``name`` (required) or ``name?`` (optional).
    """
    return set(FIELD.findall(re.sub(r"\([^()]*\)", "", cell)))


def contract_fields(cls: type, skip: tuple[str, ...] = ("actor",)) -> set[str]:
    return {
        f.name + ("" if f.default is attrs.NOTHING else "?")
        for f in attrs.fields(cls)
        if f.name not in skip
    }


def request_cell(action: str, cells: list[str]) -> str:
    """Core rows are ``| action | fields | result |``; other rows add the profile first."""
    return cells[0] if ACTIONS[action] == frozenset({Profile.CORE}) else cells[1]


def test_every_action_of_the_contract_has_a_row() -> None:
    rows = guide_rows()
    missing = sorted(set(ACTIONS) - set(rows))
    assert not missing, f"docs/adapters.md does not document {missing}"


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_each_row_lists_exactly_the_fields_of_its_request(action: str) -> None:
    cells = guide_rows()[action]
    reads: dict[str, type] = {"query": Query, "query_action": QueryAction}
    expected = contract_fields(reads.get(action) or COMMANDS[action])
    assert documented_fields(request_cell(action, cells)) == expected


@pytest.mark.parametrize("action", sorted(a for a in ACTIONS if ACTIONS[a] != {Profile.CORE}))
def test_rows_of_other_profiles_name_the_profiles_that_use_them(action: str) -> None:
    named = {p.strip() for p in guide_rows()[action][0].split(",")}
    assert named == {p.value for p in ACTIONS[action]}


@pytest.mark.parametrize(
    ("record", "cls"), [("account", Account), ("device", Device), ("location", Location)]
)
def test_the_nested_records_list_exactly_their_fields(record: str, cls: type) -> None:
    text = GUIDE.read_text(encoding="utf-8")
    line = next(row for row in text.splitlines() if row.startswith(f"| {record} | "))
    assert documented_fields(line.split("|")[2]) == contract_fields(cls, skip=())


def test_every_attribute_the_core_checks_require_is_named() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    required = (
        *MANDATORY_ATTRIBUTES,
        "bundle_id",
        "certificate_bundle_id_range_start",
        "certificate_bundle_id_range_end",
        "bundle_quantity",
        "account_id",
        "certificate_bundle_status",
        "beneficiary",
        "claimant",
    )
    missing = [key for key in required if f"`{key}`" not in text]
    assert not missing, f"docs/adapters.md does not name {missing}"


def test_every_profile_is_described() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    assert all(f"`{p.value}`" in text for p in Profile)
