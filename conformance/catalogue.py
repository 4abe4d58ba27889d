"""The requirement catalogue: what the standard asks of a registry, as data.

Requirements live in ``requirements/*.toml`` (one file per area) so standards
people can read and review them without reading test code. Each names its
clause (standard section + digest key, e.g. ``"Storage / D7"``), its level
(SHALL / SHOULD / MAY), the profile that carries it and the policies its
meaning depends on. Checks point at requirement IDs; :func:`coverage` joins
the two, and a SHALL with no check is reported as a defect of the suite.
"""

from __future__ import annotations

import enum
import re
import tomllib
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

import attrs

from gc_conformance.adapter import Profile
from gc_conformance.errors import InternalError

ID_PATTERN = re.compile(r"^[A-Z]+-[0-9]{3}$")
CLAUSE_PATTERN = re.compile(r"^.+ / D(?:[1-9]|1[0-5])$")
KNOWN_POLICIES = frozenset(
    {
        "rounding",
        "validity",
        "own_hour_use",
        "time_shift_scope",
        "sd_gc_inputs",
        "sd_gc_producer",
        "capacity",
        "split_origin",
        "correction_deduction",
        "allocation_method",
        "loss_method",
        "loss_convention",
        "monthly_cap",
        "hour_suspension",
    }
)


class Level(enum.Enum):
    SHALL = "SHALL"
    SHOULD = "SHOULD"
    MAY = "MAY"


@attrs.frozen
class Requirement:
    requirement_id: str
    title: str
    clause: str
    level: Level
    profile: Profile
    policies: tuple[str, ...] = ()
    note: str = ""

    @property
    def digest_key(self) -> str:
        return self.clause.rsplit("/", 1)[1].strip()

    def to_plain(self, checks: Sequence[str] = ()) -> dict[str, Any]:
        return {
            "id": self.requirement_id,
            "title": self.title,
            "clause": self.clause,
            "level": self.level.value,
            "profile": self.profile.value,
            "policies": list(self.policies),
            "note": self.note,
            "checks": list(checks),
        }


class CatalogueError(InternalError, ValueError):
    """A catalogue entry breaks the catalogue's own rules (file, entry and field named).

    The catalogue ships with the suite: a broken one is a bug in gc-conformance (exit 4).
    """


def load_catalogue() -> dict[str, Requirement]:
    """Every requirement, by ID, from the shipped ``requirements/*.toml`` files."""
    folder = resources.files("gc_conformance").joinpath("requirements")
    catalogue: dict[str, Requirement] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        data = tomllib.loads(entry.read_text(encoding="utf-8"))
        _validate_file(data, entry.name)
        for index, raw in enumerate(data.get("requirement", [])):
            requirement = _parse(raw, f"{entry.name}: requirement[{index}]")
            if requirement.requirement_id in catalogue:
                raise CatalogueError(
                    f"{entry.name}: requirement {requirement.requirement_id} is defined twice"
                )
            catalogue[requirement.requirement_id] = requirement
    return catalogue


def _validate_file(data: Mapping[str, Any], name: str) -> None:
    """The file's shape, by the published schema (``gc-conformance schema requirements``)."""
    from gc_conformance.schemas import first_violation, requirements_schema

    violation = first_violation(requirements_schema(), data, name)
    if violation is not None:
        field, rule = violation
        raise CatalogueError(f"{field}: {rule}")


def _parse(raw: Mapping[str, Any], where: str) -> Requirement:
    allowed = {"id", "title", "clause", "level", "profile", "policies", "note"}
    unknown = set(raw) - allowed
    if unknown:
        raise CatalogueError(f"{where}: unknown field(s) {sorted(unknown)}")
    for key in ("id", "title", "clause", "level", "profile"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise CatalogueError(f"{where}.{key}: required, a non-empty string")
    if not ID_PATTERN.match(raw["id"]):
        raise CatalogueError(f"{where}.id: {raw['id']!r} is not AREA-NNN")
    if not CLAUSE_PATTERN.match(raw["clause"]):
        raise CatalogueError(f"{where}.clause: {raw['clause']!r} is not 'Section name / Dn'")
    try:
        level = Level(raw["level"])
        profile = Profile(raw["profile"])
    except ValueError as exc:
        raise CatalogueError(f"{where}: {exc}") from None
    policies = tuple(raw.get("policies", ()))
    for policy in policies:
        if policy not in KNOWN_POLICIES:
            raise CatalogueError(f"{where}.policies: {policy!r} is not a known policy")
    return Requirement(
        raw["id"],
        raw["title"].strip(),
        raw["clause"],
        level,
        profile,
        policies,
        raw.get("note", ""),
    )


@attrs.frozen
class Coverage:
    """Requirements joined with the checks that verify them, and what is wrong with the join."""

    checks_by_requirement: Mapping[str, tuple[str, ...]]
    untested_shall: tuple[str, ...]  # a defect of the suite: a SHALL nobody verifies
    unknown_references: tuple[tuple[str, str], ...]  # (check, requirement ID not in the catalogue)


def coverage() -> Coverage:
    from gc_conformance.checks import all_checks

    catalogue = load_catalogue()
    by_requirement: dict[str, list[str]] = {rid: [] for rid in catalogue}
    unknown: list[tuple[str, str]] = []
    for check in all_checks():
        for rid in check.requirements:
            if rid in by_requirement:
                by_requirement[rid].append(check.check_id)
            else:
                unknown.append((check.check_id, rid))
    untested = tuple(
        rid
        for rid, req in catalogue.items()
        if req.level is Level.SHALL and not by_requirement[rid]
    )
    return Coverage(
        {rid: tuple(ids) for rid, ids in by_requirement.items()},
        untested,
        tuple(unknown),
    )
