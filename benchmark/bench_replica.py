# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Measure 9: one month computed with a streaming standby as Odoo's read
replica, against the same month on the primary only.

The standby is the private cluster's (``kpictl replica``, started or copied
again when needed).  The month is computed in turns on the primary only and
through the standby (a cold run each, then ``--repeat`` // 2 warm ones,
at least one); the best warm runs are compared.  Each run's rows read on
each server are the deltas of ``pg_stat_database.tup_returned`` of the
database on the primary and on the standby, read once the counters have
settled.  The values, numerators, denominators and notes of both are
compared one by one.
"""

import contextlib
import time

from bench_common import close_db, environment, say
from kpictl_postgres import ensure_replica, is_private_cluster

VALUES = """
    SELECT s.scope_key, v.kpi_code, v.value, v.numerator, v.denominator, v.note
      FROM crm_kpi_value v JOIN crm_kpi_snapshot s ON s.id = v.snapshot_id
     WHERE s.company_id = %s AND s.granularity = 'month' AND s.date_start = %s
  ORDER BY 1, 2
"""


def _reads(dbname, replica):
    """``(primary, standby)`` tuples returned so far in ``dbname``."""
    import psycopg2  # noqa: PLC0415

    from odoo.sql_db import connection_info_for  # noqa: PLC0415

    __, info = connection_info_for(dbname)
    found = []
    for port in (info.get("port"), replica.port):
        params = {k: v for k, v in info.items() if k != "port"}
        with contextlib.closing(psycopg2.connect(port=port, **params)) as conn:
            with conn.cursor() as cr:
                cr.execute(
                    "SELECT tup_returned FROM pg_stat_database"
                    " WHERE datname = current_database()"
                )
                found.append(cr.fetchone()[0])
    return found


def _settled_reads(dbname, replica):
    last, settled = None, 0
    deadline = time.monotonic() + 20
    while settled < 2 and time.monotonic() < deadline:
        time.sleep(0.7)
        now = _reads(dbname, replica)
        settled = settled + 1 if now == last else 0
        last = now
    return last


def _run(dbname, replica, month, use_replica):
    """One computation of ``month`` (committed); its time, the rows read on
    each server, the stored values and where they were read."""
    from odoo.tools import config  # noqa: PLC0415

    config["db_replica_host"] = replica.host if use_replica else None
    config["db_replica_port"] = int(replica.port) if use_replica else None
    # a registry of the new settings (its read-only pool follows them)
    close_db(dbname)
    before = _settled_reads(dbname, replica)
    with environment(dbname, commit=True) as env:
        company = env.ref("base.main_company")
        env.invalidate_all()
        started = time.perf_counter()
        snapshots = env["crm.kpi.snapshot"].compute_period(
            "month", month, companies=company
        )
        seconds = time.perf_counter() - started
        sources = sorted(set(snapshots.mapped("read_source")))
        replay = max(snapshots.mapped("replica_replay_at") or [None], key=str)
        lag = max(snapshots.mapped("replica_lag") or [0.0])
        company_id = company.id
    after = _settled_reads(dbname, replica)
    with environment(dbname) as env:
        env.cr.execute(VALUES, (company_id, month))
        values = env.cr.fetchall()
    close_db(dbname)
    return {
        "seconds": round(seconds, 3),
        "primary_rows": after[0] - before[0],
        "standby_rows": after[1] - before[1],
        "sources": sources,
        "replay_at": str(replay) if replay else None,
        "lag": lag,
        "values": values,
    }


def measure_replica(pg, args, res, month):
    """Measure 9 on the benchmark database ``args.db`` of the server ``pg``."""
    from odoo.tools import config  # noqa: PLC0415

    if not is_private_cluster(pg):
        res["replica"] = {"skipped": "not the private PostgreSQL cluster"}
        say("measure 9 skipped: the standby copies the private cluster only")
        return
    started = time.monotonic()
    replica = ensure_replica(pg)
    say(f"measure 9: {replica.label} ready in {time.monotonic() - started:.0f}s")
    saved = (config.get("db_replica_host"), config.get("db_replica_port"))
    runs = {"primary": [], "replica": []}
    try:
        for __ in range(1 + max(1, args.repeat // 2)):
            for kind in ("primary", "replica"):
                runs[kind].append(_run(args.db, replica, month, kind == "replica"))
                say(
                    f"measure 9: {kind} {runs[kind][-1]['seconds']} s, rows read "
                    f"primary {runs[kind][-1]['primary_rows']:,}, standby "
                    f"{runs[kind][-1]['standby_rows']:,}"
                )
    finally:
        config["db_replica_host"], config["db_replica_port"] = saved
        close_db(args.db)
    best = {kind: min(r[1:], key=lambda r: r["seconds"]) for kind, r in runs.items()}
    reference = runs["primary"][-1]["values"]
    mismatches = sum(
        1
        for run in runs["replica"]
        for a, b in zip(run["values"], reference, strict=False)
        if a != b
    ) + sum(abs(len(run["values"]) - len(reference)) for run in runs["replica"])
    res["replica"] = {
        "month": str(month),
        "values": len(reference),
        "mismatches": mismatches,
        "cold": {kind: r[0]["seconds"] for kind, r in runs.items()},
        **{
            kind: {k: v for k, v in run.items() if k != "values"}
            for kind, run in best.items()
        },
    }
