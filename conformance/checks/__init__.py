"""Checks: plain functions registered by decorator; the ID is the public name everywhere.

A check takes a :class:`~gc_conformance.session.Session`, drives the registry
through it, and either returns (pass) or raises
:class:`~gc_conformance.session.CheckFailed` with what was expected and what
was observed. It names the requirement(s) it verifies (IDs of the catalogue,
``requirements.toml``) and the profile it belongs to; the runner skips it when
the registry does not claim that profile. Expectations follow from the
standard, never from the reference model's quirks or a faulty registry's.

The registry is open: a vendor or a standards body adds checks of its own by
declaring a module in the ``gc_conformance.checks`` entry-point group of its
package (or, without packaging, in ``GC_CONFORMANCE_EXTRA_CHECKS``). Its checks
use the same decorator, must cite requirements of the same catalogue and may not
take a built-in check's ID; see docs/extending.md.
"""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

from gc_conformance.adapter import Profile
from gc_conformance.errors import ConfigurationError

if TYPE_CHECKING:
    from gc_conformance.session import Session

#: The entry-point group where installed packages list their modules of extra checks.
ENTRY_POINT_GROUP = "gc_conformance.checks"
#: Extra check modules without packaging: comma-separated module names.
EXTRA_CHECKS_VARIABLE = "GC_CONFORMANCE_EXTRA_CHECKS"

#: The built-in modules holding checks, imported on first use of :func:`all_checks`.
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
    "gc_conformance.checks.action_log",
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

    @property
    def origin(self) -> str:
        """The module that registered the check: ``gc_conformance.checks.*`` when built in."""
        return str(getattr(self.function, "__module__", "") or "")

    @property
    def area(self) -> str:
        """The built-in module or package that holds the check (``core``, ``storage``, ...), the
        same whether the area is one module or a package of several; for an extension, its
        module's last name."""
        parts = self.origin.split(".")
        if parts[:2] == ["gc_conformance", "checks"] and len(parts) > 2:
            return parts[2]
        return parts[-1]

    @property
    def built_in(self) -> bool:
        """Registered by one of the suite's own modules (or a submodule of one: a package)."""
        return any(self.origin == m or self.origin.startswith(m + ".") for m in CHECK_MODULES)


class ExtensionError(ConfigurationError):
    """An extra check module cannot be loaded or breaks the registry's rules (exit 3)."""


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
            raise ExtensionError(
                f"check {check_id!r} is registered twice "
                f"({_REGISTRY[check_id].origin} and {function.__module__})"
            )
        if not requirements:
            raise ExtensionError(f"check {check_id!r} names no requirement")
        title = (function.__doc__ or check_id).strip().splitlines()[0]
        _REGISTRY[check_id] = Check(
            check_id, title, tuple(requirements), profile, function, slow=slow
        )
        return function

    return register


def all_checks() -> list[Check]:
    """Every registered check, built-in and extra, in ID order."""
    for module in CHECK_MODULES:
        importlib.import_module(module)
    for source, module in extension_modules():
        _import_extension(source, module)
    return [_REGISTRY[key] for key in sorted(_REGISTRY)]


def extension_modules() -> list[tuple[str, str]]:
    """``(where it is declared, module)`` for every extra check module, in a stable order."""
    found = list(_entry_point_modules())
    listed = os.environ.get(EXTRA_CHECKS_VARIABLE, "")
    found += [(EXTRA_CHECKS_VARIABLE, name.strip()) for name in listed.split(",") if name.strip()]
    return sorted(found, key=lambda item: item[1])


@functools.cache
def _entry_point_modules() -> tuple[tuple[str, str], ...]:
    """The installed packages' declared check modules, read once per process: scanning every
    distribution's metadata on each ``all_checks()`` / ``get_check()`` call would be waste."""
    from importlib.metadata import entry_points

    return tuple(
        (f"entry point {point.name!r} of {getattr(point.dist, 'name', '?')}", point.value)
        for point in entry_points(group=ENTRY_POINT_GROUP)
    )


_LOADED: dict[str, None] = {}


def _import_extension(source: str, module: str) -> None:
    if module in _LOADED:
        return
    name = module.split(":", 1)[0]  # an entry point may say "pkg.mod" or "pkg.mod:anything"
    before = set(_REGISTRY)
    try:
        importlib.import_module(name)
    except ExtensionError:
        raise
    except Exception as exc:
        raise ExtensionError(
            f"extra checks {name!r} ({source}) cannot be imported: {type(exc).__name__}: {exc}"
        ) from None
    _LOADED[module] = None
    added = set(_REGISTRY) - before
    if not added and not any(check.origin == name for check in _REGISTRY.values()):
        raise ExtensionError(f"extra checks {name!r} ({source}) registers no check")
    _require_known_requirements([_REGISTRY[check_id] for check_id in sorted(added)], source)


def _require_known_requirements(checks: list[Check], source: str) -> None:
    """An extra check cites the shipped catalogue; a requirement it invents would make a
    verdict no clause backs."""
    if not checks:
        return
    from gc_conformance.catalogue import load_catalogue

    catalogue = load_catalogue()
    for check in checks:
        unknown = [rid for rid in check.requirements if rid not in catalogue]
        if unknown:
            raise ExtensionError(
                f"extra check {check.check_id!r} ({source}) cites {unknown[0]!r}, which is not "
                "in the requirement catalogue (see `gc-conformance requirements`)"
            )


def get_check(check_id: str) -> Check:
    all_checks()
    try:
        return _REGISTRY[check_id]
    except KeyError:
        raise KeyError(f"no check {check_id!r}; see `gc-conformance requirements`") from None
