"""Loss quantification (D7): both methods, worked by hand, and the printed formulas' faults."""

from __future__ import annotations

import datetime as _dt
from fractions import Fraction

import pytest
from storage_world import ISSUER, OPERATOR, World, hour

from gc_conformance.reference import ErrorCode, InvalidInput
from gc_conformance.reference.losses import (
    LossConvention,
    applied_convention,
    check_initial_window,
    efficiency_factor,
    interval_losses,
    net_after_factor,
    printed_form,
    printed_formula_inconsistencies,
)
from gc_conformance.reference.storage import AllocateStorage, SetEfficiencyFactor

F = Fraction


# ------------------------------------------------------------------ efficiency factor


def test_efficiency_factor_worked_example() -> None:
    # Window: 1000 Wh + 500 Wh charged, 1200 Wh discharged -> 1200 / 1500 = 4/5.
    factor = efficiency_factor(1500, 1200)
    assert factor == F(4, 5)
    # A later 333 Wh charge keeps floor(333 x 0.8) = floor(266.4) = 266 Wh; 67 Wh are lost.
    assert net_after_factor(333, factor) == 266


def test_efficiency_factor_refuses_no_input_and_more_out_than_in() -> None:
    with pytest.raises(InvalidInput) as nothing:
        efficiency_factor(0, 0)
    assert nothing.value.code is ErrorCode.EFFICIENCY_UNDEFINED
    with pytest.raises(InvalidInput) as gain:
        efficiency_factor(100, 101)
    assert gain.value.code is ErrorCode.EFFICIENCY_UNDEFINED


def test_initial_window_at_most_six_months_from_startup() -> None:
    startup = _dt.date(2026, 1, 1)
    start = _dt.datetime(2026, 1, 1, tzinfo=_dt.UTC)
    check_initial_window(startup, start, _dt.datetime(2026, 7, 1, tzinfo=_dt.UTC))  # exactly 6
    with pytest.raises(InvalidInput) as longer:
        check_initial_window(startup, start, _dt.datetime(2026, 7, 1, 0, 0, 1, tzinfo=_dt.UTC))
    assert longer.value.code is ErrorCode.EFFICIENCY_WINDOW_INVALID
    assert longer.value.field == "window.end"
    with pytest.raises(InvalidInput) as early:
        check_initial_window(startup, start - _dt.timedelta(hours=1), start)
    assert early.value.field == "window.start"


def test_factor_in_registry_fixes_pending_losses_and_initial_window_rule() -> None:
    w = World()
    assert w.data("CHARGING", hour(10), 1000).value.loss_wh is None  # no factor yet: pending
    w.data("CHARGING", hour(11), 500)
    w.data("DISCHARGING", hour(20), 1200)
    assert w.book.pool("BATT").pending_loss_charge_wh == 1500
    # Allocation before the losses are known is refused.
    early = w.run(AllocateStorage(OPERATOR, "BATT", ("SDR-1",)))
    assert early.problem.code is ErrorCode.LOSSES_NOT_CALCULATED
    # The initial window may not exceed 6 months from start-up (2026-01-01).
    too_long = w.run(SetEfficiencyFactor(ISSUER, "BATT", hour(0), "2026-07-02T00:00:00Z"))
    assert too_long.problem.code is ErrorCode.EFFICIENCY_WINDOW_INVALID
    factor = w.ok(SetEfficiencyFactor(ISSUER, "BATT", hour(0), hour(24)))
    assert factor.value == F(4, 5)
    # 1000 Wh -> 800 net (200 lost); 500 Wh -> 400 net (100 lost).
    assert [w.book.scr(i).loss_wh for i in ("SCR-1", "SCR-2")] == [200, 100]
    # Later charges get their loss at once: 333 Wh -> 266 net.
    assert w.data("CHARGING", hour(30), 333).value.loss_wh == 67
    # A later factor is not bound by the six-month window.
    w.ok(SetEfficiencyFactor(ISSUER, "BATT", hour(0), "2026-06-01T00:00:00Z"))


# ------------------------------------------------------------------ interval formulas


def test_convention_is_exposed() -> None:
    assert applied_convention() is LossConvention.FRACTION_OF_CAPACITY
    assert "fractions of the capacity" in LossConvention.FRACTION_OF_CAPACITY.value


def test_charge_loss_worked_example() -> None:
    # QT = 10 000 Wh; SoC 20 % -> 29 %; Qc = 1000 Wh.
    # s0 = 0.20, s1 = 0.29, c = 0.10: ratio = (0.20 - 0.29 + 0.10) / (0.20 + 0.10) = 1/30;
    # loss = 1/30 x 0.30 x 10 000 = 100 Wh.
    losses = interval_losses(10_000, F(20), F(29), charged_wh=1000)
    assert losses.charge_wh == 100
    assert losses.self_discharge_wh == 0 and losses.discharge_wh == 0
    assert losses.total_wh == 100


def test_self_discharge_loss_worked_example() -> None:
    # SoC 29 % -> 28.5 %, idle: ratio = 0.005 / 0.29; loss = 0.005 x 10 000 = 50 Wh.
    losses = interval_losses(10_000, F(29), F(57, 2))
    assert losses.self_discharge_wh == 50
    assert losses.total_wh == 50


def test_discharge_loss_worked_example() -> None:
    # SoC 28.5 % -> 20 %, Qd = 800 Wh (d = 0.08): 0.285 - 0.20 - 0.08 = 0.005 -> 50 Wh.
    losses = interval_losses(10_000, F(57, 2), F(20), discharged_wh=800)
    assert losses.discharge_wh == 50


def test_empty_store_and_negative_loss() -> None:
    assert interval_losses(10_000, F(0), F(0)).total_wh == 0
    assert interval_losses(10_000, F(0), F(0), discharged_wh=0).total_wh == 0
    # SoC rises while idle: a negative loss, returned as is (the registry refuses it).
    assert interval_losses(10_000, F(10), F(11)).total_wh == -100


def test_printed_form_shows_the_inconsistencies() -> None:
    printed = printed_form(10_000, F(20), F(29), charged_wh=1000)
    # (20 - 29 + 1000) / (20 + 1000) x 100 = 991/1020 x 100 %: % and Wh added together.
    assert printed.charge_pct == F(991, 1020) * 100
    # x (20 + 1000) x 10 000 = 991 000 000 "Wh" for a 1000 Wh charge.
    assert printed.charge == 991_000_000
    idle = printed_form(10_000, F(29), F(57, 2))
    # (28.5 - 29) / 29 x 100 < 0 although the store lost energy; x 29 has no QT factor.
    assert idle.self_discharge_pct is not None and idle.self_discharge_pct < 0
    assert idle.self_discharge == F(-50)
    empty = printed_form(10_000, F(0), F(0))
    assert empty.self_discharge is None and empty.discharge is None


def test_inconsistencies_are_reported() -> None:
    codes = {i.code for i in printed_formula_inconsistencies()}
    assert codes == {
        "MIXED_UNITS",
        "PERCENT_TIMES_ENERGY",
        "MISSING_CAPACITY_FACTOR",
        "SELF_DISCHARGE_SIGN",
        "CHARGE_SIGN_ONLY_APPARENT",
        "TOTAL_COUNTS_ONE_CHANGE_THRICE",
        "DIVISION_BY_EMPTY_STORE",
    }
    assert all(i.resolution for i in printed_formula_inconsistencies())


def test_interval_formulas_in_registry_worked_example() -> None:
    # QT = 10 000 Wh, store empty at start-up (SoC(t-1) = 0 for the first interval).
    w = World(loss="INTERVAL_FORMULAS")
    # 10:00 charge 1000 Wh, SoC 0 -> 9 %: loss (0 - 0.09 + 0.10) x 10 000 = 100 Wh; net 900.
    assert w.data("CHARGING", hour(10), 1000, "9").value.loss_wh == 100
    # 11:00 idle, 9 % -> 8.5 %: self-discharge 50 Wh, borne by SCR-1 (FIFO): net 850.
    assert w.data("IDLE", hour(11), 0, "8.5").value.loss_wh == 50
    assert w.book.scr("SCR-1").net_wh == 850
    # 20:00 discharge 800 Wh, 8.5 % -> 0 %: (0.085 - 0 - 0.08) x 10 000 = 50 Wh; net 800.
    assert w.data("DISCHARGING", hour(20), 800, "0").value.loss_wh == 50
    assert w.book.scr("SCR-1").net_wh == 800
    assert w.book.pool("BATT").state_of_charge_wh == 800
    w.ok(AllocateStorage(OPERATOR, "BATT", ("SDR-1",)))
    assert w.book.pool("BATT").state_of_charge_wh == 0
    assert w.book.scr("SCR-1").archived


def test_interval_formulas_need_soc_and_refuse_created_energy() -> None:
    w = World(loss="INTERVAL_FORMULAS")
    missing = w.data("CHARGING", hour(10), 1000)
    assert missing.problem.code is ErrorCode.STATE_OF_CHARGE_REQUIRED
    created = w.data("CHARGING", hour(10), 1000, "11")  # +11 % of 10 kWh from 1 kWh charged
    assert created.problem.code is ErrorCode.STATE_OF_CHARGE_INCONSISTENT
    bad = w.data("CHARGING", hour(10), 1000, "101")
    assert bad.problem.code is ErrorCode.INVALID_FIELD


def test_pool_loss_beyond_stored_energy_is_unattributed() -> None:
    w = World(loss="INTERVAL_FORMULAS")
    w.data("IDLE", hour(1), 0, "0")
    w.data("CHARGING", hour(10), 1000, "10")  # no loss
    w.data("IDLE", hour(11), 0, "9")  # 100 Wh self-discharge from SCR-1
    assert w.book.scr("SCR-1").net_wh == 900
    assert w.book.pool("BATT").unattributed_loss_wh == 0


def test_charge_loss_beyond_the_charge_is_taken_from_the_pool() -> None:
    # Issue 15: QT = 10 000 Wh; 1000 Wh charged (SoC 0 -> 10 %, no loss), then 10 Wh charged
    # while SoC falls 10 % -> 9 %: loss (0.10 - 0.09 + 0.001) x 10 000 = 110 Wh.
    assert interval_losses(10_000, F(10), F(9), charged_wh=10).charge_wh == 110
    w = World(loss="INTERVAL_FORMULAS")
    w.data("CHARGING", hour(10), 1000, "10")
    assert w.book.pool("BATT").state_of_charge_wh == 1000
    # The 10 Wh charge bears 10 Wh (its whole size); the other 100 Wh are not lost from
    # the books but taken from SCR-1, so the pool matches the metered 900 Wh.
    assert w.data("CHARGING", hour(11), 10, "9").value.loss_wh == 10
    assert w.book.scr("SCR-2").net_wh == 0
    assert w.book.scr("SCR-1").net_wh == 900
    assert w.book.pool("BATT").state_of_charge_wh == 900
    assert w.book.pool("BATT").unattributed_loss_wh == 0


def test_charge_loss_at_the_limit_books_nothing_on_the_pool() -> None:
    # Loss exactly the charge (SoC unchanged at 10 %, 10 Wh charged): all on the SCR.
    w = World(loss="INTERVAL_FORMULAS")
    w.data("CHARGING", hour(10), 1000, "10")
    assert w.data("CHARGING", hour(11), 10, "10").value.loss_wh == 10
    assert w.book.scr("SCR-1").net_wh == 1000
    # One Wh over: 11 Wh lost with 10 charged -> 1 Wh from SCR-1.
    assert w.data("CHARGING", hour(12), 10, "9.999").value.loss_wh == 10
    assert w.book.scr("SCR-1").net_wh == 999
