"""Faulty registries whose defect sits in the storage book (D7): an SD-GC issued too early,
an allocation walked in the wrong order, an SD-GC describing the wrong one of its producers."""

import contextlib
import datetime as _dt
from collections.abc import Iterator
from typing import Any

import attrs

from gc_conformance.adapters.faulty._base import FaultyAdapter, books_with
from gc_conformance.reference import (
    AllocationMethod,
    Registry,
    SdGcProducer,
    StorageBook,
)


class _LooksCovered:
    """An SCR as the faulty issuance check sees it: backed, whatever was cancelled for it."""

    def __init__(self, scr: Any) -> None:
        self._scr = scr

    def __getattr__(self, name: str) -> Any:
        return getattr(self._scr, name)

    @property
    def covered_wh(self) -> int:
        return int(self._scr.charging_energy)


class _AnyInputCancelled(StorageBook):
    """Issues an SD-GC once *any* SCR behind the SDR is backed, not *every* one."""

    def _decide_issue(self, cmd: Any, now: _dt.datetime) -> Any:
        sdr = self.sdr(cmd.sdr_id) if isinstance(cmd.sdr_id, str) else None
        scrs = [] if sdr is None else [self.scr(scr_id) for scr_id, _ in sdr.allocations]
        backed = [r for r in scrs if r is not None and r.covered_wh == r.charging_energy]
        if not backed:
            return super()._decide_issue(cmd, now)
        with self._pretending(r for r in scrs if r is not None and r not in backed):
            return super()._decide_issue(cmd, now)

    @contextlib.contextmanager
    def _pretending(self, scrs: Iterator[Any]) -> Iterator[None]:
        originals = {r.scr_id: r for r in scrs}
        try:
            for scr_id, scr in originals.items():
                self._scrs[scr_id] = _LooksCovered(scr)  # type: ignore[assignment]
            yield
        finally:
            self._scrs.update(originals)


class SdGcBeforeInputsCancelled(FaultyAdapter):
    """An SD-GC is issued before the GCs of every charge behind it were cancelled.

    The registry's issuance check asks whether *some* charge record allocated
    to the discharge is backed by cancelled GCs instead of *every* one, so a
    discharge fed partly by a charge nobody cancelled GCs for gets a full
    SD-GC: attributes leave the store that never went into it.

    Breaks STOR-024 (an SD-GC only after the GCs behind every charge record allocated
    to its discharge were cancelled).
    """

    fault = "sd-gc-before-inputs-cancelled"
    description = "an SD-GC is issued while a charge record behind it has no cancelled GCs"
    breaks = ("STOR-024",)

    def build_registry(self, issuer: Any, policies: Any) -> Registry:
        return Registry(issuer, policies, books=books_with(_AnyInputCancelled))


class _WalksFromNewest(StorageBook):
    """Walks the pool from the newest stored charge when the method is FIFO."""

    def _plan_take(self, storage: Any, need: int, before: Any, view: Any) -> Any:
        if storage.allocation_method is AllocationMethod.FIFO:
            storage = attrs.evolve(storage, allocation_method=AllocationMethod.LIFO)
        return super()._plan_take(storage, need, before, view)


class FifoAllocatesLifo(FaultyAdapter):
    """A storage system registered for FIFO allocation is allocated LIFO.

    The allocator sorts the pool's charge records newest first for every
    ordered method (a sort-direction bug); the system still shows FIFO as its
    fixed method, but the most recent charge leaves first.

    Breaks STOR-020 (under FIFO the oldest stored charge leaves first).
    """

    fault = "fifo-allocates-lifo"
    description = "a storage system declared FIFO is allocated last-in-first-out"
    breaks = ("STOR-020",)

    def build_registry(self, issuer: Any, policies: Any) -> Registry:
        return Registry(issuer, policies, books=books_with(_WalksFromNewest))


class _OtherProducer(StorageBook):
    """Describes the producer the *other* ``sd_gc_producer`` reading would name."""

    @staticmethod
    def _producer(sources: Any, rule: SdGcProducer) -> Any:
        other = (
            SdGcProducer.LARGEST_SHARE
            if rule is SdGcProducer.FIRST_ALLOCATED
            else SdGcProducer.FIRST_ALLOCATED
        )
        return StorageBook._producer(sources, other)


class SdGcOtherProducer(FaultyAdapter):
    """An SD-GC fed by several producers describes another one than the declared reading names.

    The registry declares ``sd_gc_producer`` (FIRST_ALLOCATED by default) but its issuance
    picks the producer by the other reading: with 300 Wh of solar GCs cancelled first and
    700 Wh of wind GCs behind one discharge, the SD-GC states the wind park's name and
    capacity where the declared reading names the solar park (and the other way round). Every
    producer is still listed in ``original_device_id``; only the D5 device fields are wrong.

    Breaks STOR-032 (the SD-GC's D5 device fields describe the producer the declared
    sd_gc_producer reading names).
    """

    fault = "sd-gc-other-producer"
    description = (
        "an SD-GC of several producers describes the one the declared reading does not name"
    )
    breaks = ("STOR-032",)

    def build_registry(self, issuer: Any, policies: Any) -> Registry:
        return Registry(issuer, policies, books=books_with(_OtherProducer))
