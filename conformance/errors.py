"""The harness's own error hierarchy: every failure of the *tooling* maps to one exit code.

The reference model has :class:`gc_conformance.reference.GCReferenceError`;
this is its counterpart for the harness, so that a bug in the suite is never
reported as a usage error and a vendor's bad declaration is never reported as
a bug. What the *registry* does is never one of these: that is a verdict
(pass, fail, error), made in :mod:`gc_conformance.runner`.
"""

from __future__ import annotations

from typing import ClassVar


class HarnessError(Exception):
    """Base of every error the harness raises about itself or its inputs."""

    exit_code: ClassVar[int] = 4

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


class UsageError(HarnessError):
    """A command-line option or an input file (xfail, vectors, mapping, run document) is wrong."""

    exit_code = 2


class ConfigurationError(HarnessError):
    """What the adapter declares (its capabilities) is incomplete or contradictory."""

    exit_code = 3


class InternalError(HarnessError):
    """A bug in gc-conformance itself: reported as such, never as the vendor's fault."""

    exit_code = 4
