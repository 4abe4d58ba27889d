"""The evidence archive: one file a vendor hands to an auditor, and its offline verification.

Modelled on a certification body's "publish for certification" package: the
run document, the HTML report and JUnit XML rendered from it, the saved
failing sequences (for ``gc-conformance replay``), every recorded HTTP
exchange, and ``MANIFEST.json`` with the SHA-256 of each file.

``gc-conformance verify-evidence ARCHIVE`` re-checks it without a registry:
every listed file is present and hashes as listed, nothing unlisted was
added, the run document passes its schema, its stored verdict is the one its
results give and its digest matches, and the HTML and JUnit are exactly what
the run document renders to (rendering is deterministic). A doctored archive
is refused, naming what does not hold. Hashes are not signatures: someone who
regenerates everything consistently produces a *different* run document
digest, which the auditor compares with the one the vendor declared.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from gc_conformance.errors import UsageError

FORMAT = "gc-conformance-evidence/1"
MANIFEST = "MANIFEST.json"
RUN, HTML, JUNIT, EXCHANGES = "run.json", "report.html", "junit.xml", "exchanges.json"
#: Largest archive member read back (bytes): an archive is evidence, not a zip bomb.
MEMBER_LIMIT = 256 * 1024 * 1024


class EvidenceError(UsageError):
    """The archive cannot be read at all (not a zip or tar.gz, unsafe member names)."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def archive_files(
    document: Mapping[str, Any], *, failures: Sequence[Path] = ()
) -> dict[str, bytes]:
    """Every file of the archive, rendered from ``document`` (manifest included)."""
    from gc_conformance.reports import render_html, render_junit

    files: dict[str, bytes] = {
        RUN: (json.dumps(document, indent=2, sort_keys=True, allow_nan=False) + "\n").encode(),
        HTML: render_html(document).encode("utf-8"),
        JUNIT: render_junit(document).encode("utf-8"),
        EXCHANGES: (json.dumps(exchanges_of(document), indent=2, sort_keys=True) + "\n").encode(),
    }
    for path in failures:
        files[f"failures/{path.name}"] = path.read_bytes()
    manifest = {
        "format": FORMAT,
        "verdict": document["summary"]["verdict"],
        "run_digest": (document.get("integrity") or {}).get("digest"),
        "files": {name: _sha256(data) for name, data in sorted(files.items())},
    }
    files[MANIFEST] = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    return files


def exchanges_of(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every HTTP exchange the run document recorded, with the check and step it belongs to."""
    out = []
    for check in document.get("checks", ()):
        for step in check.get("steps", ()):
            for exchange in step.get("exchanges", ()) or ():
                out.append({"check": check["id"], "step": step.get("number"), **exchange})
    return out


def write_evidence(
    path: Path, document: Mapping[str, Any], *, failures: Sequence[Path] = ()
) -> None:
    """Write the archive (``.zip``, or ``.tar.gz``/``.tgz``) with fixed member dates."""
    files = archive_files(document, failures=failures)
    kind = archive_kind(path)
    if kind == "zip":
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, data in files.items():
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data)
        return
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            entry = tarfile.TarInfo(name)
            entry.size = len(data)
            entry.mode = 0o644
            archive.addfile(entry, io.BytesIO(data))


def archive_kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".zip"):
        return "zip"
    if name.endswith((".tar.gz", ".tgz")):
        return "tar.gz"
    raise EvidenceError(f"{path}: an evidence archive is a .zip or .tar.gz file", field="ARCHIVE")


def read_archive(path: Path) -> dict[str, bytes]:
    """The archive's members by name; refuses unsafe names, links, oversized members."""
    kind = archive_kind(path)
    members: dict[str, bytes] = {}
    try:
        if kind == "zip":
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    if info.is_dir():
                        continue
                    _safe_name(path, info.filename)
                    if info.file_size > MEMBER_LIMIT:
                        raise EvidenceError(f"{path}: {info.filename} is too large")
                    members[info.filename] = archive.read(info)
        else:
            with tarfile.open(path, "r:gz") as archive:
                for member in archive.getmembers():
                    if member.isdir():
                        continue
                    _safe_name(path, member.name)
                    if not member.isfile():
                        raise EvidenceError(f"{path}: {member.name} is not a regular file")
                    if member.size > MEMBER_LIMIT:
                        raise EvidenceError(f"{path}: {member.name} is too large")
                    extracted = archive.extractfile(member)
                    members[member.name] = extracted.read() if extracted else b""
    except FileNotFoundError:
        raise EvidenceError(f"{path}: no such file") from None
    except (OSError, zipfile.BadZipFile, tarfile.TarError, EOFError, ValueError) as exc:
        if isinstance(exc, EvidenceError):
            raise
        raise EvidenceError(f"{path}: not a readable {kind} archive ({exc})") from None
    return members


def _safe_name(path: Path, name: str) -> None:
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts or "\\" in name or not name:
        raise EvidenceError(f"{path}: member name {name!r} is unsafe")


def verify_evidence(path: Path) -> list[str]:
    """What does not hold in the archive (empty: it verifies). Raises EvidenceError if unreadable."""
    from gc_conformance.reports import render_html, render_junit
    from gc_conformance.reports.schema import (
        RunDocumentError,
        check_integrity,
        validate_run_document,
    )

    members = read_archive(path)
    problems: list[str] = []
    raw_manifest = members.get(MANIFEST)
    if raw_manifest is None:
        return [f"{MANIFEST}: missing"]
    try:
        manifest = json.loads(raw_manifest)
        listed = manifest["files"]
        if manifest.get("format") != FORMAT or not isinstance(listed, dict):
            raise ValueError("not an evidence manifest")
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        return [f"{MANIFEST}: unreadable ({exc})"]
    for name in sorted(set(listed) | set(members) - {MANIFEST}):
        if name not in members:
            problems.append(f"{name}: listed in {MANIFEST} but missing")
        elif name not in listed:
            problems.append(f"{name}: in the archive but not listed in {MANIFEST}")
        elif _sha256(members[name]) != listed[name]:
            problems.append(f"{name}: its SHA-256 differs from {MANIFEST} (the file was changed)")
    if RUN not in members:
        return [*problems, f"{RUN}: missing"]
    try:
        document = validate_run_document(json.loads(members[RUN], parse_constant=_no_constant))
        check_integrity(document)
    except (RunDocumentError, ValueError, RecursionError) as exc:
        return [*problems, f"{RUN}: {exc}"]
    if manifest.get("run_digest") != document["integrity"]["digest"]:
        problems.append(f"{MANIFEST}: run_digest does not match {RUN}'s digest")
    if manifest.get("verdict") != document["summary"]["verdict"]:
        problems.append(f"{MANIFEST}: verdict does not match {RUN}")
    for name, render in ((HTML, render_html), (JUNIT, render_junit)):
        if name in members and members[name] != render(document).encode("utf-8"):
            problems.append(f"{name}: is not what {RUN} renders to (the report was edited)")
    if EXCHANGES in members:
        expected = (json.dumps(exchanges_of(document), indent=2, sort_keys=True) + "\n").encode()
        if members[EXCHANGES] != expected:
            problems.append(f"{EXCHANGES}: differs from the exchanges recorded in {RUN}")
    return problems


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
