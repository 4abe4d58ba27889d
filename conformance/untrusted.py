"""Text and data that came from the registry under test, made safe to record and to show.

Nothing the registry says may spoof the judge: a message with ANSI escapes or
a carriage return could repaint a terminal's "FAIL" as "PASS", an RTL
override could reorder a line, a 1 MB message made a 270 MB run document,
and a ``datetime`` or ``NaN`` in an answer cannot be carried by the JSON
contract at all. So every value recorded from a registry goes through
:func:`plain` (JSON-safe, strings capped, problems reported) and every line
printed to a terminal through :func:`terminal`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

#: Longest string kept from a registry (characters); longer ones are cut and marked.
STRING_LIMIT = 4096
#: Deepest nesting kept from a registry; deeper values are replaced and reported.
DEPTH_LIMIT = 64

# C0 controls except tab and newline, DEL, C1 controls, and the Unicode format characters
# that reorder or hide text (bidi embeddings/overrides/isolates, marks, zero-width joiners).
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)


def terminal(text: str) -> str:
    """``text`` with every control or reordering character shown as a visible escape."""
    return _UNSAFE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code == 0x0D:
        return "\\r"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def cap(text: str, limit: int = STRING_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, marked so that a reader knows it was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…[truncated: {len(text)} characters, {limit} kept]"


def plain(value: object, *, where: str = "", problems: list[str] | None = None) -> Any:
    """``value`` as JSON-safe data: strings capped, anything else JSON cannot carry replaced.

    Each replacement of a value JSON cannot carry (a ``datetime``, ``NaN``, a
    set, bytes, a non-string key, nesting deeper than :data:`DEPTH_LIMIT`) is
    appended to ``problems`` with its path, so the caller can make it a
    contract error; capping a long string is not a problem (it is marked).
    """
    found = problems if problems is not None else []
    return _plain(value, where or "$", found, 0)


def _plain(value: object, where: str, problems: list[str], depth: int) -> Any:
    if depth > DEPTH_LIMIT:
        problems.append(f"{where}: nested deeper than {DEPTH_LIMIT} levels")
        return "[too deep]"
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        problems.append(f"{where}: {value!r} is not a JSON number")
        return repr(value)
    if isinstance(value, str):
        return cap(value)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                problems.append(f"{where}: key {key!r} is not a string")
                key = repr(key)
            out[cap(key, 256)] = _plain(item, f"{where}.{key}", problems, depth + 1)
        return out
    if isinstance(value, list | tuple):
        return [_plain(item, f"{where}[{i}]", problems, depth + 1) for i, item in enumerate(value)]
    problems.append(f"{where}: a {type(value).__name__} is not JSON ({cap(repr(value), 80)})")
    return cap(repr(value), 200)


def json_depth(value: Any, limit: int) -> int:
    """Nesting depth of parsed JSON, counted without recursion; stops once past ``limit``.

    Hostile input (a request body, a vector file) may nest thousands of levels: anything
    recursive (schema validation, hashing, repr) must only ever see what passed this.
    """
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if level > limit:
            break
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest
