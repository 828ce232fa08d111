#!/usr/bin/env python3
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Benchmark of crm_success_kpi at scale, measured against plain SQL.

Usage: ``make bench [BENCH_ARGS="--small --reuse"]`` or
``python3 scripts/kpictl.py bench -- [options]`` (which finds PostgreSQL and
passes the Odoo options), or directly ``python3 benchmark/run.py [options]``.

It builds (or, with ``--reuse``, keeps and upgrades to the current code)
five databases:

* ``crm_kpi_bench``: the addon installed and the history generator run at
  the requested size (default: the sizes of the issue, 200,000 customers,
  1,000,000 leads and orders, 300,000 tickets, 100,000 survey answers over
  36 months; ``--growth flat`` for the same volume every month);
* ``crm_kpi_bench_h3`` and ``crm_kpi_bench_h9``: the addon and 3 or 9 years
  of history with flat growth, a tenth of the previous one's monthly volume
  (measure 6);
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
5. rendering the PDF report of one company and month;
6. measure 1's month on 9 years of flat history against 3 years of it, at a
   tenth of the monthly volume (two more databases, ``crm_kpi_bench_h3`` and
   ``crm_kpi_bench_h9``; the 3 years also give measure 1 at a tenth of the
   size);
7. opening the drill-down lists of the month's churn, retention, new
   customers, deals won and tickets handled (company scope, KPI manager):
   the action and the list's first page, and the size of the action;
8. the Overview pivot's grouped read of the stored values (company, sales
   teams, salespeople) as a KPI manager;
9. measure 1's month computed with a streaming standby of the private
   cluster as Odoo's read replica against the primary only: time, rows read
   on each server, values compared;
10. the dashboard's call (``get_dashboard``) of the last full month, for a
   KPI manager and for a salesperson, on the stored values;
11. the peak memory and the PostgreSQL temporary files of measure 1's month
   and measure 2's backfill, each in a fresh process.

and writes ``benchmark/RESULTS.md`` (and the raw figures as JSON in
``benchmark/output/``).  Nothing of the measures is committed except the
snapshots of the backfill (measure 3 and 5 read them).
"""

import argparse
import json
import logging
import shlex
import sys
import time
from datetime import datetime

from bench_common import (
    FULL,
    MEASURE_KEYS,
    ROOT,
    SMALL_FACTOR,
    close_db,
    ensure_big_db,
    ensure_write_dbs,
    environment,
    last_full_month,
    say,
    setup_odoo,
)
from bench_compute import measure_backfill, measure_compute, measure_history
from bench_drill import measure_drill
from bench_lists import measure_dashboard, measure_grouped, measure_list
from bench_memory import measure_memory
from bench_replica import measure_replica
from bench_report import measure_report
from bench_results import machine, write_results
from bench_writes import measure_writes
from kpictl_common import LOG_DIR, Fail
from kpictl_deps import ensure_odoo
from kpictl_odoo import ensure_addons_path
from kpictl_postgres import ensure_postgres

_logger = logging.getLogger("crm_kpi_bench")


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
    parser.add_argument(
        "--growth",
        choices=("curve", "flat"),
        default="curve",
        help="volume of the main database's history over the months: growing "
        "(default) or the same every month (measure 6 always uses flat)",
    )
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
        default=",".join(map(str, MEASURE_KEYS)),
        help="comma-separated measures to run (default: all, "
        f"{','.join(map(str, MEASURE_KEYS))})",
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
    unknown = args.measures - set(MEASURE_KEYS)
    if unknown:
        parser.error(
            f"--only: no measure {', '.join(map(str, sorted(unknown)))} "
            f"(measures: {', '.join(map(str, MEASURE_KEYS))})"
        )
    return args


def big_db_measures(env, args, res):
    """The measures on the full-size database, in one environment; returns
    the month of measure 1 (None when not run)."""
    month = None
    if 1 in args.measures:
        month = measure_compute(env, args, res)
    last_month = month or last_full_month(res["end_date"])
    if 2 in args.measures:
        measure_backfill(env, args, res)
    if 3 in args.measures:
        measure_list(env, args, res)
    if 7 in args.measures:
        measure_drill(env, args, res, last_month)
    if 8 in args.measures:
        measure_grouped(env, args, res)
    if 10 in args.measures:
        measure_dashboard(env, args, res, last_month)
    return month


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.render:
        res = json.loads((ROOT / "benchmark" / "output" / "results.json").read_text())
        write_results(args.output, res)
        return 0
    ensure_odoo()
    pg = ensure_postgres(quiet=True)
    ensure_addons_path()
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    setup_odoo(pg)
    started = time.monotonic()
    res = {
        "date": datetime.now().strftime("%Y-%m-%d %H:%M"),
        "sizes": args.sizes,
        "seed": args.seed,
        "growth": args.growth,
        "machine": machine(pg),
    }
    say(f"sizes {args.sizes}, PostgreSQL {pg.label}")
    big_needed = args.measures & {1, 2, 3, 5, 7, 8, 9, 10, 11}
    if big_needed:
        ensure_big_db(pg, args, res)
        say(f"database {args.db} ready after {time.monotonic() - started:.0f}s")
    month = None
    if big_needed:
        with environment(args.db, commit=True) as env:
            month = big_db_measures(env, args, res)
        close_db(args.db)
    if 11 in args.measures:
        # fresh processes, once this one has closed its connections
        measure_memory(args, res)
    if 9 in args.measures:
        measure_replica(pg, args, res, month or last_full_month(res["end_date"]))
    if 6 in args.measures:
        measure_history(pg, args, res)
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
    except Fail as exc:
        sys.stderr.write(f"[bench] ERROR: {exc}\n")
        sys.exit(exc.code)
