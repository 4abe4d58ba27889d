"""``gc-conformance vectors generate``: the vector files, their schemas and the index, from the model.

Deterministic: the same model and the same case sources give byte-identical
files (no clock, no randomness, no dictionary order left to chance), which is
what lets CI compare the checked-in vectors with a fresh generation.

Where a case applies
    Every case is recorded under the set's policies and again under each other
    value of each lifecycle policy. A policy whose other values change the
    recorded expectation is one the case *depends on*: the case lists it under
    ``applies.policies`` with the values that give the same expectation, its
    ``result`` becomes ``acceptable`` (the standard leaves that point open) and
    it gets the policy's flag. Nobody writes this by hand.
"""

from __future__ import annotations

import enum
import importlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, cast

import attrs

from gc_conformance import STANDARD_REVISION, __version__
from gc_conformance.adapter import ACTIONS, Profile
from gc_conformance.catalogue import load_catalogue
from gc_conformance.reference import ConfigurationPolicies, Policies, applied_convention
from gc_conformance.vectors.catalog import AREAS, CASES, FLAGS, Case, Flag
from gc_conformance.vectors.format import (
    FORMAT,
    REVISION,
    TEST_TYPES,
    canonical_json,
    content_hash,
    dumps,
    root_hash,
    sha256,
)
from gc_conformance.vectors.schemas import schema_documents
from gc_conformance.vectors.tape import GeneratorError, Tape

GENERATOR = "gc-conformance vectors generate"
CASE_MODULES = (
    "gc_conformance.vectors.cases_core",
    "gc_conformance.vectors.cases_time",
    "gc_conformance.vectors.cases_storage",
    "gc_conformance.vectors.cases_configurations",
    "gc_conformance.vectors.cases_policies",
)

#: The shipped sets: the v2 vectors under the default policies, and named policy variants.
MAIN_SET = "v2"
VARIANTS: Mapping[str, Mapping[str, str]] = {
    "rounding-down": {"rounding": "DOWN"},
    "split-from-end": {"split_origin": "FROM_END"},
}

POLICY_FLAGS = {
    "rounding": "PolicyRounding",
    "validity": "PolicyValidity",
    "capacity": "PolicyCapacity",
    "split_origin": "PolicySplitOrigin",
    "correction_deduction": "PolicyCorrectionDeduction",
    "monthly_cap": "PolicyMonthlyCap",
    "hour_suspension": "PolicyHourSuspension",
    "rounding_carry": "PolicyRoundingCarry",
    "own_hour_use": "PolicyOwnHourUse",
    "time_shift_scope": "PolicyTimeShiftScope",
    "sd_gc_inputs": "PolicySdGcInputs",
    "sd_gc_producer": "PolicySdGcProducer",
}
#: ConfigurationPolicies fields under the names registries declare them (capabilities).
CONFIG_NAMES = {"monthly_cap": "monthly_cap", "suspension": "hour_suspension"}


@attrs.frozen
class Choice:
    """The policy values a set is generated under: lifecycle and configuration #2/#3."""

    lifecycle: Policies = attrs.field(factory=Policies)
    configuration: ConfigurationPolicies = attrs.field(factory=ConfigurationPolicies)

    def describe(self) -> dict[str, str]:
        config = self.configuration.describe()
        return {
            **self.lifecycle.describe(),
            **{CONFIG_NAMES[name]: value for name, value in config.items()},
        }

    @classmethod
    def from_plain(cls, values: Mapping[str, str]) -> Choice:
        lifecycle = {k: v for k, v in values.items() if k not in CONFIG_NAMES.values()}
        config: dict[str, Any] = {}
        for field in attrs.fields(ConfigurationPolicies):
            value = values.get(CONFIG_NAMES[field.name])
            if value is not None:
                config[field.name] = cast(type[enum.Enum], type(field.default))[value]
        return cls(Policies.from_plain(lifecycle), ConfigurationPolicies(**config))


def all_cases() -> list[Case]:
    """Every registered case (importing the case modules registers them)."""
    for name in CASE_MODULES:
        importlib.import_module(name)
    return list(CASES)


def _policy_flag(name: str) -> Flag:
    return Flag(
        f"The expected outcome depends on the named policy {name!r}, a point the standard leaves "
        "open (D13): the case applies only to a registry declaring one of the values listed in "
        "its applies.policies.",
        f"A registry declaring that value of {name!r} behaves otherwise than the standard's rule "
        "under that reading.",
    )


# ====================================================================== recording


@attrs.frozen
class Recording:
    setup: list[dict[str, Any]]
    steps: list[dict[str, Any]]
    state: dict[str, Any]
    hand_failures: tuple[str, ...] = ()
    hand_count: int = 0

    def fingerprint(self) -> bytes:
        return canonical_json({"setup": self.setup, "steps": self.steps, "state": self.state})


class Recorder:
    """Records cases under policies, remembering each recording for the dependence runs."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str, str, bytes], Recording | None] = {}

    def record(self, case: Case, policies: Choice) -> Recording | None:
        """The case under ``policies``; None when the case's own code cannot run under them."""
        key = (case.area, case.group.name, case.name, canonical_json(policies.describe()))
        if key not in self._cache:
            try:
                self._cache[key] = _record(case, policies)
            except (GeneratorError, KeyError, TypeError, ValueError):
                self._cache[key] = None
        return self._cache[key]


def _record(case: Case, policies: Choice) -> Recording:
    tape = Tape(policies.lifecycle, case.group.reset, policies.configuration)
    case.group.setup(tape)
    tape.setup_steps = len(tape.steps)
    for number, step in enumerate(tape.steps, 1):
        if step["expect"] != "accept":
            raise GeneratorError(
                f"group {case.group.name}: setup step {number} is refused ({step.get('code')})"
            )
    case.run(tape)
    if len(tape.steps) == tape.setup_steps:
        raise GeneratorError(f"case {case.name} sends no request")
    failures = tuple(
        f"{c.what}: by hand {c.expected!r}, the model {c.observed!r}"
        for c in tape.failed_hand_checks()
    )
    return Recording(
        tape.steps[: tape.setup_steps],
        tape.steps[tape.setup_steps :],
        tape.final_state(),
        failures,
        len(tape.hand_checks),
    )


def _alternatives(policies: Choice) -> Iterable[tuple[str, str, Choice]]:
    for field in attrs.fields(Policies):
        current = getattr(policies.lifecycle, field.name)
        for member in cast(type[enum.Enum], type(current)):
            if member is not current:
                changed: dict[str, Any] = {field.name: member}
                other = attrs.evolve(policies.lifecycle, **changed)
                yield field.name, member.name, attrs.evolve(policies, lifecycle=other)
    for field in attrs.fields(ConfigurationPolicies):
        current = getattr(policies.configuration, field.name)
        for member in cast(type[enum.Enum], type(current)):
            if member is not current:
                changes: dict[str, Any] = {field.name: member}
                config = attrs.evolve(policies.configuration, **changes)
                yield (
                    CONFIG_NAMES[field.name],
                    member.name,
                    attrs.evolve(policies, configuration=config),
                )


def dependence(recorder: Recorder, case: Case, policies: Choice) -> dict[str, list[str]]:
    """Policy name -> the values under which the case's expectation is the one recorded."""
    base = recorder.record(case, policies)
    assert base is not None
    fingerprint = base.fingerprint()
    same: dict[str, list[str]] = {}
    differs: set[str] = set()
    for name, value, other in _alternatives(policies):
        recorded = recorder.record(case, other)
        if recorded is not None and recorded.fingerprint() == fingerprint:
            same.setdefault(name, []).append(value)
        else:
            differs.add(name)
    described = policies.describe()
    return {name: sorted([described[name], *same.get(name, [])]) for name in sorted(differs)}


# ====================================================================== building files


def _requires(case: Case, recording: Recording) -> dict[str, Any]:
    configuration = int(case.group.reset.get("configuration", 1))
    profiles = {Profile.CORE.value, *case.profiles}
    styles: set[str] = set()
    for step in [*recording.setup, *recording.steps]:
        action = step["request"]["action"]
        users = ACTIONS[action]
        if users <= {Profile.CONFIG_2, Profile.CONFIG_3}:
            # A configuration request is judged by the registry of the group's configuration
            # (a #3 request sent to a #2 registry is that registry's case).
            profiles.add(f"config-{configuration}")
        elif len(users) == 1:
            profiles.add(next(iter(users)).value)
        if action == "submit_production":
            styles.add("production-data")
        if action == "issue_bundle":
            styles.add("issuer-created")
    order = [p.value for p in Profile]
    return {
        "profiles": sorted(profiles, key=order.index),
        "issuanceStyles": sorted(styles),
        "clock": "controlled",
    }


def _policies_in_force(policies: Choice) -> dict[str, str]:
    return {**policies.describe(), "loss_convention": applied_convention().name}


def build_set(policies: Choice, set_name: str, recorder: Recorder) -> dict[str, dict[str, Any]]:
    """Relative path -> vector file document, for every area and test type."""
    catalogue = load_catalogue()
    by_file: dict[tuple[str, str], list[Case]] = {}
    for case in all_cases():
        by_file.setdefault((case.area, case.group.test_type), []).append(case)
    names_seen: set[tuple[str, str, str, str]] = set()
    documents: dict[str, dict[str, Any]] = {}
    for area in AREAS:
        for test_type in TEST_TYPES:
            cases = by_file.get((area, test_type))
            if cases:
                documents[f"{area}/{test_type}.json"] = _build_file(
                    area, test_type, cases, policies, set_name, recorder, catalogue, names_seen
                )
    return documents


def _build_file(
    area: str,
    test_type: str,
    cases: list[Case],
    policies: Choice,
    set_name: str,
    recorder: Recorder,
    catalogue: Mapping[str, Any],
    names_seen: set[tuple[str, str, str, str]],
) -> dict[str, Any]:
    """One vector file: its cases recorded, grouped, numbered, explained and hashed."""
    groups: dict[str, dict[str, Any]] = {}
    flags_used: dict[str, set[str]] = {}
    requirements: set[str] = set()
    for case in cases:
        _require_new_and_catalogued(case, area, test_type, catalogue, names_seen)
        recording = _recording(case, area, policies, set_name, recorder)
        depends = dependence(recorder, case, policies)
        flags = list(case.flags)
        if recording.hand_count and "HandComputed" not in flags:
            flags.append("HandComputed")
        flags += [POLICY_FLAGS[name] for name in depends]
        for name in flags:
            flags_used.setdefault(name, set()).update(case.requirements)
        requirements.update(case.requirements)
        _group_of(groups, case, area, recording)["tests"].append(
            _test_entry(case, recording, flags, depends)
        )
    # tcIds number the tests in file order (groups as first met, each group's tests in the
    # order they were added), whatever order the cases of several groups came in.
    numbered = 0
    for group in groups.values():
        for test in group["tests"]:
            numbered += 1
            test["tcId"] = numbered
    body: dict[str, Any] = {
        "schema": f"{test_type}.schema.json",
        "area": area,
        "testType": test_type,
        "numberOfTests": numbered,
        "notes": _notes(flags_used),
        "testGroups": list(groups.values()),
    }
    info = {
        "format": FORMAT,
        "standard": STANDARD_REVISION,
        "revision": REVISION,
        "set": set_name,
        "generator": {"name": GENERATOR, "version": __version__},
        "policies": _policies_in_force(policies),
        "requirements": sorted(requirements),
        "sha256": content_hash(body),
    }
    return {"_info": info, **body}


def _require_new_and_catalogued(
    case: Case,
    area: str,
    test_type: str,
    catalogue: Mapping[str, Any],
    names_seen: set[tuple[str, str, str, str]],
) -> None:
    """A case's name is unique in its group, and it verifies catalogued requirements."""
    identity = (area, test_type, case.group.name, case.name)
    if identity in names_seen:
        raise GeneratorError(
            f"{area}/{test_type}: two cases of group {case.group.name} are named {case.name!r}"
        )
    names_seen.add(identity)
    unknown = [r for r in case.requirements if r not in catalogue]
    if unknown or not case.requirements:
        raise GeneratorError(
            f"{area}/{case.name}: requirement IDs {unknown or 'missing'} "
            "(every case verifies at least one catalogued requirement)"
        )


def _recording(
    case: Case, area: str, policies: Choice, set_name: str, recorder: Recorder
) -> Recording:
    """The case as the reference model answers it, agreeing with every hand-computed value."""
    recording = recorder.record(case, policies)
    if recording is None:
        _record(case, policies)  # raise the real error
        raise GeneratorError(f"{area}/{case.name} cannot be recorded")
    if recording.hand_failures:
        raise GeneratorError(
            f"{area}/{case.name}: the reference model disagrees with the "
            f"hand-computed expectation under {set_name}: " + "; ".join(recording.hand_failures)
        )
    return recording


def _group_of(
    groups: dict[str, dict[str, Any]], case: Case, area: str, recording: Recording
) -> dict[str, Any]:
    """The case's group in this file (made on first use); every case of a group shares its
    recorded setup."""
    group = groups.get(case.group.name)
    if group is None:
        group = groups[case.group.name] = {
            "group": case.group.name,
            "description": case.group.description,
            **({"parameters": dict(case.group.parameters)} if case.group.parameters else {}),
            "reset": dict(case.group.reset),
            "setup": recording.setup,
            "tests": [],
        }
    elif group["setup"] != recording.setup:
        raise GeneratorError(f"{area}/{case.name}: its group's setup recorded differently")
    return group


def _test_entry(
    case: Case, recording: Recording, flags: list[str], depends: dict[str, list[str]]
) -> dict[str, Any]:
    """One test of a vector file (its tcId is set when the file is numbered)."""
    last = recording.steps[-1]
    entry: dict[str, Any] = {
        "tcId": 0,
        "name": case.name,
        "comment": case.comment,
        "flags": flags,
        "requirements": list(case.requirements),
        "requires": _requires(case, recording),
        "applies": {"from": REVISION, "policies": depends},
        "result": "acceptable"
        if depends
        else ("valid" if last["expect"] == "accept" else "invalid"),
    }
    if last["expect"] == "reject":
        entry["error"] = last["code"]
    else:
        entry["output"] = last.get("output", {})
    entry["steps"] = recording.steps
    entry["state"] = recording.state
    return entry


def _notes(flags_used: Mapping[str, set[str]]) -> dict[str, Any]:
    """Why each flag of the file exists, with the requirements its cases verify."""
    notes = {}
    for name in sorted(flags_used):
        explained = FLAGS.get(name) or _policy_flag(_policy_of(name))
        notes[name] = {
            "description": explained.description,
            "requirements": sorted(flags_used[name]),
            "failure": explained.failure,
        }
    return notes


def _policy_of(flag_name: str) -> str:
    for policy, name in POLICY_FLAGS.items():
        if name == flag_name:
            return policy
    raise GeneratorError(f"flag {flag_name!r} is not explained anywhere (add it with flag())")


def index_document(
    files: Mapping[str, str],
    documents: Mapping[str, Mapping[str, Any]],
    set_name: str,
    policies: Choice,
    variants: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The set's index: each file's SHA-256 (of its bytes), counts, and the root hash."""
    areas: dict[str, int] = {}
    for path, document in documents.items():
        areas[path.split("/")[0]] = areas.get(path.split("/")[0], 0) + document["numberOfTests"]
    index: dict[str, Any] = {
        "format": FORMAT,
        "set": set_name,
        "standard": STANDARD_REVISION,
        "revision": REVISION,
        "generator": {"name": GENERATOR, "version": __version__},
        "policies": _policies_in_force(policies),
        "numberOfTests": sum(areas.values()),
        "areas": dict(sorted(areas.items())),
        "files": {path: files[path] for path in sorted(files)},
    }
    if variants is not None:
        index["variants"] = dict(sorted(variants.items()))
    index["root"] = root_hash(files, variants)
    return index


def generate(out: Path) -> dict[str, Any]:
    """Write the main set, its schemas and every variant under ``out``; the main index.

    JSON files under ``out`` that this generation did not write (a case file of an
    area that no longer exists, say) are removed, so that ``out`` holds exactly the set.
    """
    written: set[Path] = set()
    recorder = Recorder()
    variant_roots: dict[str, str] = {}
    for name, chosen in VARIANTS.items():
        policies = Choice.from_plain(chosen)
        documents = build_set(policies, f"{MAIN_SET}/{name}", recorder)
        directory = out / "variants" / name
        files = _write(directory, documents, written)
        index = index_document(files, documents, f"{MAIN_SET}/{name}", policies)
        _write_file(directory / "index.json", dumps(index), written)
        variant_roots[name] = index["root"]
    policies = Choice()
    documents = build_set(policies, MAIN_SET, recorder)
    files = _write(out, documents, written)
    for name, schema in schema_documents().items():
        text = dumps(schema)
        _write_file(out / "schema" / name, text, written)
        files[f"schema/{name}"] = sha256(text.encode("utf-8"))
    index = index_document(files, documents, MAIN_SET, policies, variant_roots)
    _write_file(out / "index.json", dumps(index), written)
    _remove_stale(out, written)
    return index


def _remove_stale(out: Path, written: set[Path]) -> None:
    """Delete vector JSON files a previous generation wrote that this one did not."""
    for path in sorted(out.rglob("*.json")):
        if path.resolve() not in written:
            path.unlink()


def _write(directory: Path, documents: Mapping[str, Any], written: set[Path]) -> dict[str, str]:
    hashes = {}
    for path, document in documents.items():
        text = dumps(document)
        _write_file(directory / path, text, written)
        hashes[path] = sha256(text.encode("utf-8"))
    return hashes


def _write_file(path: Path, text: str, written: set[Path]) -> None:
    written.add(path.resolve())
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")
    if path.is_file() and path.read_bytes() == data:
        return
    path.write_bytes(data)
