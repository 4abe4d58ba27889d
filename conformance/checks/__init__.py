"""Checks: plain functions registered by decorator; the ID is the public name everywhere.

A check takes a :class:`~gc_conformance.session.Session`, drives the registry
through it, and either returns (pass) or raises
:class:`~gc_conformance.session.CheckFailed` with what was expected and what
was observed. It names the requirement(s) it verifies (IDs of the catalogue,
``requirements.toml``) and the profile it belongs to; the runner skips it when
the registry does not claim that profile. Expectations follow from the
standard, never from the reference model's quirks or a faulty registry's.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

from gc_conformance.adapter import Profile

if TYPE_CHECKING:
    from gc_conformance.session import Session

#: The modules holding checks, imported on first use of :func:`all_checks`.
CHECK_MODULES = (
    "gc_conformance.checks.core",
    "gc_conformance.checks.issuer_created",
    "gc_conformance.checks.lifecycle_time",
    "gc_conformance.checks.storage",
    "gc_conformance.checks.configurations",
    "gc_conformance.checks.differential",
    "gc_conformance.checks.integrity",
    "gc_conformance.checks.security",
    "gc_conformance.checks.edges",
)


@attrs.frozen
class Check:
    check_id: str
    title: str
    requirements: tuple[str, ...]
    profile: Profile
    function: Callable[[Session], None] = attrs.field(eq=False, repr=False)
    slow: bool = False  # property-based: honours --max-examples

    def __call__(self, session: Session) -> None:
        self.function(session)


_REGISTRY: dict[str, Check] = {}


def check(
    check_id: str,
    *,
    requirements: tuple[str, ...] | list[str],
    profile: Profile = Profile.CORE,
    slow: bool = False,
) -> Callable[[Callable[[Session], None]], Callable[[Session], None]]:
    """Register ``function`` as check ``check_id``; its docstring's first line is the title."""

    def register(function: Callable[[Session], None]) -> Callable[[Session], None]:
        if check_id in _REGISTRY:
            raise ValueError(f"check {check_id!r} is registered twice")
        if not requirements:
            raise ValueError(f"check {check_id!r} names no requirement")
        title = (function.__doc__ or check_id).strip().splitlines()[0]
        _REGISTRY[check_id] = Check(
            check_id, title, tuple(requirements), profile, function, slow=slow
        )
        return function

    return register


def all_checks() -> list[Check]:
    """Every registered check, in ID order."""
    for module in CHECK_MODULES:
        importlib.import_module(module)
    return [_REGISTRY[key] for key in sorted(_REGISTRY)]


def get_check(check_id: str) -> Check:
    all_checks()
    try:
        return _REGISTRY[check_id]
    except KeyError:
        raise KeyError(f"no check {check_id!r}; see `gc-conformance requirements`") from None
