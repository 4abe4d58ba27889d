"""``storage.sdgc.producer_of_several`` (STOR-032): which producer an SD-GC of two describes.

The reference passes under both ``sd_gc_producer`` readings, every allocation method and both
loss methods; registries that pick the other reading's producer, ignore the cancellation order
at a tie, or take the last allocated input fail; a registry lacking SD-GC issuance is skipped
with the reason. (A third reading cannot be declared: capabilities refuse it.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from gc_conformance.adapter import Capabilities
from gc_conformance.adapters.faulty import SdGcOtherProducer, books_with
from gc_conformance.adapters.reference import ReferenceAdapter
from gc_conformance.checks import get_check
from gc_conformance.outcomes import CheckResult, SkipKind, Status
from gc_conformance.reference import Policies, Registry, SdGcProducer, StorageBook
from gc_conformance.runner import RunOptions, execute_check

CHECK = "storage.sdgc.producer_of_several"
METHODS = ("FIFO", "LIFO", "WEIGHTED_AVERAGE", "OPERATOR_DISCRETION")
LOSSES = ("EFFICIENCY_FACTOR", "INTERVAL_FORMULAS")
#: The D5 device fields a GC states of its producer (what the check compares).
DEVICE_FIELDS = (
    "device_name",
    "device_capacity",
    "device_production_start_date",
    "device_location",
)


def judged(adapter: Any) -> CheckResult:
    capabilities = Capabilities.from_plain(adapter.capabilities())
    return execute_check(get_check(CHECK), adapter, capabilities, RunOptions())


class Declaring(ReferenceAdapter):
    """The reference offering one allocation and one loss method (and other declarations)."""

    def __init__(
        self,
        reading: SdGcProducer = SdGcProducer.FIRST_ALLOCATED,
        method: str = "FIFO",
        loss: str = "EFFICIENCY_FACTOR",
        declared: Mapping[str, str | None] | None = None,
    ) -> None:
        super().__init__(policies=Policies(sd_gc_producer=reading))
        self.method, self.loss, self.declared = method, loss, dict(declared or {})

    def capabilities(self) -> Mapping[str, Any]:
        plain = dict(super().capabilities())
        policies = {**plain["policies"], "allocation_method": self.method, "loss_method": self.loss}
        for name, value in self.declared.items():
            if value is None:
                policies.pop(name, None)
            else:
                policies[name] = value
        return {**plain, "policies": policies}


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("reading", list(SdGcProducer), ids=lambda r: r.name)
def test_the_reference_passes_under_both_readings_and_every_method(
    reading: SdGcProducer, method: str, loss: str
) -> None:
    result = judged(Declaring(reading, method, loss))
    assert result.status is Status.PASS, result.describe()
    # Four SD-GCs, each judged on the D5 device fields and the producer's ID.
    assert sum(s.request["action"] == "issue_storage_gc" for s in result.steps) == 4


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("reading", list(SdGcProducer), ids=lambda r: r.name)
def test_the_registry_naming_the_other_readings_producer_fails(
    reading: SdGcProducer, method: str
) -> None:
    class Other(SdGcOtherProducer, Declaring):
        """The built-in faulty registry, offering one allocation method."""

    adapter = Other(reading, method)
    result = judged(adapter)
    assert result.status is Status.FAIL, result.describe()
    assert result.requirements == ("STOR-032",)
    expected = "DEV-SOLAR" if reading is SdGcProducer.FIRST_ALLOCATED else "DEV-WIND"
    assert f"describe {expected}" in result.message
    assert str(result.observed).count("DEV-SOLAR" if expected == "DEV-WIND" else "DEV-WIND")


class _ByDeviceId(StorageBook):
    """A tie goes to the device ID first in alphabetical order, not to the first allocated."""

    @staticmethod
    def _producer(sources: Any, rule: SdGcProducer) -> Any:
        return min(sources, key=lambda s: s.device_id)


class _LastAllocated(StorageBook):
    """The producer of the last input allocated, not the first."""

    @staticmethod
    def _producer(sources: Any, rule: SdGcProducer) -> Any:
        return sources[-1]


class _Built(Declaring):
    book: type[StorageBook] = StorageBook

    def reset(self, setup: Mapping[str, Any]) -> None:
        super().reset(setup)
        built = self.registry
        self._registry = Registry(built.issuer, built.policies, books=books_with(self.book))


@pytest.mark.parametrize("book", [_ByDeviceId, _LastAllocated], ids=lambda b: b.__name__)
@pytest.mark.parametrize("method", ["FIFO", "LIFO"])
@pytest.mark.parametrize("reading", list(SdGcProducer), ids=lambda r: r.name)
def test_ties_and_allocation_order_are_judged(
    reading: SdGcProducer, method: str, book: type[StorageBook]
) -> None:
    adapter = type("Faulty", (_Built,), {"book": book})(reading, method)
    result = judged(adapter)
    assert result.status is Status.FAIL, result.describe()
    assert "tie" in result.message or "cancelled first" in result.message


def test_an_undeclared_reading_is_the_default() -> None:
    default = judged(Declaring(declared={"sd_gc_producer": None}))
    assert default.status is Status.PASS, default.describe()
    # The reference under LARGEST_SHARE but declaring nothing: judged as FIRST_ALLOCATED.
    silent = judged(Declaring(SdGcProducer.LARGEST_SHARE, declared={"sd_gc_producer": None}))
    assert silent.status is Status.FAIL and "FIRST_ALLOCATED" in silent.message


def test_a_registry_without_sd_gc_issuance_is_skipped_with_the_reason() -> None:
    class NoIssuance(Declaring):
        def capabilities(self) -> Mapping[str, Any]:
            plain = dict(super().capabilities())
            offered = Capabilities.from_plain(plain).offered_actions
            return {**plain, "actions": sorted(offered - {"issue_storage_gc"})}

    result = judged(NoIssuance())
    assert result.status is Status.SKIP, result.describe()
    assert "'issue_storage_gc'" in result.message
    assert result.skip_kind is SkipKind.NOT_VERIFIED


class _DeviceFieldsAlike(SdGcOtherProducer):
    """Picks the wrong producer, but every GC shows the same device location and no other D5
    device field, and the storage observation names no producer: nothing tells the two apart."""

    def observe(self) -> Mapping[str, Any]:
        state = dict(super().observe())
        shown = {"device_location": "NL"}
        state["bundles"] = [
            {**{k: v for k, v in b.items() if k not in DEVICE_FIELDS}, **shown}
            for b in state["bundles"]
        ]
        storage = dict(state.get("storage") or {})
        storage["sd_gcs"] = [
            {k: v for k, v in g.items() if k != "production_device_id"}
            for g in storage.get("sd_gcs", ())
        ]
        state["storage"] = storage
        return state


def test_device_fields_that_do_not_tell_the_producers_apart_verify_nothing() -> None:
    # Comparing a field both producers share would pass a registry that picked the wrong one.
    result = judged(_DeviceFieldsAlike())
    assert result.status is Status.SKIP, result.describe()
    assert result.skip_kind is SkipKind.NOT_VERIFIED
    assert "tells the two producers apart" in result.message
