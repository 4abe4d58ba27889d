"""The reference registry served over HTTP in the EnergyTag API shape (issue 8).

``create_app(ServerConfig(...))`` builds the ASGI application; ``serve(...)``
runs it on uvicorn (``gc-conformance serve``). Routes, authentication and the
extensions are documented in ``docs/http.md``.
"""

from gc_conformance.server.app import RegistryService, ServerConfig, create_app
from gc_conformance.server.auth import Access, AuthError, Authorizer, Principal, TokenStore

__all__ = [
    "Access",
    "AuthError",
    "Authorizer",
    "Principal",
    "RegistryService",
    "ServerConfig",
    "TokenStore",
    "create_app",
]
