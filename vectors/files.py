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

from gc_conformance import untrusted
from gc_conformance.errors import UsageError
from gc_conformance.vectors.format import FORMAT, content_hash, root_hash, sha256

#: Deepest nesting a vector file may have (the shipped files reach 12); deeper is refused
#: before any recursive code (schema validation, hashing) sees it.
MAX_DEPTH = 64
#: Largest vector file read (the shipped ones are under 0.5 MB).
MAX_FILE_BYTES = 32 * 1024 * 1024
_PATH = r"^[a-z0-9][a-z0-9_-]{0,63}/[a-z0-9][a-z0-9_.-]{0,63}\.json$"
_HEX = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_WORD = {"type": "string", "minLength": 1, "maxLength": 200}
#: The index's own schema (strict: a set whose index says more or less than this is refused).
INDEX_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "format": {"const": FORMAT},
        "set": _WORD,
        "standard": _WORD,
        "revision": _WORD,
        "generator": {
            "type": "object",
            "properties": {"name": _WORD, "version": _WORD},
            "required": ["name", "version"],
            "additionalProperties": False,
        },
        "policies": {
            "type": "object",
            "additionalProperties": {"type": "string", "pattern": "^[A-Z][A-Z0-9_]{0,63}$"},
            "propertyNames": {"pattern": "^[a-z][a-z0-9_]{0,63}$"},
        },
        "numberOfTests": {"type": "integer", "minimum": 0},
        "areas": {
            "type": "object",
            "additionalProperties": {"type": "integer", "minimum": 0},
            "propertyNames": {"pattern": "^[a-z0-9][a-z0-9_-]{0,63}$"},
        },
        "files": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": _HEX,
            "propertyNames": {"pattern": _PATH},
        },
        "variants": {
            "type": "object",
            "additionalProperties": _HEX,
            "propertyNames": {"pattern": "^[a-z0-9][a-z0-9_-]{0,63}$"},
        },
        "root": _HEX,
    },
    "required": [
        "format",
        "set",
        "standard",
        "revision",
        "generator",
        "policies",
        "numberOfTests",
        "areas",
        "files",
        "root",
    ],
    "additionalProperties": False,
}


class VectorFileError(UsageError, ValueError):
    """A vector file (or the index) is not what the format requires: the file, the field, the rule.

    A usage error (exit 2): the input given to the command is unusable.
    """

    def __init__(self, path: str, field: str, rule: str) -> None:
        self.path = path
        self.rule = rule
        Exception.__init__(self, f"{_cap(path)}: {_cap(field)}: {_cap(rule, 400)}")
        self.field = field


def _cap(text: str, limit: int = 200) -> str:
    """A hostile file's name or content quoted in a message stays short and printable."""
    shown = text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
    return shown if len(shown) <= limit else f"{shown[:limit]}... ({len(shown)} characters)"


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


def _read_bytes(node: Traversable, shown: str) -> bytes:
    """A file's bytes; every way of not being a readable file is a :class:`VectorFileError`."""
    try:
        if not node.is_file():
            rule = "is a directory, not a file" if node.is_dir() else "does not exist"
            raise VectorFileError(shown, "(file)", rule)
        data = node.read_bytes()
    except (OSError, ValueError) as exc:  # too long a name, a NUL in it, no permission...
        if isinstance(exc, VectorFileError):
            raise
        raise VectorFileError(shown, "(file)", f"cannot be read: {exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise VectorFileError(shown, "(file)", f"is larger than {MAX_FILE_BYTES} bytes")
    return data


def _parse(data: bytes, shown: str) -> Any:
    """UTF-8 JSON, no NaN/Infinity, at most :data:`MAX_DEPTH` deep."""
    try:
        value = json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except RecursionError:
        raise VectorFileError(shown, "(file)", f"nests deeper than {MAX_DEPTH} levels") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise VectorFileError(shown, "(file)", f"is not UTF-8 JSON: {exc}") from None
    if _depth(value) > MAX_DEPTH:
        raise VectorFileError(shown, "(file)", f"nests deeper than {MAX_DEPTH} levels")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _depth(value: Any) -> int:
    """Nesting depth of parsed JSON, without recursion (a hostile file must not overflow it)."""
    return untrusted.json_depth(value, MAX_DEPTH)


def _read_json(node: Traversable, shown: str) -> Any:
    return _parse(_read_bytes(node, shown), shown)


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


def _rule(error: jsonschema.exceptions.ValidationError) -> str:
    """The schema rule an error breaks, short even when the offending value is huge."""
    message = error.message
    if len(message) > 300:
        value = _cap(repr(error.instance), 80)
        message = f"{value} does not match {_cap(json.dumps(error.validator_value), 200)}"
    return f"{message} (schema rule {error.validator!r})"


def validate(document: Any, shown: str, schemas: Traversable) -> None:
    """Schema-check one vector file; the first error names the field and the rule."""
    if not isinstance(document, dict):
        raise VectorFileError(shown, "(top level)", "must be a JSON object")
    name = document.get("schema")
    if not isinstance(name, str) or not schemas.joinpath(name).is_file():
        raise VectorFileError(shown, "schema", f"names no known schema ({name!r})")
    schema = _read_json(schemas.joinpath(name), f"schema/{name}")
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.exceptions.SchemaError as exc:
        raise VectorFileError(f"schema/{name}", _pointer(exc.absolute_path), exc.message) from None
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is not None:
        raise VectorFileError(shown, _pointer(error.absolute_path), _rule(error))
    info = document["_info"]
    if info["sha256"] != content_hash(document):
        raise VectorFileError(
            shown,
            "_info.sha256",
            "does not match the file's content (edited by hand? regenerate with "
            "`gc-conformance vectors generate --out vectors`)",
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
    index = _read_index(root, f"{shown}/index.json")
    listed: dict[str, str] = index["files"]
    parents = _parents(root)
    schemas = _schema_dir(root, parents)
    files = []
    for path, digest in sorted(listed.items()):
        node = root.joinpath(*path.split("/"))
        file_shown = f"{shown}/{path}"
        if not node.is_file() and not node.is_dir():
            raise VectorFileError(file_shown, "(file)", "listed in index.json but missing")
        data = _read_bytes(node, file_shown)
        if check_index and sha256(data) != digest:
            raise VectorFileError(
                file_shown, "(file)", "its SHA-256 differs from index.json (regenerate the set)"
            )
        if path.startswith("schema/"):
            continue
        document = _parse(data, file_shown)
        try:
            validate(document, file_shown, schemas)
        except RecursionError:
            raise VectorFileError(file_shown, "(file)", "nests too deeply to validate") from None
        files.append(VectorFile(path, document))
    if check_index:
        _check_listing(root, shown, listed)
        _check_counts(shown, index, files)
    return VectorSet(shown, index, tuple(files))


def _read_index(root: Traversable, shown: str) -> dict[str, Any]:
    """``index.json``, checked against :data:`INDEX_SCHEMA` and its own root hash."""
    index = _read_json(root.joinpath("index.json"), shown)
    if not isinstance(index, dict) or index.get("format") != FORMAT:
        raise VectorFileError(shown, "format", f"must be {FORMAT!r}")
    validator = jsonschema.Draft202012Validator(INDEX_SCHEMA)
    error = jsonschema.exceptions.best_match(validator.iter_errors(index))
    if error is not None:
        raise VectorFileError(shown, _pointer(error.absolute_path), _rule(error))
    if root_hash(index["files"], index.get("variants")) != index["root"]:
        raise VectorFileError(
            shown, "root", "does not match the hashes of the files it lists (regenerate the set)"
        )
    return index


def _check_listing(root: Traversable, shown: str, listed: Mapping[str, str]) -> None:
    """Every vector file in the set's folders is in the index: none can be dropped silently."""
    for area in root.iterdir():
        if not area.is_dir() or area.name in ("variants", "__pycache__"):
            continue
        if area.joinpath("index.json").is_file():
            continue  # a set of its own
        for node in area.iterdir():
            path = f"{area.name}/{node.name}"
            if node.name.endswith(".json") and path not in listed:
                raise VectorFileError(
                    f"{shown}/{path}", "(file)", "is not listed in index.json (regenerate the set)"
                )


def _check_counts(shown: str, index: Mapping[str, Any], files: list[VectorFile]) -> None:
    """The index's ``areas`` and ``numberOfTests`` agree with the files it lists."""
    areas: dict[str, int] = {}
    for file in files:
        area = file.path.split("/")[0]
        areas[area] = areas.get(area, 0) + int(file.document["numberOfTests"])
    if areas != dict(index["areas"]):
        raise VectorFileError(
            f"{shown}/index.json", "areas", f"says {dict(index['areas'])}, the files hold {areas}"
        )
    if sum(areas.values()) != index["numberOfTests"]:
        raise VectorFileError(
            f"{shown}/index.json",
            "numberOfTests",
            f"says {index['numberOfTests']}, the files hold {sum(areas.values())}",
        )


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
