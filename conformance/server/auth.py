"""Who is calling, and what they may do: the served registry's authentication and authorization.

Credentials are bearer tokens. The *admin* token is fixed at start-up (a flag,
an environment variable, or generated and printed) and acts as the registry's
GC Issuer; every other party gets a token minted by the admin through
``POST /extensions/admin/tokens``. Minted tokens expire and are revoked when
the registry is reset.

Authorization is decided in exactly one place, :meth:`Authorizer.authorize`:
every route asks it for the party a request acts as. The rules are

* admin routes (reset, state export, history, minting) need the admin token;
* a model action acts as the credential's party, never as a party named in
  the body: a body whose ``source_id`` names someone else is refused;
* what that party may do with which bundle or account (ownership, the
  issuer's role, what a query shows) is then the reference model's rule,
  applied to that party, so the served registry cannot be laxer than the
  oracle.

A test variant with a missing check (issue 8's security profile must catch
it) is built by constructing :class:`Authorizer` with ``bind_actor=False``:
it then believes the body's ``source_id``.
"""

from __future__ import annotations

import enum
import hmac
import secrets
import time
from collections.abc import Callable

import attrs

DEFAULT_TOKEN_LIFETIME_S = 3600.0


class Access(enum.Enum):
    """What a route needs from the caller."""

    PUBLIC = "anyone, even without a credential"
    PARTY = "any valid credential; the request acts as its party"
    ADMIN = "the admin (GC Issuer) credential"


@attrs.frozen
class Principal:
    """An authenticated caller."""

    party: str
    admin: bool


class AuthError(Exception):
    """A request refused before it reaches the model: HTTP status, canonical code, reason."""

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status = status
        self.code = code
        self.message = message
        super().__init__(message)


class TokenStore:
    """Bearer tokens -> principals. Compares tokens in constant time; minted ones expire."""

    def __init__(
        self,
        admin_token: str,
        issuer: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if len(admin_token) < 16:
            raise ValueError("the admin token must be at least 16 characters")
        self._admin_token = admin_token
        self.issuer = issuer
        self._clock = clock
        self._minted: dict[str, tuple[str, float]] = {}  # token -> (party, expiry)

    def mint(self, party: str, lifetime_s: float = DEFAULT_TOKEN_LIFETIME_S) -> str:
        token = secrets.token_urlsafe(32)
        self._minted[token] = (party, self._clock() + lifetime_s)
        return token

    def revoke_all(self) -> None:
        self._minted.clear()

    def principal(self, token: str) -> Principal | None:
        if hmac.compare_digest(token.encode(), self._admin_token.encode()):
            return Principal(self.issuer, admin=True)
        entry = self._minted.get(token)
        if entry is None:
            return None
        party, expiry = entry
        if self._clock() >= expiry:
            del self._minted[token]
            return None
        return Principal(party, admin=False)


class Authorizer:
    """The one place that decides who a request acts as, and whether it may be made at all."""

    def __init__(self, tokens: TokenStore, *, bind_actor: bool = True) -> None:
        self.tokens = tokens
        self.bind_actor = bind_actor  # False only in a deliberately broken test variant

    def authenticate(self, authorization: str | None) -> Principal | None:
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError(401, "NOT_AUTHORISED", "use an 'Authorization: Bearer TOKEN' header")
        principal = self.tokens.principal(token.strip())
        if principal is None:
            raise AuthError(401, "NOT_AUTHORISED", "the bearer token is unknown or expired")
        return principal

    def authorize(self, access: Access, principal: Principal | None, claimed: object = None) -> str:
        """The party the request acts as; :class:`AuthError` if it may not be made."""
        if access is Access.PUBLIC:
            return principal.party if principal is not None else ""
        if principal is None:
            raise AuthError(401, "NOT_AUTHORISED", "this route needs a bearer token")
        if access is Access.ADMIN:
            if not principal.admin:
                raise AuthError(403, "NOT_AUTHORISED", "this route needs the admin credential")
            return principal.party
        if claimed is None or claimed == principal.party:
            return principal.party
        if not self.bind_actor and isinstance(claimed, str):
            return claimed  # the deliberately missing check of the broken variant
        raise AuthError(
            403,
            "NOT_AUTHORISED",
            f"source_id {claimed!r} is not the party of the credential ({principal.party!r})",
        )


__all__ = ["Access", "AuthError", "Authorizer", "Principal", "TokenStore"]
