"""The published JSON Schemas: each is a valid schema, accepts what the suite ships and
writes, and names the field when a user's file is wrong (capabilities, catalogue, xfail)."""

from __future__ import annotations

import json
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gc_conformance.adapter import Capabilities, CapabilitiesError
from gc_conformance.adapters import load_adapter
from gc_conformance.adapters.faulty import FAULTS
from gc_conformance.cli import EXIT_OK, main
from gc_conformance.runner import read_xfail_file
from gc_conformance.schemas import (
    PUBLISHED,
    capabilities_schema,
    first_violation,
    mapping_schema,
    requirements_schema,
)

ALL_NAMES = [*PUBLISHED, "run-document", "history-record"]
REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ALL_NAMES)
def test_every_published_schema_prints_and_is_a_valid_schema(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schema", name]) == EXIT_OK
    schema = json.loads(capsys.readouterr().out)
    jsonschema.Draft202012Validator.check_schema(schema)


def _capabilities_of(spec: str) -> dict[str, Any]:
    adapter = load_adapter(spec)
    try:
        plain = adapter.capabilities()
    finally:
        adapter.close()
    assert isinstance(plain, dict)
    return plain


@pytest.mark.parametrize("spec", ["reference", *(f"faulty:{name}" for name in sorted(FAULTS)[:3])])
def test_what_the_shipped_adapters_declare_is_valid(spec: str) -> None:
    plain = _capabilities_of(spec)
    assert first_violation(capabilities_schema(), plain, "capabilities") is None
    parsed = Capabilities.from_plain(plain)
    # what the run document records is valid input again
    assert first_violation(capabilities_schema(), parsed.to_plain(), "capabilities") is None


WRONG_CAPABILITIES = [
    # (change, the field the error must name)
    (lambda c: c.pop("name"), "capabilities.name"),
    (lambda c: c.pop("profiles"), "capabilities.profiles"),
    (lambda c: c.update(name=7), "capabilities.name"),
    (lambda c: c.update(profiles="core"), "capabilities.profiles"),
    (lambda c: c.update(profiles=["core", "gold"]), "capabilities.profiles[1]"),
    (lambda c: c.update(profiles=["storage"]), "capabilities.profiles"),
    (lambda c: c.update(issuance_styles=[]), "capabilities.issuance_styles"),
    (lambda c: c.update(clock="atomic"), "capabilities.clock"),
    (lambda c: c.update(reset="yes"), "capabilities.reset"),
    (lambda c: c.update(observe=1), "capabilities.observe"),
    (lambda c: c.update(actions=["transfer", "teleport"]), "capabilities.actions[1]"),
    (lambda c: c.update(policies=[]), "capabilities.policies"),
    (lambda c: c.update(policies={"rounding": "SIDEWAYS"}), "capabilities.policies.rounding"),
    (lambda c: c.update(policies={"rounding": 1}), "capabilities.policies.rounding"),
    (lambda c: c.update(policies={"colour": "RED"}), "capabilities.policies.colour"),
    (
        lambda c: c.update(policies={"capacity_tolerance_percent": "-3"}),
        "capabilities.policies.capacity_tolerance_percent",
    ),
    (
        lambda c: c.update(policies={"exempt_accounts": "TESTING,PARTY"}),
        "capabilities.policies.exempt_accounts",
    ),
    (lambda c: c.update(surprise=True), "capabilities.surprise"),
]


@pytest.mark.parametrize(("change", "field"), WRONG_CAPABILITIES)
def test_a_wrong_capabilities_field_is_named(change: Any, field: str) -> None:
    plain = _capabilities_of("reference")
    change(plain)
    with pytest.raises(CapabilitiesError) as raised:
        Capabilities.from_plain(plain)
    assert raised.value.field == field, str(raised.value)


def test_a_list_policy_takes_several_known_values_and_a_percent_a_decimal() -> None:
    plain = _capabilities_of("reference")
    plain["policies"] = {
        "exempt_accounts": "TESTING, OWN_CONSUMPTION",
        "capacity_tolerance_percent": "12.5",
    }
    assert first_violation(capabilities_schema(), plain, "capabilities") is None


def test_every_shipped_catalogue_file_is_valid() -> None:
    folder = resources.files("gc_conformance").joinpath("requirements")
    files = [e for e in folder.iterdir() if e.name.endswith(".toml")]
    assert files
    for entry in files:
        data = tomllib.loads(entry.read_text(encoding="utf-8"))
        assert first_violation(requirements_schema(), data, entry.name) is None, entry.name


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda r: r.pop("clause"), "extra.toml.requirement[0].clause"),
        (lambda r: r.update(level="MUST"), "extra.toml.requirement[0].level"),
        (lambda r: r.update(id="core-1"), "extra.toml.requirement[0].id"),
        (lambda r: r.update(clause="Transfers"), "extra.toml.requirement[0].clause"),
        (lambda r: r.update(policies=["weather"]), "extra.toml.requirement[0].policies[0]"),
        (lambda r: r.update(owner="me"), "extra.toml.requirement[0].owner"),
    ],
)
def test_a_wrong_catalogue_entry_is_named(change: Any, field: str) -> None:
    entry: dict[str, Any] = {
        "id": "EXT-001",
        "title": "An extension's requirement",
        "clause": "Transfers / D4",
        "level": "SHALL",
        "profile": "core",
    }
    assert first_violation(requirements_schema(), {"requirement": [entry]}, "extra.toml") is None
    change(entry)
    violation = first_violation(requirements_schema(), {"requirement": [entry]}, "extra.toml")
    assert violation is not None and violation[0] == field, violation


def test_the_shipped_mapping_files_are_valid() -> None:
    for path in (
        REPO / "conformance" / "adapters" / "mappings" / "energytag-v2.json",
        REPO / "examples" / "real_registry" / "mapping.json",
    ):
        document = json.loads(path.read_text(encoding="utf-8"))
        assert first_violation(mapping_schema(), document, "mapping") is None, path


def test_an_xfail_file_may_be_json_and_is_checked_by_the_schema(tmp_path: Path) -> None:
    check_id = "core.transfer.non_owner_refused"
    good = tmp_path / "xfail.json"
    good.write_text(json.dumps({check_id: "ticket 12"}), encoding="utf-8")
    assert read_xfail_file(good) == {check_id: "ticket 12"}

    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps({"core.transfer.typo": "x"}), encoding="utf-8")
    with pytest.raises(ValueError, match=r"xfail\.core\.transfer\.typo"):
        read_xfail_file(unknown)

    empty_reason = tmp_path / "empty.json"
    empty_reason.write_text(json.dumps({check_id: ""}), encoding="utf-8")
    with pytest.raises(ValueError, match=rf"xfail\.{check_id}: must not be empty"):
        read_xfail_file(empty_reason)

    not_json = tmp_path / "broken.json"
    not_json.write_text("{ nope", encoding="utf-8")
    with pytest.raises(ValueError, match="not JSON"):
        read_xfail_file(not_json)


def test_a_text_xfail_file_keeps_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "xfail.txt"
    path.write_text("# known\ncore.transfer.non_owner_refused  ticket 12\nno.such.check x\n")
    with pytest.raises(ValueError, match=r":3: no check 'no.such.check'"):
        read_xfail_file(path)
