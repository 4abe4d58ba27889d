"""What the HTTP adapter puts on the wire and how it keeps a record of it.

Every exchange the adapter makes, whether a mapped action or a security probe's hand-made
request, is recorded the same way: headers with credentials shown as shell variables, the
body cut to a readable length, and a ``curl`` command that repeats it. Keeping that one
recipe here means a vendor reproducing a failure gets the same kind of command from every path.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from typing import Any

import httpx

#: Characters of a body kept in a recorded exchange (and of a non-JSON body read back).
BODY_LIMIT = 4000

#: How a recorded ``Authorization`` header shows the admin's and a party's credential.
CREDENTIAL_VARIABLES = ("Bearer $GC_HTTP_TOKEN", "Bearer $TOKEN")


def curl_command(method: str, url: str, headers: Mapping[str, str], body: str, size: int) -> str:
    """A shell command repeating one request; ``headers`` and ``body`` already redacted.

    An ``Authorization`` value that names a shell variable (:data:`CREDENTIAL_VARIABLES`) is
    double-quoted,
    so the shell fills the credential in; every other header is single-quoted. A body longer
    than :data:`BODY_LIMIT` (a hand-made oversized one) is described, not repeated.
    """
    command = ["curl -sS -X", method, shlex.quote(url)]
    for key, value in headers.items():
        command.append(
            f'-H "{key}: {value}"'
            if key == "Authorization" and value in CREDENTIAL_VARIABLES
            else "-H " + shlex.quote(f"{key}: {value}")
        )
    if len(body) > BODY_LIMIT:
        command.append(f"--data-binary @BODY  # {size} bytes; starts as shown")
    elif body:
        command.append("--data-raw " + shlex.quote(body))
    return " ".join(command)


def query_params(body: Mapping[str, Any]) -> dict[str, Any]:
    """Body fields as query parameters: lists repeat, booleans are words, objects are JSON."""
    params: dict[str, Any] = {}
    for key, value in body.items():
        if value is None:
            continue
        if isinstance(value, bool):
            params[key] = "true" if value else "false"
        elif isinstance(value, list):
            params[key] = [json.dumps(v) if isinstance(v, dict | list) else v for v in value]
        elif isinstance(value, dict):
            params[key] = json.dumps(value)
        else:
            params[key] = value
    return params


def parsed_body(response: httpx.Response, limit: int = BODY_LIMIT) -> Any:
    """The body as JSON, or its text cut to ``limit`` characters when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return response.text[:limit]
