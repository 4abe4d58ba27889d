"""The requirement catalogue and its join with the checks.

A requirement nobody verifies, a check pointing at a requirement that does not
exist, or a check filed under another profile than what it verifies would each
make a report lie; these tests keep the join honest for every ``*.toml`` file.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from importlib import resources
from typing import Any

import pytest

from gc_conformance.adapter import Profile
from gc_conformance.catalogue import (
    CLAUSE_PATTERN,
    ID_PATTERN,
    KNOWN_POLICIES,
    Level,
    coverage,
    load_catalogue,
)
from gc_conformance.checks import all_checks

LIFECYCLE_FILES = ("core.toml", "lifecycle.toml")
LIFECYCLE_MODULES = ("core", "issuer_created", "lifecycle_time")
CHECK_ID = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+){2,}$")


def raw_entries(name: str) -> list[dict[str, Any]]:
    text = resources.files("gc_conformance").joinpath("requirements", name).read_text("utf-8")
    entries: list[dict[str, Any]] = tomllib.loads(text).get("requirement", [])
    return entries


def lifecycle_checks() -> list[Any]:
    return [c for c in all_checks() if c.area in LIFECYCLE_MODULES]


def test_the_catalogue_loads_with_well_formed_unique_ids() -> None:
    catalogue = load_catalogue()
    assert catalogue
    for rid, requirement in catalogue.items():
        assert ID_PATTERN.match(rid), rid
        assert requirement.requirement_id == rid
        assert CLAUSE_PATTERN.match(requirement.clause), (rid, requirement.clause)
        assert requirement.title.strip(), rid
        assert set(requirement.policies) <= KNOWN_POLICIES, rid
    # The loader refuses a duplicate across files; check within each file too.
    folder = resources.files("gc_conformance").joinpath("requirements")
    for entry in folder.iterdir():
        if entry.name.endswith(".toml"):
            ids = Counter(e["id"] for e in raw_entries(entry.name))
            assert not [i for i, n in ids.items() if n > 1], entry.name


def test_lifecycle_files_hold_enough_distinct_requirements() -> None:
    catalogue = load_catalogue()
    entries = [e for name in LIFECYCLE_FILES for e in raw_entries(name)]
    ids = [e["id"] for e in entries]
    assert len(ids) >= 45
    assert len(set(ids)) == len(ids)
    assert {"SPLIT-001", "SPLIT-002", "AUTH-001"} <= set(ids)
    titles = Counter(catalogue[i].title for i in ids)
    assert [t for t, n in titles.items() if n > 1] == []
    levels = Counter(catalogue[i].level for i in ids)
    assert levels[Level.SHALL] and levels[Level.SHOULD] and levels[Level.MAY]
    # the lifecycle files carry the lifecycle profiles only (and the D9 action log, an IT rule)
    assert {catalogue[i].profile for i in ids} <= {
        Profile.CORE,
        Profile.ISSUER_CREATED,
        Profile.EXPIRY,
        Profile.ERROR_CORRECTION,
        Profile.ACTION_LOG,
    }


@pytest.mark.parametrize(
    "key", ["D2", "D3", "D4", "D5", "D6", "D8", "D9", "D10"], ids=lambda k: f"clause-{k}"
)
def test_each_lifecycle_clause_of_the_digest_has_requirements(key: str) -> None:
    catalogue = load_catalogue()
    ids = [e["id"] for name in LIFECYCLE_FILES for e in raw_entries(name)]
    assert any(catalogue[i].digest_key == key for i in ids)


def test_every_check_names_only_requirements_of_the_catalogue() -> None:
    assert coverage().unknown_references == ()


def test_every_shall_in_every_file_has_a_check() -> None:
    assert coverage().untested_shall == ()


def test_every_lifecycle_requirement_has_a_check_whatever_its_level() -> None:
    by_requirement = coverage().checks_by_requirement
    ids = [e["id"] for name in LIFECYCLE_FILES for e in raw_entries(name)]
    assert [i for i in ids if not by_requirement[i]] == []


def test_each_requirement_is_verified_under_its_own_profile() -> None:
    catalogue = load_catalogue()
    checks = {c.check_id: c for c in all_checks()}
    wrong = []
    for rid, check_ids in coverage().checks_by_requirement.items():
        if check_ids and catalogue[rid].profile not in {checks[c].profile for c in check_ids}:
            wrong.append((rid, catalogue[rid].profile.value, check_ids))
    assert wrong == []


def test_lifecycle_checks_are_named_titled_and_filed() -> None:
    checks = lifecycle_checks()
    assert len(checks) >= 45
    for c in checks:
        assert CHECK_ID.match(c.check_id), c.check_id
        assert c.title and c.title != c.check_id and not c.title.endswith(" "), c.check_id
        assert c.requirements, c.check_id
        assert c.check_id.split(".")[0] in ("core", "issuer_created", "expiry", "corrections")
    profiles = Counter(c.profile for c in checks)
    for profile in (Profile.CORE, Profile.ISSUER_CREATED, Profile.EXPIRY, Profile.ERROR_CORRECTION):
        assert profiles[profile] >= 1, profile
