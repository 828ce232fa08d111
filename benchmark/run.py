#!/usr/bin/env python3
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Benchmark of crm_success_kpi at scale, measured against plain SQL.

Usage: ``make bench [BENCH_ARGS="--small --reuse"]`` or
``python3 scripts/kpictl.py bench -- [options]`` (which finds PostgreSQL and
passes the Odoo options), or directly ``python3 benchmark/run.py [options]``.

It builds (or, with ``--reuse``, keeps and upgrades to the current code)
three databases:

* ``crm_kpi_bench``: the addon installed and the history generator run at
  the requested size (default: the sizes of the issue, 200,000 customers,
  1,000,000 leads and orders, 300,000 tickets, 100,000 survey answers over
  36 months);
* ``crm_kpi_bench_base``: only the addon's dependencies, with a small
  generated history (``--base-customers``);
* ``crm_kpi_bench_base_kpi``: a copy of the previous one with the addon
  installed (the same rows), for the write-overhead measure.

then measures

1. one monthly ``compute_period`` (all scopes, all families) against one
   hand-written SQL aggregate giving the same core counts (checked equal);
2. a 36-month monthly backfill against 36 x one month;
3. server time and query count of a list view read (``web_search_read``)
   of 10 and 80 partners and leads with all their KPI fields;
4. creating and updating 1,000 leads, orders and tickets with and without
   the addon (same rows, same code path, rolled back);
5. rendering the PDF report of one company and month.

and writes ``benchmark/RESULTS.md`` (and the raw figures as JSON in
``benchmark/output/``).  Nothing of the measures is committed except the
snapshots of the backfill (measure 3 and 5 read them).
"""

import argparse
import contextlib
import json
import logging
import os
import platform
import shlex
import socket
import statistics
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import kpictl  # noqa: E402

MODULE = kpictl.MODULE
GENERATOR = f"odoo.addons.{MODULE}.generator.history"
REPORT_XMLID = f"{MODULE}.action_report_crm_kpi_success"
FULL = {
    "customers": 200000,
    "leads": 1000000,
    "orders": 1000000,
    "tickets": 300000,
    "surveys": 100000,
    "months": 36,
}
SMALL_FACTOR = 20
MEASURE_KEYS = {1: "compute", 2: "backfill", 3: "list", 4: "writes", 5: "report"}
TARGETS = {
    "compute": 3.0,
    "backfill": 1.0,
    "list_queries": 40,
    "list_seconds": 0.3,
    "write_extra": 0.20,
    "report_seconds": 5.0,
}
_logger = logging.getLogger("crm_kpi_bench")


def say(msg):
    sys.stdout.write(f"[bench] {msg}\n")
    sys.stdout.flush()


# ------------------------------------------------------------------ options


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="benchmark/run.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for key, value in FULL.items():
        parser.add_argument(f"--{key}", type=int, help=f"default {value}")
    parser.add_argument(
        "--small",
        action="store_true",
        help=f"quick check: every default size divided by {SMALL_FACTOR} "
        "(the months stay 36)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", default="crm_kpi_bench")
    parser.add_argument("--base-db", default="crm_kpi_bench_base")
    parser.add_argument(
        "--base-customers",
        type=int,
        default=2000,
        help="customers of the small history of the write-overhead databases",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the databases when they exist with the same sizes",
    )
    parser.add_argument(
        "--template",
        help="database to copy before installing the addon (default: the "
        "cached dependencies database of 'make test', built when missing)",
    )
    parser.add_argument(
        "--only",
        default="1,2,3,4,5",
        help="comma-separated measures to run (default: all)",
    )
    parser.add_argument("--writes", type=int, default=1000)
    parser.add_argument(
        "--backfill-months",
        type=int,
        help="months of the backfill measure (default: all the generated ones)",
    )
    parser.add_argument(
        "--render",
        action="store_true",
        help="only rewrite the results table from the figures of the last run "
        "(benchmark/output/results.json) and benchmark/NOTES.md",
    )
    parser.add_argument(
        "--repeat", type=int, default=5, help="repetitions of the short measures"
    )
    parser.add_argument(
        "--output",
        default=str(ROOT / "benchmark" / "RESULTS.md"),
        help="results table to write (default benchmark/RESULTS.md); '-' for none",
    )
    args = parser.parse_args(argv)
    sizes = {}
    for key, value in FULL.items():
        given = getattr(args, key)
        if given is not None:
            sizes[key] = given
        elif key == "months" or not args.small:
            sizes[key] = value
        else:
            sizes[key] = value // SMALL_FACTOR
    args.sizes = sizes
    args.measures = {int(x) for x in args.only.split(",") if x.strip()}
    return args


# ---------------------------------------------------------------- databases


def odoo_options(pg):
    """The Odoo options given by ``kpictl bench`` (else built the same way)."""
    given = os.environ.get("CRM_KPI_ODOO_ARGS")
    if given:
        return shlex.split(given)
    return kpictl.odoo_options(pg)


def setup_odoo(pg):
    from odoo.tools import config  # noqa: PLC0415

    options = [o for o in odoo_options(pg) if not o.startswith("--http-interface")]
    config.parse_config(options + ["--log-level=warn"], setup_logging=True)
    logging.getLogger("odoo.addons.crm_success_kpi.generator").setLevel(logging.INFO)


def close_db(name):
    import odoo.sql_db  # noqa: PLC0415
    from odoo.modules.registry import Registry  # noqa: PLC0415

    with contextlib.suppress(Exception):
        Registry.delete(name)
    odoo.sql_db.close_db(name)


@contextlib.contextmanager
def environment(dbname, commit=False):
    from odoo import api  # noqa: PLC0415
    from odoo.api import SUPERUSER_ID  # noqa: PLC0415
    from odoo.modules.registry import Registry  # noqa: PLC0415

    registry = Registry(dbname)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        yield env
        if commit:
            env.flush_all()
            cr.commit()  # pylint: disable=invalid-commit
        else:
            cr.rollback()


def template_db(pg, args):
    if args.template:
        if not kpictl.db_exists(pg, args.template):
            raise kpictl.Fail(f"template database {args.template} does not exist")
        return args.template
    return kpictl.ensure_deps_template(pg)


def generator_params(pg, dbname, seed):
    value = kpictl.get_param(pg, dbname, f"{MODULE}.generator.seed_{seed}")
    return json.loads(value) if value else None


def same_sizes(stored, sizes):
    params = (stored or {}).get("params") or {}
    # the generator makes at least one order per customer
    wanted = dict(sizes, orders=max(sizes["orders"], sizes["customers"]))
    return all(params.get(k) == v for k, v in wanted.items())


def generate(dbname, sizes, seed):
    import importlib  # noqa: PLC0415

    started = time.monotonic()
    with environment(dbname, commit=True) as env:
        history = importlib.import_module(GENERATOR)
        counts = history.generate(
            env, customers=sizes["customers"], months=sizes["months"], seed=seed,
            scale=dict(sizes),
        )  # fmt: skip
    say(f"generated {dbname} in {time.monotonic() - started:.0f}s: {counts}")
    return counts, time.monotonic() - started


def vacuum(pg, dbname):
    """``VACUUM (ANALYZE)`` the freshly generated database, as autovacuum
    does over time to a database that grew month by month: measured right
    after the generation instead, the first runs raced autovacuum and read
    pages not yet marked all-visible (index-only scans then visit the
    table).  Returns the seconds it took."""
    started = time.monotonic()
    conn = pg.connect(dbname)
    try:
        conn.autocommit = True
        with conn.cursor() as cr:
            cr.execute("VACUUM (ANALYZE)")
    finally:
        conn.close()
    seconds = time.monotonic() - started
    say(f"vacuumed {dbname} in {seconds:.0f}s")
    return seconds


def ensure_big_db(pg, args, info):
    """crm_kpi_bench: addon + generated history of the requested size."""
    name, sizes = args.db, args.sizes
    state = kpictl.module_state(pg, name)
    stored = generator_params(pg, name, args.seed) if state == "installed" else None
    if args.reuse and stored and same_sizes(stored, sizes):
        say(f"reusing {name} (history of seed {args.seed} with the same sizes)")
        # the addon's code may have changed since: schema, data, indexes
        kpictl.install_module(
            pg, name, kpictl.LOG_DIR / f"bench-upgrade-{name}.log", upgrade=True
        )
        info["big_db"] = {"reused": True, "counts": stored.get("counts")}
        info["end_date"] = stored["params"]["end_date"]
        return
    if state is not None:
        if args.reuse:
            say(f"{name} exists with other sizes or without history: rebuilt")
        kpictl.drop_db(pg, name)
    started = time.monotonic()
    kpictl.clone_db(pg, template_db(pg, args), name)
    kpictl.install_module(pg, name, kpictl.LOG_DIR / f"bench-install-{name}.log")
    install = time.monotonic() - started
    counts, seconds = generate(name, sizes, args.seed)
    close_db(name)
    vacuum_seconds = vacuum(pg, name)
    stored = generator_params(pg, name, args.seed)
    info["big_db"] = {
        "reused": False,
        "install_seconds": round(install, 1),
        "generate_seconds": round(seconds, 1),
        "vacuum_seconds": round(vacuum_seconds, 1),
        "counts": counts,
    }
    info["end_date"] = stored["params"]["end_date"]


def ensure_write_dbs(pg, args, info):
    """Two databases with the same small history, without and with the addon."""
    base, with_kpi = args.base_db, f"{args.base_db}_kpi"
    sizes = {
        "customers": args.base_customers,
        "leads": args.base_customers * 3,
        "orders": args.base_customers * 4,
        "tickets": args.base_customers * 3 // 2,
        "surveys": args.base_customers // 2,
        "months": 12,
    }
    if (
        args.reuse
        and kpictl.module_state(pg, with_kpi) == "installed"
        and kpictl.module_state(pg, base) in ("uninstalled", "unknown")
        and same_sizes(generator_params(pg, base, args.seed), sizes)
    ):
        say(f"reusing {base} and {with_kpi}")
        kpictl.install_module(
            pg, with_kpi, kpictl.LOG_DIR / f"bench-upgrade-{with_kpi}.log", upgrade=True
        )
        return
    for name in (with_kpi, base):
        kpictl.drop_db(pg, name)
    kpictl.clone_db(pg, template_db(pg, args), base)
    generate(base, sizes, args.seed)
    close_db(base)
    kpictl.clone_db(pg, base, with_kpi)
    kpictl.install_module(
        pg, with_kpi, kpictl.LOG_DIR / f"bench-install-{with_kpi}.log"
    )
    info["write_dbs_sizes"] = sizes


# ------------------------------------------------------------------ helpers


class Timer:
    def __init__(self, cr=None):
        self.cr = cr

    def __enter__(self):
        if self.cr is not None:
            self.q0 = self.cr.sql_log_count
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0
        if self.cr is not None:
            self.queries = self.cr.sql_log_count - self.q0


def last_full_month(end_date):
    end = date.fromisoformat(str(end_date))
    first = end.replace(day=1)
    return (
        date(first.year - 1, 12, 1)
        if first.month == 1
        else date(first.year, first.month - 1, 1)
    )


def main_company(env):
    return env.ref("base.main_company")


# --------------------------------------------------- 1. compute vs plain SQL

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


def measure_compute(env, args, results):
    Snapshot = env["crm.kpi.snapshot"]
    company = main_company(env)
    month = last_full_month(results["end_date"])
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

    runs = []
    ref_runs = []
    try:
        for cls, compute in originals.items():
            cls._kpi_results = timed(cls, compute)
        best = None
        for run in range(1 + args.repeat):
            env.invalidate_all()
            with Timer(env.cr) as t:
                snapshots = Snapshot.compute_period("month", month, companies=company)
            runs.append((t.seconds, t.queries))
            if run and (best is None or t.seconds < best[0]):
                best = (t.seconds, dict(families))
            with Timer(env.cr) as t:
                ref = reference_counts(env, ctx)
            ref_runs.append(t.seconds)
    finally:
        for cls, compute in originals.items():
            cls._kpi_results = compute
    engine = best[0]
    families = best[1]
    reference = min(ref_runs[1:])
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
    results["compute"] = {
        "month": str(month),
        "scopes": len(snapshots),
        "values": env["crm.kpi.value"].search_count(
            [("snapshot_id", "in", snapshots.ids)]
        ),
        "engine_seconds_cold": round(runs[0][0], 3),
        "engine_seconds": round(engine, 3),
        "engine_queries": runs[-1][1],
        "sql_seconds_cold": round(ref_runs[0], 3),
        "sql_seconds": round(reference, 3),
        "ratio": round(engine / reference, 2) if reference else None,
        "families": families,
        "counts": {k: float(v) for k, v in ref.items()},
        "mismatches": mismatches,
    }
    say(f"1. compute_period: {results['compute']}")
    return month


# ------------------------------------------------------------- 2. backfill


def measure_backfill(env, args, results):
    Snapshot = env["crm.kpi.snapshot"]
    company = main_company(env)
    end = date.fromisoformat(results["end_date"])
    months = args.backfill_months or args.sizes["months"]
    with Timer(env.cr) as t:
        backfill = Snapshot.backfill(
            months=months - 1, granularities=["month"], companies=company,
            date_to=end,
        )  # fmt: skip
    periods = backfill.total
    single = (results.get("compute") or {}).get("engine_seconds")
    if single is None:
        month = last_full_month(end)
        Snapshot.compute_period("month", month, companies=company)
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


# ----------------------------------------------------------- 3. list views


def bench_user(env):
    login = "kpi.bench.manager@example.com"
    user = (
        env["res.users"].with_context(active_test=False).search([("login", "=", login)])
    )
    if user:
        return user
    groups = [
        env.ref(x, raise_if_not_found=False)
        for x in (
            "base.group_user",
            "sales_team.group_sale_manager",
            f"{MODULE}.group_crm_kpi_manager",
            "helpdesk_mgmt.group_helpdesk_manager",
        )
    ]
    return env["res.users"].create(
        {
            "name": "KPI Bench Manager",
            "login": login,
            "group_ids": [(4, g.id) for g in groups if g],
        }
    )


def list_spec(model):
    spec = {"display_name": {}}
    for name, field in model._fields.items():
        if not name.startswith("kpi_") or field.type in ("one2many", "many2many"):
            continue
        spec[name] = (
            {"fields": {"display_name": {}}} if field.type == "many2one" else {}
        )
    return spec


def measure_list(env, args, results):
    user = bench_user(env)
    env.flush_all()
    out = {}
    cases = {
        "res.partner": [("customer_rank", ">", 0), ("is_company", "=", True)],
        "crm.lead": [],
    }
    for model_name, domain in cases.items():
        model = env[model_name].with_user(user)
        spec = list_spec(model)
        for limit in (10, 80):
            # as the web client's list view: count_limit = 10000 + 1
            kwargs = {"limit": limit, "count_limit": 10001}
            model.web_search_read(domain, spec, **kwargs)  # warm caches
            runs = []
            for _i in range(args.repeat):
                env.invalidate_all()
                with Timer(env.cr) as t:
                    data = model.web_search_read(domain, spec, **kwargs)
                runs.append((t.seconds, t.queries))
            out[f"{model_name}:{limit}"] = {
                "records": len(data["records"]),
                "fields": len(spec) - 1,
                "seconds": round(statistics.median(r[0] for r in runs), 4),
                "queries": int(statistics.median(r[1] for r in runs)),
                "queries_max": max(r[1] for r in runs),
            }
    results["list"] = out
    say(f"3. list views: {out}")


# ------------------------------------------------------------ 4. writes


def _write_fixtures(env):
    user = env.ref("base.user_admin")
    partners = env["res.partner"].search(
        [("customer_rank", ">", 0), ("is_company", "=", True)], order="id", limit=200
    )
    product = env["product.product"].search(
        [("sale_ok", "=", True), ("type", "=", "consu")], order="id", limit=1
    ) or env["product.product"].search([("sale_ok", "=", True)], order="id", limit=1)
    sales_team = env["crm.team"].search([], order="id", limit=1)
    won_stage = env["crm.stage"].search([("is_won", "=", True)], limit=1)
    ht_team = env["helpdesk.ticket.team"].search([], order="id", limit=1)
    closed = env["helpdesk.ticket.stage"].search([("closed", "=", True)], limit=1)
    return (
        user,
        partners.ids,
        product.id,
        sales_team.id,
        won_stage.id,
        ht_team.id,
        (closed.id),
    )


def write_steps(env):
    """(name, create(i), update(record)) of the write measure, as the admin."""
    user, partners, product, team, won, ht_team, closed = _write_fixtures(env)
    uenv = env(user=user.id)
    Lead, Order, Ticket = uenv["crm.lead"], uenv["sale.order"], uenv["helpdesk.ticket"]
    return uenv, (
        (
            "leads",
            lambda i: Lead.create(
                {
                    "name": f"Bench lead {i}",
                    "type": "opportunity",
                    "partner_id": partners[i % len(partners)],
                    "team_id": team,
                    "user_id": user.id,
                    "expected_revenue": 1000 + i,
                }
            ),
            lambda rec: rec.write({"stage_id": won}),
        ),
        (
            "orders",
            lambda i: Order.create(
                {
                    "partner_id": partners[i % len(partners)],
                    "team_id": team,
                    "order_line": [
                        (0, 0, {"product_id": product, "product_uom_qty": 2})
                    ],
                }
            ),
            lambda rec: rec.action_confirm(),
        ),
        (
            "tickets",
            lambda i: Ticket.create(
                {
                    "name": f"Bench ticket {i}",
                    "description": "Benchmark",
                    "partner_id": partners[i % len(partners)],
                    "team_id": ht_team,
                }
            ),
            lambda rec: rec.write({"stage_id": closed}),
        ),
    )


def _one_by_one(uenv, func, items):
    """Call ``func`` on each item, flushing after each as a request would."""
    out = []
    t0 = time.perf_counter()
    for item in items:
        out.append(func(item))
        uenv.flush_all()
    return out, time.perf_counter() - t0


def measure_writes(args, results):
    """Create then update ``--writes`` leads, orders and tickets one by one in
    the two databases (same rows), step by step alternately so that the noise
    of a shared machine hits both; a warm-up of 50 records first.  Rolled
    back."""
    base, with_kpi = args.base_db, f"{args.base_db}_kpi"
    timings = {base: {}, with_kpi: {}}
    with environment(base) as env_a, environment(with_kpi) as env_b:
        setups = {base: write_steps(env_a), with_kpi: write_steps(env_b)}
        for warmup, count in ((True, 50), (False, args.writes)):
            records = {base: {}, with_kpi: {}}
            for index in range(3):
                for phase in ("create", "update"):
                    for name, (uenv, steps) in setups.items():
                        step, create, update = steps[index]
                        if phase == "create":
                            recs, seconds = _one_by_one(uenv, create, range(count))
                            records[name][step] = recs
                        else:
                            _r, seconds = _one_by_one(uenv, update, records[name][step])
                            uenv.invalidate_all()
                        if not warmup:
                            timings[name][f"{step}_{phase}"] = seconds
    detail = {}
    for key in timings[base]:
        a, b = timings[base][key], timings[with_kpi][key]
        detail[key] = {
            "without": round(a, 2),
            "with": round(b, 2),
            "extra": round(b / a - 1, 3),
        }
    total_a, total_b = sum(timings[base].values()), sum(timings[with_kpi].values())
    results["writes"] = {
        "count": args.writes,
        "without_seconds": round(total_a, 2),
        "with_seconds": round(total_b, 2),
        "extra": round(total_b / total_a - 1, 3),
        "detail": detail,
    }
    say(f"4. writes: {results['writes']}")


# ------------------------------------------------------------- 5. report


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def http_server(pg, dbname):
    """wkhtmltopdf fetches the report's CSS from an Odoo server."""
    port = _free_port()
    options = [o for o in odoo_options(pg) if not o.startswith("--http-interface")]
    cmd = kpictl.odoo_command() + [
        "-d", dbname, f"--db-filter=^{dbname}$", "--http-interface=127.0.0.1",
        f"--http-port={port}", "--max-cron-threads=0", "--workers=0",
        "--log-level=warn", *options,
    ]  # fmt: skip
    log = open(kpictl.LOG_DIR / f"bench-http-{dbname}.log", "w", encoding="utf-8")  # noqa: SIM115
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if proc.poll() is not None:
                raise kpictl.Fail("the Odoo server for the report did not start")
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=20)
        if proc.poll() is None:
            proc.kill()
        log.close()


def measure_report(pg, args, results, month):
    note = None
    try:
        with http_server(pg, args.db) as url, environment(args.db) as env:
            report = env.ref(REPORT_XMLID, raise_if_not_found=False)
            if not report:
                results["report"] = {"note": f"no report {REPORT_XMLID}"}
                return
            env["ir.config_parameter"].set_param("report.url", url)
            snapshot = env["crm.kpi.snapshot"].search(
                [
                    ("company_id", "=", main_company(env).id),
                    ("granularity", "=", "month"),
                    ("date_start", "=", month),
                    ("scope", "=", "company"),
                ],
                limit=1,
            )
            if not snapshot:
                snapshot = (
                    env["crm.kpi.snapshot"]
                    .compute_period("month", month, companies=main_company(env))
                    .filtered(lambda s: s.scope == "company")
                )
            Report = env["ir.actions.report"].with_user(bench_user(env))
            runs = []
            size = 0
            for _i in range(max(2, min(args.repeat, 3))):
                env.invalidate_all()
                with Timer(env.cr) as t:
                    pdf, _kind = Report._render_qweb_pdf(REPORT_XMLID, snapshot.ids)
                runs.append((t.seconds, t.queries))
                size = len(pdf)
            results["report"] = {
                "seconds_cold": round(runs[0][0], 2),
                "seconds": round(min(r[0] for r in runs[1:]), 2),
                "queries": runs[-1][1],
                "pdf_bytes": size,
                "snapshot": snapshot.display_name,
            }
    except Exception as exc:  # noqa: BLE001 - reported, not hidden
        note = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:200]}"
        results["report"] = {"note": note}
    say(f"5. report: {results['report']}")


# ------------------------------------------------------------- results


def machine(pg):
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    import odoo.release  # noqa: PLC0415

    with contextlib.closing(pg.connect()) as conn, conn.cursor() as cr:
        cr.execute("SHOW server_version")
        pg_version = cr.fetchone()[0]
        settings = {}
        for name in ("shared_buffers", "work_mem", "max_parallel_workers_per_gather"):
            cr.execute("SELECT current_setting(%s)", (name,))
            settings[name] = cr.fetchone()[0]
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "os": platform.platform(terse=True),
        "python": platform.python_version(),
        "postgresql": pg_version,
        "postgresql_settings": settings,
        "odoo": odoo.release.version,
    }


def verdict(ok):
    return "✅ met" if ok else "❌ missed"


def fmt_s(seconds):
    return f"{seconds:.3f} s" if seconds < 10 else f"{seconds:.1f} s"


def table_rows(res):  # noqa: C901
    rows = []
    c = res.get("compute")
    if c:
        ok = c["ratio"] is not None and c["ratio"] <= TARGETS["compute"]
        check = "same counts" if not c["mismatches"] else "**COUNTS DIFFER**"
        rows.append(
            (
                f"1. `compute_period('month', {c['month']})`, all scopes "
                f"({c['scopes']} snapshots, {c['values']} values) vs one SQL "
                f"aggregate of S, E, N, L, revenue, won, lost ({check})",
                f"{fmt_s(c['engine_seconds'])} ({c['engine_queries']} queries)",
                fmt_s(c["sql_seconds"]),
                f"{c['ratio']}× (target ≤ 3×)",
                verdict(ok and not c["mismatches"]),
            )
        )
    b = res.get("backfill")
    if b:
        rows.append(
            (
                f"2. monthly backfill of {b['periods']} months vs {b['periods']} × "
                "one month",
                fmt_s(b["seconds"]),
                f"{fmt_s(b['reference_seconds'])} ({b['periods']} × "
                f"{fmt_s(b['single_month_seconds'])})",
                f"{b['ratio']}× (target ≤ 1×)",
                verdict(b["ratio"] <= TARGETS["backfill"] and not b["failed"]),
            )
        )
    lst = res.get("list")
    if lst:
        for model in ("res.partner", "crm.lead"):
            r10, r80 = lst.get(f"{model}:10"), lst.get(f"{model}:80")
            if not (r10 and r80):
                continue
            ok = (
                r10["queries"] == r80["queries"]
                and r80["queries"] < TARGETS["list_queries"]
                and r80["seconds"] < TARGETS["list_seconds"]
            )
            rows.append(
                (
                    f"3. list view of `{model}` with its {r80['fields']} KPI "
                    f"fields (`web_search_read`, {r80['records']} records)",
                    f"80: {fmt_s(r80['seconds'])}, {r80['queries']} queries",
                    f"10: {fmt_s(r10['seconds'])}, {r10['queries']} queries",
                    "same queries at 10 and 80, < 40, < 0.3 s",
                    verdict(ok),
                )
            )
    w = res.get("writes")
    if w:
        rows.append(
            (
                f"4. create + update {w['count']} leads, orders (confirm), tickets "
                "(close), one by one",
                f"{fmt_s(w['with_seconds'])} with the addon",
                f"{fmt_s(w['without_seconds'])} without",
                f"{w['extra'] * 100:+.1f} % (target ≤ 20 %)",
                verdict(w["extra"] <= TARGETS["write_extra"]),
            )
        )
    r = res.get("report")
    if r:
        if "note" in r:
            rows.append(
                (
                    "5. PDF report of one company and month",
                    "not measured",
                    "",
                    "< 5 s",
                    r["note"],
                )
            )
        else:
            rows.append(
                (
                    f"5. PDF report of one company and month ({r['snapshot']}, "
                    f"{r['pdf_bytes'] // 1024} KiB)",
                    f"{fmt_s(r['seconds'])} ({r['queries']} queries)",
                    "",
                    "< 5 s",
                    verdict(r["seconds"] < TARGETS["report_seconds"]),
                )
            )
    return rows


def write_results(path, res):
    command = res["command"]
    notes_file = ROOT / "benchmark" / "NOTES.md"
    if notes_file.exists():
        res = dict(res, notes=notes_file.read_text(encoding="utf-8"))
    m = res["machine"]
    sizes = res["sizes"]
    lines = [
        "# Benchmark results",
        "",
        "Regenerated by the benchmark command (see the README, section",
        "*Benchmark*); do not edit by hand.",
        "",
        f"- **Date**: {res['date']} (whole run {res['total_seconds'] / 60:.0f} min)",
        f"- **Command**: `{command}`",
        f"- **Machine**: {m['cpus']} CPUs ({m['cpu']}), {m['memory']} RAM, "
        f"{m['os']}, Python {m['python']}",
        f"- **PostgreSQL** {m['postgresql']} ("
        + ", ".join(f"{k} {v}" for k, v in m["postgresql_settings"].items())
        + f"), **Odoo** {m['odoo']}",
        "- **Data** (history generator, seed "
        f"{res['seed']}, ending {res.get('end_date', '?')}): "
        + ", ".join(f"{v:,} {k}" for k, v in sizes.items()),
    ]
    big = res.get("big_db") or {}
    counts = big.get("counts") or {}
    if counts:
        keys = (
            "customers", "sale_orders", "sale_order_lines", "leads", "tickets",
            "survey_answers", "messages", "activities_done",
        )  # fmt: skip
        made = ", ".join(f"{counts[k]:,} {k}" for k in keys if k in counts)
        lines.append(f"- **Rows written**: {made}")
    if not big.get("reused") and big.get("generate_seconds") is not None:
        timings = counts.get("timings") or {}
        lines.append(
            f"- **Build time**: install {big['install_seconds']:.0f} s, generation "
            f"{big['generate_seconds']:.0f} s ("
            + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items())
            + ")"
            + (
                f", VACUUM (ANALYZE) {big['vacuum_seconds']:.0f} s"
                if big.get("vacuum_seconds") is not None
                else ""
            )
        )
    for rerun in res.get("reruns") or ():
        lines.append(
            f"- **Measure {', '.join(map(str, rerun['measures']))} rerun** on "
            f"{rerun['date']} with `{rerun['command']}`"
        )
    lines += [
        "",
        "| Measure | crm_success_kpi | Reference | Ratio / target | Verdict |",
        "|---|---|---|---|---|",
    ]
    for row in table_rows(res):
        lines.append("| " + " | ".join(str(x).replace("|", "\\|") for x in row) + " |")
    c = res.get("compute")
    if c:
        fam = sorted(c["families"].items(), key=lambda kv: -kv[1])
        lines += [
            "",
            "Time of each family in the monthly computation (s): "
            + ", ".join(f"{k} {v:.3f}" for k, v in fam)
            + f"; cold first run {fmt_s(c['engine_seconds_cold'])} "
            f"(SQL cold {fmt_s(c['sql_seconds_cold'])}).",
        ]
        if c["mismatches"]:
            lines.append(f"\n**Counts differ**: {c['mismatches']}")
    w = res.get("writes")
    if w:
        lines += [
            "",
            "Write detail (s, without → with the addon): "
            + ", ".join(
                f"{k} {d['without']} → {d['with']} ({d['extra'] * 100:+.0f} %)"
                for k, d in w["detail"].items()
            )
            + ".",
        ]
    notes = res.get("notes")
    if notes:
        lines += ["", "## Notes", "", notes.strip()]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    say(f"results written to {path}")


# ------------------------------------------------------------------ main


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.render:
        res = json.loads((ROOT / "benchmark" / "output" / "results.json").read_text())
        write_results(args.output, res)
        return 0
    kpictl.ensure_odoo()
    pg = kpictl.ensure_postgres(quiet=True)
    kpictl.ensure_addons_path()
    kpictl.LOG_DIR.mkdir(parents=True, exist_ok=True)
    setup_odoo(pg)
    started = time.monotonic()
    res = {
        "date": datetime.now().strftime("%Y-%m-%d %H:%M"),
        "sizes": args.sizes,
        "seed": args.seed,
        "machine": machine(pg),
    }
    say(f"sizes {args.sizes}, PostgreSQL {pg.label}")
    big_needed = args.measures & {1, 2, 3, 5}
    if big_needed:
        ensure_big_db(pg, args, res)
        say(f"database {args.db} ready after {time.monotonic() - started:.0f}s")
    month = None
    if big_needed:
        with environment(args.db, commit=True) as env:
            if 1 in args.measures:
                month = measure_compute(env, args, res)
            if 2 in args.measures:
                measure_backfill(env, args, res)
            if 3 in args.measures:
                measure_list(env, args, res)
        close_db(args.db)
    if 5 in args.measures:
        measure_report(pg, args, res, month or last_full_month(res["end_date"]))
    if 4 in args.measures:
        ensure_write_dbs(pg, args, res)
        measure_writes(args, res)
    res["total_seconds"] = round(time.monotonic() - started, 1)
    say(f"measured in {res['total_seconds']:.0f}s")
    res["command"] = "make bench BENCH_ARGS=" + shlex.quote(
        shlex.join(sys.argv[1:] if argv is None else argv)
    )
    out_dir = ROOT / "benchmark" / "output"
    out_dir.mkdir(exist_ok=True)
    previous = out_dir / "results.json"
    if args.measures != set(MEASURE_KEYS) and previous.exists():
        # a partial run updates its measures in the figures of the last run
        merged = json.loads(previous.read_text())
        merged.update({MEASURE_KEYS[m]: res[MEASURE_KEYS[m]] for m in args.measures})
        merged.setdefault("reruns", []).append(
            {
                "measures": sorted(args.measures),
                "date": res["date"],
                "command": res["command"],
            }
        )
        res = merged
    previous.write_text(json.dumps(res, indent=2, default=str))
    if args.output != "-":
        write_results(args.output, res)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except kpictl.Fail as exc:
        sys.stderr.write(f"[bench] ERROR: {exc}\n")
        sys.exit(exc.code)
