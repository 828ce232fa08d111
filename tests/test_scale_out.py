"""Beyond one machine: the reads on a PostgreSQL standby, and the daily
work shared by several cron workers.

These tests commit what they need on real connections (as Odoo's cron and
replica cursors see the database), and remove it afterwards.  The project's
test command runs them in a database of their own, with a streaming
standby of its private PostgreSQL cluster on 127.0.0.1 given to Odoo as its
replica (``--db_replica_host`` / ``--db_replica_port``); the standby tests
are skipped when Odoo has no replica.

Standby data: the history generator's 2,000 customers over the 12 months to
May 2018 (seed 7) in the main company: May 2018 is computed once on the
primary only, once through the standby, and once with the standby stopped.
"""

import logging
import os
import shlex
import subprocess
import threading
import time
from contextlib import closing
from datetime import date
from unittest import mock

import psycopg2

from odoo import fields, sql_db
from odoo.tests import tagged
from odoo.tools import SQL, config

from odoo.addons.crm_success_kpi.generator.history import generate

from .common import RealCursorCase

MAY = date(2018, 5, 1)
READ_SOURCE = "odoo.addons.crm_success_kpi.models.crm_kpi_read_source"
# the command that stops and starts the standby (set by the test command)
REPLICA_CTL = "CRM_KPI_REPLICA_CTL"
# the tables the families read the month from: the documents and the
# customers' rows kept in step with them
SOURCE_TABLES = [
    "sale_order",
    "sale_order_line",
    "account_move",
    "crm_lead",
    "helpdesk_ticket",
    "mail_message",
    "mail_activity",
    "survey_user_input",
    "crm_kpi_customer_first",
    "crm_kpi_customer_stat",
]


def make_history(env):
    """The standby data (generated once: the generator skips a seed it has
    already generated); the main company's id."""
    generate(env, customers=2000, months=12, seed=7, end_date=date(2018, 5, 31))
    return env.ref("base.main_company").id


@tagged("post_install", "-at_install")
class TestStandbyReads(RealCursorCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not (config.get("db_replica_host") or config.get("db_replica_port")):
            cls.skipTest(cls, "Odoo has no read replica (--db_replica_host)")

        cls.company_id = cls.run_env(make_history)
        # what autovacuum would do to the new rows, done now: its reads
        # would otherwise count on the primary while the month is computed
        __, info = sql_db.connection_info_for(cls.registry_.db_name)
        with closing(psycopg2.connect(**info)) as conn:
            conn.autocommit = True
            with conn.cursor() as cr:
                cr.execute("VACUUM (ANALYZE)")

    @classmethod
    def tearDownClass(cls):
        cls.run_env(lambda env: cls.remove_periods(env, [cls.company_id], "month"))
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        # Odoo keeps away from a replica that failed for 20 minutes
        self.registry_._db_readonly_failed_time = None

    def compute(self):
        """May 2018 computed on a new connection, committed; the rows."""

        def run(env):
            company = env["res.company"].browse(self.company_id)
            return env["crm.kpi.snapshot"].compute_period(
                "month", MAY, companies=company
            )

        self.run_env(run)
        return self.stored()

    def stored(self):
        values = self.period_values(
            self.company_id,
            MAY,
            ("v.value", "v.numerator", "v.denominator", "v.note"),
        )
        with self.cursor() as cr:
            cr.execute(
                SQL(
                    """SELECT DISTINCT read_source, replica_replay_at, replica_lag
                         FROM crm_kpi_snapshot
                        WHERE company_id = %s AND granularity = 'month'
                          AND date_start = %s""",
                    self.company_id,
                    MAY,
                )
            )
            return values, cr.fetchall()

    def node_reads(self):
        """``(primary, standby)``: rows of the families' source tables read
        in this database so far by each server (scans, rows read by
        sequential scans and fetched by index scans: the counters of each
        server's own activity)."""
        readings = []
        for readonly in (False, True):
            connection = self.registry_._db_readonly if readonly else self.registry_._db
            with closing(connection.cursor()) as cr:
                cr.execute("SELECT pg_is_in_recovery()")
                self.assertEqual(cr.fetchone()[0], readonly)
                cr.execute(
                    """SELECT COALESCE(SUM(seq_scan + seq_tup_read
                                           + COALESCE(idx_scan, 0)
                                           + COALESCE(idx_tup_fetch, 0)), 0)
                         FROM pg_stat_user_tables WHERE relname = ANY(%s)""",
                    [SOURCE_TABLES],
                )
                readings.append(int(cr.fetchone()[0]))
        return readings

    def settled_reads(self):
        """:meth:`node_reads` once the servers' counters no longer move."""
        last, settled = None, 0
        deadline = time.monotonic() + 15
        while settled < 2 and time.monotonic() < deadline:
            time.sleep(0.7)
            now = self.node_reads()
            settled = settled + 1 if now == last else 0
            last = now
        return last

    def reads_during(self, run):
        """``run()``, and the source rows each server read meanwhile; the
        servers publish their counters within a second or so of a
        transaction's end: read until they no longer move."""
        before = self.settled_reads()
        result = run()
        after = self.settled_reads()
        return result, [a - b for a, b in zip(after, before, strict=True)]

    def standby(self, action):
        command = os.environ.get(REPLICA_CTL)
        if not command:
            self.skipTest(f"{REPLICA_CTL} is not set: the standby cannot be stopped")
        subprocess.run([*shlex.split(command), action], check=True, timeout=180)

    def test_month_read_on_the_standby(self):
        """The same values as on the primary alone; the families' reads on
        the standby; the snapshot says so and how fresh the standby was;
        with the standby stopped, the primary reads and the log says why."""
        with mock.patch.object(
            self.registry_["crm.kpi.snapshot"],
            "_kpi_replica_configured",
            return_value=False,
        ):
            primary_only, primary_source = self.compute()
        self.assertTrue(primary_only)
        self.assertEqual(primary_source, [("primary", None, 0.0)])
        revenue = dict(((s, c), v) for s, c, v, *_ in primary_only)
        self.assertGreater(revenue[("company:0", "revenue")], 0.0)

        # caught up: nothing to say (a fallback is a warning, a lag a note)
        Snapshot = self.registry_["crm.kpi.snapshot"]
        real = Snapshot._kpi_compute_and_store
        readers = []

        def compute_and_store(this, ctx, read_ctx, source):
            # where the families' cursor is connected
            read_ctx.env.cr.execute("SELECT pg_is_in_recovery()")
            readers.append(read_ctx.env.cr.fetchone()[0])
            return real(this, ctx, read_ctx, source)

        with (
            self.assertNoLogs(READ_SOURCE, logging.INFO),
            mock.patch.object(Snapshot, "_kpi_compute_and_store", compute_and_store),
        ):
            (on_standby, source), (primary, standby) = self.reads_during(self.compute)
        self.assertEqual(readers, [True], "the families read on the standby")
        self.assertEqual(on_standby, primary_only, "same values through the standby")
        [(read_source, replay_at, lag)] = source
        self.assertEqual(read_source, "replica")
        # the standby had replayed the data committed before the computation
        self.assertTrue(replay_at)
        self.assertLessEqual(replay_at, fields.Datetime.now())
        self.assertEqual(lag, 0.0)
        self.assertGreater(standby, 0)
        self.assertLess(
            primary,
            standby / 10,
            f"source rows read: primary {primary}, standby {standby}",
        )

        self.standby("stop")
        try:
            with self.assertLogs(READ_SOURCE, logging.WARNING) as logs:
                fallback, source = self.compute()
        finally:
            self.standby("start")
        self.assertEqual(fallback, primary_only)
        self.assertEqual(source, [("primary", None, 0.0)])
        self.assertTrue(
            [line for line in logs.output if "read on the primary" in line],
            logs.output,
        )

    def test_lagging_standby_is_not_read(self):
        """A standby further behind than the setting allows is not read:
        the primary is, and the log says why."""

        def lagging(this):
            # the standby a little behind (its replay position is the
            # primary's of before the computation began) and the
            # setting at 0 minutes
            return 0

        Snapshot = self.registry_["crm.kpi.snapshot"]
        with (
            mock.patch.object(Snapshot, "_kpi_replica_max_lag", lagging),
            mock.patch(f"{READ_SOURCE}.REPLICA_CATCH_UP_WAIT", -1.0),
            mock.patch.object(
                Snapshot, "_kpi_replica_target", lambda this: "999999999:999999999:"
            ),
            self.assertLogs(READ_SOURCE, logging.WARNING) as logs,
        ):
            __, source = self.compute()
        self.assertEqual(source, [("primary", None, 0.0)])
        self.assertIn("behind the primary", "\n".join(logs.output))


@tagged("post_install", "-at_install")
class TestParallelWorkers(RealCursorCase):
    """Three companies, two workers (two threads with their own
    connections): the daily action and a worker action share the day's
    periods; each period is computed exactly once, the reconciliation once,
    after the last one."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()

        def make(env):
            main = env.ref("base.main_company")
            others = env["res.company"].create(
                [{"name": f"KPI Worker Company {n}"} for n in (1, 2)]
            )
            return (main | others).ids

        cls.company_ids = cls.run_env(make)

    @classmethod
    def tearDownClass(cls):
        def clean(env):
            env["crm.kpi.work"].search([]).unlink()
            cls.remove_periods(env, cls.company_ids)
            env["res.company"].browse(cls.company_ids[1:]).write({"active": False})

        cls.run_env(clean)
        super().tearDownClass()

    def test_two_workers_share_the_day(self):
        Snapshot = self.registry_["crm.kpi.snapshot"]
        real = Snapshot._compute_company_period
        calls, lock = [], threading.Lock()
        reconciled = []

        def compute(this, company, granularity, start):
            with lock:
                calls.append(
                    (threading.current_thread().name, company.id, granularity, start)
                )
            # long enough for the other worker to take the next row meanwhile
            time.sleep(0.2)
            return real(this, company, granularity, start)

        def reconcile(this):
            reconciled.append(threading.current_thread().name)

        results = {}

        def planned():
            with self.cursor() as cr:
                cr.execute("SELECT COUNT(*) FROM crm_kpi_work")
                return cr.fetchone()[0]

        with (
            mock.patch.object(Snapshot, "_compute_company_period", compute),
            mock.patch.object(Snapshot, "_cron_reconcile_yesterday", reconcile),
        ):
            daily = self.in_thread(
                "daily",
                lambda env: env["crm.kpi.snapshot"]._cron_compute_recent(),
                results,
            )
            deadline = time.monotonic() + 30
            while not planned() and time.monotonic() < deadline:
                time.sleep(0.05)
            worker = self.in_thread(
                "worker", lambda env: env["crm.kpi.work"]._cron_work(), results
            )
            daily.join(300)
            worker.join(300)
        for name in ("daily", "worker"):
            if isinstance(results.get(name), Exception):
                raise results[name]

        def rows(env):
            return [
                (w.kind, w.company_id.id, w.granularity, w.date_start, w.state)
                for w in env["crm.kpi.work"].search([])
            ]

        work_rows = self.run_env(rows)
        periods = [r[1:4] for r in work_rows if r[0] == "compute"]
        # every active company of the database, ours among them
        self.assertTrue(set(self.company_ids) <= {p[0] for p in periods})
        self.assertEqual(len(periods), 8 * len({p[0] for p in periods}))
        computed = [c[1:] for c in calls]
        self.assertEqual(sorted(computed), sorted(periods), "each period once")
        self.assertEqual(len(set(computed)), len(computed), "none twice")
        self.assertEqual({r[4] for r in work_rows}, {"done"})
        by_worker = {name: sum(c[0] == name for c in calls) for name in results}
        self.assertTrue(all(by_worker.values()), f"both workers worked: {by_worker}")
        self.assertEqual(len(reconciled), 1, "reconciled once")
        self.assertEqual(results["daily"].done + results["worker"].done, len(periods))


@tagged("post_install", "-at_install")
class TestReadConnections(RealCursorCase):
    """The families of May 2018 read on two connections at once, which
    share one snapshot: the same values as on one; on one when the
    transaction has already written (the other connections could not see
    what it wrote); on two for each period of a backfill that commits
    them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_id = cls.run_env(make_history)

    @classmethod
    def tearDownClass(cls):
        cls.run_env(lambda env: cls.remove_periods(env, [cls.company_id], "month"))
        super().tearDownClass()

    def compute(self, connections, write_first=False, backfill=False):
        """May 2018 computed on a new connection with ``connections``
        reading, in a savepoint as the scheduled computations do,
        committed: its values, and the connection each family read on."""
        Snapshot = self.registry_["crm.kpi.snapshot"]
        read_on, lock = {}, threading.Lock()
        wrapped = {}
        names = self.run_env(lambda env: env["crm.kpi.family"]._kpi_family_names())
        for name in names:
            cls = self.registry_[name]
            real = cls._kpi_results

            def spy(family, real=real):
                with lock:
                    read_on[family._name] = id(family.env.cr)
                return real(family)

            wrapped[cls] = real
            cls._kpi_results = spy

        def run(env):
            if write_first:
                # the transaction gets an id, as a write gives it
                env.cr.execute("SELECT pg_current_xact_id()")
            company = env["res.company"].browse(self.company_id)
            if backfill:
                # as the scheduled action: each period in a savepoint, then
                # committed
                return env["crm.kpi.snapshot"].backfill(
                    months=0,
                    granularities=["month"],
                    companies=company,
                    date_to=MAY,
                    commit=True,
                )
            # a savepoint cannot export its snapshot: the other
            # connections share one of their own
            with env.cr.savepoint():
                return env["crm.kpi.snapshot"].compute_period(
                    "month", MAY, companies=company
                )

        try:
            with (
                mock.patch.object(
                    Snapshot, "_kpi_read_connections", return_value=connections
                ),
                mock.patch.object(
                    Snapshot, "_kpi_replica_configured", return_value=False
                ),
            ):
                self.run_env(run)
        finally:
            for cls, real in wrapped.items():
                cls._kpi_results = real
        values = self.period_values(
            self.company_id,
            MAY,
            ("v.value", "v.numerator", "v.denominator", "v.note"),
        )
        return values, read_on

    def test_two_connections_same_values(self):
        one, read_on_one = self.compute(1)
        self.assertTrue(one)
        self.assertEqual(len(set(read_on_one.values())), 1)
        two, read_on_two = self.compute(2)
        self.assertEqual(set(read_on_two), set(read_on_one), "every family ran")
        self.assertEqual(
            len(set(read_on_two.values())), 2, "the families read on two connections"
        )
        self.assertEqual(two, one, "the same values on two connections as on one")
        # after a write, one connection: the other would not see it
        after_write, read_on_write = self.compute(2, write_first=True)
        self.assertEqual(len(set(read_on_write.values())), 1)
        self.assertEqual(after_write, one)
        # a backfill that commits each period reads each on two
        backfilled, read_on_backfill = self.compute(2, backfill=True)
        self.assertEqual(len(set(read_on_backfill.values())), 2)
        self.assertEqual(backfilled, one)
