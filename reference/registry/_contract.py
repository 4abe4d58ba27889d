"""What the registry and its books agree on: the refusal, the decider type and the Book protocol.

Books (storage, configurations) and the EAC registry import these without
importing the registry's internals, and a refusal raised anywhere becomes the
same ``Rejected`` answer.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from gc_conformance.reference.errors import ErrorCode, Problem

if TYPE_CHECKING:
    from gc_conformance.reference.registry._core import Registry


class Refusal(Exception):
    """Raised inside a decision that found a fault; becomes a :class:`Rejected` answer.

    Internal to the reference package: books (storage, configurations) raise it too.
    """

    def __init__(self, code: ErrorCode, field: str, message: str) -> None:
        self.problem = Problem(code, field, message)


_Refuse = Refusal

Decision = tuple[Any, list[Any]]
Decider = Callable[[Any, _dt.datetime], Decision]


class Book(Protocol):
    """A part of registry state owned by one area of the standard (storage, configurations).

    A book contributes deciders for its own requests and applies its own
    effect types; it changes its state only in ``apply``, which the registry
    calls from its single ``_apply``. Books may plan core effects (issue,
    split, status) through the registry's planning helpers.
    """

    effect_types: tuple[type, ...]

    def deciders(self) -> Mapping[type, Decider]: ...

    def apply(self, effect: Any) -> None: ...

    def fingerprint(self) -> tuple[Any, ...]: ...


BookFactory = Callable[["Registry"], Book]


_Decision = Decision
B = TypeVar("B")
