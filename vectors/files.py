"""Reading a vector set: the index, each file's hashes and its schema, with errors that say where.

A set is a directory with ``index.json`` and ``<area>/<test type>.json``
files; the schemas live in the ``schema/`` folder of the set or of the
nearest directory above it (variants share the main set's). The shipped sets
are read from the installed package (``importlib.resources``), so they work
after ``pip install`` without the repository.
"""

from __future__ import annotations

import importlib.resources
import json
from collections.abc import Iterator, Mapping
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import attrs
import jsonschema

from gc_conformance.vectors.format import FORMAT, content_hash, root_hash, sha256


class VectorFileError(ValueError):
    """A vector file (or the index) is not what the format requires: the file, the field, the rule."""

    def __init__(self, path: str, field: str, rule: str) -> None:
        self.path = path
        self.field = field
        self.rule = rule
        super().__init__(f"{path}: {field}: {rule}")


@attrs.frozen
class VectorFile:
    path: str  # relative to the set, e.g. "issuance/request_sequence.json"
    document: Mapping[str, Any]

    @property
    def stem(self) -> str:
        return self.path.removesuffix(".json")

    def cases(self) -> Iterator[tuple[Mapping[str, Any], Mapping[str, Any]]]:
        """``(group, test)`` pairs in file order."""
        for group in self.document["testGroups"]:
            for test in group["tests"]:
                yield group, test


@attrs.frozen
class VectorSet:
    location: str
    index: Mapping[str, Any]
    files: tuple[VectorFile, ...]

    @property
    def name(self) -> str:
        return str(self.index.get("set"))

    @property
    def root(self) -> str:
        return str(self.index.get("root"))

    def case_count(self) -> int:
        return sum(1 for f in self.files for _ in f.cases())


def installed_root() -> Traversable:
    """The shipped vectors: the ``gc_conformance.vectors`` package's data."""
    return importlib.resources.files("gc_conformance.vectors")


def resolve(location: str | None) -> tuple[Traversable, str]:
    """A set's directory from ``--vectors`` (a path, or ``variants/NAME`` of the shipped ones)."""
    if location is None:
        return installed_root(), "installed:v2"
    path = Path(location)
    if path.is_dir():
        return path, str(path)
    shipped = installed_root().joinpath(*location.split("/"))
    if shipped.joinpath("index.json").is_file():
        return shipped, f"installed:{location}"
    raise VectorFileError(location, "--vectors", "neither a directory nor a shipped set")


def _read_json(node: Traversable, shown: str) -> Any:
    try:
        return json.loads(node.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise VectorFileError(shown, "(file)", "does not exist") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise VectorFileError(shown, "(file)", f"is not UTF-8 JSON: {exc}") from None


def _schema_dir(root: Traversable, candidates: list[Traversable]) -> Traversable:
    for directory in [root, *candidates]:
        if directory.joinpath("schema").is_dir():
            return directory.joinpath("schema")
    raise VectorFileError("schema/", "(folder)", "no schema folder beside or above the set")


def _pointer(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def validate(document: Any, shown: str, schemas: Traversable) -> None:
    """Schema-check one vector file; the first error names the field and the rule."""
    if not isinstance(document, dict):
        raise VectorFileError(shown, "(top level)", "must be a JSON object")
    name = document.get("schema")
    if not isinstance(name, str) or not schemas.joinpath(name).is_file():
        raise VectorFileError(shown, "schema", f"names no known schema ({name!r})")
    schema = _read_json(schemas.joinpath(name), f"schema/{name}")
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is not None:
        rule = f"{error.message} (schema rule {error.validator!r})"
        raise VectorFileError(shown, _pointer(error.absolute_path), rule)
    info = document["_info"]
    if info["sha256"] != content_hash(document):
        raise VectorFileError(
            shown,
            "_info.sha256",
            "does not match the file's content (edited by hand? regenerate with "
            "`gc-conformance vectors generate`)",
        )
    counted = sum(len(group["tests"]) for group in document["testGroups"])
    if counted != document["numberOfTests"]:
        raise VectorFileError(
            shown, "numberOfTests", f"says {document['numberOfTests']}, found {counted}"
        )
    ids = [t["tcId"] for g in document["testGroups"] for t in g["tests"]]
    if ids != list(range(1, len(ids) + 1)):
        raise VectorFileError(shown, "tcId", "tcIds must number the tests 1, 2, 3... in file order")
    for g_index, group in enumerate(document["testGroups"]):
        for t_index, test in enumerate(group["tests"]):
            last = test["steps"][-1]
            where = f"testGroups[{g_index}].tests[{t_index}]"
            if ("error" in test) != (last["expect"] == "reject") or (
                "error" in test and test["error"] != last.get("code")
            ):
                raise VectorFileError(
                    shown, f"{where}.error", "must equal the last step's code, present iff refused"
                )
            for flag in test["flags"]:
                if flag not in document["notes"]:
                    raise VectorFileError(
                        shown, f"{where}.flags", f"flag {flag!r} is not explained in notes"
                    )


def load_set(location: str | None = None, *, check_index: bool = True) -> VectorSet:
    """Read and check a set: index format, every file's hash, schema and internal rules."""
    root, shown = resolve(location)
    index = _read_json(root.joinpath("index.json"), f"{shown}/index.json")
    if not isinstance(index, dict) or index.get("format") != FORMAT:
        raise VectorFileError(f"{shown}/index.json", "format", f"must be {FORMAT!r}")
    listed = index.get("files")
    if not isinstance(listed, dict):
        raise VectorFileError(f"{shown}/index.json", "files", "must map paths to SHA-256 hashes")
    parents = _parents(root)
    schemas = _schema_dir(root, parents)
    files = []
    for path, digest in sorted(listed.items()):
        node = root.joinpath(*path.split("/"))
        file_shown = f"{shown}/{path}"
        if check_index:
            try:
                data = node.read_bytes()
            except FileNotFoundError:
                raise VectorFileError(
                    file_shown, "(file)", "listed in index.json but missing"
                ) from None
            if sha256(data) != digest:
                raise VectorFileError(
                    file_shown, "(file)", "its SHA-256 differs from index.json (regenerate the set)"
                )
        if path.startswith("schema/"):
            continue
        document = _read_json(node, file_shown)
        validate(document, file_shown, schemas)
        files.append(VectorFile(path, document))
    return VectorSet(shown, index, tuple(files))


def _parents(root: Traversable) -> list[Traversable]:
    """Directories above ``root`` (for a filesystem path), nearest first."""
    if isinstance(root, Path):
        return list(root.resolve().parents)
    try:
        return [installed_root()]
    except ModuleNotFoundError:
        return []


def content_root(node: Traversable, *, depth: int = 0) -> str:
    """The set's root hash **recomputed from the files' bytes**, never read from ``index.json``.

    The same formula the generator uses (``format.root_hash`` over each listed
    file's SHA-256 and each variant's root), so a set whose cases were removed
    and whose index hashes were regenerated gets a different root than the
    shipped one. A listed file that is missing hashes as ``missing``.
    """
    index = _read_json(node.joinpath("index.json"), "index.json")
    listed = index.get("files") if isinstance(index, dict) else None
    files: dict[str, str] = {}
    for path in sorted(listed or {}) if isinstance(listed, dict) else ():
        try:
            files[str(path)] = sha256(node.joinpath(*str(path).split("/")).read_bytes())
        except (OSError, ValueError):
            files[str(path)] = "missing"
    variants: dict[str, str] | None = None
    named = index.get("variants") if isinstance(index, dict) else None
    if isinstance(named, dict) and depth < 2:
        variants = {}
        for name in sorted(named):
            variant = node.joinpath("variants", str(name))
            try:
                variants[str(name)] = content_root(variant, depth=depth + 1)
            except VectorFileError:
                variants[str(name)] = "missing"
    return root_hash(files, variants)


def identity(location: str | None = None) -> dict[str, Any]:
    """Which vector set this is, judged by content: recomputed root, declared root, shipped?"""
    node, shown = resolve(location)
    index = _read_json(node.joinpath("index.json"), f"{shown}/index.json")
    declared = index.get("root") if isinstance(index, dict) else None
    root = content_root(node)
    return {
        "set": str(index.get("set")) if isinstance(index, dict) else None,
        "location": shown,
        "root": root,
        "index_root": declared if isinstance(declared, str) else None,
        "index_root_matches": declared == root,
        "shipped": root in shipped_roots(),
    }


def shipped_roots() -> set[str]:
    """The roots of the installed main set and its variants, recomputed from their content."""
    installed = installed_root()
    roots = {content_root(installed)}
    index = _read_json(installed.joinpath("index.json"), "installed:v2/index.json")
    for name in index.get("variants", {}) if isinstance(index, dict) else ():
        try:
            roots.add(content_root(installed.joinpath("variants", str(name))))
        except VectorFileError:
            continue
    return roots
