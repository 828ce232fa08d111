# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Measures 1, 2 and 6: one monthly computation of every scope against one
plain SQL aggregate of the same counts, a monthly backfill against as many
single months, and the month on histories of 3 and 9 years.
"""

import time
from datetime import date

from bench_common import (
    HISTORY_FRACTION,
    HISTORY_YEARS,
    AllQueries,
    Timer,
    close_db,
    ensure_history_db,
    environment,
    history_sizes,
    last_full_month,
    main_company,
    say,
)

REFERENCE_SQL = """
WITH ev AS (
    SELECT rp.commercial_partner_id AS pid,
           ((so.date_order AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date AS day,
           so.amount_untaxed / COALESCE(NULLIF(so.currency_rate, 0), 1.0) AS amount
      FROM sale_order so
      JOIN res_partner rp ON rp.id = so.partner_id
     WHERE so.state = 'sale' AND so.company_id = %(company)s
       AND so.date_order < %(end_utc)s
), per_customer AS (
    SELECT pid,
           BOOL_OR(day >= %(s_from)s AND day < %(start)s) AS act_s,
           BOOL_OR(day >= %(e_from)s) AS act_e,
           MIN(day) >= %(start)s AS is_new,
           SUM(amount) FILTER (WHERE day >= %(start)s) AS revenue
      FROM ev GROUP BY pid
)
SELECT COUNT(*) FILTER (WHERE act_s) AS s,
       COUNT(*) FILTER (WHERE act_e) AS e,
       COUNT(*) FILTER (WHERE is_new AND act_e) AS n,
       COUNT(*) FILTER (WHERE act_s AND NOT act_e) AS l,
       COALESCE(SUM(revenue), 0) AS revenue,
       (SELECT COUNT(*) FILTER (WHERE won_status = 'won')
          FROM crm_lead
         WHERE company_id = %(company)s AND won_status IN ('won', 'lost')
           AND type = 'opportunity'
           AND date_closed >= %(start_utc)s AND date_closed < %(end_utc)s)
           AS won,
       (SELECT COUNT(*) FILTER (WHERE won_status = 'lost')
          FROM crm_lead
         WHERE company_id = %(company)s AND won_status IN ('won', 'lost')
           AND type = 'opportunity'
           AND date_closed >= %(start_utc)s AND date_closed < %(end_utc)s)
           AS lost
  FROM per_customer
"""


def reference_counts(env, ctx):
    cr = env.cr
    params = {
        "tz": ctx.tz,
        "company": ctx.company.id,
        "start": ctx.date_start,
        "start_utc": ctx.start_utc,
        "end_utc": ctx.end_utc,
        "s_from": ctx.window_start(ctx.date_start),
        "e_from": ctx.window_start(ctx.date_end),
    }
    cr.execute(REFERENCE_SQL, params)
    return cr.dictfetchall()[0]


def engine_counts(env, snapshot):
    values = {
        v.kpi_code: v
        for v in env["crm.kpi.value"].search([("snapshot_id", "=", snapshot.id)])
    }

    def get(code, attr="value"):
        value = values.get(code)
        return getattr(value, attr) if value else None

    s = get("churn_rate", "denominator")
    n = get("new_customers")
    retained = get("retention_rate", "numerator")
    return {
        "s": s,
        "e": None if retained is None or n is None else retained + n,
        "n": n,
        "l": get("churn_rate", "numerator"),
        "revenue": get("revenue"),
        "won": get("deals_won"),
        "lost": get("deals_lost"),
    }


def compute_in_turns(env, company, month, repeat, keep=True):
    """One monthly ``compute_period`` of ``company`` against the SQL
    reference, in turns: a cold run each, then ``repeat`` warm ones; the
    best warm run of each side is kept (the engine's with its time per
    family) and the engine's stored counts are checked against the
    reference's.  Each run of the engine begins a transaction, as the
    scheduled computations and the backfill do: what came before is
    committed (``keep``) or rolled back."""
    Snapshot = env["crm.kpi.snapshot"]
    ctx = Snapshot._period_context(company, "month", month)
    # a cold run (first read of the tables), then --repeat warm ones, timed
    # per family, each followed by a run of the reference; the best warm run
    # is compared with the best warm run of the reference (the same
    # statistic on both sides, taken in turns: on a shared machine single
    # runs of either side move by 10 % and the machine's speed drifts)
    families = {}
    # the registry class of each family model, with its own _kpi_results
    originals = {
        type(family): type(family)._kpi_results for family in Snapshot._families()
    }

    def timed(cls, compute):
        name = cls._name.rpartition(".")[2]

        def wrapper(family):
            t0 = time.perf_counter()
            try:
                return compute(family)
            finally:
                families[name] = round(time.perf_counter() - t0, 3)

        return wrapper

    # the cohorts, computed with the snapshots of a month, timed the same way
    cohort_cls = type(env["crm.kpi.cohort"])
    cohort_compute = cohort_cls._compute_cohorts

    def timed_cohorts(model, ctx, read_ctx=None):
        t0 = time.perf_counter()
        try:
            return cohort_compute(model, ctx, read_ctx=read_ctx)
        finally:
            families["cohorts"] = round(time.perf_counter() - t0, 3)

    runs = []
    ref_runs = []
    try:
        cohort_cls._compute_cohorts = timed_cohorts
        for cls, compute in originals.items():
            cls._kpi_results = timed(cls, compute)
        best = None
        for run in range(1 + repeat):
            if keep:
                env.cr.commit()  # pylint: disable=invalid-commit
            else:
                env.cr.rollback()
            env.invalidate_all()
            with AllQueries() as q, Timer(env.cr) as t:
                snapshots = Snapshot.compute_period("month", month, companies=company)
            runs.append((t.seconds, q.queries, q.connections))
            if run and (best is None or t.seconds < best[0]):
                best = (t.seconds, dict(families))
            with Timer(env.cr) as t:
                ref = reference_counts(env, ctx)
            ref_runs.append(t.seconds)
    finally:
        cohort_cls._compute_cohorts = cohort_compute
        for cls, compute in originals.items():
            cls._kpi_results = compute
    if best is None:  # no warm run asked: the cold one
        best = (runs[0][0], dict(families))
    engine = best[0]
    reference = min(ref_runs[1:] or ref_runs)
    company_snapshot = snapshots.filtered(lambda s: s.scope == "company")
    got = engine_counts(env, company_snapshot)
    mismatches = {}
    for key, expected in ref.items():
        value = got.get(key)
        if value is None or abs(float(value) - float(expected)) > 0.01:
            mismatches[key] = {"engine": value, "sql": float(expected)}
    if mismatches:
        say("!" * 70)
        say(f"MISMATCH between the engine and the plain SQL: {mismatches}")
        say("!" * 70)
    return {
        "month": str(month),
        "snapshots": snapshots,
        "scopes": len(snapshots),
        "engine_seconds_cold": round(runs[0][0], 3),
        "engine_seconds": round(engine, 3),
        "engine_queries": runs[-1][1],
        "engine_connections": runs[-1][2],
        "sql_seconds_cold": round(ref_runs[0], 3),
        "sql_seconds": round(reference, 3),
        "ratio": round(engine / reference, 2) if reference else None,
        "families": best[1],
        "counts": {k: float(v) for k, v in ref.items()},
        "mismatches": mismatches,
    }


def measure_compute(env, args, results):
    company = main_company(env)
    month = last_full_month(results["end_date"])
    out = compute_in_turns(env, company, month, args.repeat)
    snapshots = out.pop("snapshots")
    out["values"] = env["crm.kpi.value"].search_count(
        [("snapshot_id", "in", snapshots.ids)]
    )
    out["cohort_seconds"] = out["families"].get("cohorts")
    out["cohort_rows"] = env["crm.kpi.cohort"].search_count(
        [
            ("company_id", "=", company.id),
            ("granularity", "=", "month"),
            ("period_start", "=", month),
        ]
    )
    results["compute"] = out
    say(f"1. compute_period: {results['compute']}")
    return month


def measure_history(pg, args, results):
    """Measure 6: measure 1's month on 9 years of flat history against 3
    years of it, at a tenth of the benchmark's monthly volume (the 3 years
    also give measure 1 at a tenth of the size)."""
    out = {"fraction": HISTORY_FRACTION}
    for years in HISTORY_YEARS:
        name = f"{args.db}_h{years}"
        sizes = history_sizes(args.sizes, years)
        built, end_date = ensure_history_db(pg, args, name, sizes, growth="flat")
        say(f"database {name} ready ({years} years of flat history: {sizes})")
        with environment(name) as env:  # rolled back: the history stays bare
            company = main_company(env)
            month = last_full_month(end_date)
            run = compute_in_turns(env, company, month, args.repeat, keep=False)
            run.pop("snapshots")
            # the volume of the month, the same on both histories
            env.cr.execute(
                """SELECT count(*) FROM sale_order
                    WHERE state = 'sale' AND company_id = %s
                      AND date_order >= %s AND date_order < %s""",
                [company.id, month, _next_month(month)],
            )
            run["orders_in_month"] = env.cr.fetchone()[0]
        close_db(name)
        run.update(db=name, years=years, sizes=sizes, reused=built["reused"])
        out[f"h{years}"] = run
    short, long_ = (out[f"h{y}"] for y in HISTORY_YEARS)
    out["ratio"] = (
        round(long_["engine_seconds"] / short["engine_seconds"], 2)
        if short["engine_seconds"]
        else None
    )
    out["sql_ratio"] = (
        round(long_["sql_seconds"] / short["sql_seconds"], 2)
        if short["sql_seconds"]
        else None
    )
    results["history"] = out
    say(f"6. history length: {out}")


def _next_month(month):
    return (
        date(month.year + 1, 1, 1)
        if month.month == 12
        else date(month.year, month.month + 1, 1)
    )


def measure_backfill(env, args, results):
    Snapshot = env["crm.kpi.snapshot"]
    company = main_company(env)
    end = date.fromisoformat(results["end_date"])
    months = args.backfill_months or args.sizes["months"]
    with Timer(env.cr) as t:
        backfill = Snapshot.backfill(
            months=months - 1, granularities=["month"], companies=company,
            date_to=end, commit=True,
        )  # fmt: skip
    periods = backfill.total
    single = (results.get("compute") or {}).get("engine_seconds")
    if single is None:
        # as measure 1 does: a warm run, in a transaction of its own
        month = last_full_month(end)
        Snapshot.compute_period("month", month, companies=company)
        env.cr.commit()  # pylint: disable=invalid-commit
        with Timer(env.cr) as t1:
            Snapshot.compute_period("month", month, companies=company)
        single = t1.seconds
    results["backfill"] = {
        "periods": periods,
        "failed": backfill.failed_count,
        "seconds": round(t.seconds, 2),
        "single_month_seconds": round(single, 3),
        "reference_seconds": round(single * periods, 2),
        "ratio": round(t.seconds / (single * periods), 2),
    }
    say(f"2. backfill: {results['backfill']}")
