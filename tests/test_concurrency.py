"""Two computations of the same period at the same time, on two real
database connections in two threads.

Data, committed for the test and removed after it, in the main company: a
customer with two confirmed orders in March 2019 (100 and 250), a month no
other test data uses.

Thread A takes the period's lock and, holding it, waits until thread B --
whose transaction has already read the database, as a cron or a request
has -- queues on the same lock.  A then stores and commits; B gets the lock
with a snapshot older than A's rows.  Without care B fails with a
serialization error; the engine computes the period again in a new
transaction (the cron and backfill runs), and Odoo retries a request (a
manager's button) the same way.  Both must succeed and leave exactly the
rows, and the values, of a single run.
"""

import threading
import time
from datetime import datetime
from functools import partial
from unittest import mock

from odoo import Command
from odoo.service.model import retrying
from odoo.tests import tagged

from .common import D, RealCursorCase

MARCH = D(2019, 3, 1)


@tagged("post_install", "-at_install")
class TestConcurrentComputation(RealCursorCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()

        def make(env):
            cls.company_id = env.ref("base.main_company").id
            partner = env["res.partner"].create({"name": "KPI Concurrency Customer"})
            product = env["product.product"].create(
                {"name": "KPI Concurrency Widget", "list_price": 1.0}
            )
            orders = env["sale.order"].create(
                [
                    {
                        "partner_id": partner.id,
                        "company_id": cls.company_id,
                        "order_line": [
                            Command.create(
                                {"product_id": product.id, "price_unit": amount}
                            )
                        ],
                    }
                    for amount in (100.0, 250.0)
                ]
            )
            orders.action_confirm()
            orders.write({"date_order": datetime(2019, 3, 10, 12)})
            cls.order_ids, cls.partner_id = orders.ids, partner.id
            cls.product_id = product.id

        # committed: the data must be seen by the other connections
        cls.run_env(make)

    @classmethod
    def tearDownClass(cls):
        def clean(env):
            cls.remove_periods(env, [cls.company_id], "month", [MARCH])
            cls.remove_orders(env, cls.order_ids, cls.product_id, cls.partner_id)

        cls.run_env(clean, {})
        super().tearDownClass()

    def rows(self):
        """The period's snapshots and values, as stored."""
        return self.period_values(
            self.company_id,
            MARCH,
            ("v.value", "v.numerator", "v.denominator", "v.id", "s.id"),
        )

    def in_thread(self, name, run, results, context=None):
        """The race's runs: without the context of the committed data."""
        return super().in_thread(name, run, results, {} if context is None else context)

    def waiting_for_the_lock(self):
        with self.cursor() as cr:
            cr.execute(
                "SELECT COUNT(*) FROM pg_locks"
                " WHERE locktype = 'advisory' AND NOT granted"
            )
            return cr.fetchone()[0]

    def race(self, second):
        """A computes the month holding the lock until ``second(env)``
        (thread B) waits on it; returns both results."""
        a_locked, b_waits = threading.Event(), threading.Event()
        Snapshot = self.registry_["crm.kpi.snapshot"]
        real = Snapshot._families

        computations = {"A": 0, "B": 0}

        def families(this):
            name = threading.current_thread().name
            computations[name] = computations.get(name, 0) + 1
            if name == "A":
                # the lock is held: let B queue behind it
                a_locked.set()
                self.assertTrue(b_waits.wait(30), "B never queued on the lock")
            return real(this)

        def first(env):
            company = env["res.company"].browse(self.company_id)
            return env["crm.kpi.snapshot"]._run_tasks([(company, "month", MARCH)])

        results = {}
        with mock.patch.object(Snapshot, "_families", families):
            a = self.in_thread("A", first, results)
            self.assertTrue(a_locked.wait(30), "A never took the lock")
            b = self.in_thread("B", second, results)
            deadline = time.monotonic() + 30
            while not self.waiting_for_the_lock() and time.monotonic() < deadline:
                time.sleep(0.05)
            b_waits.set()
            a.join(60)
            b.join(60)
        for name in ("A", "B"):
            if isinstance(results.get(name), Exception):
                raise results[name]
        results["computations"] = computations
        return results

    def single_run(self):
        def run(env):
            company = env["res.company"].browse(self.company_id)
            return env["crm.kpi.snapshot"]._run_tasks([(company, "month", MARCH)])

        results = {}
        self.in_thread("single", run, results).join(60)
        if isinstance(results.get("single"), Exception):
            raise results["single"]
        return results["single"]

    def values(self, rows):
        return [row[:5] for row in rows]

    def test_cron_and_backfill_runs(self):
        """Two runs of the engine's task loop (the daily cron, a backfill):
        the second one waits, computes again in a new transaction, and
        succeeds."""

        def second(env):
            # a cron's transaction has read before it computes
            env["res.company"].search([])
            company = env["res.company"].browse(self.company_id)
            return env["crm.kpi.snapshot"]._run_tasks([(company, "month", MARCH)])

        results = self.race(second)
        self.assertEqual(tuple(results["A"]), (1, 0, False))
        self.assertEqual(tuple(results["B"]), (1, 0, False), "B succeeded")
        # B met A's rows, and computed the period again in a new transaction
        self.assertEqual(results["computations"], {"A": 1, "B": 2})
        raced = self.rows()
        self.assertTrue(raced)
        # the revenue of the period, from the orders
        revenue = [r for r in raced if r[0] == "company:0" and r[1] == "revenue"]
        self.assertEqual(revenue[0][2], 350.0)
        self.assertEqual(tuple(self.single_run()), (1, 0, False))
        again = self.rows()
        self.assertEqual(self.values(raced), self.values(again))
        # a single run updates the same rows: same ids, nothing added
        self.assertEqual([r[5:] for r in raced], [r[5:] for r in again])

    def test_manager_button(self):
        """A manager's button: the request fails with a serialization error
        and Odoo's request loop retries it, which then succeeds."""

        def second(env):
            env["res.company"].search([])
            company = env["res.company"].browse(self.company_id)
            attempts = []

            def compute():
                attempts.append(1)
                return env["crm.kpi.snapshot"].compute_period(
                    "month", MARCH, companies=company
                )

            with mock.patch("odoo.service.model.random.uniform", return_value=0.0):
                snapshots = retrying(partial(compute), env)
            return len(attempts), len(snapshots)

        results = self.race(second)
        self.assertEqual(tuple(results["A"]), (1, 0, False))
        attempts, count = results["B"]
        self.assertEqual(attempts, 2, "the first attempt met A's rows")
        self.assertEqual(results["computations"], {"A": 1, "B": 2})
        raced = self.rows()
        self.assertEqual(count, len({r[6] for r in raced}))
        self.single_run()
        self.assertEqual(self.values(raced), self.values(self.rows()))
