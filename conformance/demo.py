"""A scripted walk through the certificate lifecycle on the reference model.

Until the conformance runner lands, this is the project's main job: it drives
the embedded reference registry through every lifecycle operation (including
requests the standard forbids), runs the double-counting invariant checker on
the resulting history, and writes a small self-contained HTML page of what
happened. It is deterministic: the clock is a fixed script of instants.
"""

from __future__ import annotations

import datetime as _dt
import html
from collections.abc import Callable
from typing import Any

import attrs

from gc_conformance import STANDARD_REVISION, __version__
from gc_conformance.reference import (
    Account,
    Cancel,
    Claim,
    CorrectProduction,
    Device,
    Expire,
    GrossOrNet,
    Issuer,
    Location,
    OpenAccount,
    Policies,
    RegisterDevice,
    Registry,
    Reserve,
    SubmitProduction,
    Transfer,
    Withdraw,
)
from gc_conformance.reference.invariants import InvariantReport, check_invariants

ISSUER = "issuer-nl"


@attrs.frozen
class Step:
    """One scripted request: what it demonstrates, whether it should be accepted, what happened."""

    title: str
    expect_accepted: bool
    accepted: bool
    detail: str

    @property
    def as_expected(self) -> bool:
        return self.expect_accepted == self.accepted


@attrs.frozen
class DemoResult:
    steps: tuple[Step, ...]
    invariants: InvariantReport
    policies: dict[str, str]

    @property
    def ok(self) -> bool:
        return self.invariants.ok and all(step.as_expected for step in self.steps)


def _at(day: int, hour: int = 12) -> _dt.datetime:
    return _dt.datetime(2024, 3, day, hour, tzinfo=_dt.UTC)


#: The demo's one device: an offshore wind park with a complete D6 registration.
_WIND = Device(
    device_id="NL-WIND-001",
    device_name="Demo offshore wind park",
    account_id="producer",
    capacity_w=10_000_000,
    operational_date=_dt.date(2019, 6, 1),
    technology_type="Offshore wind turbine",
    energy_source="Wind",
    location=Location("NL", city="IJmuiden", latitude=52.46, longitude=4.6),
    meter_id="MTR-001",
    gross_or_net=GrossOrNet.NET,
    measurement_body="Demo TSO metering",
)


#: The demo, step by step: what is asked, whether the standard expects it accepted, the
#: request (built when the step runs) and when it is asked.
SCRIPT: tuple[tuple[str, bool, Callable[[], Any], _dt.datetime], ...] = (
    (
        "open the producer's account",
        True,
        lambda: OpenAccount(ISSUER, Account("producer", "wind-co", "Wind Co")),
        _at(1),
    ),
    (
        "open a supplier's account",
        True,
        lambda: OpenAccount(ISSUER, Account("supplier", "green-supply", "Green Supply")),
        _at(1),
    ),
    (
        "the issuer may not hold GCs without a D2 exemption",
        False,
        lambda: OpenAccount(ISSUER, Account("own", ISSUER, "Issuer")),
        _at(1),
    ),
    ("register the wind park (D6 data)", True, lambda: RegisterDevice(ISSUER, _WIND), _at(1)),
    (
        "issue from one hour of metered production (1 000 000.5 Wh)",
        True,
        lambda: SubmitProduction(
            ISSUER,
            "NL-WIND-001",
            "MTR-001",
            "2024-03-01T00:00:00Z",
            "2024-03-01T01:00:00Z",
            "1000000.5",
        ),
        _at(2),
    ),
    (
        "the same hour again is double issuance (D4 risk 1)",
        False,
        lambda: SubmitProduction(
            ISSUER,
            "NL-WIND-001",
            "MTR-001",
            "2024-03-01T00:30:00Z",
            "2024-03-01T01:00:00Z",
            "5",
        ),
        _at(2),
    ),
    (
        "the standard's own typo 00:14:95Z is not a time (D5)",
        False,
        lambda: SubmitProduction(
            ISSUER,
            "NL-WIND-001",
            "MTR-001",
            "2024-03-01T02:00:00Z",
            "2024-03-01T02:14:95Z",
            "5",
        ),
        _at(2),
    ),
    (
        "a 61-minute interval is longer than a GC may cover",
        False,
        lambda: SubmitProduction(
            ISSUER,
            "NL-WIND-001",
            "MTR-001",
            "2024-03-01T03:00:00Z",
            "2024-03-01T04:01:00Z",
            "5",
        ),
        _at(2),
    ),
    (
        "sell 400 000 Wh to the supplier: the bundle splits",
        True,
        lambda: Transfer("wind-co", 1, "supplier", 400_000),
        _at(3),
    ),
    (
        "a non-owner cannot move the producer's GCs",
        False,
        lambda: Transfer("green-supply", 3, "supplier"),
        _at(3),
    ),
    (
        "the supplier cancels 250 000 Wh for a consumer",
        True,
        lambda: Cancel(
            "green-supply",
            2,
            "Acme Data Centre",
            quantity=250_000,
            consumption_start="2024-03-01T00:00:00Z",
            consumption_end="2024-03-01T01:00:00Z",
        ),
        _at(4),
    ),
    (
        "cancelled GCs cannot be cancelled again (D4 risk 4)",
        False,
        lambda: Cancel("green-supply", 4, "Someone Else"),
        _at(4),
    ),
    (
        "only the named beneficiary may claim (D4 risk 6)",
        False,
        lambda: Claim("green-supply", 4, "Someone Else"),
        _at(5),
    ),
    (
        "the beneficiary's claim on the cancelled GCs",
        True,
        lambda: Claim("green-supply", 4, "Acme Data Centre"),
        _at(5),
    ),
    (
        "a second claim on the same GCs (D4 risk 5)",
        False,
        lambda: Claim("green-supply", 4, "Acme Data Centre"),
        _at(5),
    ),
    ("the producer reserves 100 000 Wh", True, lambda: Reserve("wind-co", 3, 100_000), _at(6)),
    (
        "metering corrected downwards: untouched GCs withdrawn (D10)",
        True,
        lambda: CorrectProduction(
            ISSUER, "NL-WIND-001", "2024-03-01T00:00:00Z", "2024-03-01T01:00:00Z", "900000"
        ),
        _at(7),
    ),
    (
        "only the issuer withdraws",
        False,
        lambda: Withdraw("wind-co", 7, "because I say so"),
        _at(8),
    ),
    (
        # the calendar year, then the 12 months its own hour may still be matched
        "validity over (D8, with its own-hour stretch): unused GCs expire",
        True,
        lambda: Expire(ISSUER),
        _dt.datetime(2025, 4, 1, tzinfo=_dt.UTC),
    ),
    (
        "expired GCs cannot be sold",
        False,
        lambda: Transfer("green-supply", 5, "producer"),
        _dt.datetime(2025, 4, 2, tzinfo=_dt.UTC),
    ),
)


def run_demo(policies: Policies | None = None) -> DemoResult:
    """Run the script; every step states whether the standard expects it to be accepted."""
    registry = Registry(Issuer(ISSUER, "Demo GC Issuer", "NL"), policies)
    steps: list[Step] = []
    for title, expect, build, now in SCRIPT:
        outcome = registry.execute(build(), now)
        detail = repr(outcome.value) if outcome.accepted else str(outcome.problem)  # type: ignore[union-attr]
        steps.append(Step(title, expect, outcome.accepted, detail))
    report = check_invariants(registry.export_history(), registry.export_state())
    return DemoResult(tuple(steps), report, registry.policies.describe())


def render_html(result: DemoResult, generated_at: str) -> str:
    """A self-contained page: no scripts, no external assets, every value escaped."""
    e = html.escape
    rows = "\n".join(
        f"<tr class='{'ok' if s.as_expected else 'bad'}'><td>{i}</td><td>{e(s.title)}</td>"
        f"<td>{'accept' if s.expect_accepted else 'reject'}</td>"
        f"<td>{'accepted' if s.accepted else 'rejected'}</td><td><code>{e(s.detail)}</code></td></tr>"
        for i, s in enumerate(result.steps, 1)
    )
    findings = (
        "<p>No double-counting finding.</p>"
        if result.invariants.ok
        else "<ul>"
        + "".join(f"<li>{e(f.risk.name)}: {e(f.message)}</li>" for f in result.invariants.findings)
        + "</ul>"
    )
    policies = "".join(f"<li>{e(k)}: <b>{e(v)}</b></li>" for k, v in result.policies.items())
    verdict = "PASS" if result.ok else "FAIL"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gc-conformance demonstration</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2em;max-width:70em}}
table{{border-collapse:collapse;width:100%}}td,th{{border:1px solid #ccc;padding:.3em;vertical-align:top}}
tr.ok td:nth-child(4){{color:#185c18}}tr.bad td{{background:#fde2e2}}code{{font-size:.85em;word-break:break-all}}
.verdict{{font-size:1.4em;font-weight:bold}}
</style></head><body>
<h1>gc-conformance {e(__version__)}: reference model demonstration</h1>
<p class="verdict">Verdict: {verdict}</p>
<p>This page shows the reference registry ({e(STANDARD_REVISION)}) driven through the certificate
lifecycle, including requests the standard forbids, and the double-counting invariant checker's
verdict on the resulting history ({result.invariants.actions_checked} actions). It is a
demonstration, not a conformance run of a third-party registry.</p>
<h2>Policies in force</h2><ul>{policies}</ul>
<h2>Steps</h2>
<table><tr><th>#</th><th>What it shows</th><th>Standard expects</th><th>Reference did</th><th>Detail</th></tr>
{rows}
</table>
<h2>Double-counting invariants (D4)</h2>{findings}
<p><small>Generated {e(generated_at)}.</small></p>
</body></html>
"""
