"""The ``http://`` adapter: a registry's web API under test, described by a mapping file.

``--adapter http://HOST:PORT[/base]?OPTION=VALUE&...`` builds an
:class:`HttpAdapter`. Options (each also readable from the environment):

============  ===================  ==================================================
option        environment          meaning
============  ===================  ==================================================
``mapping``   ``GC_HTTP_MAPPING``  a mapping file (``.json``) or a shipped name;
                                   default ``energytag-v2`` (what ``serve`` speaks)
``timeout``   ``GC_HTTP_TIMEOUT``  seconds per request (default 10)
``retries``   ``GC_HTTP_RETRIES``  extra attempts for idempotent reads (default 2)
``tokens``    ``GC_HTTP_TOKENS``   a JSON file ``{party: token}`` of pre-issued
                                   credentials (for registries that mint none)
(none)        ``GC_HTTP_TOKEN``    the admin (GC Issuer) bearer token
============  ===================  ==================================================

Secrets never go in the spec string: it is printed in reports and in every
reproduction command.

What the adapter guarantees, so that a verdict over HTTP is as honest as one
in process:

* a 2xx answer is an acceptance, a 4xx a refusal whose canonical code is read
  from the body (or the status, as the mapping says); a timeout, a connection
  failure, a 5xx, a 408/429 or an unreadable body is an
  :class:`~gc_conformance.adapter.AdapterFailure` (*error*, never pass), and a
  registry that cannot be reached at all is
  :class:`~gc_conformance.adapter.AdapterUnavailable` (exit 3);
* only idempotent reads (GET) are retried: a write that timed out may have
  been committed, and sending it again could issue twice;
* every exchange is recorded with the bearer tokens redacted; the exchanges
  of each request are handed to the session (``last_exchanges``), so a
  failing step carries them and a ``curl`` command that repeats it.
"""

from __future__ import annotations

import collections
import json
import os
import shlex
import time
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from gc_conformance.adapter import AdapterFailure, AdapterUnavailable
from gc_conformance.adapters.http_mapping import HttpMapping, MappingError, Route, lookup

if TYPE_CHECKING:
    from gc_conformance.adapters.http_raw import RawHttp

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_RETRIES = 2
_BODY_LIMIT = 4000  # characters of a body kept in a recorded exchange
_OPTIONS = {
    "mapping": "GC_HTTP_MAPPING",
    "timeout": "GC_HTTP_TIMEOUT",
    "retries": "GC_HTTP_RETRIES",
    "tokens": "GC_HTTP_TOKENS",
}
TOKEN_ENV = "GC_HTTP_TOKEN"
_FAILURE_STATUSES = frozenset({408, 429})  # the registry did not decide: no verdict


class _Refused(Exception):
    """A request that cannot even be sent as its actor (the credential was refused)."""

    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer = answer
        super().__init__(answer.get("message", ""))


class HttpAdapter:
    """A registry reached over HTTP, translated by an :class:`HttpMapping`."""

    name = "http"
    description = "a registry's HTTP API (EnergyTag API v2 shape by default; docs/http.md)"

    def __init__(
        self,
        base_url: str,
        *,
        mapping: HttpMapping | None = None,
        token: str | None = None,
        party_tokens: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        retries: int = DEFAULT_RETRIES,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.mapping = mapping if mapping is not None else HttpMapping.load()
        self.retries = retries
        self._admin_token = token
        self._static_tokens = dict(party_tokens or {})
        self._tokens: dict[str, str] = {}
        self._secrets: set[str] = {t for t in [token, *self._static_tokens.values()] if t}
        self._issuer: str | None = None
        self._capabilities: dict[str, Any] | None = None
        self._client = httpx.Client(timeout=timeout, transport=transport)
        self.exchanges: collections.deque[dict[str, Any]] = collections.deque(maxlen=500)
        self._current: list[dict[str, Any]] = []
        self.requests_sent = 0

    # ------------------------------------------------------------------ building from a spec

    @classmethod
    def from_spec(cls, spec: str, environ: Mapping[str, str] | None = None) -> HttpAdapter:
        """``http://host:port[/base][?option=value&...]`` (see the module docstring)."""
        env = os.environ if environ is None else environ
        parts = urllib.parse.urlsplit(spec)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise AdapterUnavailable(f"{spec!r} is not an http(s)://HOST[:PORT] URL")
        query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
        unknown = sorted(set(query) - set(_OPTIONS))
        if unknown:
            raise AdapterUnavailable(
                f"unknown http adapter option {unknown[0]!r}; known: {', '.join(_OPTIONS)}"
                + (" (tokens come from GC_HTTP_TOKEN, never the URL)" if "token" in unknown else "")
            )
        option = {key: values[-1] for key, values in query.items()}
        for key, var in _OPTIONS.items():
            if key not in option and env.get(var):
                option[key] = env[var]
        try:
            mapping = HttpMapping.load(option.get("mapping"))
        except MappingError as exc:
            raise AdapterUnavailable(f"http adapter mapping: {exc}") from exc
        timeout = _number(option.get("timeout"), "timeout", DEFAULT_TIMEOUT_S)
        retries = int(_number(option.get("retries"), "retries", DEFAULT_RETRIES))
        party_tokens = _read_tokens(option.get("tokens"))
        base = urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        return cls(
            base,
            mapping=mapping,
            token=env.get(TOKEN_ENV) or None,
            party_tokens=party_tokens,
            timeout=timeout,
            retries=retries,
        )

    # ------------------------------------------------------------------ the contract

    def capabilities(self) -> Mapping[str, Any]:
        if self._capabilities is None:
            served: dict[str, Any] = {}
            route = self.mapping.admin.get("capabilities")
            if route is not None:
                try:
                    response = self._send(route, {}, self._admin_token, admin=True)
                except AdapterFailure as exc:
                    raise AdapterUnavailable(
                        f"the registry at {self.base_url} did not answer: {exc}"
                    ) from exc
                if response.status_code != 200:
                    raise AdapterUnavailable(
                        f"capabilities: {route.method} {route.path} answered {response.status_code}"
                    )
                served = dict(self._json(response, route))
            merged = {**served, **self.mapping.capabilities}
            profiles = merged.get("profiles")
            if (
                "profiles" not in self.mapping.capabilities
                and isinstance(profiles, list)
                and self.offers_raw_http()
                and "security" not in profiles
            ):
                merged["profiles"] = [*profiles, "security"]
            self._capabilities = merged
        return self._capabilities

    # ------------------------------------------------------------------ beyond the contract

    def offers_raw_http(self) -> bool:
        """Whether the security profile's hand-made requests can be made against this registry.

        They need the mapping's ``reset`` and ``state`` routes (every check starts
        empty and compares the state around each hostile request) and a way to
        get holders' credentials (a ``token`` route or a ``tokens`` file).
        """
        admin = self.mapping.admin
        credentials = "token" in admin or bool(self._static_tokens)
        return "reset" in admin and "state" in admin and credentials

    def raw_http(self) -> RawHttp:
        """Hand-made HTTP access for the security profile: a :class:`~.http_raw.RawHttp`.

        A capability beyond the contract: checks that find no ``raw_http`` on an
        adapter skip, with that reason. See ``docs/http.md`` (security profile).
        """
        from gc_conformance.adapters.http_raw import RawHttp

        return RawHttp(self)

    def reset(self, setup: Mapping[str, Any]) -> None:
        route = self.mapping.admin.get("reset")
        if route is None:
            raise AdapterFailure(f"the mapping {self.mapping.source} has no reset route")
        self._current = []
        response = self._send(route, dict(setup), self._admin_token, admin=True)
        if response.status_code // 100 != 2:
            raise AdapterFailure(self._explain(f"reset refused ({response.status_code})"))
        issuer = setup.get("issuer", {})
        self._issuer = issuer.get("issuer_id") if isinstance(issuer, Mapping) else None
        self._tokens.clear()

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        self._current = []
        action = request.get("action")
        route = self.mapping.actions.get(action) if isinstance(action, str) else None
        if route is None:
            raise AdapterFailure(f"the mapping {self.mapping.source} has no route for {action!r}")
        actor = request.get("actor")
        try:
            token = self._token_for(actor)
        except _Refused as refused:
            return refused.answer
        fields = {k: v for k, v in request.items() if k not in ("action", "actor", "now")}
        body = self.mapping.encode_request(route, fields)
        if route.actor_field:
            body[route.actor_field] = actor
        headers = {}
        if self._clock_controlled() and self.mapping.clock_header:
            headers[self.mapping.clock_header] = str(request.get("now"))
        response = self._send(route, body, token, headers=headers, party=str(actor))
        return self._answer(route, response)

    def observe(self) -> Mapping[str, Any]:
        route = self.mapping.admin.get("state")
        if route is None:
            raise AdapterFailure(f"the mapping {self.mapping.source} has no state route")
        response = self._send(route, {}, self._admin_token, admin=True)
        if response.status_code != 200:
            raise AdapterFailure(self._explain(f"state export answered {response.status_code}"))
        return self.mapping.decode_state(self._json(response, route))

    @property
    def history(self) -> Any:
        """``history()`` when the mapping has a history route (optional in the contract), else None."""
        route = self.mapping.admin.get("history")
        if route is None:
            return None

        def history() -> list[dict[str, Any]]:
            response = self._send(route, {}, self._admin_token, admin=True)
            if response.status_code != 200:
                raise AdapterFailure(self._explain(f"history answered {response.status_code}"))
            listed = self._json(response, route).get("history")
            if not isinstance(listed, list):
                raise AdapterFailure(self._explain("history: the body has no 'history' list"))
            return listed

        return history

    def close(self) -> None:
        self._client.close()

    def last_exchanges(self) -> list[dict[str, Any]]:
        """The HTTP exchanges of the last ``execute`` (token requests first), secrets redacted."""
        return list(self._current)

    # ------------------------------------------------------------------ translation

    def _answer(self, route: Route, response: httpx.Response) -> dict[str, Any]:
        status = response.status_code
        if 200 <= status < 300:
            body = self._json(response, route)
            field = self.mapping.accepted_field
            if (
                field is not None
                and field in body
                and body[field] not in self.mapping.accepted_values
            ):
                return self._refusal(status, body)
            return {"accepted": True, "result": self.mapping.decode_result(route, body)}
        if 400 <= status < 500 and status not in _FAILURE_STATUSES:
            return self._refusal(status, _safe_json(response))
        raise AdapterFailure(self._explain(f"{route.method} {route.path} answered {status}"))

    def _refusal(self, status: int, body: object) -> dict[str, Any]:
        mapping = self.mapping
        code = lookup(body, mapping.error_code) if mapping.error_code else None
        if isinstance(code, str):
            code = mapping.error_codes.get(code, code)
        else:
            code = mapping.http_status_codes.get(status)
        message = lookup(body, mapping.error_message) if mapping.error_message else None
        if not isinstance(message, str):
            message = json.dumps(body)[:500] if not isinstance(body, str) else body
        answer: dict[str, Any] = {"accepted": False, "message": f"HTTP {status}: {message}"}
        if code is not None:
            answer["code"] = code
        return answer

    def _json(self, response: httpx.Response, route: Route) -> Mapping[str, Any]:
        if not response.content.strip():
            return {}
        try:
            data = response.json()
        except ValueError:
            raise AdapterFailure(
                self._explain(f"{route.method} {route.path}: the body is not JSON")
            ) from None
        if not isinstance(data, Mapping):
            raise AdapterFailure(
                self._explain(f"{route.method} {route.path}: the body is not a JSON object")
            )
        return data

    def _clock_controlled(self) -> bool:
        return bool(self.capabilities().get("clock", "controlled") == "controlled")

    # ------------------------------------------------------------------ credentials

    def _token_for(self, actor: object) -> str | None:
        if actor == self._issuer or not isinstance(actor, str) or not actor:
            return self._admin_token if actor == self._issuer else None
        if actor in self._static_tokens:
            return self._static_tokens[actor]
        if actor in self._tokens:
            return self._tokens[actor]
        route = self.mapping.admin.get("token")
        if route is None:
            return None  # the request goes without a credential; the registry decides
        party_field = self.mapping.token_party_field
        response = self._send(route, {party_field: actor}, self._admin_token, admin=True)
        if 400 <= response.status_code < 500:
            raise _Refused(self._refusal(response.status_code, _safe_json(response)))
        if response.status_code // 100 != 2:
            raise AdapterFailure(self._explain(f"minting a token answered {response.status_code}"))
        token = self._json(response, route).get(self.mapping.token_field)
        if not isinstance(token, str) or not token:
            raise AdapterFailure(self._explain("the token route answered no token"))
        self._secrets.add(token)
        self._tokens[actor] = token
        minted = self._current[-1]  # recorded before the token was known to be a secret
        minted["response"] = self._redact(str(minted.get("response", "")))
        return token

    # ------------------------------------------------------------------ the wire

    def _send(
        self,
        route: Route,
        body: dict[str, Any],
        token: str | None,
        *,
        headers: Mapping[str, str] | None = None,
        admin: bool = False,
        party: str = "",
    ) -> httpx.Response:
        path = route.path
        for name in route.placeholders():
            value = body.pop(name, "")
            path = path.replace("{" + name + "}", urllib.parse.quote(str(value), safe=""))
        url = self.base_url + path
        sent_headers = {"Accept": "application/json", **(headers or {})}
        if token:
            sent_headers["Authorization"] = f"Bearer {token}"
        content = json.dumps(body).encode() if body or route.method != "GET" else b""
        if content:
            sent_headers["Content-Type"] = "application/json"
        attempts = 1 + (self.retries if route.idempotent else 0)
        for attempt in range(attempts):
            started = time.perf_counter()
            exchange = self._record(route.method, url, sent_headers, content, admin, party)
            try:
                self.requests_sent += 1
                response = self._client.request(
                    route.method, url, headers=sent_headers, content=content
                )
            except httpx.TransportError as exc:
                exchange["error"] = f"{type(exc).__name__}: {exc}"
                exchange["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 1)
                if attempt + 1 < attempts:
                    time.sleep(0.05 * 2**attempt)
                    continue
                raise AdapterFailure(self._explain(f"{route.method} {url} failed")) from exc
            exchange["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 1)
            exchange["status"] = response.status_code
            exchange["response"] = self._redact(response.text)[:_BODY_LIMIT]
            if response.status_code >= 500 and attempt + 1 < attempts:
                time.sleep(0.05 * 2**attempt)
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _record(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        content: bytes,
        admin: bool,
        party: str,
    ) -> dict[str, Any]:
        credential = "$GC_HTTP_TOKEN" if admin else "$TOKEN"
        shown = {
            k: f"Bearer {credential}" if k == "Authorization" else v for k, v in headers.items()
        }
        body = self._redact(content.decode(errors="replace")) if content else ""
        command = ["curl -sS -X", method, shlex.quote(url)]
        for key, value in shown.items():  # double quotes: the shell fills in the token variable
            command.append(
                f'-H "{key}: {value}"'
                if key == "Authorization"
                else "-H " + shlex.quote(f"{key}: {value}")
            )
        if len(body) > _BODY_LIMIT:  # a hand-made oversized body: say what it was, not all of it
            command.append(f"--data-binary @BODY  # {len(content)} bytes; starts as shown")
        elif body:
            command.append("--data-raw " + shlex.quote(body))
        exchange: dict[str, Any] = {
            "method": method,
            "url": url,
            "as": "admin" if admin else party,
            "request_headers": shown,
            "request": body[:_BODY_LIMIT],
            "curl": " ".join(command),
        }
        self.exchanges.append(exchange)
        self._current.append(exchange)
        return exchange

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _explain(self, what: str) -> str:
        """A failure message with the last exchange and the command that repeats it."""
        if not self._current:
            return what
        last = self._current[-1]
        got = (
            last.get("error") or f"HTTP {last.get('status')}: {str(last.get('response', ''))[:300]}"
        )
        return f"{what}: {got}; reproduce: {last['curl']}"


def _number(value: str | None, name: str, default: float) -> float:
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except ValueError:
        raise AdapterUnavailable(f"http adapter option {name}: {value!r} is not a number") from None
    if number < 0 or (name == "timeout" and number == 0):
        raise AdapterUnavailable(f"http adapter option {name}: must be positive")
    return number


def _read_tokens(where: str | None) -> dict[str, str]:
    if not where:
        return {}
    try:
        data = json.loads(Path(where).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AdapterUnavailable(f"http adapter option tokens: {exc}") from exc
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise AdapterUnavailable("http adapter option tokens: a JSON object {party: token}")
    return data


def _safe_json(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return response.text[:500]


__all__ = ["TOKEN_ENV", "HttpAdapter"]
