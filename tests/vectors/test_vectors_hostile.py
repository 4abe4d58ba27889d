"""Corrupted vector sets never crash `vectors verify` / `vectors diff`: exit 2, the file, the rule.

Issue 13: bad input gets a clear error naming the file and the rule, never a traceback. Each
named corruption below is one a hostile or broken set can carry (deep nesting, over-long and
escaping paths, wrong types, truncated JSON, binary garbage, files missing from the index, a
forged root); the Hypothesis test then corrupts a small set at random, re-hashing what it edits
so that the corruption reaches the deeper checks (schemas, counts, the verifier itself).
Also: `vectors diff --exit-code` and `vectors generate`'s refusal to write into the package.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gc_conformance.cli import main
from gc_conformance.vectors.files import installed_root
from gc_conformance.vectors.format import content_hash, dumps, root_hash

AREA_FILE = "correction/request_sequence.json"


def _small_set(target: Path) -> Path:
    """A one-file set (12 cases) cut from the shipped one, with a correct index and root."""
    source = Path(str(installed_root()))
    index = json.loads((source / "index.json").read_text(encoding="utf-8"))
    (target / "correction").mkdir(parents=True)
    shutil.copyfile(source / AREA_FILE, target / AREA_FILE)
    shutil.copytree(source / "schema", target / "schema")
    files = {p: d for p, d in index["files"].items() if p == AREA_FILE or p.startswith("schema/")}
    count = json.loads((source / AREA_FILE).read_text(encoding="utf-8"))["numberOfTests"]
    index.update(files=files, areas={"correction": count}, numberOfTests=count)
    index.pop("variants", None)
    index["root"] = root_hash(files)
    (target / "index.json").write_text(dumps(index), encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def small_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _small_set(tmp_path_factory.mktemp("small") / "set")


def _cli(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(list(argv))
    return code, err.getvalue()


def _verify(root: Path) -> tuple[int, str]:
    return _cli("vectors", "verify", "--adapter", "reference", "--quiet", "--vectors", str(root))


def _index(root: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((root / "index.json").read_text(encoding="utf-8"))
    return loaded


def _write_index(root: Path, index: Any, *, reroot: bool = True) -> None:
    if reroot and isinstance(index, dict) and isinstance(index.get("files"), dict):
        with contextlib.suppress(TypeError, AttributeError):
            index["root"] = root_hash(index["files"], index.get("variants"))
    (root / "index.json").write_text(json.dumps(index), encoding="utf-8")


def _rehash(root: Path, relative: str) -> None:
    """Make the index vouch for ``relative``'s current bytes (a forger's re-hash)."""
    index = _index(root)
    index["files"][relative] = hashlib.sha256((root / relative).read_bytes()).hexdigest()
    _write_index(root, index)


def _deep_file(root: Path) -> None:
    (root / AREA_FILE).write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    _rehash(root, AREA_FILE)


def _deep_but_parsable(root: Path) -> None:
    document = json.loads((root / AREA_FILE).read_text(encoding="utf-8"))
    nested: Any = "x"
    for _ in range(600):
        nested = {"a": nested}
    document["testGroups"][0]["tests"][0]["comment"] = nested
    (root / AREA_FILE).write_text(json.dumps(document), encoding="utf-8")
    _rehash(root, AREA_FILE)


def _deep_index(root: Path) -> None:
    (root / "index.json").write_text("{" + '"a":{' * 5000 + "}" * 5001, encoding="utf-8")


def _long_path(root: Path) -> None:
    index = _index(root)
    index["files"]["a" * 5000 + "/x.json"] = "0" * 64
    _write_index(root, index)


def _escaping_path(root: Path) -> None:
    index = _index(root)
    index["files"]["../../etc/passwd"] = "0" * 64
    _write_index(root, index)


def _nul_in_path(root: Path) -> None:
    index = _index(root)
    index["files"]["a\u0000b/c.json"] = "0" * 64
    _write_index(root, index)


def _folder_as_file(root: Path) -> None:
    (root / "correction" / "folder.json").mkdir()
    index = _index(root)
    index["files"]["correction/folder.json"] = "0" * 64
    _write_index(root, index)


def _files_a_list(root: Path) -> None:
    index = _index(root)
    index["files"] = list(index["files"])
    _write_index(root, index, reroot=False)


def _hash_a_number(root: Path) -> None:
    index = _index(root)
    index["files"][AREA_FILE] = 12
    _write_index(root, index, reroot=False)


def _truncated(root: Path) -> None:
    data = (root / AREA_FILE).read_bytes()
    (root / AREA_FILE).write_bytes(data[: len(data) // 2])
    _rehash(root, AREA_FILE)


def _garbage(root: Path) -> None:
    (root / AREA_FILE).write_bytes(bytes(range(256)) * 4)
    _rehash(root, AREA_FILE)


def _garbage_index(root: Path) -> None:
    (root / "index.json").write_bytes(b"\x00\xff\xfe" * 100)


def _unlisted_file(root: Path) -> None:
    """A vector file the index does not list (dropped from it, root recomputed): never ignored."""
    index = _index(root)
    del index["files"][AREA_FILE]
    index["areas"] = {}
    index["numberOfTests"] = 0
    _write_index(root, index)


def _forged_root(root: Path) -> None:
    index = _index(root)
    index["root"] = "0" * 64
    _write_index(root, index, reroot=False)


def _counts_lie(root: Path) -> None:
    index = _index(root)
    index["numberOfTests"] += 5
    index["areas"]["correction"] += 5
    _write_index(root, index)


def _broken_schema(root: Path) -> None:
    (root / "schema/request_sequence.schema.json").write_text('{"type": 5}', encoding="utf-8")
    _rehash(root, "schema/request_sequence.schema.json")


def _nan(root: Path) -> None:
    assert '"tcId": 1,' in (root / AREA_FILE).read_text(encoding="utf-8")
    text = (root / AREA_FILE).read_text(encoding="utf-8")
    (root / AREA_FILE).write_text(text.replace('"tcId": 1,', '"tcId": NaN,', 1), encoding="utf-8")
    _rehash(root, AREA_FILE)


CORRUPTIONS: dict[str, tuple[Callable[[Path], None], str, str]] = {
    # name: (corrupt, the file the message names, a word of the rule)
    "deep file": (_deep_file, AREA_FILE, "deeper"),
    "600 levels in a field": (_deep_but_parsable, AREA_FILE, "deeper"),
    "deep index": (_deep_index, "index.json", "deeper"),
    "over-long path": (_long_path, "index.json", "does not match"),
    "path escaping the set": (_escaping_path, "index.json", "does not match"),
    "NUL in a path": (_nul_in_path, "index.json", "does not match"),
    "a folder listed as a file": (_folder_as_file, "folder.json", "directory"),
    "files is a list": (_files_a_list, "index.json", "not of type"),
    "hash is a number": (_hash_a_number, "index.json", "not of type"),
    "truncated JSON": (_truncated, AREA_FILE, "JSON"),
    "binary garbage": (_garbage, AREA_FILE, "JSON"),
    "binary index": (_garbage_index, "index.json", "JSON"),
    "file missing from the index": (_unlisted_file, AREA_FILE, "not listed"),
    "forged root": (_forged_root, "index.json", "root"),
    "counts that lie": (_counts_lie, "index.json", "files hold"),
    "broken schema": (_broken_schema, "request_sequence.schema.json", "type"),
    "NaN": (_nan, AREA_FILE, "NaN"),
}


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_a_corrupted_set_is_exit_2_naming_the_file_and_rule(
    name: str, small_set: Path, tmp_path: Path
) -> None:
    corrupt, file, rule = CORRUPTIONS[name]
    root = tmp_path / "set"
    shutil.copytree(small_set, root)
    corrupt(root)
    code, err = _verify(root)
    assert code == 2, err
    assert "Traceback" not in err
    assert file in err and rule in err, err
    assert len(err) < 2000  # a hostile path or value is quoted, not dumped
    code, err = _cli("vectors", "diff", str(root), str(small_set))
    assert code == 2 and file in err


def test_the_small_set_itself_is_usable(small_set: Path) -> None:
    code, err = _verify(small_set)
    assert code == 0, err


# ---------------------------------------------------------------------- fuzz

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


def _paths(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [here]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*here, key))
    elif isinstance(value, list):
        for position, item in enumerate(value):
            found += _paths(item, (*here, position))
    return found


def _replace(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return document


@st.composite
def _mutation(draw: st.DrawFn) -> tuple[str, Any, bool]:
    """(which file, how, re-hash?) — a node replaced, removed, or the bytes cut or spoiled."""
    target = draw(st.sampled_from(["index.json", AREA_FILE]))
    kind = draw(st.sampled_from(["replace", "truncate", "garbage"]))
    rehash = draw(st.booleans())
    if kind == "replace":
        return target, ("replace", draw(st.integers(0, 10**6)), draw(_JSON)), rehash
    if kind == "truncate":
        return target, ("truncate", draw(st.floats(0.0, 0.999))), rehash
    return target, ("garbage", draw(st.binary(min_size=1, max_size=64))), rehash


@settings(max_examples=40)
@given(mutation=_mutation())
def test_fuzzed_vector_sets_never_crash_verify(small_set: Path, mutation: Any) -> None:
    """Any corruption of the index or a vector file: exit 2 naming the file, or a clean verdict.

    A replaced value may still be valid (a comment's text, say): then `verify` runs and gives
    a verdict (0 or 1). Whatever happens, no exception escapes the CLI.
    """
    target, how, rehash = mutation
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "set"
        shutil.copytree(small_set, root)
        path = root / target
        data = path.read_bytes()
        if how[0] == "replace":
            document = json.loads(data)
            paths = _paths(document)
            document = _replace(document, paths[how[1] % len(paths)], how[2])
            if isinstance(document, dict) and target == AREA_FILE and rehash:
                info = document.get("_info")
                if isinstance(info, dict):
                    with contextlib.suppress(Exception):
                        info["sha256"] = content_hash(document)
            data = json.dumps(document).encode("utf-8")
            changed = data != path.read_bytes()
        elif how[0] == "truncate":
            data = data[: int(len(data) * how[1])]
            changed = True
        else:
            position = len(data) // 2
            data = data[:position] + how[1] + data[position:]
            changed = True
        path.write_bytes(data)
        if rehash and target == AREA_FILE:
            _rehash(root, AREA_FILE)
        code, err = _verify(root)
    assert "Traceback" not in err
    if how[0] in ("truncate", "garbage") or (changed and not rehash):
        assert code == 2, err
    assert code in (0, 1, 2), err
    if code == 2:
        assert "error" in err and ("index.json" in err or AREA_FILE in err or "schema" in err), err


# ---------------------------------------------------------------------- diff, generate


def test_diff_exit_code_is_1_when_cases_changed(capsys: pytest.CaptureFixture[str]) -> None:
    shipped = str(Path(str(installed_root())))
    assert main(["vectors", "diff", "--exit-code", shipped, "variants/rounding-down"]) == 1
    assert main(["vectors", "diff", shipped, "variants/rounding-down"]) == 0
    assert main(["vectors", "diff", "--exit-code", shipped, shipped]) == 0
    assert "0 appeared, 0 vanished, 0 changed" in capsys.readouterr().out


def test_generate_refuses_the_installed_package(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import gc_conformance

    assert main(["vectors", "generate"]) == 2
    assert "--out" in capsys.readouterr().err
    package = Path(gc_conformance.__file__).parent
    for inside in (package, package / "vectors", package / "a" / ".." / "b"):
        assert main(["vectors", "generate", "--out", str(inside)]) == 2
        err = capsys.readouterr().err
        assert "inside the installed gc_conformance package" in err
    file = tmp_path / "a-file"
    file.write_text("x", encoding="utf-8")
    assert main(["vectors", "generate", "--out", str(file)]) == 2
    assert not (package / "b").exists()
