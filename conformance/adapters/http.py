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

Extending it (the public extension API). What no mapping can say goes in a
subclass, through these public methods only — never a private name, which may
change in any release:

* :meth:`HttpAdapter.authorization` — the ``Authorization`` value a party
  acts with (the admin's for the GC Issuer; minted or read from ``tokens``);
* :meth:`HttpAdapter.mint_credential` — a fresh, short-lived credential;
* :meth:`HttpAdapter.read_refusal` — a contract refusal from an HTTP status
  and body, as the mapping reads error codes;
* :meth:`HttpAdapter.send_raw` — one hand-made request on the adapter's
  connection, recorded (redacted, with a ``curl`` command) like any other;
* :meth:`HttpAdapter.translate_id` / :meth:`HttpAdapter.learn_id` — the ID
  tables (the suite's names <-> the registry's generated IDs);
* :meth:`HttpAdapter.raw_http` — the security profile's hand-made requests,
  built on the methods above.
"""

from __future__ import annotations

import collections
import copy
import json
import os
import time
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from gc_conformance.adapter import AdapterFailure, AdapterUnavailable
from gc_conformance.adapters.http_ids import UNTRANSLATED, IdTables
from gc_conformance.adapters.http_infer import infer_result, inference_scope
from gc_conformance.adapters.http_mapping import (
    PLACEHOLDER,
    HttpMapping,
    Route,
    lookup,
    pop_path,
    put_path,
)
from gc_conformance.adapters.http_wire import BODY_LIMIT, curl_command, parsed_body, query_params

if TYPE_CHECKING:
    from gc_conformance.adapters.http_raw import RawHttp, RawRequest, RawResponse

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_RETRIES = 2
_OPTIONS = {
    "mapping": "GC_HTTP_MAPPING",
    "timeout": "GC_HTTP_TIMEOUT",
    "retries": "GC_HTTP_RETRIES",
    "tokens": "GC_HTTP_TOKENS",
}
TOKEN_ENV = "GC_HTTP_TOKEN"
#: The GC Issuer's party ID when no ``reset`` names it (registries without reset): the suite's
#: issuer, ``gc_conformance.session.ISSUER_ID`` (a test keeps the two equal).
DEFAULT_ISSUER = "ISSUER-T"
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
        self._issuer: str | None = DEFAULT_ISSUER
        self._ids = IdTables(self.mapping.id_tables, self.mapping.bundle_ids)
        self._learn_issuer()
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
        mapping = HttpMapping.load(option.get("mapping"))  # MappingError: a usage error (2)
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
            if "reset" not in self.mapping.admin:
                merged.setdefault("reset", False)
            if "state" not in self.mapping.admin:
                merged.setdefault("observe", False)
            if not ("reset" in self.mapping.admin and "state" in self.mapping.admin):
                merged.setdefault("actions", sorted(self.mapping.actions))
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

    # ------------------------------------------------------------------ the public extension API

    def authorization(self, party: str) -> str:
        """The ``Authorization`` header value ``party`` acts with (minted when needed).

        The GC Issuer acts with the admin token; other parties with their token
        from ``tokens`` or one minted through the mapping's ``token`` route.
        Raises :class:`AdapterFailure` when there is none or minting is refused.
        """
        try:
            token = self._token_for(party)
        except _Refused as refused:
            raise AdapterFailure(f"no credential for {party!r}: {refused.answer}") from None
        if not token:
            raise AdapterFailure(f"the adapter has no credential for {party!r}")
        return f"Bearer {token}"

    def mint_credential(self, party: str, expires_in: int) -> str:
        """A fresh token for ``party`` that expires in ``expires_in`` seconds (``token`` route)."""
        route = self.mapping.admin.get("token")
        if route is None:
            raise AdapterFailure(f"the mapping {self.mapping.source} has no token route")
        named: Any = party
        if self.mapping.token_party_table is not None:
            named = self.translate_id(self.mapping.token_party_table, party)
        body = {self.mapping.token_party_field: named, "expires_in": expires_in}
        response = self._send(route, body, self._admin_token, admin=True)
        if response.status_code // 100 != 2:
            raise AdapterFailure(self._explain(f"minting a token answered {response.status_code}"))
        token = parsed_body(response, 500)
        token = token.get(self.mapping.token_field) if isinstance(token, Mapping) else None
        if not isinstance(token, str) or not token:
            raise AdapterFailure("the token route answered no token")
        self._secrets.add(token)
        return token

    @property
    def admin_authorization(self) -> str | None:
        """The ``Authorization`` value of the admin (GC Issuer) token, None without one."""
        return f"Bearer {self._admin_token}" if self._admin_token else None

    def clock_controlled(self) -> bool:
        """Whether requests carry the contract's ``now`` (the mapping's clock header)."""
        return self._clock_controlled()

    def redact(self, text: str) -> str:
        """``text`` with every credential the adapter knows replaced by ``***``."""
        return self._redact(text)

    def new_client(self) -> httpx.Client:
        """A separate connection with the adapter's timeout (for concurrent raw requests)."""
        return httpx.Client(timeout=self._client.timeout)

    def send_raw(
        self, request: RawRequest, *, now: str | None = None, client: httpx.Client | None = None
    ) -> RawResponse:
        """Send one hand-made request once (never retried), recorded like any other exchange.

        ``now`` goes in the mapping's clock header when the clock is controlled;
        ``client`` defaults to the adapter's own connection. The answer carries
        the canonical code read by :meth:`read_refusal`. A transport failure is
        an :class:`AdapterFailure`.
        """
        from gc_conformance.adapters.http_raw import RawResponse

        url = self.base_url + request.path
        headers: dict[str, str] = {"Accept": "application/json"}
        if now is not None and self.mapping.clock_header and self._clock_controlled():
            headers[self.mapping.clock_header] = now
        content = request.payload()
        if content and request.content is None:
            headers["Content-Type"] = "application/json"
        headers.update(request.headers)
        if request.authorization is not None:
            headers["Authorization"] = request.authorization
        exchange = self._record_raw(request, url, headers, content)
        started = time.perf_counter()
        try:
            self.requests_sent += 1
            response = (client or self._client).request(
                request.method, url, headers=headers, content=content
            )
        except httpx.TransportError as exc:
            exchange["error"] = f"{type(exc).__name__}: {exc}"
            raise AdapterFailure(
                f"{request.method} {url} failed: {exc}; reproduce: {exchange['curl']}"
            ) from exc
        exchange["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 1)
        exchange["status"] = response.status_code
        exchange["response"] = self._redact(response.text)[:BODY_LIMIT]
        body = parsed_body(response)
        answer = self.read_refusal(response.status_code, body)
        return RawResponse(
            status=response.status_code,
            body=body,
            headers=dict(response.headers),
            code=answer.get("code") if not 200 <= response.status_code < 300 else None,
            message=str(answer.get("message", "")),
            exchange=exchange,
        )

    def _record_raw(
        self, request: RawRequest, url: str, headers: Mapping[str, str], content: bytes
    ) -> dict[str, Any]:
        shown: dict[str, str] = {}
        for key, value in headers.items():
            redacted = self._redact(value)
            if key == "Authorization" and redacted != value:
                redacted = "Bearer $TOKEN"
            shown[key] = redacted
        text = self._redact(content.decode(errors="replace")) if content else ""
        exchange: dict[str, Any] = {
            "method": request.method,
            "url": url,
            "as": request.as_party or "(anonymous)",
            "credential": request.credential,
            "request_headers": shown,
            "request": text[:BODY_LIMIT],
            "curl": curl_command(request.method, url, shown, text, len(content)),
        }
        self.exchanges.append(exchange)
        return exchange

    def route_request(
        self, route: Route, actor: str, fields: Mapping[str, Any] | None = None
    ) -> tuple[str, str, dict[str, Any] | None]:
        """Method, path (with query string) and JSON body the adapter sends for ``route``.

        ``fields`` are contract fields (translated by the mapping and the ID
        tables); placeholders without a value are filled with ``0``.
        """
        context: dict[str, Any] = {"actor": actor, "now": None, "before": []}
        body = self._body(route, dict(fields or {}), context)
        path = route.path
        for name in route.placeholders():
            value = body.pop(name, 0)
            path = path.replace("{" + name + "}", urllib.parse.quote(str(value), safe=""))
        if route.send_as == "query":
            if body:
                path += "?" + urllib.parse.urlencode(query_params(body), doseq=True)
            return route.method, path, None
        return route.method, path, body if body or route.method != "GET" else None

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
        self._learn_issuer()

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
        context: dict[str, Any] = {"actor": actor, "now": request.get("now"), "before": []}
        headers = {}
        if self._clock_controlled() and self.mapping.clock_header:
            headers[self.mapping.clock_header] = str(request.get("now"))
        for step in route.before:
            if step.unless_known is not None:
                table, name = step.unless_known
                if self._ids.knows(table, self._fill(name, fields, context)):
                    context["before"].append({})
                    continue
            body = self._body(step, fields, context)
            response = self._send(step, body, token, headers=headers, party=str(actor))
            answer = self._answer(step, response)
            if not answer["accepted"]:
                return answer
            got = self._json(response, step)
            context["before"].append(got)
            self._learn(step, fields, context, got)
        scope = (
            inference_scope(fields, self._ids.last_seen(fields.get("bundle_id")))
            if route.infer_result
            else None
        )
        now = request.get("now")
        before = self._bundles_in(scope, now) if scope is not None else None
        body = self._body(route, fields, context)
        response = self._send(route, body, token, headers=headers, party=str(actor))
        answer = self._answer(route, response)
        if answer["accepted"]:
            got = self._json(response, route) if response.content.strip() else {}
            self._learn(route, fields, context, got)
            result = self._ids.names_in(answer["result"])
            if scope is not None and before is not None:
                result = infer_result(result, fields, before, self._bundles_in(scope, now))
            answer["result"] = result
        return answer

    # ------------------------------------------------------------------ requests from routes

    def _body(
        self, route: Route, fields: Mapping[str, Any], context: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The API body (or query parameters) of ``route`` for these contract fields."""
        translated = copy.deepcopy(dict(fields)) if route.contract_fields else {}
        for path, table in route.ids.items():
            found, value = pop_path(translated, path)
            if found:
                put_path(translated, path, self.translate_id(table, value))
        body = self.mapping.encode_request(route, translated)
        if route.actor_field:
            body[route.actor_field] = context.get("actor")
        for path, template in route.derived.items():
            value = self._fill(template, fields, context)
            if value is None:
                continue
            if path.endswith("[]"):
                path, value = path[:-2], [value]
            put_path(body, path, value)
        return body

    def _fill(self, template: Any, fields: Mapping[str, Any], context: Mapping[str, Any]) -> Any:
        """A ``derived`` template's value: ``{ref}`` alone keeps the value's type."""
        if not isinstance(template, str):
            return template
        refs = PLACEHOLDER.findall(template)
        if len(refs) == 1 and template == "{" + refs[0] + "}":
            return self._resolve(refs[0], fields, context)
        out = template
        for ref in refs:
            value = self._resolve(ref, fields, context)
            out = out.replace("{" + ref + "}", "" if value is None else str(value))
        return out

    def _resolve(self, ref: str, fields: Mapping[str, Any], context: Mapping[str, Any]) -> Any:
        path, _, table = ref.partition("@")
        head, _, rest = path.partition(".")
        if path in ("actor", "now"):
            value = context.get(path)
        elif head == "before" and rest:
            value = lookup(context.get("before", []), rest)
        else:
            value = lookup(fields, path)
        return self.translate_id(table, value) if table and value is not None else value

    def _learn(
        self,
        route: Route,
        fields: Mapping[str, Any],
        context: Mapping[str, Any],
        answer: Mapping[str, Any],
    ) -> None:
        for learn in route.learn:
            name = self._fill(learn.name, fields, context)
            registry_id = lookup(answer, learn.id)
            if name is not None and registry_id is not None:
                self.learn_id(learn.table, str(name), registry_id)

    # ------------------------------------------------------------------ ID tables (public)

    def _learn_issuer(self) -> None:
        if isinstance(self._issuer, str):
            for table, registry_id in self.mapping.issuer_ids.items():
                self.learn_id(table, self._issuer, registry_id)

    def translate_id(self, table: str, name: Any) -> Any:
        """The registry's ID for the suite's ``name`` in table ``table``: see
        :meth:`IdTables.translate` (an untranslatable value is sent as :data:`UNTRANSLATED`)."""
        return self._ids.translate(table, name)

    def learn_id(self, table: str, name: str, registry_id: Any) -> None:
        """Remember that the suite's ``name`` is ``registry_id`` in table ``table``."""
        self._ids.learn(table, name, registry_id)

    def name_of(self, table: str, registry_id: Any) -> Any:
        """The suite's name for a registry ID (the ID itself when it is none of ours)."""
        return self._ids.name_of(table, registry_id)

    # ------------------------------------------------------------------ results inferred from state

    def _bundles_in(self, scope: list[dict[str, Any]], now: Any) -> dict[str, dict[str, Any]]:
        """Current bundles (by ID) that the issuer's queries of ``scope`` show."""
        found: dict[str, dict[str, Any]] = {}
        for query in scope:
            request = {"action": "query", "actor": self._issuer, "now": now, **query}
            saved = self._current
            try:
                answer = self.execute(request)
            finally:
                inner, self._current = self._current, saved
                if inner is not saved:
                    saved.extend(inner)
            if not answer.get("accepted"):
                continue  # e.g. an unknown target account: the request will be refused anyway
            listed = answer.get("result", {}).get("bundles")
            if not isinstance(listed, list):
                raise AdapterFailure(self._explain("a query to infer the result answered no list"))
            for bundle in listed:
                if isinstance(bundle, Mapping) and bundle.get("bundle_id") is not None:
                    found[str(bundle["bundle_id"])] = dict(bundle)
        return found

    def observe(self) -> Mapping[str, Any]:
        route = self.mapping.admin.get("state")
        if route is None:
            raise AdapterFailure(f"the mapping {self.mapping.source} has no state route")
        response = self._send(route, {}, self._admin_token, admin=True)
        if response.status_code != 200:
            raise AdapterFailure(self._explain(f"state export answered {response.status_code}"))
        return self._ids.names_in(self.mapping.decode_state(self._json(response, route)))

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
                return self.read_refusal(status, body)
            answer = {"accepted": True, "result": self.mapping.decode_result(route, body)}
            return _with_action_id(answer, body, self.mapping.accepted_action_id)
        if 400 <= status < 500 and status not in _FAILURE_STATUSES:
            return self.read_refusal(status, parsed_body(response, 500))
        raise AdapterFailure(self._explain(f"{route.method} {route.path} answered {status}"))

    def read_refusal(self, status: int, body: object) -> dict[str, Any]:
        """The contract's refusal for an HTTP ``status`` and (parsed) ``body``.

        The canonical code is read as the mapping says: the body's code field
        (translated by ``errors.codes``), else the first ``errors.patterns``
        expression found in the message, else ``errors.http_status``. A code the
        suite does not know stays as it is: a code mismatch, never a pass.
        """
        mapping = self.mapping
        code = lookup(body, mapping.error_code) if mapping.error_code else None
        message = lookup(body, mapping.error_message) if mapping.error_message else None
        if not isinstance(message, str):
            message = json.dumps(body)[:500] if not isinstance(body, str) else body
        if isinstance(code, str):
            code = mapping.error_codes.get(code, code)
        else:
            code = next(
                (c for pattern, c in mapping.error_patterns if pattern.search(message)), None
            )
            if code is None:
                code = mapping.http_status_codes.get(status)
        answer: dict[str, Any] = {"accepted": False, "message": f"HTTP {status}: {message}"}
        if code is not None:
            answer["code"] = code
        return _with_action_id(answer, body, mapping.error_action_id)

    _refusal = read_refusal  # the name older subclasses used; prefer read_refusal

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
        party: Any = actor
        if self.mapping.token_party_table is not None:
            party = self.translate_id(self.mapping.token_party_table, actor)
        response = self._send(route, {party_field: party}, self._admin_token, admin=True)
        if 400 <= response.status_code < 500:
            raise _Refused(self.read_refusal(response.status_code, parsed_body(response, 500)))
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
        if route.send_as == "query":
            if body:
                url += "?" + urllib.parse.urlencode(query_params(body), doseq=True)
            body = {}
        sent_headers = {"Accept": "application/json", **(headers or {})}
        if token:
            sent_headers["Authorization"] = f"Bearer {token}"
        content = (
            json.dumps(body).encode()
            if body or (route.method != "GET" and route.send_as != "query")
            else b""
        )
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
            exchange["response"] = self._redact(response.text)[:BODY_LIMIT]
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
        exchange: dict[str, Any] = {
            "method": method,
            "url": url,
            "as": "admin" if admin else party,
            "request_headers": shown,
            "request": body[:BODY_LIMIT],
            "curl": curl_command(method, url, shown, body, len(content)),
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


def _with_action_id(answer: dict[str, Any], body: object, path: str | None) -> dict[str, Any]:
    """``answer`` with the registry's action ID (D9) where the mapping says a body has it.

    Only a non-empty string or an integer is taken: anything else is not an ID
    the suite could send back, and is left out rather than passed on as one.
    """
    if path is None or not isinstance(body, Mapping):
        return answer
    value = lookup(body, path)
    if (isinstance(value, str) and value) or (
        isinstance(value, int) and not isinstance(value, bool)
    ):
        answer["action_id"] = value
    return answer


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


__all__ = ["DEFAULT_ISSUER", "TOKEN_ENV", "UNTRANSLATED", "HttpAdapter"]
