"""``gc-conformance vectors verify``: replay every case through an adapter, one verdict per case.

Each case is replayed through a :class:`~gc_conformance.session.Session`, the
same path the checks take, so a case's verdict means what a check's does:
*fail* when the registry contradicts the vector (with expected, observed, the
steps and a reproducing command), *error* when the adapter raised or answered
outside the contract, *skip* (with the reason) when the registry does not
claim the case's profiles, does not offer its issuance style or storage
method, cannot move its clock or be reset, or declares another value of a policy
the case depends on. The verdicts become a run document of the same shape as
``gc-conformance run --json``, so the JSON, JUnit and HTML outputs are the same.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import shlex
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from gc_conformance.adapter import Capabilities, Clock, IssuanceStyle, Profile, RegistryAdapter
from gc_conformance.checks.differential import describe_key, hkey
from gc_conformance.outcomes import CheckResult, Severity, Status
from gc_conformance.results import build_run_document
from gc_conformance.runner import RunOptions, apply_xfail, judge
from gc_conformance.session import (
    STAMP,
    AdapterError,
    CheckFailed,
    ConservationBroken,
    MissingAttribute,
    Session,
    WrongVerdict,
)
from gc_conformance.vectors.files import VectorFile, VectorSet
from gc_conformance.vectors.format import (
    REF,
    UNKNOWN,
    described_bundles,
    is_ref,
    plain_to_key,
)

CRITICAL, MAJOR, MINOR = Severity.CRITICAL, Severity.MAJOR, Severity.MINOR


@attrs.frozen
class VerifyOptions:
    adapter_spec: str = "reference"
    vectors: str | None = None  # --vectors as given (None: the shipped v2 set)
    profiles: frozenset[Profile] | None = None
    strict_codes: bool = True
    cases: tuple[str, ...] = ()  # "area/type#tcId" or "area/type" (a whole file)
    xfail: Mapping[str, str] = attrs.field(factory=dict)

    def run_options(self) -> RunOptions:
        return RunOptions(
            adapter_spec=self.adapter_spec,
            profiles=self.profiles,
            seed=0,
            max_examples=0,
            strict_codes=self.strict_codes,
            xfail=dict(self.xfail),
        )

    def reproduce(self, case_id: str) -> str:
        parts = ["gc-conformance", "vectors", "verify", "--adapter", self.adapter_spec]
        if self.vectors is not None:
            parts += ["--vectors", self.vectors]
        parts += ["--case", case_id]
        if not self.strict_codes:
            parts.append("--lenient-codes")
        return shlex.join(parts)


def case_id(file: VectorFile, test: Mapping[str, Any]) -> str:
    return f"{file.stem}#{test['tcId']}"


def selected(vector_set: VectorSet, options: VerifyOptions) -> list[tuple[VectorFile, Any, Any]]:
    chosen = []
    for file in vector_set.files:
        for group, test in file.cases():
            ident = case_id(file, test)
            if not options.cases or ident in options.cases or file.stem in options.cases:
                chosen.append((file, group, test))
    return chosen


# ====================================================================== applicability


def _offered(capabilities: Capabilities, policy: str, default: str) -> list[str]:
    text = capabilities.policies.get(policy, default)
    return [v.strip() for v in text.split(",") if v.strip()]


def skip_reason(
    group: Mapping[str, Any],
    test: Mapping[str, Any],
    capabilities: Capabilities,
    options: VerifyOptions,
) -> str | None:
    """Why the case does not apply to this registry, or None."""
    requires = test["requires"]
    if capabilities.clock is not Clock.CONTROLLED:
        return "the registry cannot move its clock; every vector is dated (controlled clock)"
    if not capabilities.reset:
        # Each case starts from an empty registry at its own dated instants (the same ones
        # for every case); a registry that is never emptied has seen later ones already.
        return "the registry offers no reset; every vector starts from an empty registry"
    for name in requires["profiles"]:
        profile = Profile(name)
        if profile not in capabilities.profiles:
            return f"the registry does not claim the {name!r} profile"
        if options.profiles is not None and profile not in options.profiles:
            return f"profile {name!r} was not selected for this run"
    for style in requires["issuanceStyles"]:
        if IssuanceStyle(style) not in capabilities.issuance_styles:
            return f"the registry does not offer {style!r} issuance"
    for name, values in test["applies"]["policies"].items():
        declared = capabilities.policies.get(name)
        if declared is None:
            return (
                f"the case depends on the policy {name!r} (applies under {', '.join(values)}); "
                "the registry declares no value for it"
            )
        if declared not in values:
            return (
                f"the case applies under {name} {' or '.join(values)}; the registry declares "
                f"{declared}"
            )
    parameters = group.get("parameters") or {}
    for policy, default in (("allocation_method", "FIFO"), ("loss_method", "EFFICIENCY_FACTOR")):
        wanted = parameters.get(policy)
        if wanted is not None and wanted not in _offered(capabilities, policy, default):
            return f"the registry does not offer the storage {policy} {wanted}"
    return None


# ====================================================================== replaying one case


class Replay:
    """One case's conversation: symbols bound to the registry's IDs as its answers give them."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.bound: dict[str, Any] = {}
        self.unknowns: dict[str, Any] = {}

    # ------------------------------------------------------------------ symbols

    def value_of(self, symbol: str) -> Any:
        if symbol in self.bound:
            return self.bound[symbol]
        if symbol.startswith(UNKNOWN):
            return self._unknown(symbol)
        raise CheckFailed(
            f"step {len(self.s.steps) + 1}: the case names {symbol}, which no earlier answer of "
            "the registry bound (an answer left out an ID the vector expects it to name)",
            expected=f"{symbol} bound by an earlier answer",
            observed="unbound",
            severity=MAJOR,
        )

    def _unknown(self, symbol: str) -> Any:
        """An ID of the registry's own kind that it never gave (for 'no such bundle' cases)."""
        if symbol not in self.unknowns:
            taken = list(self.bound.values())
            if any(isinstance(v, str) for v in taken):
                self.unknowns[symbol] = f"NO-SUCH-{symbol}"
            else:
                numbers = [v for v in taken if isinstance(v, int) and not isinstance(v, bool)]
                self.unknowns[symbol] = max([999_999, *numbers]) + 1_000_000 + len(self.unknowns)
        return self.unknowns[symbol]

    def resolve(self, value: Any) -> Any:
        if is_ref(value):
            return self.value_of(value[REF])
        if isinstance(value, Mapping):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    def symbol_of(self, registry_id: Any) -> str | None:
        for symbol, value in self.bound.items():
            if hkey(value) == hkey(registry_id):
                return symbol
        return None

    # ------------------------------------------------------------------ steps

    def step(self, number: int, step: Mapping[str, Any], setup: bool) -> None:
        request = step["request"]
        for symbol, plain in (step.get("locate") or {}).items():
            self._locate(symbol, plain)
        self.s.now = _dt.datetime.strptime(request["now"], STAMP).replace(tzinfo=_dt.UTC)
        fields = {
            k: self.resolve(v) for k, v in request.items() if k not in ("action", "actor", "now")
        }
        action, actor = request["action"], request["actor"]
        expected_code = step.get("code")
        expectation = "accept" if step["expect"] == "accept" else f"reject {expected_code}"
        where = f"{'setup ' if setup else ''}step {number} ({action})"
        # Every write is bracketed: a refused request, or one that failed in the adapter, must
        # leave the state as it was (IT-001).
        before = None if action == "query" else self.s.snapshot()
        try:
            answer = self.s.send(action, actor, expectation=expectation, **fields)
        except AdapterError:
            if before is not None:
                self.s.require_unchanged(before, f"{where}: a request that failed in the adapter")
            raise
        if step["expect"] == "accept":
            if not answer.accepted:
                raise WrongVerdict(
                    f"{where} was refused; the vector expects it accepted",
                    expected="accepted",
                    observed=f"rejected {answer.code}: {answer.message}",
                    severity=MAJOR,
                )
            self._outputs(where, step.get("output") or {}, answer.result)
            return
        if answer.accepted:
            raise WrongVerdict(
                f"{where} was accepted; the vector expects it refused",
                expected=f"rejected {expected_code}",
                observed=f"accepted {dict(answer.result)}",
                severity=CRITICAL,
            )
        if before is not None:
            self.s.require_unchanged(before, f"{where}: the refused request")
        self.s.expect_code(answer, (str(expected_code),), where)

    def _locate(self, symbol: str, plain: Mapping[str, Any]) -> None:
        wanted = plain_to_key(plain)
        found = [rid for rid, key in described_bundles(self.s.observe()).values() if key == wanted]
        if len(found) != 1:
            raise CheckFailed(
                f"step {len(self.s.steps) + 1}: the case's bundle {symbol} must be the one current "
                f"bundle described as {describe_key(wanted)}",
                expected="exactly one such bundle",
                observed=f"{len(found)} such bundles",
                severity=CRITICAL,
            )
        self.bound[symbol] = found[0]

    def _outputs(self, where: str, expected: Mapping[str, Any], result: Mapping[str, Any]) -> None:
        for key, want in expected.items():
            have = result.get(key)
            if want is None:
                continue
            if is_ref(want):
                if have is None:
                    raise MissingAttribute(
                        f"{where}: the answer does not name its {key} (IT-002)",
                        expected=f"result.{key}",
                        observed=repr(dict(result)),
                    )
                self.bound[want[REF]] = have
            elif key in ("bundle_ids", "eac_ids"):
                if not isinstance(have, list | tuple) or len(have) != len(want):
                    raise CheckFailed(
                        f"{where}: the answer's {key} does not list {len(want)} IDs",
                        expected=f"{len(want)} IDs",
                        observed=repr(have),
                    )
                for symbol, value in zip(want, have, strict=True):
                    self.bound[symbol[REF]] = value
            elif key == "allocations":
                self._allocations(where, want, have)
            elif key == "bundles":
                self._query(where, want, have)
            elif have != want:
                raise CheckFailed(
                    f"{where}: the answer's {key} differs from the vector's",
                    expected=f"{key}={want!r}",
                    observed=f"{key}={have!r}",
                )

    def _allocations(self, where: str, want: Sequence[Any], have: Any) -> None:
        expected = Counter((a[REF], b[REF], wh) for a, b, wh in want)
        observed: Counter[tuple[Any, Any, Any]] = Counter()
        if isinstance(have, list | tuple):
            for entry in have:
                if isinstance(entry, list | tuple) and len(entry) == 3:
                    scr, sdr, wh = entry
                    observed[
                        (self.symbol_of(scr) or repr(scr), self.symbol_of(sdr) or repr(sdr), wh)
                    ] += 1
        if observed != expected:
            raise CheckFailed(
                f"{where}: the allocation differs from the vector's (records by symbol, Wh)",
                expected=sorted(expected.elements()).__repr__(),
                observed=sorted(observed.elements(), key=repr).__repr__(),
                severity=CRITICAL,
            )

    def _query(self, where: str, want: Sequence[Mapping[str, Any]], have: Any) -> None:
        described = {k: key for k, (_, key) in described_bundles(self.s.observe()).items()}
        keys = []
        for item in have if isinstance(have, list) else [None]:
            key = described.get(hkey(item.get("bundle_id"))) if isinstance(item, Mapping) else None
            if key is None:
                raise CheckFailed(
                    f"{where}: the query answer is not a list of current bundles",
                    expected="bundles: [{bundle_id, ...}]",
                    observed=repr(have)[:300],
                )
            keys.append(key)
        expected = Counter(plain_to_key(p) for p in want)
        if Counter(keys) != expected:
            raise CheckFailed(
                f"{where}: the query answer differs from the vector's",
                expected="; ".join(sorted(describe_key(k) for k in expected.elements()))
                or "no bundles",
                observed="; ".join(sorted(describe_key(k) for k in keys)) or "no bundles",
            )

    # ------------------------------------------------------------------ the end state

    def final(self, state: Mapping[str, Any]) -> None:
        observed = self.s.observe()
        described = described_bundles(observed)
        have = Counter(key for _, key in described.values())
        want = Counter(plain_to_key(b) for b in state["bundles"])
        if have != want:
            missing = sorted((want - have).elements())
            extra = sorted((have - want).elements())
            raise CheckFailed(
                "after the case, the registry's bundles differ from the vector's (compared by "
                "device, interval, offset, quantity, account, status, beneficiary, claimant)",
                expected="; ".join(describe_key(k) for k in missing) or "those listed",
                observed="; ".join(describe_key(k) for k in extra) or "some missing",
                severity=CRITICAL,
            )
        accounts = sorted(str(a.get("account_id")) for a in observed["accounts"])
        if accounts != list(state["accounts"]):
            raise CheckFailed(
                "after the case, the registry's accounts differ from the vector's",
                expected=repr(list(state["accounts"])),
                observed=repr(accounts),
            )
        for plain in state["bundles"]:
            symbol = plain.get("id")
            if symbol is None or symbol not in self.bound:
                continue
            found = described.get(hkey(self.bound[symbol]))
            if found is None or found[1] != plain_to_key(plain):
                raise CheckFailed(
                    f"bundle {symbol} (ID {self.bound[symbol]!r} in the registry's answers) is not "
                    "the bundle the vector describes (IT-002)",
                    expected=describe_key(plain_to_key(plain)),
                    observed=describe_key(found[1]) if found else "no such current bundle",
                    severity=CRITICAL,
                )
        _disjoint(observed["bundles"])


def _disjoint(bundles: Iterable[Mapping[str, Any]]) -> None:
    """No certificate ID in two bundles, and every quantity the length of its range (DC-003)."""
    spans = []
    for b in bundles:
        start, end = b["certificate_bundle_id_range_start"], b["certificate_bundle_id_range_end"]
        if end - start + 1 != b["bundle_quantity"]:
            raise ConservationBroken(
                f"bundle {b['bundle_id']!r}: quantity {b['bundle_quantity']} is not the length of "
                f"its range {start}..{end} (SPLIT-002)",
                expected=f"quantity {end - start + 1}",
                observed=f"quantity {b['bundle_quantity']}",
                severity=CRITICAL,
            )
        spans.append((start, end, b["bundle_id"]))
    spans.sort(key=lambda span: (span[0], span[1]))
    for (s1, e1, b1), (s2, e2, b2) in itertools.pairwise(spans):
        if s2 <= e1:
            raise ConservationBroken(
                f"bundles {b1!r} ({s1}..{e1}) and {b2!r} ({s2}..{e2}) share certificate IDs "
                "(DC-003, ID-002)",
                expected="disjoint certificate ID ranges",
                observed=f"IDs {s2}..{min(e1, e2)} in both",
                severity=CRITICAL,
            )


def verify_case(
    file: VectorFile,
    group: Mapping[str, Any],
    test: Mapping[str, Any],
    adapter: RegistryAdapter,
    capabilities: Capabilities,
    options: VerifyOptions,
) -> CheckResult:
    """One case's verdict; never raises for anything the registry does."""
    ident = case_id(file, test)
    profiles = test["requires"]["profiles"]
    base = CheckResult(
        check_id=ident,
        status=Status.SKIP,
        requirements=tuple(test["requirements"]),
        profile=profiles[-1],
        title=f"{test['name']}: {test['comment']}",
    )
    reason = skip_reason(group, test, capabilities, options)
    if reason is not None:
        return attrs.evolve(base, message=reason)
    session = Session(adapter, capabilities, strict_codes=options.strict_codes)
    replay = Replay(session)

    def run(_: Session) -> None:
        try:
            adapter.reset(group["reset"])
        except Exception as exc:
            raise AdapterError(0, f"reset failed: {type(exc).__name__}: {exc}") from exc
        setup = list(group["setup"])
        for number, step in enumerate([*setup, *test["steps"]], 1):
            # Numbered as the session numbers its steps (setup first), so that the message and
            # the printed steps agree.
            replay.step(number, step, number <= len(setup))
        replay.final(test["state"])

    run_options = options.run_options()
    result = judge(
        base, session, run, run_options, adapter=adapter, reproduce=options.reproduce(ident)
    )
    return apply_xfail(result, run_options)


def verify_set(
    vector_set: VectorSet,
    adapter: RegistryAdapter,
    capabilities: Capabilities,
    options: VerifyOptions,
    *,
    stop_after_failure: bool = False,
) -> list[CheckResult]:
    results = []
    for file, group, test in selected(vector_set, options):
        result = verify_case(file, group, test, adapter, capabilities, options)
        results.append(result)
        if stop_after_failure and result.status in (Status.FAIL, Status.ERROR):
            break
    return results


def run_document(
    results: Iterable[CheckResult],
    capabilities: Capabilities,
    options: VerifyOptions,
    vector_set: VectorSet,
    *,
    started: str,
    finished: str,
) -> dict[str, Any]:
    """The run document (``gc-conformance-run/1``), with the vector set it replayed."""
    document = build_run_document(
        results, capabilities, options.run_options(), started=started, finished=finished
    )
    from gc_conformance.vectors.files import identity
    from gc_conformance.verdicts import seal

    # The root recomputed from the files' bytes, never the one index.json declares.
    found = identity(options.vectors)
    document["suite"]["vectors_root_hash"] = found["root"]
    document["run"]["vectors"] = {
        "set": vector_set.name,
        "location": vector_set.location,
        "root": found["root"],
        "index_root": found["index_root"],
        "shipped": found["shipped"],
        "cases": list(options.cases),
    }
    return seal(document)
