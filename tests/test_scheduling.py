"""Scheduled work: an interrupted backfill resumes and leaves one snapshot
per period and scope; failures stay isolated and logged; reruns are
idempotent; two runs of the same period queue on an advisory lock.

Data (company A, UTC): one order per month from July to December 2026 of
100 × month number (July 700 ... December 1200), by the salesman in Team A,
each to a customer of its own.  Company B: one order of 5000 in October.

Expected company revenue: month m -> 100 × m; Q3 = 700 + 800 + 900 = 2400;
Q4 = 1000 + 1100 + 1200 = 3300.
"""

from contextlib import closing
from unittest import mock

import psycopg2

from odoo import Command, fields, sql_db
from odoo.tests import new_test_user, tagged
from odoo.tools import SQL

from .common import D, KpiCase

SNAPSHOT = "odoo.addons.crm_success_kpi.models.crm_kpi_snapshot"


class Interrupted(BaseException):
    """A worker killed mid-run: not an ``Exception``, nothing catches it."""


@tagged("post_install", "-at_install")
class TestKpiScheduling(KpiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        customers = cls.make_customers(6)
        cls.make_orders(
            [
                {"partner": p, "date": D(2026, month, 10), "amount": 100.0 * month}
                for p, month in zip(customers, range(7, 13), strict=True)
            ]
        )
        cls.company_b = cls.env["res.company"].create(
            {"name": "KPI Scheduling Co B", "currency_id": cls.usd.id}
        )
        cls.env.user.company_ids |= cls.company_b
        rep_b = new_test_user(
            cls.env,
            login="kpi_sched_rep_b",
            groups="sales_team.group_sale_salesman",
            company_id=cls.company_b.id,
            company_ids=[Command.set(cls.company_b.ids)],
        )
        order = (
            cls.env["sale.order"]
            .with_company(cls.company_b)
            .create(
                {
                    "partner_id": customers[0].id,
                    "company_id": cls.company_b.id,
                    "user_id": rep_b.id,
                    "order_line": [
                        Command.create(
                            {"product_id": cls.product.id, "price_unit": 5000.0}
                        )
                    ],
                }
            )
        )
        order.action_confirm()
        order.date_order = "2026-10-15 12:00:00"
        cls.expected = {("month", D(2026, m, 1)): 100.0 * m for m in range(7, 13)}
        cls.expected[("quarter", D(2026, 7, 1))] = 2400.0
        cls.expected[("quarter", D(2026, 10, 1))] = 3300.0

    def backfill(self, companies=None):
        return self.env["crm.kpi.backfill"].create(
            {
                "date_from": D(2026, 7, 1),
                "date_to": D(2026, 12, 31),
                "granularities": "month,quarter",
                "company_ids": [Command.set((companies or self.company).ids)],
            }
        )

    def snapshots(self, company=None):
        return self.env["crm.kpi.snapshot"].search(
            [("company_id", "=", (company or self.company).id)]
        )

    def assertHistory(self):
        """Exactly one snapshot per period and scope, and the right
        revenue in each company snapshot."""
        self.env.invalidate_all()
        snaps = self.snapshots()
        keys = [(s.granularity, s.date_start, s.scope_key) for s in snaps]
        self.assertEqual(len(keys), len(set(keys)), "one snapshot per period/scope")
        # per period: company, Team A, salesman
        self.assertEqual(len(keys), 8 * 3)
        self.cr.execute(
            SQL(
                """SELECT COUNT(*), COUNT(DISTINCT (snapshot_id, kpi_id))
                     FROM crm_kpi_value WHERE company_id = %s""",
                self.company.id,
            )
        )
        total, distinct = self.cr.fetchone()
        self.assertEqual(total, distinct, "one value per snapshot and KPI")
        revenue = {
            (s.granularity, s.date_start): s.value_ids.filtered(
                lambda v: v.kpi_code == "revenue"
            ).value
            for s in snaps.filtered(lambda s: s.scope == "company")
        }
        self.assertEqual(revenue, self.expected)

    def interrupted(self, run):
        """Whether ``run()`` dies of an interruption.  Not assertRaises: it
        would roll back what the run had committed before dying."""
        try:
            run()
        except Interrupted:
            return True
        return False

    def interrupt_after(self, n):
        """Patch the period computation to die on its ``n + 1``-th call."""
        real = type(self.env["crm.kpi.snapshot"])._compute_company_period
        calls = []

        def compute(this, company, granularity, start):
            if len(calls) == n:
                raise Interrupted()
            calls.append((company.id, granularity, start))
            return real(this, company, granularity, start)

        return mock.patch.object(
            type(self.env["crm.kpi.snapshot"]),
            "_compute_company_period",
            compute,
        ), calls

    # -- interrupted backfill -------------------------------------------------
    def test_interrupted_backfill_resumes(self):
        backfill = self.backfill()
        # oldest first: Jul, Q3, Aug, Sep, Oct, Q4, Nov, Dec
        self.assertEqual(backfill.total, 8)
        patch, calls = self.interrupt_after(3)
        with patch:
            self.assertTrue(self.interrupted(lambda: backfill._process(commit=False)))
        self.assertEqual(len(calls), 3)
        # what the cron had committed: three periods and the position
        self.assertEqual(backfill.position, 3)
        self.assertEqual(backfill.state, "running")
        self.assertEqual(
            len(self.snapshots().filtered(lambda s: s.scope == "company")), 3
        )
        # the next cron run picks it up and computes the five others only,
        # committing before the first (which then begins a transaction of
        # its own, read on several connections) and after each of them
        patch, calls = self.interrupt_after(99)
        cron = type(self.env["ir.cron"])
        with (
            patch,
            mock.patch.object(
                cron, "_commit_progress", return_value=float("inf")
            ) as commits,
        ):
            self.env["crm.kpi.backfill"]._cron_process()
        self.assertEqual(len(calls), 5)
        self.assertEqual(commits.call_count, 1 + 5 + 1)
        self.assertEqual(
            [c[1:] for c in calls],
            [
                ("month", D(2026, 9, 1)),
                ("month", D(2026, 10, 1)),
                ("quarter", D(2026, 10, 1)),
                ("month", D(2026, 11, 1)),
                ("month", D(2026, 12, 1)),
            ],
        )
        self.assertEqual((backfill.state, backfill.position), ("done", 8))
        self.assertHistory()

    def test_backfill_run_twice_from_scratch(self):
        """A backfill reset and run again (or two backfills over the same
        range) replaces the history, never adds to it."""
        backfill = self.backfill()
        backfill.action_run()
        first = {
            (v.snapshot_id.id, v.kpi_code): (v.value, v.numerator, v.denominator)
            for v in self.snapshots().value_ids
        }
        backfill.action_reset()
        backfill.action_run()
        self.backfill().action_run()
        self.assertHistory()
        again = {
            (v.snapshot_id.id, v.kpi_code): (v.value, v.numerator, v.denominator)
            for v in self.snapshots().value_ids
        }
        self.assertEqual(first, again, "same rows, same ids, same values")

    def test_interrupted_cron_resumes(self):
        """The daily cron dies midway; its rerun the same day skips the
        periods already computed and computes the others."""
        real = type(self.env["crm.kpi.snapshot"])._compute_company_period
        calls = []
        interrupt = [True]

        def compute(this, company, granularity, start):
            # other companies of the database: not this test's business
            if company not in (self.company, self.company_b):
                return this.browse()
            if len(calls) == 5 and interrupt[0]:
                interrupt[0] = False
                raise Interrupted()
            calls.append((company.id, granularity, start))
            return real(this, company, granularity, start)

        Model = type(self.env["crm.kpi.snapshot"])
        with (
            mock.patch.object(Model, "_compute_company_period", compute),
            mock.patch.object(
                type(self.env["ir.cron"]), "_commit_progress", return_value=float("inf")
            ),
        ):
            self.assertTrue(
                self.interrupted(self.env["crm.kpi.snapshot"]._cron_compute_recent)
            )
            first = list(calls)
            calls.clear()
            self.env["crm.kpi.snapshot"]._cron_compute_recent()
        self.assertEqual(len(first), 5)
        # 2 companies × 4 granularities × (previous, current); the 5 done
        # periods produced snapshots and are skipped, unless empty
        done_with_snapshots = {
            c
            for c in first
            if self.env["crm.kpi.snapshot"].search_count(
                [
                    ("company_id", "=", c[0]),
                    ("granularity", "=", c[1]),
                    ("date_start", "=", c[2]),
                ]
            )
        }
        self.assertFalse(done_with_snapshots & set(calls), "no period done twice")
        self.assertEqual(len(set(first) | set(calls)), 16)

    # -- time budget, cancellation, background -------------------------------
    def budget(self, periods_per_run):
        """A fake ``_commit_progress``: a cron run whose time is up after
        ``periods_per_run`` committed periods (``reset()`` starts the next
        run), and the list of periods it was told were committed."""
        state = {"left": periods_per_run}

        def commit_progress(this, processed=0, remaining=None, deactivate=False):
            state["left"] -= processed
            return 60.0 if state["left"] > 0 else 0.0

        def reset():
            state["left"] = periods_per_run

        patch = mock.patch.object(
            type(self.env["ir.cron"]), "_commit_progress", commit_progress
        )
        return patch, reset

    def test_backfill_honours_the_time_budget(self):
        """Three periods per cron run: the eight periods take three runs,
        each resuming where the previous one stopped; every period is
        computed exactly once."""
        backfill = self.backfill()
        backfill.action_run_background()
        self.assertEqual((backfill.state, backfill.position), ("running", 0))
        patch, calls = self.interrupt_after(99)
        budget, reset = self.budget(3)
        runs = []
        with patch, budget:
            for _run in range(10):
                reset()
                finished = self.env["crm.kpi.backfill"]._cron_process()
                runs.append((len(calls), backfill.position, finished))
                if finished:
                    break
        self.assertEqual(runs, [(3, 3, False), (6, 6, False), (8, 8, True)])
        self.assertEqual(len(calls), len(set(calls)), "no period computed twice")
        self.assertEqual(len(calls), backfill.total, "none skipped")
        self.assertEqual(backfill.state, "done")
        self.assertHistory()

    def test_cancelled_backfill_stops_and_resumes(self):
        """A manager cancels while the cron computes the second period (from
        another transaction: the run sees it after its commit): the run
        stops there; starting it again computes the other six."""
        backfill = self.backfill()
        backfill.action_run_background()
        real = type(self.env["crm.kpi.snapshot"])._compute_company_period
        calls = []

        def compute(this, company, granularity, start):
            calls.append((granularity, start))
            if len(calls) == 2:
                self.cr.execute(
                    SQL(
                        "UPDATE crm_kpi_backfill SET state = 'cancelled' WHERE id = %s",
                        backfill.id,
                    )
                )
            return real(this, company, granularity, start)

        Snapshot = type(self.env["crm.kpi.snapshot"])
        budget, _reset = self.budget(99)
        with mock.patch.object(Snapshot, "_compute_company_period", compute), budget:
            self.assertFalse(self.env["crm.kpi.backfill"]._cron_process())
            self.assertEqual((backfill.state, backfill.position), ("cancelled", 2))
            # cancelled: the next scheduled run leaves it alone
            self.assertTrue(self.env["crm.kpi.backfill"]._cron_process())
            self.assertEqual(len(calls), 2)
            backfill.action_run_background()
            self.assertTrue(self.env["crm.kpi.backfill"]._cron_process())
        self.assertEqual(len(calls), 8)
        self.assertEqual(len(set(calls)), 8)
        self.assertEqual((backfill.state, backfill.position), ("done", 8))
        self.assertHistory()

    def test_start_returns_at_once(self):
        """Start records the request and wakes the scheduled action: nothing
        is computed in the request."""
        backfill = self.backfill()
        cron = self.env.ref("crm_success_kpi.ir_cron_crm_kpi_backfill")
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        with mock.patch.object(
            type(self.env["crm.kpi.snapshot"]), "_compute_company_period"
        ) as compute:
            backfill.action_run_background()
        compute.assert_not_called()
        self.assertEqual(backfill.state, "running")
        self.assertEqual(
            self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]),
            triggers + 1,
        )
        backfill.action_cancel()
        self.assertEqual(backfill.state, "cancelled")

    def test_failed_period_is_listed_on_the_backfill(self):
        Snapshot = type(self.env["crm.kpi.snapshot"])
        real = Snapshot._compute_company_period

        def compute(this, company, granularity, start):
            if start == D(2026, 8, 1):
                raise ValueError("no exchange rate")
            return real(this, company, granularity, start)

        backfill = self.backfill()
        with (
            mock.patch.object(Snapshot, "_compute_company_period", compute),
            self.assertLogs(SNAPSHOT, "ERROR"),
        ):
            backfill.action_run()
        self.assertEqual((backfill.state, backfill.failed_count), ("failed", 1))
        self.assertIn("month", backfill.error_log)
        self.assertIn("no exchange rate", backfill.error_log)
        self.assertEqual(backfill.position, 8)

    def test_daily_cron_honours_the_time_budget(self):
        """Five periods per run: the 16 periods of the two companies take
        four runs; each period is computed once; the reconciliation runs
        once, after the last period; the day's work rows are then done."""
        real = type(self.env["crm.kpi.snapshot"])._compute_company_period
        calls = []

        def compute(this, company, granularity, start):
            if company not in (self.company, self.company_b):
                return this.browse()
            calls.append((company.id, granularity, start))
            return real(this, company, granularity, start)

        Snapshot = type(self.env["crm.kpi.snapshot"])
        others = self.env["res.company"].search_count(
            [("id", "not in", (self.company | self.company_b).ids)]
        )
        budget, reset = self.budget(5)
        stops = []
        with (
            mock.patch.object(Snapshot, "_compute_company_period", compute),
            mock.patch.object(Snapshot, "_cron_reconcile_yesterday") as reconcile,
            budget,
        ):
            for _run in range(20):
                reset()
                run = self.env["crm.kpi.snapshot"]._cron_compute_recent()
                stops.append(run.stopped)
                if not run.stopped:
                    break
        self.assertEqual(len(calls), 16)
        self.assertEqual(len(set(calls)), 16, "no period computed twice")
        # other companies of the database take their share of the budget
        self.assertEqual(len(stops), -(-(16 + 8 * others) // 5))
        reconcile.assert_called_once()
        # the day's work is all done, the reconciliation included
        work = self.env["crm.kpi.work"].search(
            [("day", "=", fields.Date.context_today(self.env["crm.kpi.work"]))]
        )
        self.assertEqual(len(work), 8 * (2 + others) + 1)
        self.assertEqual(set(work.mapped("state")), {"done"})
        # a run the same day finds nothing more to do
        budget, _reset = self.budget(99)
        with budget, mock.patch.object(Snapshot, "_compute_company_period") as again:
            self.env["crm.kpi.snapshot"]._cron_compute_recent()
        again.assert_not_called()

    # -- isolated failures ----------------------------------------------------
    def test_failing_company_does_not_stop_the_others(self):
        """Company A's October fails: it is logged with the company's name,
        A's other periods and all of B's are computed, and A's October
        keeps its previous history (the savepoint rolled back)."""
        Snapshot = self.env["crm.kpi.snapshot"]
        Snapshot.compute_period("month", D(2026, 10, 1), companies=self.company)
        before = (
            self.snapshots()
            .filtered(lambda s: s.date_start == D(2026, 10, 1))
            .mapped("computed_at")
        )
        real = type(Snapshot)._compute_company_period

        def compute(this, company, granularity, start):
            result = real(this, company, granularity, start)
            if company == self.company and start == D(2026, 10, 1):
                raise ValueError("boom")
            return result

        backfill = self.backfill(self.company | self.company_b)
        with (
            mock.patch.object(type(Snapshot), "_compute_company_period", compute),
            self.assertLogs(SNAPSHOT, "ERROR") as logs,
        ):
            backfill._process(commit=False)
        # month and quarter of October in A
        self.assertEqual(backfill.failed_count, 2)
        self.assertEqual(backfill.state, "failed")
        self.assertEqual(backfill.position, 16)
        self.assertEqual(len(logs.records), 2)
        self.assertIn(self.company.name, logs.output[0])
        self.assertIn("boom", logs.output[0])
        self.env.invalidate_all()
        october = self.snapshots().filtered(lambda s: s.date_start == D(2026, 10, 1))
        self.assertEqual(october.mapped("computed_at"), before)
        self.assertEqual(
            len(
                self.snapshots(self.company_b).filtered(lambda s: s.scope == "company")
            ),
            8,
        )
        self.assertEqual(
            len(self.snapshots().filtered(lambda s: s.scope == "company")), 7
        )

    # -- concurrent runs ------------------------------------------------------
    def test_concurrent_run_waits_for_the_lock(self):
        """While this transaction computes October of A, a second database
        connection cannot take the same period's lock (it would queue), but
        takes another period's or company's at once."""
        self.env["crm.kpi.snapshot"].compute_period(
            "month", D(2026, 10, 1), companies=self.company
        )

        def try_lock(company, key):
            with closing(sql_db.db_connect(self.cr.dbname).cursor()) as cr:
                cr.execute(
                    "SELECT pg_try_advisory_xact_lock(%s, hashtext(%s))",
                    (company.id, key),
                )
                got = cr.fetchone()[0]
                cr.rollback()
                return got

        self.assertFalse(try_lock(self.company, "crm_kpi:month:2026-10-01"))
        self.assertTrue(try_lock(self.company, "crm_kpi:month:2026-09-01"))
        self.assertTrue(try_lock(self.company_b, "crm_kpi:month:2026-10-01"))
        # a blocking acquisition really waits (here: gives up after 100 ms)
        with closing(sql_db.db_connect(self.cr.dbname).cursor()) as cr:
            cr.execute("SET LOCAL lock_timeout = '100ms'")
            with self.assertRaises(psycopg2.errors.LockNotAvailable):
                cr.execute(
                    "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                    (self.company.id, "crm_kpi:month:2026-10-01"),
                )
            cr.rollback()

    def test_unique_keys_are_enforced_by_the_database(self):
        """Even a run that bypassed the engine cannot add a second snapshot
        of a period and scope, nor a second value of a KPI."""
        snaps = self.env["crm.kpi.snapshot"].compute_period(
            "month", D(2026, 10, 1), companies=self.company
        )
        snap = snaps.filtered(lambda s: s.scope == "company")
        value = snap.value_ids[:1]
        with self.assertRaises(psycopg2.errors.UniqueViolation), self.cr.savepoint():
            self.cr.execute(
                SQL(
                    """INSERT INTO crm_kpi_snapshot (granularity, date_start, date_end,
                              company_id, scope, scope_key)
                       SELECT granularity, date_start, date_end, company_id, scope,
                              scope_key FROM crm_kpi_snapshot WHERE id = %s""",
                    snap.id,
                )
            )
        with self.assertRaises(psycopg2.errors.UniqueViolation), self.cr.savepoint():
            self.cr.execute(
                SQL(
                    """INSERT INTO crm_kpi_value (snapshot_id, kpi_id, kpi_code)
                       SELECT snapshot_id, kpi_id, kpi_code FROM crm_kpi_value
                        WHERE id = %s""",
                    value.id,
                )
            )
