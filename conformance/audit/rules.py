"""The audit rules, each written once as a set-based SQL query (DuckDB dialect).

The DuckDB engine runs these statements as written; the Spark engine runs the same
text transpiled by sqlglot (:func:`gc_conformance.audit.engines.spark_sql`). There is no
second copy of any rule. Each query mirrors one part of the Python replay in
:mod:`gc_conformance.reference.invariants` (the oracle), and yields findings under the
same risk names, action IDs and bundle IDs; the differential tests hold them equal.

Inputs: ``rows`` (the flat table of :mod:`.load`). A pipeline is a list of
``(name, select)`` steps, each materialised as a table the later steps read:

* ``ev``/``acts``: accepted effects and actions.
* ``unsupported``: history features the set-based rules do not model (storage,
  D10 corrections and deductions, entries the oracle reports as malformed, bundle IDs
  issued again, actions out of time order, readings rounded on their own). When any is
  present the engine hands the whole history to the Python oracle and says why:
  never a silent, partial verdict.
* the bundle lineage, level by level (issued bundles, then children of effective
  splits): :func:`level_steps`, run until a level is empty;
* per-bundle event state in action order (window functions over each bundle's
  status and transfer events): what each event found the bundle in;
* the findings: one query per rule (:data:`FINDINGS`).

Because the replay applies a transfer or status change whether or not it is a
finding, a bundle's state before an event is fully determined by the events before
it, which is what makes every rule a window or a join rather than a loop.
"""

from __future__ import annotations

from gc_conformance.audit.load import COLUMNS

LIVE = "('ACTIVE', 'RESERVED', 'LOCKED')"
_CANCEL = "('CANCELLED', 'CANCELLED_FOR_STORAGE')"
_STORAGE = (
    "('storage_device', 'scr', 'sdr', 'storage_idle', 'storage_loss', 'efficiency_factor', "
    "'scr_source', 'storage_allocation', 'sd_gc', 'unknown_beneficiary', 'time_shift_claim')"
)
_EV_COLUMNS = ", ".join(name for name in COLUMNS if name != "raw")
_BLANK = "'^\\s*$'"

# ``ev`` is a view (the engine may read it afresh each time: from Parquet that is a
# column-pruned scan); every rule reads the narrow tables cut from it, each holding one
# kind of effect with only the columns the rules use, which is what keeps memory flat.
# ``lvl0_raw`` (the issued bundles: ``issues`` renamed) and ``bundles`` (the lineage's
# levels together) are views too: as tables they were copies (10^7 actions: 6 s of 76).
VIEWS = frozenset({"ev", "lvl0_raw", "bundles"})

PREPARE: list[tuple[str, str]] = [
    ("ev", f"SELECT {_EV_COLUMNS} FROM rows WHERE accepted AND effect IS NOT NULL"),
    (
        "acts",
        "SELECT aseq, MIN(at_s) AS at_s FROM rows WHERE accepted GROUP BY aseq",
    ),
    (
        "sweeps",
        "SELECT aseq, MIN(action_id) AS action_id, MIN(at_text) AS at_text, MIN(at_s) AS at_s "
        "FROM rows WHERE accepted AND action = 'expire' GROUP BY aseq",
    ),
    (
        "last_action",
        "SELECT MIN(action_id) AS action_id FROM rows WHERE seq = (SELECT MAX(seq) FROM rows)",
    ),
    (
        "issues",
        "SELECT issuance_id, bundle_id, eid, aseq, action_id, device_id, account_id, "
        "p_start_s, p_end_s, range_start, range_end, expiry_s, own_from_s, corrects, "
        "p_start, p_end, expiry, own_from FROM ev WHERE effect = 'issue'",
    ),
    (
        "readings",
        "SELECT device_id, p_start_s, p_end_s, aseq, action_id, eid, "
        "recognised_wh, metered_int, carried_null, rounded_alone, p_start, p_end "
        "FROM ev WHERE effect = 'reading'",
    ),
    (
        "bev",
        "SELECT eid, aseq, action_id, at_s, effect, bundle_id, from_account, "
        "to_account, to_status, has_beneficiary, beneficiary, purpose, claimant "
        "FROM ev WHERE effect IN ('status', 'transfer')",
    ),
    (
        "split_rows",
        "SELECT parent_id, bundle_id, cseq, eid, aseq, action_id, range_start, range_end "
        "FROM ev WHERE effect = 'split'",
    ),
    (
        "splits",
        "SELECT parent_id, eid, MIN(aseq) AS aseq, MIN(action_id) AS action_id "
        "FROM split_rows GROUP BY parent_id, eid",
    ),
    (
        "children",
        "SELECT bundle_id, parent_id, cseq, eid AS created_eid, aseq AS created_aseq, "
        "action_id AS created_action, range_start AS b_start, range_end AS b_end "
        "FROM split_rows WHERE cseq >= 0",
    ),
    # The events of bundles that are split: all each lineage level reads of ``bev``.
    (
        "sev",
        "SELECT bundle_id, eid, effect, to_status, to_account, has_beneficiary, beneficiary "
        "FROM bev WHERE bundle_id IN (SELECT parent_id FROM splits)",
    ),
    # Bundle IDs with more than one creation (issue or split child): the few the lineage
    # must order (a split child whose ID was created before is not created).
    (
        "dup_ids",
        "SELECT bundle_id FROM (SELECT bundle_id FROM issues UNION ALL "
        "SELECT bundle_id FROM children) t GROUP BY bundle_id HAVING COUNT(*) > 1",
    ),
    (
        "unsupported",
        f"""
SELECT reason, MIN(aseq) AS first_aseq, COUNT(*) AS n FROM (
  SELECT CASE WHEN effect = 'debt' THEN 'D10 deductions (debt effects)'
    ELSE 'storage (D7) effects' END AS reason, aseq
  FROM ev WHERE effect = 'debt' OR effect IN {_STORAGE}
  UNION ALL SELECT 'D10 correction issuances', aseq FROM issues WHERE corrects IS NOT NULL
  UNION ALL SELECT 'issuances with an empty range', aseq FROM issues
    WHERE range_end < range_start
  UNION ALL SELECT 'issuances without device, production interval or expiry', aseq
    FROM issues
    WHERE device_id IS NULL OR p_start_s IS NULL OR p_end_s IS NULL OR expiry_s IS NULL
  UNION ALL SELECT 'production intervals not ending after they start, or over one hour', aseq
    FROM (SELECT aseq, p_start_s, p_end_s FROM issues
          UNION ALL SELECT aseq, p_start_s, p_end_s FROM readings) t
    WHERE p_start_s IS NOT NULL AND p_end_s IS NOT NULL
      AND (p_end_s <= p_start_s OR p_end_s - p_start_s > 3600)
  UNION ALL SELECT 'metered Wh that are not whole', aseq FROM readings
    WHERE metered_int IS NULL
  UNION ALL SELECT 'splits without children', aseq FROM split_rows WHERE cseq < 0
  UNION ALL SELECT 'status effects to BUNDLE_SPLIT', aseq FROM bev
    WHERE effect = 'status' AND to_status = 'BUNDLE_SPLIT'
  UNION ALL SELECT 'cancellations without a named beneficiary or with another purpose', aseq
    FROM bev WHERE effect = 'status' AND to_status IN {_CANCEL}
      AND (beneficiary IS NULL OR REGEXP_MATCHES(beneficiary, {_BLANK})
           OR (purpose IS NOT NULL AND purpose <> CASE WHEN to_status = 'CANCELLED'
               THEN 'CONSUMPTION' ELSE 'STORAGE_CHARGE' END))
  UNION ALL SELECT 'claims without a named claimant', aseq FROM bev
    WHERE effect = 'status' AND to_status = 'CLAIMED'
      AND (claimant IS NULL OR REGEXP_MATCHES(claimant, {_BLANK}))
  UNION ALL SELECT 'bundle IDs issued again (an issuance reusing a created bundle ID)', aseq
    FROM (SELECT DISTINCT i.eid, i.aseq FROM issues i JOIN (
      SELECT bundle_id, eid FROM issues WHERE bundle_id IN (SELECT bundle_id FROM dup_ids)
      UNION ALL SELECT bundle_id, created_eid FROM children
      WHERE bundle_id IN (SELECT bundle_id FROM dup_ids)) o
    ON o.bundle_id = i.bundle_id AND o.eid < i.eid) t
  UNION ALL SELECT 'readings rounded on their own (rounding_carry PER_READING)', aseq
    FROM readings WHERE rounded_alone
  UNION ALL SELECT 'accepted actions out of time order', aseq FROM (
    SELECT aseq, at_s, MAX(at_s) OVER (ORDER BY aseq ROWS BETWEEN UNBOUNDED PRECEDING
      AND 1 PRECEDING) AS before FROM acts) t WHERE at_s < before
) u GROUP BY reason""",
    ),
]

# Shared tables no rule reads once the lineage is resolved (the engine drops them then).
LINEAGE_ONLY = ("acts", "split_rows", "sev", "dup_ids")

# Bundle columns carried level to level.
_BUNDLE = (
    "bundle_id, parent_id, cseq, issuance_id, created_eid, created_aseq, created_action, "
    "b_start, b_end, expiry_s, device_id, p_start_s, p_end_s, init_status, init_account, "
    "init_ben, iss_eid"
)

LEVEL_ZERO = (
    "SELECT bundle_id, CAST(NULL AS BIGINT) AS parent_id, CAST(NULL AS BIGINT) AS cseq, "
    "issuance_id, eid AS created_eid, aseq AS created_aseq, action_id AS created_action, "
    "range_start AS b_start, range_end AS b_end, expiry_s, device_id, p_start_s, p_end_s, "
    "'ACTIVE' AS init_status, account_id AS init_account, "
    "CAST(NULL AS VARCHAR) AS init_ben, eid AS iss_eid FROM issues"
)


def event_state(bundles: str, part: int = 0, parts: int = 1) -> str:
    """Each applied status or transfer event of ``bundles``, with the bundle's status before
    and after it and its account and beneficiary before it, in action order.

    One window (bundle, action order), and no join: each bundle enters it as two marker
    rows among its events, one at its creation carrying its initial state and expiry, one
    at its effective split (if any). An event's state before it is the last value set
    before it (the creation marker's, if no event set one), and it is the bundle's own
    event when the last marker before it is the creation (not the split, and not nothing:
    events of a bundle not yet created or already split are another rule's). Every bundle
    ID is created once here (a history where one is not falls back to the oracle), so a
    bundle's rows are exactly its partition. The values are carried as text with a marker
    ('=' and the value): an event with none sets nothing, as before, while a bundle's
    initial state and a beneficiary set to none are '-', which is never null itself.

    With ``parts``, this is the part of the bundles whose ID is ``part`` modulo ``parts``
    (the engine builds ``evs`` part by part). An event is kept only beside its bundle's
    creation marker, so the events' own filter and the split markers' only spare work.

    (The earlier form joined the events to the bundles, windowed keys only and joined the
    event and bundle columns back: at 10^7 actions the two joins back spilled and took
    two thirds of the statement's time.)"""
    frame = "OVER (PARTITION BY bundle_id ORDER BY eid ROWS BETWEEN UNBOUNDED PRECEDING AND {})"
    before, upto = frame.format("1 PRECEDING"), frame.format("CURRENT ROW")
    nulls = "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL"
    mine = "TRUE" if parts == 1 else f"bundle_id % {parts} = {part}"
    return f"""
WITH e AS (
  SELECT eid, bundle_id, aseq, action_id, at_s, effect, from_account, to_account, to_status,
    claimant, CAST(NULL AS BIGINT) AS expiry_s, 0 AS mark,
    CASE WHEN effect = 'status' THEN '=' || to_status END AS set_status,
    CASE WHEN effect = 'transfer' THEN '=' || to_account END AS set_account,
    CASE WHEN effect = 'status' AND has_beneficiary AND to_status <> 'CLAIMED'
      THEN COALESCE('=' || beneficiary, '-') END AS set_ben
  FROM bev WHERE {mine}
  UNION ALL
  SELECT created_eid, bundle_id, {nulls}, expiry_s, 1, COALESCE('=' || init_status, '-'),
    COALESCE('=' || init_account, '-'), COALESCE('=' || init_ben, '-') FROM {bundles}
  WHERE {mine}
  UNION ALL
  SELECT sup_eid, bundle_id, {nulls}, NULL, 2, NULL, NULL, NULL FROM {bundles}
  WHERE sup_eid IS NOT NULL AND {mine}
), h AS (
  SELECT e.*,
    LAST_VALUE(CASE WHEN mark > 0 THEN mark END IGNORE NULLS) {before} AS phase,
    LAST_VALUE(expiry_s IGNORE NULLS) {before} AS b_expiry,
    LAST_VALUE(set_status IGNORE NULLS) {upto} AS last_status,
    LAST_VALUE(set_status IGNORE NULLS) {before} AS prev_status,
    LAST_VALUE(set_account IGNORE NULLS) {before} AS prev_account,
    LAST_VALUE(set_ben IGNORE NULLS) {before} AS prev_ben,
    LEAD(aseq) OVER (PARTITION BY bundle_id ORDER BY eid) AS next_aseq
  FROM e
)
SELECT eid, aseq, action_id, at_s, effect, bundle_id, from_account, to_account, to_status,
  claimant, b_expiry AS expiry_s, next_aseq,
  {_unmark("last_status")} AS status_after, {_unmark("prev_status")} AS status_before,
  {_unmark("prev_account")} AS account_before, {_unmark("prev_ben")} AS ben_before
FROM h WHERE mark = 0 AND phase = 1"""


def _unmark(column: str) -> str:
    """The value a marked text carries (see :func:`event_state`)."""
    return f"CASE WHEN {column} = '-' THEN NULL ELSE SUBSTR({column}, 2) END"


def level_steps(k: int, known: str = "known0", refuse: bool = True) -> list[tuple[str, str]]:
    """Complete level ``k`` (``lvl{k}_raw`` exists) and find the next one.

    Produces ``lvl{k}`` (with ``sup_eid``/``sup_aseq``: the effective split, the first
    split of the bundle after its creation), ``fin{k}`` (the state of each split bundle
    when it was split: its last status, account and beneficiary before the split, plain
    aggregates) and ``lvl{k+1}_raw`` (children of this level's effective splits,
    inheriting that state).

    A split child whose bundle ID was created before (by an issuance, an earlier child of
    the same split, or any bundle of the lineage: its parent's own ID, say) is not created,
    as in the oracle's replay (which reports it). ``dup{k}`` keeps this level's creations of
    the few IDs created more than once (``dup_ids``), so each next level sees every earlier
    one, and ``known`` the creations settled by an earlier pass. A creation at a deeper
    level earlier in time is not seen yet: the bundle ID then stays twice in ``bundles``
    (:data:`TWICE_IN_BUNDLES`), and the lineage is resolved again (:func:`known_next`).
    Without ``refuse`` (no bundle ID is created twice: :data:`ANY_TWICE` is empty) every
    child of an effective split is created, and none of that bookkeeping runs.
    """
    raw, lvl, fin = f"lvl{k}_raw", f"lvl{k}", f"fin{k}"
    made = " UNION ALL ".join(
        [f"SELECT bundle_id, eid, cseq FROM {known}"]
        + [f"SELECT bundle_id, eid, cseq FROM dup{j}" for j in range(k + 1)]
    )
    steps = [
        (
            f"dup{k}",
            f"SELECT bundle_id, created_eid AS eid, COALESCE(cseq, -1) AS cseq FROM {raw} "
            "WHERE bundle_id IN (SELECT bundle_id FROM dup_ids)",
        ),
        (
            lvl,
            f"""
SELECT b.*, s.eid AS sup_eid, s.aseq AS sup_aseq FROM {raw} b LEFT JOIN (
  SELECT bundle_id, eid, aseq FROM (
    SELECT b.bundle_id, s.eid, s.aseq,
           ROW_NUMBER() OVER (PARTITION BY b.bundle_id ORDER BY s.eid) AS rn
    FROM {raw} b JOIN splits s ON s.parent_id = b.bundle_id AND s.eid > b.created_eid) t
  WHERE rn = 1) s ON s.bundle_id = b.bundle_id""",
        ),
        (
            fin,
            f"""
WITH e AS (
  SELECT x.bundle_id, x.eid, x.effect, x.to_status, x.to_account, x.has_beneficiary,
         x.beneficiary
  FROM sev x JOIN {lvl} b ON x.bundle_id = b.bundle_id
  WHERE b.sup_eid IS NOT NULL AND x.effect IN ('status', 'transfer')
    AND x.eid > b.created_eid AND x.eid < b.sup_eid
), ls AS (
  SELECT bundle_id, MAX(eid) AS eid FROM e WHERE effect = 'status' GROUP BY bundle_id
), la AS (
  SELECT bundle_id, MAX(eid) AS eid FROM e WHERE effect = 'transfer' GROUP BY bundle_id
), lb AS (
  SELECT bundle_id, MAX(eid) AS eid FROM e
  WHERE effect = 'status' AND has_beneficiary AND to_status <> 'CLAIMED' GROUP BY bundle_id
)
SELECT b.bundle_id,
  CASE WHEN ls.eid IS NULL THEN b.init_status ELSE es.to_status END AS status_after,
  CASE WHEN la.eid IS NULL THEN b.init_account ELSE ea.to_account END AS account_after,
  CASE WHEN lb.eid IS NULL THEN b.init_ben ELSE eb.beneficiary END AS ben_after
FROM {lvl} b
LEFT JOIN ls ON ls.bundle_id = b.bundle_id
LEFT JOIN e es ON es.bundle_id = b.bundle_id AND es.eid = ls.eid
LEFT JOIN la ON la.bundle_id = b.bundle_id
LEFT JOIN e ea ON ea.bundle_id = b.bundle_id AND ea.eid = la.eid
LEFT JOIN lb ON lb.bundle_id = b.bundle_id
LEFT JOIN e eb ON eb.bundle_id = b.bundle_id AND eb.eid = lb.eid
WHERE b.sup_eid IS NOT NULL""",
        ),
    ]
    cand = f"""
  SELECT c.bundle_id, c.parent_id, c.cseq, p.issuance_id, c.created_eid, c.created_aseq,
    c.created_action, c.b_start, c.b_end, p.expiry_s, p.device_id, p.p_start_s, p.p_end_s,
    f.status_after AS init_status,
    f.account_after AS init_account, f.ben_after AS init_ben, p.iss_eid
  FROM children c JOIN {lvl} p ON c.parent_id = p.bundle_id AND c.created_eid = p.sup_eid
  JOIN {fin} f ON f.bundle_id = p.bundle_id"""
    if not refuse:
        return [*steps[1:], (f"lvl{k + 1}_raw", cand)]
    return [
        *steps,
        (
            f"lvl{k + 1}_raw",
            f"""
WITH cand AS ({cand}
), made AS (
  {made}
  UNION ALL SELECT bundle_id, created_eid, cseq FROM cand
  WHERE bundle_id IN (SELECT bundle_id FROM dup_ids)
), first_eid AS (
  SELECT bundle_id, MIN(eid) AS eid FROM made GROUP BY bundle_id
), first_made AS (
  SELECT m.bundle_id, m.eid, MIN(m.cseq) AS cseq FROM made m
  JOIN first_eid f ON f.bundle_id = m.bundle_id AND f.eid = m.eid GROUP BY m.bundle_id, m.eid
)
SELECT c.* FROM cand c LEFT JOIN first_made m ON m.bundle_id = c.bundle_id
WHERE m.bundle_id IS NULL OR (m.eid = c.created_eid AND m.cseq = c.cseq)""",
        ),
    ]


# Creations of twice-made bundle IDs in ``bundles``, in creation order per ID.
_RANKED = """
SELECT bundle_id, eid, cseq,
  ROW_NUMBER() OVER (PARTITION BY bundle_id ORDER BY eid, cseq) AS rn FROM (
  SELECT bundle_id, created_eid AS eid, COALESCE(cseq, -1) AS cseq FROM bundles
  WHERE bundle_id IN (SELECT bundle_id FROM dup_ids)) t"""

#: A row when some bundle ID is created more than once.
ANY_TWICE = "SELECT bundle_id FROM dup_ids LIMIT 1"

KNOWN_NONE = "SELECT bundle_id, CAST(NULL AS BIGINT) AS eid, CAST(NULL AS BIGINT) AS cseq " + (
    "FROM dup_ids WHERE 1 = 0"
)

#: A row when some bundle ID is still created twice in ``bundles``.
TWICE_IN_BUNDLES = f"SELECT bundle_id FROM ({_RANKED}) r WHERE rn > 1 LIMIT 1"


def known_next(known: str) -> str:
    """The creations settled once a pass left a bundle ID made twice: ``known`` and every
    creation in ``bundles`` before the first second one. Every wrong choice of a pass
    follows the first (a child created that an earlier, deeper creation should have
    refused), so all before it are right; the next pass refuses that child."""
    return f"""
WITH r AS ({_RANKED}), x AS (
  SELECT MIN(eid) AS eid FROM r WHERE rn > 1
), xc AS (
  SELECT x.eid, MIN(r.cseq) AS cseq FROM r JOIN x ON r.eid = x.eid WHERE r.rn > 1 GROUP BY x.eid
)
SELECT bundle_id, eid, cseq FROM {known}
UNION
SELECT r.bundle_id, r.eid, r.cseq FROM r CROSS JOIN xc
WHERE r.eid < xc.eid OR (r.eid = xc.eid AND r.cseq < xc.cseq)"""


#: Bundle IDs still created twice once the lineage is resolved (see :func:`level_steps`).
LINEAGE_UNRESOLVED = (
    "SELECT 'bundle IDs a split created again, unresolved after many passes', MIN(aseq), COUNT(*) "
    "FROM (SELECT bundle_id, MAX(created_aseq) AS aseq FROM bundles GROUP BY bundle_id "
    "HAVING COUNT(*) > 1) t HAVING COUNT(*) > 0"
)


def union_steps(levels: int) -> list[tuple[str, str]]:
    """``bundles`` (every level together) and ``evs`` (their events' state, in one pass)."""
    bundles = " UNION ALL ".join(f"SELECT * FROM lvl{k}" for k in range(levels))
    return [("bundles", bundles), ("childless", _CHILDLESS), ("evs", event_state("bundles"))]


# Bundles split into children that were all not created (their IDs were taken): in the
# oracle's lineage graph such a bundle has no child, so it still holds its certificates
# (conservation) and an expiry sweep still sees it. Only parents of children with a
# twice-created ID can be such, so only those are looked at.
_CHILDLESS = """
WITH dp AS (
  SELECT DISTINCT parent_id FROM children WHERE bundle_id IN (SELECT bundle_id FROM dup_ids)
)
SELECT p.bundle_id FROM bundles p JOIN dp ON dp.parent_id = p.bundle_id
WHERE p.sup_eid IS NOT NULL
  AND p.bundle_id NOT IN (SELECT c.parent_id FROM bundles c JOIN dp ON c.parent_id = dp.parent_id)"""


def _doing(effect: str = "x.effect", to: str = "x.to_status") -> str:
    return (
        f"CASE WHEN {effect} = 'transfer' THEN 'transfer' WHEN {effect} = 'split' THEN 'split' "
        f"WHEN {to} = 'CANCELLED' THEN 'cancellation' "
        f"WHEN {to} = 'CANCELLED_FOR_STORAGE' THEN 'storage cancellation' "
        f"WHEN {to} = 'CLAIMED' THEN 'claim' ELSE 'status change to ' || {to} END"
    )


def _id(column: str) -> str:
    return f"CAST({column} AS VARCHAR)"


def _q(column: str) -> str:
    """Python's ``repr`` of a string (or None), as the oracle's messages print it."""
    return f"COALESCE('''' || {column} || '''', 'None')"


# Net issuance against recognised production per device-interval, action by action: one
# window gives the running net, the latest reading and whether a row is its action's last
# in the interval (the next row belongs to another action: effect IDs follow action
# order). Only keys and numbers go through the sorts; the messages' text is joined to
# the few flagged rows afterwards.
# The window runs only over the intervals that could be flagged (``risky``, one GROUP BY):
# an interval is safe when every Wh issued for it is recognised by a reading made no later
# than its first issuance (then no action ends with more issued than recognised; the
# withdrawals only lower what is issued), or when nothing is issued for it. Most intervals
# are safe, and the window over all of them (two rows each) was the rule's whole cost.
# ``risky`` reads the tables, not ``pr``: a CTE read twice is materialised whole, in memory.
_LIVE_PRODUCTION = (
    """
pr AS (
  SELECT device_id, p_start_s, p_end_s, aseq, action_id, eid,
         range_end - range_start + 1 AS delta, CAST(NULL AS BIGINT) AS rec
  FROM issues
  UNION ALL
  SELECT device_id, p_start_s, p_end_s, aseq, action_id, eid, delta, rec FROM (
    SELECT i.device_id, i.p_start_s, i.p_end_s, s.aseq, s.action_id, s.eid,
      b.b_start - b.b_end - 1 AS delta, CAST(NULL AS BIGINT) AS rec,
      ROW_NUMBER() OVER (PARTITION BY s.eid ORDER BY i.eid DESC) AS rn
    FROM evs s JOIN bundles b ON s.bundle_id = b.bundle_id
    JOIN issues i ON i.issuance_id = b.issuance_id AND i.aseq <= s.aseq
    WHERE s.effect = 'status' AND s.to_status = 'WITHDRAWN' AND s.status_before IN """
    + LIVE
    + """) w WHERE rn = 1
  UNION ALL
  SELECT device_id, p_start_s, p_end_s, aseq, action_id, eid, 0, recognised_wh
  FROM readings
), risky AS (
  SELECT COALESCE(device_id, '') AS k_dev, COALESCE(p_start_s, -1) AS k_start,
    COALESCE(p_end_s, -1) AS k_end FROM (
    SELECT device_id, p_start_s, p_end_s, aseq, range_end - range_start + 1 AS delta,
      CAST(NULL AS BIGINT) AS rec FROM issues
    UNION ALL
    SELECT device_id, p_start_s, p_end_s, aseq, 0, recognised_wh FROM readings) t
  GROUP BY device_id, p_start_s, p_end_s
  HAVING device_id IS NULL OR p_start_s IS NULL OR p_end_s IS NULL OR NOT COALESCE(
    (SUM(CASE WHEN rec IS NULL AND delta > 0 THEN delta ELSE 0 END) = 0
     AND (MIN(rec) IS NULL OR MIN(rec) >= 0))
    OR (MIN(CASE WHEN rec IS NOT NULL THEN aseq END)
          <= MIN(CASE WHEN rec IS NULL AND delta > 0 THEN aseq END)
        AND SUM(CASE WHEN rec IS NULL AND delta > 0 THEN delta ELSE 0 END) <= MIN(rec)), FALSE)
), run AS (
  SELECT device_id, p_start_s, p_end_s, aseq, action_id, eid,
    SUM(delta) OVER w AS net,
    LAST_VALUE(rec IGNORE NULLS) OVER w AS recognised,
    LEAD(aseq) OVER (PARTITION BY device_id, p_start_s, p_end_s ORDER BY eid) AS next_aseq
  FROM pr JOIN risky ON COALESCE(device_id, '') = k_dev AND COALESCE(p_start_s, -1) = k_start
    AND COALESCE(p_end_s, -1) = k_end
  WINDOW w AS (PARTITION BY device_id, p_start_s, p_end_s ORDER BY eid
                       ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
), per_action AS (
  SELECT device_id, p_start_s, p_end_s, aseq, action_id, eid, net, recognised,
    net - COALESCE(recognised, 0) AS excess
  FROM run WHERE next_aseq IS NULL OR next_aseq <> aseq
), flagged AS (
  SELECT per_action.*, COALESCE(MAX(excess) OVER (PARTITION BY device_id, p_start_s, p_end_s
    ORDER BY eid ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS reported
  FROM per_action
), hits AS (
  SELECT * FROM flagged WHERE excess > reported
), texts AS (
  SELECT x.device_id, x.p_start_s, x.p_end_s, MIN(x.p_start) AS p_start, MIN(x.p_end) AS p_end
  FROM (SELECT device_id, p_start_s, p_end_s, p_start, p_end FROM issues
        UNION ALL SELECT device_id, p_start_s, p_end_s, p_start, p_end FROM readings) x
  JOIN (SELECT DISTINCT device_id, p_start_s, p_end_s FROM hits) k
    ON x.device_id = k.device_id AND x.p_start_s = k.p_start_s AND x.p_end_s = k.p_end_s
  GROUP BY x.device_id, x.p_start_s, x.p_end_s
)"""
)

# The wire text of an issuance's instants, by effect ID: joined to flagged rows only, so
# that no sort or join carries it. (Kept in ``issues`` and ``readings``: a join to the
# Parquet file instead decoded 1.8 million rows for each of the few flagged ones.)
_TEXTS = "(SELECT eid, p_start, p_end, expiry, own_from FROM issues)"

_BUCKETS = "(SELECT -1 AS d UNION ALL SELECT 0 AS d UNION ALL SELECT 1 AS d)"


def _overlapping(table: str) -> str:
    """The rows of ``table`` whose production interval overlaps another row's of the same
    device (the same interval included): the few an overlap rule pairs up.

    One window per device in interval order, no join: sorted by start (then end), a row
    overlaps an earlier one exactly when some earlier row ends after it starts, and a
    later one exactly when the next row starts before it ends (intervals are not empty:
    a history with one falls back to the oracle). At 10^7 actions, the pair join over
    every row spilled and took 5-8 s per rule; it now runs over these rows only."""
    order = "PARTITION BY device_id ORDER BY p_start_s, p_end_s, eid"
    return f"""
SELECT device_id, p_start_s, p_end_s, eid FROM (
  SELECT device_id, p_start_s, p_end_s, eid,
    MAX(p_end_s) OVER ({order} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS end_before,
    LEAD(p_start_s) OVER ({order}) AS next_start
  FROM {table}
  WHERE device_id IS NOT NULL AND p_start_s IS NOT NULL AND p_end_s IS NOT NULL) t
WHERE end_before > p_start_s OR next_start < p_end_s"""


def _overlapping_pairs(rows: str) -> str:
    """Each pair of overlapping ``rows`` of one device, the later (``a_eid``) with the
    earlier (``b_eid``). Intervals are at most an hour long (longer ones fall back to the
    oracle), so overlapping ones start in the same or a neighbouring hour (``hb``): the
    join is by device and hour, never by device alone, which could be quadratic."""
    return f"""SELECT a.eid AS a_eid, b.eid AS b_eid
  FROM {rows} a JOIN (SELECT r.*, hb + d AS jb FROM {rows} r CROSS JOIN {_BUCKETS} k) b
    ON a.device_id = b.device_id AND a.hb = b.jb
  WHERE b.eid < a.eid AND b.p_start_s < a.p_end_s AND b.p_end_s > a.p_start_s"""


FINDINGS: list[tuple[str, str]] = [
    (
        "f_not_current",
        f"""
SELECT CASE WHEN x.effect = 'transfer' THEN 'DOUBLE_IN_TRANSFER'
            WHEN x.to_status IN {_CANCEL} THEN 'DOUBLE_CANCELLATION'
            WHEN x.to_status = 'CLAIMED' THEN 'DOUBLE_USE' ELSE 'DOUBLE_IN_TRANSFER' END AS risk,
  x.action_id, x.bundle_id, x.aseq,
  {_doing()} || ' of bundle ' || {_id("x.bundle_id")} ||
    CASE WHEN b.bundle_id IS NULL OR x.eid < b.created_eid THEN ', which was never issued'
    ELSE ' after it was split' END AS message
FROM bev x LEFT JOIN bundles b ON x.bundle_id = b.bundle_id
WHERE x.effect IN ('transfer', 'status')
  AND (b.bundle_id IS NULL OR x.eid < b.created_eid OR x.eid > b.sup_eid)
UNION ALL
SELECT 'DOUBLE_IN_TRANSFER', s.action_id, s.parent_id, s.aseq,
  'split of bundle ' || {_id("s.parent_id")} ||
    CASE WHEN b.bundle_id IS NULL OR s.eid < b.created_eid THEN ', which was never issued'
    ELSE ' after it was split' END
FROM splits s LEFT JOIN bundles b ON s.parent_id = b.bundle_id
WHERE b.bundle_id IS NULL OR s.eid < b.created_eid OR s.eid > b.sup_eid""",
    ),
    (
        "f_transfer",
        f"""
SELECT 'DOUBLE_IN_TRANSFER' AS risk, action_id, bundle_id, aseq,
  'transfer of bundle ' || {_id("bundle_id")} || ' while ' || status_before AS message
FROM evs WHERE effect = 'transfer' AND status_before <> 'ACTIVE'
UNION ALL
SELECT 'DOUBLE_IN_TRANSFER', action_id, bundle_id, aseq,
  'bundle ' || {_id("bundle_id")} || ' transferred from ' || {_q("from_account")} ||
  ' but held in ' || {_q("account_before")}
FROM evs WHERE effect = 'transfer' AND account_before IS DISTINCT FROM from_account
UNION ALL
SELECT 'DOUBLE_IN_TRANSFER', action_id, bundle_id, aseq,
  'bundle ' || {_id("bundle_id")} || ' transferred from ' || {_q("from_account")} ||
  ' to itself: a transfer leaves its source'
FROM evs WHERE effect = 'transfer' AND to_account = from_account
UNION ALL
SELECT 'DOUBLE_IN_TRANSFER', t.action_id, t.bundle_id, t.aseq,
  'bundle ' || {_id("t.bundle_id")} || ' transferred to account ' || {_q("t.to_account")} ||
  CASE WHEN o.first_eid IS NULL THEN ', which neither the history nor the reported state knows'
  ELSE ' before it was opened' END
FROM evs t LEFT JOIN (SELECT account_id, MIN(eid) AS first_eid FROM ev
                      WHERE effect = 'account' GROUP BY account_id) o
  ON o.account_id = t.to_account
WHERE t.effect = 'transfer' AND (o.first_eid IS NULL OR o.first_eid > t.eid)""",
    ),
    (
        "f_status",
        f"""
SELECT 'DOUBLE_CANCELLATION' AS risk, action_id, bundle_id, aseq,
  'bundle ' || {_id("bundle_id")} || ' cancelled while ' || status_before AS message
FROM evs WHERE effect = 'status' AND to_status IN {_CANCEL} AND status_before <> 'ACTIVE'
UNION ALL
SELECT CASE WHEN status_before = 'CANCELLED_FOR_STORAGE' THEN 'DOUBLE_DISCLOSURE'
            ELSE 'DOUBLE_USE' END, action_id, bundle_id, aseq,
  CASE WHEN status_before = 'CANCELLED_FOR_STORAGE' THEN 'bundle ' || {_id("bundle_id")} ||
    ' was cancelled for storage charging and then claimed for consumption'
  ELSE 'bundle ' || {_id("bundle_id")} || ' claimed while ' || status_before END
FROM evs WHERE effect = 'status' AND to_status = 'CLAIMED' AND status_before <> 'CANCELLED'
UNION ALL
SELECT 'DOUBLE_DISCLOSURE', action_id, bundle_id, aseq,
  'bundle ' || {_id("bundle_id")} || ' cancelled for ' || {_q("ben_before")} ||
  ' but claimed by ' || {_q("claimant")}
FROM evs WHERE effect = 'status' AND to_status = 'CLAIMED' AND status_before = 'CANCELLED'
  AND claimant IS DISTINCT FROM ben_before
UNION ALL
SELECT 'DOUBLE_IN_TRANSFER', action_id, bundle_id, aseq,
  'bundle ' || {_id("bundle_id")} || ' made ' || to_status || ' while ' || status_before
FROM evs WHERE effect = 'status'
  AND to_status IN ('RESERVED', 'LOCKED', 'WITHDRAWN', 'EXPIRED', 'EXPORTED')
  AND status_before NOT IN {LIVE}
UNION ALL
SELECT 'DOUBLE_IN_TRANSFER', action_id, bundle_id, aseq,
  'bundle ' || {_id("bundle_id")} || ' made live again from ' || status_before
FROM evs WHERE effect = 'status' AND to_status = 'ACTIVE'
  AND status_before NOT IN ('RESERVED', 'LOCKED')""",
    ),
    (
        "f_validity",
        f"""
WITH hits AS (
  SELECT 1 AS kind, action_id, bundle_id, aseq, effect, to_status FROM evs
  WHERE at_s >= expiry_s AND (effect = 'transfer' OR (effect = 'status' AND to_status IN
    ('CANCELLED', 'CANCELLED_FOR_STORAGE', 'RESERVED', 'LOCKED', 'EXPORTED', 'ACTIVE')))
  UNION ALL
  SELECT 2, action_id, bundle_id, aseq, effect, to_status FROM evs
  WHERE effect = 'status' AND to_status = 'EXPIRED' AND at_s < expiry_s
), stamps AS (
  SELECT x.aseq, MIN(x.at_text) AS at_text
  FROM ev x JOIN (SELECT DISTINCT aseq FROM hits) k ON x.aseq = k.aseq GROUP BY x.aseq
)
SELECT 'VALIDITY' AS risk, h.action_id, h.bundle_id, h.aseq,
  CASE WHEN h.kind = 1 THEN {_doing("h.effect", "h.to_status")} || ' of bundle ' ||
    {_id("h.bundle_id")} || ' at ' || t.at_text || ', after its validity ended (' ||
    x.expiry || ')'
  ELSE 'bundle ' || {_id("h.bundle_id")} || ' expired at ' || t.at_text ||
    ', before its validity ended (' || x.expiry || ')' END AS message
FROM hits h JOIN stamps t ON t.aseq = h.aseq
JOIN bundles b ON b.bundle_id = h.bundle_id JOIN {_TEXTS} x ON x.eid = b.iss_eid""",
    ),
    # The first expiry sweep after an issuance and at or after its expiry, without a range
    # join: two running minima over issuances and sweeps merged, one by action order and
    # one by time. Their later one is the answer because accepted actions are in time order
    # (a history that is not falls back to the oracle, see ``unsupported``). A bundle's
    # state at the sweep is its last event's up to it (each event's state lasts until the
    # bundle's next event, ``next_aseq``), or its initial state if it had none: one outer
    # join, where a second branch grouped every bundle's events for their first.
    (
        "f_sweep",
        f"""
WITH marks AS (
  SELECT eid, issuance_id, expiry_s, aseq AS k_seq, expiry_s AS k_time,
    CAST(NULL AS BIGINT) AS s_aseq, 0 AS tag
  FROM issues
  UNION ALL
  SELECT CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), aseq, at_s, aseq, 1
  FROM sweeps
), nexts AS (
  SELECT eid, issuance_id, expiry_s, tag,
    MIN(s_aseq) OVER (ORDER BY k_seq DESC, tag DESC ROWS UNBOUNDED PRECEDING) AS by_seq,
    MIN(s_aseq) OVER (ORDER BY k_time DESC, tag DESC ROWS UNBOUNDED PRECEDING) AS by_time
  FROM marks
), swept AS (
  SELECT eid, issuance_id, expiry_s, GREATEST(by_seq, by_time) AS sweep_aseq FROM nexts
  WHERE tag = 0 AND by_seq IS NOT NULL AND by_time IS NOT NULL
), cand AS (
  SELECT b.bundle_id, b.init_status, w.eid AS entry, w.sweep_aseq
  FROM bundles b JOIN swept w ON w.issuance_id = b.issuance_id AND w.expiry_s = b.expiry_s
  WHERE b.created_aseq <= w.sweep_aseq AND (b.sup_aseq IS NULL OR b.sup_aseq > w.sweep_aseq
    OR b.bundle_id IN (SELECT bundle_id FROM childless))
), st AS (
  SELECT c.bundle_id, c.entry, c.sweep_aseq,
    CASE WHEN e.bundle_id IS NULL THEN c.init_status ELSE e.status_after END AS status
  FROM cand c LEFT JOIN (SELECT bundle_id, aseq, next_aseq, status_after FROM evs) e
    ON e.bundle_id = c.bundle_id AND e.aseq <= c.sweep_aseq
    AND (e.next_aseq IS NULL OR e.next_aseq > c.sweep_aseq)
)
SELECT 'VALIDITY' AS risk, s.action_id, st.bundle_id, s.aseq,
  'bundle ' || {_id("st.bundle_id")} || ' is still ' || st.status ||
  ' after the expiry sweep at ' || s.at_text || '; its validity ended at ' || x.expiry AS message
FROM st JOIN sweeps s ON s.aseq = st.sweep_aseq JOIN {_TEXTS} x ON x.eid = st.entry
WHERE st.status IN {LIVE}""",
    ),
    # D8's own-hour exemption (policy own_hour_use): from ``own_hour_only_from`` (the end of
    # the consumption period) to its expiry a GC may be cancelled only against its own
    # production hour. The few cancellations in that stretch are found on keys alone; the
    # consumption period they name and the texts are joined to them afterwards.
    (
        "f_own_hour",
        f"""
WITH stretch AS (
  SELECT x.eid, x.action_id, x.bundle_id, x.aseq, x.at_s, i.eid AS i_eid, i.own_from_s,
    i.p_start_s, i.p_end_s, ROW_NUMBER() OVER (PARTITION BY x.eid ORDER BY i.eid DESC) AS rn
  FROM evs x JOIN bundles b ON b.bundle_id = x.bundle_id
  JOIN issues i ON i.issuance_id = b.issuance_id AND i.eid < x.eid
  WHERE x.effect = 'status' AND x.to_status = 'CANCELLED' AND i.own_from_s IS NOT NULL
), late AS (
  SELECT * FROM stretch WHERE rn = 1 AND at_s >= own_from_s
)
SELECT 'VALIDITY' AS risk, l.action_id, l.bundle_id, l.aseq,
  'cancellation of bundle ' || {_id("l.bundle_id")} || ' at ' || c.at_text ||
  ', after its consumption period ended (' || t.own_from || '), ' ||
  CASE WHEN c.cons_start IS NULL THEN 'names no consumption period'
    ELSE 'matches ' || c.cons_start || '/' || COALESCE(c.cons_end, 'None') END ||
  ', not its own production interval ' || t.p_start || '/' || t.p_end AS message
FROM late l JOIN (SELECT eid, at_text, cons_start, cons_end, cons_start_s, cons_end_s FROM ev
                  WHERE effect = 'status' AND to_status = 'CANCELLED') c ON c.eid = l.eid
JOIN {_TEXTS} t ON t.eid = l.i_eid
WHERE NOT (c.cons_start_s IS NOT NULL AND c.cons_end_s IS NOT NULL
           AND l.p_start_s <= c.cons_start_s AND c.cons_end_s <= l.p_end_s)""",
    ),
    (
        "f_production",
        "WITH"
        + _LIVE_PRODUCTION
        + f"""
SELECT 'DOUBLE_ISSUANCE' AS risk, h.action_id, CAST(NULL AS BIGINT) AS bundle_id, h.aseq,
  CASE WHEN h.recognised IS NULL THEN {_id("h.net")} || ' Wh issued for device ' ||
    {_q("h.device_id")} || ' from ' || t.p_start || ' to ' || t.p_end ||
    ' with no production recognised for it (no ''reading'' of that interval)'
  ELSE {_id("h.net")} || ' Wh issued (net of withdrawals) for device ' ||
    {_q("h.device_id")} || ' from ' || t.p_start || ' to ' || t.p_end || ', ' ||
    {_id("h.excess")} || ' Wh above the ' || {_id("h.recognised")} || ' Wh recognised'
  END AS message
FROM hits h JOIN texts t
  ON h.device_id = t.device_id AND h.p_start_s = t.p_start_s AND h.p_end_s = t.p_end_s""",
    ),
    # Recognised against metered Wh per device, reading by reading. Only devices with a
    # reading recognising more than it metered (or either unknown) are windowed: for any
    # other, the running recognised total (the sum of each interval's latest reading)
    # never exceeds the metered one, so nothing can be beyond rounding.
    (
        "f_metered",
        f"""
WITH rd AS (
  SELECT device_id, aseq, action_id, eid, carried_null,
    recognised_wh - COALESCE(LAG(recognised_wh) OVER (PARTITION BY device_id, p_start_s,
      p_end_s ORDER BY eid), 0) AS d_rec,
    metered_int - COALESCE(LAG(metered_int) OVER (PARTITION BY device_id, p_start_s,
      p_end_s ORDER BY eid), 0) AS d_met
  FROM readings WHERE device_id IS NULL OR device_id IN (
    SELECT device_id FROM readings
    WHERE recognised_wh IS NULL OR metered_int IS NULL OR recognised_wh > metered_int)
), dv AS (
  SELECT device_id, aseq, action_id, eid,
    SUM(d_rec) OVER w AS rec_tot, SUM(d_met) OVER w AS met_tot,
    SUM(CASE WHEN carried_null THEN 1 ELSE 0 END) OVER w AS alone,
    LEAD(aseq) OVER (PARTITION BY device_id ORDER BY eid) AS next_aseq
  FROM rd WINDOW w AS (PARTITION BY device_id ORDER BY eid
                       ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
), over AS (
  SELECT dv.*, met_tot + CAST(FLOOR((1 + alone) / 2) AS BIGINT) AS bound,
    CASE WHEN rec_tot > met_tot THEN rec_tot - met_tot - CAST(FLOOR((1 + alone) / 2) AS BIGINT)
    ELSE 0 END AS beyond
  FROM dv WHERE next_aseq IS NULL OR next_aseq <> aseq
), flagged AS (
  SELECT over.*, COALESCE(MAX(beyond) OVER (PARTITION BY device_id ORDER BY eid
    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS reported
  FROM over WHERE beyond > 0
)
SELECT 'DOUBLE_ISSUANCE' AS risk, action_id, CAST(NULL AS BIGINT) AS bundle_id, aseq,
  {_id("rec_tot")} || ' Wh recognised for device ' || {_q("device_id")} || ' from ' ||
  {_id("met_tot")} || ' Wh metered: ' || {_id("beyond")} || ' Wh beyond rounding (at most ' ||
  {_id("bound")} || ' Wh, with ' || {_id("alone")} || ' readings rounded alone)' AS message
FROM flagged WHERE beyond > reported AND beyond > 0""",
    ),
    (
        "f_readings_twice",
        f"""
WITH rk AS (
  SELECT device_id, p_start_s, p_end_s, MIN(eid) AS eid,
    CAST(FLOOR(p_start_s / 3600) AS BIGINT) AS hb
  FROM ({_overlapping("readings")}) n GROUP BY device_id, p_start_s, p_end_s
), pairs AS (
  {_overlapping_pairs("rk")}
)
SELECT 'DOUBLE_ISSUANCE' AS risk, a.action_id, CAST(NULL AS BIGINT) AS bundle_id, a.aseq,
  'production of device ' || {_q("a.device_id")} || ' recognised for ' || a.p_start || ' to ' ||
  a.p_end || ' and again for ' || b.p_start || ' to ' || b.p_end AS message
FROM pairs x JOIN readings a ON a.eid = x.a_eid JOIN readings b ON b.eid = x.b_eid""",
    ),
    (
        "f_issued_twice",
        f"""
WITH ik AS (
  SELECT device_id, p_start_s, p_end_s, eid, CAST(FLOOR(p_start_s / 3600) AS BIGINT) AS hb
  FROM ({_overlapping("issues")}) n
), pairs AS (
  {_overlapping_pairs("ik")}
)
SELECT 'DOUBLE_ISSUANCE' AS risk, a.action_id, a.bundle_id, a.aseq,
  'issuance ' || {_id("a.issuance_id")} || ' for device ' || {_q("a.device_id")} || ' from ' ||
  a.p_start || ' overlaps issuance ' || {_id("b.issuance_id")} || ' from ' || b.p_start
  AS message
FROM pairs x JOIN issues a ON a.eid = x.a_eid JOIN issues b ON b.eid = x.b_eid""",
    ),
    # An issuance ID issued again (risk 3). Everything else follows the oracle's replay,
    # where a later issue of the ID takes its place: conservation holds its current bundles
    # to the latest range, withdrawals and the own-hour stretch go by its latest issue by
    # then, and each issue effect is its own entry for the expiry sweeps.
    (
        "f_reissued",
        f"""
SELECT 'DOUBLE_REGISTRATION' AS risk, action_id, bundle_id, aseq,
  'issuance ID ' || {_id("issuance_id")} || ' issued twice' AS message
FROM (SELECT issues.*, ROW_NUMBER() OVER (PARTITION BY issuance_id ORDER BY eid) AS rn
      FROM issues) t WHERE rn > 1""",
    ),
    (
        "f_ranges",
        f"""
WITH o AS (
  SELECT issues.*,
    LAG(range_start) OVER w AS l_start, LAG(range_end) OVER w AS l_end, LAG(eid) OVER w AS l_eid,
    LEAD(range_start) OVER w AS r_start, LEAD(range_end) OVER w AS r_end,
    LEAD(eid) OVER w AS r_eid
  FROM issues WINDOW w AS (ORDER BY range_start, eid)
), hit AS (
  SELECT o.*, CASE WHEN r_eid < eid AND r_start <= range_end THEN 1
                   WHEN l_eid < eid AND l_end >= range_start THEN 2 ELSE 0 END AS side
  FROM o
)
SELECT 'DOUBLE_REGISTRATION' AS risk, action_id, bundle_id, aseq,
  'certificate IDs ' || {_id("range_start")} || '..' || {_id("range_end")} || ' of issuance ' ||
  {_id("issuance_id")} || ' overlap IDs ' ||
  {_id("CASE WHEN side = 1 THEN r_start ELSE l_start END")} || '..' ||
  {_id("CASE WHEN side = 1 THEN r_end ELSE l_end END")} || ' issued before' AS message
FROM hit WHERE side > 0""",
    ),
    (
        "f_split",
        f"""
WITH c AS (
  SELECT c.bundle_id, c.cseq, c.created_eid, c.b_start, c.b_end, c.created_action AS action_id,
    c.created_aseq AS aseq, p.bundle_id AS pid, p.b_start AS ps, p.b_end AS pe,
    GREATEST(p.b_start, COALESCE(MAX(c.b_end + 1) OVER (PARTITION BY p.bundle_id ORDER BY c.cseq
      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), p.b_start)) AS position
  FROM children c JOIN bundles p ON c.parent_id = p.bundle_id AND c.created_eid = p.sup_eid
)
SELECT 'CONSERVATION' AS risk, action_id, pid AS bundle_id, aseq,
  'split of bundle ' || {_id("pid")} || ' (' || {_id("ps")} || '..' || {_id("pe")} ||
  ') into a child ' || {_id("b_start")} || '..' || {_id("b_end")} ||
  ' that does not continue at ' || {_id("position")} AS message
FROM c WHERE b_start <> position OR b_end < b_start
UNION ALL
SELECT 'CONSERVATION', MIN(action_id), pid, MIN(aseq),
  'split of bundle ' || {_id("pid")} || ' (' || {_id("MIN(ps)")} || '..' || {_id("MIN(pe)")} ||
  ') leaves IDs from ' || {_id("GREATEST(MIN(ps), MAX(b_end + 1))")} || ' unaccounted'
FROM c GROUP BY pid HAVING GREATEST(MIN(ps), MAX(b_end + 1)) <> MIN(pe) + 1
UNION ALL
SELECT 'DOUBLE_REGISTRATION', c.action_id, c.bundle_id, c.aseq,
  'split reuses bundle ID ' || {_id("c.bundle_id")}
FROM c LEFT JOIN bundles k ON k.bundle_id = c.bundle_id
WHERE k.bundle_id IS NULL OR k.created_eid <> c.created_eid OR k.cseq IS DISTINCT FROM c.cseq""",
    ),
    (
        "f_conservation",
        f"""
WITH parts AS (
  SELECT b.issuance_id, b.b_start, b.b_end, i.range_start, i.range_end,
    ROW_NUMBER() OVER (PARTITION BY b.issuance_id ORDER BY b.b_start, b.b_end) AS rn,
    COUNT(*) OVER (PARTITION BY b.issuance_id) AS parts,
    CASE WHEN ROW_NUMBER() OVER (PARTITION BY b.issuance_id ORDER BY b.b_start, b.b_end) = 1
      THEN i.range_start ELSE LAG(b.b_end) OVER (PARTITION BY b.issuance_id
      ORDER BY b.b_start, b.b_end) + 1 END AS position
  FROM bundles b JOIN (
    SELECT issuance_id, ARG_MAX(range_start, eid) AS range_start,
      ARG_MAX(range_end, eid) AS range_end FROM issues GROUP BY issuance_id) i
    ON i.issuance_id = b.issuance_id
  WHERE b.sup_eid IS NULL OR b.bundle_id IN (SELECT bundle_id FROM childless)
), first_bad AS (
  SELECT issuance_id, MIN(rn) AS rn FROM parts WHERE b_start <> position GROUP BY issuance_id
)
SELECT 'CONSERVATION' AS risk, l.action_id, CAST(NULL AS BIGINT) AS bundle_id,
  CAST(NULL AS BIGINT) AS aseq,
  'issuance ' || {_id("p.issuance_id")} || ' (' || {_id("p.range_start")} || '..' ||
  {_id("p.range_end")} || '): certificates from ' || {_id("p.position")} || ' are ' ||
  CASE WHEN p.b_start > p.position THEN 'missing' ELSE 'held twice' END ||
  ' (next bundle starts at ' || {_id("p.b_start")} || ')' AS message
FROM parts p JOIN first_bad f ON f.issuance_id = p.issuance_id AND f.rn = p.rn
CROSS JOIN last_action l
UNION ALL
SELECT 'CONSERVATION', l.action_id, CAST(NULL AS BIGINT), CAST(NULL AS BIGINT),
  'issuance ' || {_id("p.issuance_id")} || ' (' || {_id("p.range_start")} || '..' ||
  {_id("p.range_end")} || '): bundles cover up to ' || {_id("p.b_end")} || ' only'
FROM parts p LEFT JOIN first_bad f ON f.issuance_id = p.issuance_id CROSS JOIN last_action l
WHERE f.issuance_id IS NULL AND p.rn = p.parts AND p.b_end <> p.range_end""",
    ),
]

FINDING_TABLES = tuple(name for name, _ in FINDINGS)
