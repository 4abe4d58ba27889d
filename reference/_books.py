"""The books every standard registry carries besides the core lifecycle.

Kept in one place so that ``Registry(issuer)`` is a complete registry, and so
that the core module does not import the areas built on top of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gc_conformance.reference.registry import BookFactory


def standard_books() -> tuple[BookFactory, ...]:
    from gc_conformance.reference.storage import storage_book

    return (storage_book,)
