"""The customers' first revenue events per company, sales team and
salesperson (``crm.kpi.customer.first``) kept in step with the documents:
confirmation, cancellation, reset to draft, posting of invoices and
refunds, a document's date, team, salesperson, customer or company that
changes, a contact moved to another company, the partner merge, a sales team
deleted, the revenue source of the company, and the fill of an empty table.
The period's computation reads them: a customer whose older order is
cancelled becomes new."""

import threading
import time
from datetime import date, datetime
from datetime import time as day_time
from functools import partial
from unittest import mock

import pytz

from odoo import Command
from odoo.service.model import retrying
from odoo.tests import new_test_user, tagged
from odoo.tools import SQL

from ..kpi.customers import (
    firsts_table,
    new_partners_sql,
    partner_set_sql,
    period_summary,
)
from .common import KpiCase, RealCursorCase


def at(day, hour=12):
    return datetime.combine(day, day_time(hour))


def check_events(case, partner, company):
    """The events kept on the rows of ``partner`` in ``company`` (every
    moment, ascending, the running totals of their untaxed amounts and
    margins in the company currency, and the rows of the customer) are
    those of its revenue documents, per sales team and salesperson."""
    env = case.env
    expected = {}
    tz = pytz.timezone(company._kpi_tz())
    if company.kpi_revenue_source == "invoice":
        moves = env["account.move"].search(
            [
                ("state", "=", "posted"),
                ("move_type", "in", ("out_invoice", "out_refund")),
                ("company_id", "=", company.id),
                ("commercial_partner_id", "=", partner.id),
            ]
        )
        for move in moves:
            key = (move.team_id.id or None, move.invoice_user_id.id or None)
            event = (
                at(move.invoice_date, 0),
                move.id,
                move.amount_untaxed_signed,
                None,
                move.invoice_date,
            )
            expected.setdefault(key, []).append(event)
    else:
        orders = env["sale.order"].search(
            [
                ("state", "=", "sale"),
                ("company_id", "=", company.id),
                ("partner_id.commercial_partner_id", "=", partner.id),
            ]
        )
        for order in orders:
            key = (order.team_id.id or None, order.user_id.id or None)
            rate = order.currency_rate or 1.0
            event = (
                order.date_order,
                order.id,
                order.amount_untaxed / rate,
                order.margin / rate,
                pytz.utc.localize(order.date_order).astimezone(tz).date(),
            )
            expected.setdefault(key, []).append(event)

    def running(values):
        totals, total = [], None
        for value in values:
            if value is not None:
                total = (total or 0.0) + value
            totals.append(None if total is None else round(total, 6))
        return totals

    rows = env.execute_query(
        SQL(
            """SELECT team_id, user_id, first_day, first_document_id, event_ats,
                      event_revenue, event_margin, partner_rows
                 FROM %s
                WHERE k.partner_id = %s AND k.company_id = %s""",
            firsts_table(env, "k"),
            partner.id,
            company.id,
        )
    )

    def first(events):
        day = min(e[4] for e in events)
        return day, min(e[1] for e in events if e[4] == day)

    case.assertEqual(
        {
            (team, user): (
                day,
                document,
                list(ats),
                [round(float(x), 6) for x in revenue],
                [None if x is None else round(float(x), 6) for x in margin],
            )
            for team, user, day, document, ats, revenue, margin, __ in rows
        },
        {
            key: (
                *first(events),
                [e[0] for e in sorted(events)],
                running(e[2] for e in sorted(events)),
                running(e[3] for e in sorted(events)),
            )
            for key, events in expected.items()
        },
    )
    case.assertEqual({n for *__, n in rows}, {len(rows)} if rows else set())


@tagged("post_install", "-at_install")
class TestCustomerFirstInStep(KpiCase):
    """P, a company with a contact P1; Q another company.

    - o1: P1, 2025-01-10, team A, salesman;
    - o2: P, 2026-11-05, team A, salesman;
    - o3: P, 2026-03-20, team B, manager.

    Rows of P: (A, salesman) 2025-01-10, (B, manager) 2026-03-20."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.p, cls.q = cls.make_customers(2, "First")
        cls.p1 = cls.env["res.partner"].create(
            {"name": "First P1", "parent_id": cls.p.id}
        )
        cls.o1, cls.o2, cls.o3 = cls.make_orders(
            [
                {"partner": cls.p1, "date": at(date(2025, 1, 10))},
                {"partner": cls.p, "date": at(date(2026, 11, 5))},
                {
                    "partner": cls.p,
                    "date": at(date(2026, 3, 20)),
                    "team": cls.team_b,
                    "user": cls.manager,
                },
            ]
        )

    def rows(self, partner, company=None, check=True):
        """``{(team, user): first_at}`` of ``partner`` in the company, read
        through a search (which recomputes what this transaction marked)."""
        found = self.env["crm.kpi.customer.first"].search(
            [
                ("partner_id", "=", partner.id),
                ("company_id", "=", (company or self.company).id),
            ]
        )
        keys = [(r.team_id, r.user_id) for r in found]
        self.assertEqual(len(keys), len(set(keys)), "one row per scope")
        if check:
            check_events(self, partner, company or self.company)
        return {(r.team_id, r.user_id): r.first_at for r in found}

    def test_initial(self):
        self.assertEqual(
            self.rows(self.p),
            {
                (self.team, self.salesman): at(date(2025, 1, 10)),
                (self.team_b, self.manager): at(date(2026, 3, 20)),
            },
        )
        self.assertEqual(self.rows(self.q), {})

    def test_cancel_draft_confirm(self):
        # o1 cancelled: team A's first is o2's
        self.o1._action_cancel()
        self.assertEqual(
            self.rows(self.p)[self.team, self.salesman], at(date(2026, 11, 5))
        )
        # o3 cancelled: team B has no row any more
        self.o3._action_cancel()
        self.assertNotIn((self.team_b, self.manager), self.rows(self.p))
        # back to quotation: still no revenue event
        self.o1.action_draft()
        self.assertEqual(
            self.rows(self.p)[self.team, self.salesman], at(date(2026, 11, 5))
        )
        # confirmed again, dated back
        self.o1.action_confirm()
        self.o1.date_order = at(date(2024, 6, 1))
        self.assertEqual(
            self.rows(self.p)[self.team, self.salesman], at(date(2024, 6, 1))
        )
        # a cancelled order deleted: nothing changes
        self.o3.unlink()
        self.assertEqual(len(self.rows(self.p)), 1)

    def test_line_amount_and_cost_edited(self):
        """A confirmed order's line gets another price, then another cost:
        the running totals of the amounts and margins of its row follow."""
        line = self.o2.order_line[:1]
        before = self.rows(self.p)
        line.price_unit *= 2
        self.assertEqual(self.rows(self.p), before)
        line.purchase_price = line.price_unit / 4
        self.assertEqual(self.rows(self.p), before)
        self.assertTrue(self.o2.margin)

    def test_team_and_salesperson_change(self):
        # o3 moves to team A, salesman: one row, the earliest of the three
        self.o3.write({"team_id": self.team.id, "user_id": self.salesman.id})
        self.assertEqual(
            self.rows(self.p), {(self.team, self.salesman): at(date(2025, 1, 10))}
        )
        # o1 given to the manager (team unchanged)
        self.o1.user_id = self.manager
        self.assertEqual(
            self.rows(self.p),
            {
                (self.team, self.salesman): at(date(2026, 3, 20)),
                (self.team, self.manager): at(date(2025, 1, 10)),
            },
        )

    def test_customer_and_contact_moved(self):
        # o3 given to Q (its team kept: the customer's would be computed)
        self.o3.write({"partner_id": self.q.id, "team_id": self.team_b.id})
        self.assertEqual(
            self.rows(self.q), {(self.team_b, self.manager): at(date(2026, 3, 20))}
        )
        self.assertEqual(len(self.rows(self.p)), 1)
        # P1 (o1) moves to Q: P's first of team A is o2's
        self.p1.parent_id = self.q
        self.assertEqual(
            self.rows(self.p), {(self.team, self.salesman): at(date(2026, 11, 5))}
        )
        self.assertEqual(
            self.rows(self.q)[self.team, self.salesman], at(date(2025, 1, 10))
        )

    def test_merge(self):
        """Q (an order of team A, salesman, 2024-02-02) merged into P: one
        row per scope, the earliest."""
        self.make_orders([{"partner": self.q, "date": at(date(2024, 2, 2))}])
        self.assertEqual(len(self.rows(self.q)), 1)
        self.env["base.partner.merge.automatic.wizard"]._merge(
            (self.p | self.q).ids, self.p
        )
        self.assertFalse(self.q.exists())
        self.assertEqual(
            self.rows(self.p),
            {
                (self.team, self.salesman): at(date(2024, 2, 2)),
                (self.team_b, self.manager): at(date(2026, 3, 20)),
            },
        )

    def test_document_company_changes(self):
        company_b, order = self.make_movable_order(
            self.p, self.manager, 300.0, at(date(2023, 5, 5)), "KPI First Co B"
        )
        self.assertEqual(
            self.rows(self.p)[self.env["crm.team"], self.manager],
            at(date(2023, 5, 5)),
        )
        order.with_company(company_b).write({"company_id": company_b.id})
        self.assertNotIn((self.env["crm.team"], self.manager), self.rows(self.p))
        self.assertEqual(
            self.rows(self.p, company_b),
            {(self.env["crm.team"], self.manager): at(date(2023, 5, 5))},
        )

    def test_team_deleted(self):
        """Team B deleted: o3 has no team any more, nor has its row."""
        self.o3.team_id = False
        self.o1.write({"team_id": self.team_b.id, "user_id": self.manager.id})
        self.assertEqual(
            self.rows(self.p),
            {
                (self.team, self.salesman): at(date(2026, 11, 5)),
                (self.env["crm.team"], self.manager): at(date(2026, 3, 20)),
                (self.team_b, self.manager): at(date(2025, 1, 10)),
            },
        )
        self.team_b.unlink()
        self.assertEqual(
            self.rows(self.p),
            {
                (self.team, self.salesman): at(date(2026, 11, 5)),
                (self.env["crm.team"], self.manager): at(date(2025, 1, 10)),
            },
        )

    def test_salesperson_deleted(self):
        """A salesperson deleted: o3 has none any more, nor has its row,
        which joins that of o4 (team B, no salesperson, 2026-06-01)."""
        seller = new_test_user(
            self.env,
            login="kpi_first_seller",
            groups="sales_team.group_sale_salesman",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        self.o3.user_id = seller
        o4 = self.make_orders(
            [{"partner": self.p, "date": at(date(2026, 6, 1)), "team": self.team_b}]
        )
        o4.user_id = False
        rows = self.rows(self.p)
        nobody = self.env["res.users"]
        self.assertEqual(rows[self.team_b, seller], at(date(2026, 3, 20)))
        self.assertEqual(rows[self.team_b, nobody], at(date(2026, 6, 1)))
        seller.unlink()
        self.assertEqual(
            self.rows(self.p),
            {
                (self.team, self.salesman): at(date(2025, 1, 10)),
                (self.team_b, nobody): at(date(2026, 3, 20)),
            },
        )

    def test_fill_of_an_empty_table(self):
        """An upgrade that creates the table fills it from the documents."""
        before = self.rows(self.p)
        self.env.cr.execute("DELETE FROM crm_kpi_customer_first")
        self.env["crm.kpi.customer.first"].invalidate_model()
        self.assertEqual(self.rows(self.p, check=False), {})
        self.env["crm.kpi.customer.first"].init()
        self.assertEqual(self.rows(self.p), before)

    def test_fill_of_rows_without_their_events(self):
        """An upgrade from a version whose rows had no events fills them."""
        before = self.rows(self.p)
        self.env.cr.execute(
            "UPDATE crm_kpi_customer_first SET event_ats = NULL,"
            " event_revenue = NULL, partner_rows = NULL, first_day = NULL"
        )
        self.env["crm.kpi.customer.first"].invalidate_model()
        self.env["crm.kpi.customer.first"].init()
        self.assertEqual(self.rows(self.p), before)

    def test_new_customers_from_the_first_events(self):
        """R bought on 2026-10-02 only (team B, manager), S on 2026-11-20
        (team A) and 2026-11-25 (team B): new customers read from the first
        events alone are those the events tell, buyers (``is_new AND
        buyer``) and active at the end (``is_new AND act_e``: W = 31 days,
        but the window is never shorter than the period), per scope."""
        r, s = self.make_customers(2, "First new")
        self.make_orders(
            [
                {
                    "partner": r,
                    "date": at(date(2026, 10, 2)),
                    "team": self.team_b,
                    "user": self.manager,
                },
                {"partner": s, "date": at(date(2026, 11, 20))},
                {"partner": s, "date": at(date(2026, 11, 25)), "team": self.team_b},
            ]
        )
        self.company.kpi_activity_window_days = 31
        scopes = [
            ("company", None),
            ("team", self.team.id),
            ("team", self.team_b.id),
            ("user", self.manager.id),
            ("user", self.salesman.id),
        ]

        def ids(query):
            # as the drill-downs run it: the rows marked are recomputed first
            return {row[0] for row in self.env.execute_query(query)}

        found = {}
        for granularity, day in (
            ("month", date(2026, 10, 1)),
            ("month", date(2026, 11, 1)),
            ("quarter", date(2026, 10, 1)),
        ):
            ctx = self.Snapshot._period_context(self.company, granularity, day)
            for scope, scope_id in scopes:
                got = ids(new_partners_sql(ctx, scope, scope_id))
                for condition in ("buyer", "act_e"):
                    events = partner_set_sql(
                        ctx, SQL(f"is_new AND {condition}"), scope, scope_id
                    )
                    self.assertEqual(got, ids(events), (day, scope, condition))
                    found[granularity, day, scope, scope_id, condition] = got
        q4 = ("quarter", date(2026, 10, 1), "company", None)
        self.assertEqual(found[(*q4, "buyer")], {r.id, s.id})
        self.assertEqual(found[(*q4, "act_e")], {r.id, s.id})
        oct_b = ("month", date(2026, 10, 1), "team", self.team_b.id, "buyer")
        self.assertEqual(found[oct_b], {r.id})
        nov_a = ("month", date(2026, 11, 1), "team", self.team.id, "act_e")
        self.assertEqual(found[nov_a], {s.id})

    def test_customer_sets_from_the_events(self):
        """November 2026, W = 31 days (window of the start from 2026-10-01,
        of the end from 2026-10-31), with P of the class (team A: 2025-01-10
        and 2026-11-05; team B, manager: 2026-03-20) and:

        - R: 2026-10-02 (team B, manager): lost;
        - S: 2026-11-20 (team A), 2026-11-25 (team B): new;
        - T: 2026-10-15 and 2026-11-10 (team A): retained;
        - U: 2026-10-20 (team A), 2026-11-15 (team B, manager): retained in
          the company, lost in team A and by the salesman, back (not new,
          not active at the start) in team B and with the manager.

        The sets read from the rows' events are the ones worked out here,
        and as many as the period's counts."""
        r, s, t, u = self.make_customers(4, "First sets")
        manager = {"team": self.team_b, "user": self.manager}
        self.make_orders(
            [
                {"partner": r, "date": at(date(2026, 10, 2)), **manager},
                {"partner": s, "date": at(date(2026, 11, 20))},
                {"partner": s, "date": at(date(2026, 11, 25)), "team": self.team_b},
                {"partner": t, "date": at(date(2026, 10, 15))},
                {"partner": t, "date": at(date(2026, 11, 10))},
                {"partner": u, "date": at(date(2026, 10, 20))},
                {"partner": u, "date": at(date(2026, 11, 15)), **manager},
            ]
        )
        for partner in (self.p, r, s, t, u):
            check_events(self, partner, self.company)
        self.company.kpi_activity_window_days = 31
        p = self.p
        expected = {
            ("company", None): ({r, t, u}, {r}, {p, t, u}, {p, s, t, u}),
            ("team", self.team.id): ({t, u}, {u}, {p, t}, {p, s, t}),
            ("team", self.team_b.id): ({r}, {r}, {u}, {s, u}),
            ("user", self.salesman.id): ({t, u}, {u}, {p, t}, {p, s, t}),
            ("user", self.manager.id): ({r}, {r}, {u}, {u}),
        }
        conditions = ("act_s", "act_s AND NOT act_e", "act_e AND NOT is_new", "buyer")
        counts = ("s", "l", None, "buyers")
        ctx = self.Snapshot._period_context(self.company, "month", date(2026, 11, 1))
        summary = period_summary(ctx)
        ours = {p.id, r.id, s.id, t.id, u.id}
        for (scope, scope_id), sets in expected.items():
            for condition, count, partners in zip(
                conditions, counts, sets, strict=True
            ):
                query = partner_set_sql(ctx, SQL(condition), scope, scope_id)
                got = {row[0] for row in self.env.execute_query(query)}
                self.assertEqual(
                    got & ours, {x.id for x in partners}, (scope, condition)
                )
                if count:
                    self.assertEqual(
                        len(got), summary[scope, scope_id][count], (scope, condition)
                    )

    def test_period_reads_the_first_events(self):
        """November 2026: P bought in the month (o2) and before it (o1, o3):
        known, not new.  Once o1 and o3 are cancelled, P is new: the
        period's computation reads the first events of this transaction."""
        values = self.values(self.compute("month", date(2026, 11, 1)))
        self.assertEqual(values["new_customers"].value, 0.0)
        (self.o1 | self.o3)._action_cancel()
        values = self.values(self.compute("month", date(2026, 11, 1)))
        self.assertEqual(values["new_customers"].value, 1.0)


@tagged("post_install", "-at_install")
class TestCustomerFirstFromInvoices(KpiCase):
    """A company that counts its revenue from posted invoices and refunds."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["account.chart.template"].try_loading(
            "generic_coa", company=cls.company, install_demo=False
        )
        cls.company.kpi_revenue_source = "invoice"
        cls.p = cls.env["res.partner"].create({"name": "First invoiced P"})

    def invoice(self, day, move_type="out_invoice"):
        return (
            self.env["account.move"]
            .with_company(self.company)
            .create(
                {
                    "move_type": move_type,
                    "partner_id": self.p.id,
                    "invoice_date": day,
                    "team_id": self.team.id,
                    "invoice_user_id": self.salesman.id,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "Widget",
                                "quantity": 1,
                                "price_unit": 100.0,
                                "tax_ids": [Command.clear()],
                            }
                        )
                    ],
                }
            )
        )

    def firsts(self):
        rows = self.env["crm.kpi.customer.first"].search(
            [("partner_id", "=", self.p.id), ("company_id", "=", self.company.id)]
        )
        check_events(self, self.p, self.company)
        return {(r.team_id, r.user_id): r.first_at for r in rows}

    def test_post_reset_refund_source(self):
        # an order is no revenue event here
        self.make_orders([{"partner": self.p, "date": at(date(2022, 1, 1))}])
        inv = self.invoice(date(2025, 4, 1))
        self.assertEqual(self.firsts(), {})
        inv.action_post()
        key = (self.team, self.salesman)
        self.assertEqual(self.firsts(), {key: at(date(2025, 4, 1), 0)})
        # a refund posted earlier in the year counts too
        refund = self.invoice(date(2025, 2, 1), "out_refund")
        refund.action_post()
        self.assertEqual(self.firsts(), {key: at(date(2025, 2, 1), 0)})
        # the refund back to draft, the invoice to another salesperson
        refund.button_draft()
        inv.button_draft()
        inv.invoice_user_id = self.manager
        inv.action_post()
        self.assertEqual(
            self.firsts(), {(self.team, self.manager): at(date(2025, 4, 1), 0)}
        )
        # back to sale orders: the order of 2022
        self.company.kpi_revenue_source = "order"
        self.assertEqual(
            self.firsts(), {(self.team, self.salesman): at(date(2022, 1, 1))}
        )


@tagged("post_install", "-at_install")
class TestCustomerFirstConcurrent(RealCursorCase):
    """Two transactions confirm an order of one customer at the same time,
    on two real connections: A recomputes the customer's first purchases,
    then B, whose statement starts before A commits.  One row per scope is
    left, with the earlier of the two dates."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()

        def make(env):
            cls.company_id = env.ref("base.main_company").id
            cls.partner_id = env["res.partner"].create({"name": "KPI First Race"}).id
            cls.product_id = (
                env["product.product"]
                .create({"name": "KPI First Race Widget", "list_price": 1.0})
                .id
            )

        cls.run_env(make)
        cls.order_ids = []

    @classmethod
    def tearDownClass(cls):
        def clean(env):
            cls.remove_orders(env, cls.order_ids, cls.product_id, cls.partner_id)

        cls.run_env(clean, {})
        super().tearDownClass()

    def waiting(self):
        """Whether a connection waits on a lock another one holds."""
        with self.cursor() as cr:
            cr.execute("SELECT COUNT(*) FROM pg_locks WHERE NOT granted")
            return cr.fetchone()[0]

    def test_two_transactions_one_customer(self):
        """A writes its rows and holds its transaction until B's statement
        waits on them; then A commits.  B's attempt fails to serialize (as
        Odoo's transactions do when two write one row) and is retried, as
        Odoo retries a request: one row is left, B's earlier date."""
        a_done, b_starts = threading.Event(), threading.Event()
        attempts = []

        def confirm(env, name, when):
            attempts.append(name)
            order = env["sale.order"].create(
                {
                    # a name of its own: no lock on the sequence
                    "name": f"KPI-FIRST-RACE-{name}",
                    "partner_id": self.partner_id,
                    "company_id": self.company_id,
                    "order_line": [
                        Command.create(
                            {"product_id": self.product_id, "price_unit": 1.0}
                        )
                    ],
                }
            )
            order.action_confirm()
            order.write({"date_order": when, "user_id": False, "team_id": False})
            self.order_ids.append(order.id)
            env.flush_all()
            if name == "B":
                b_starts.set()
            env["crm.kpi.customer.stat"]._kpi_refresh_pending()
            return order.id

        def run_a(env):
            order_id = confirm(env, "A", datetime(2019, 5, 5, 12))
            a_done.set()
            # hold the transaction until B waits on A's rows
            self.assertTrue(b_starts.wait(30))
            deadline = time.monotonic() + 30
            while not self.waiting() and time.monotonic() < deadline:
                time.sleep(0.05)
            return order_id

        def run_b(env):
            self.assertTrue(a_done.wait(30))
            with mock.patch("odoo.service.model.random.uniform", return_value=0.0):
                return retrying(
                    partial(confirm, env, "B", datetime(2019, 4, 4, 12)), env
                )

        results = {}
        a = self.in_thread("A", run_a, results, {})
        b = self.in_thread("B", run_b, results, {})
        a.join(90)
        b.join(90)
        for name in ("A", "B"):
            self.assertNotIsInstance(results.get(name), Exception, name)
            self.assertTrue(results.get(name), name)
        self.assertEqual(attempts, ["A", "B", "B"], "B met A's rows once")
        with self.cursor() as cr:
            cr.execute(
                "SELECT team_id, user_id, first_at FROM crm_kpi_customer_first"
                " WHERE partner_id = %s AND company_id = %s",
                [self.partner_id, self.company_id],
            )
            rows = cr.fetchall()
        self.assertEqual(rows, [(None, None, datetime(2019, 4, 4, 12))])
