"""Fixtures shared by the KPI tests.

Every test class works in a company of its own, so demo data and other
companies never leak into the expected numbers.  Helpers create revenue
events, leads and messages at chosen dates, in bulk."""

import threading
from contextlib import closing
from datetime import date, datetime

from odoo import SUPERUSER_ID, Command, api, sql_db
from odoo.modules.registry import Registry
from odoo.tests import BaseCase, TransactionCase, new_test_user
from odoo.tests.common import get_db_name
from odoo.tools import SQL

# what the data committed by the real-connection tests is created with
COMMITTED_CONTEXT = {"tracking_disable": True}


class KpiCase(TransactionCase):
    tz = "UTC"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.usd = cls.env.ref("base.USD")
        cls.eur = cls.env.ref("base.EUR")
        cls.eur.active = True
        cls.company = cls.env["res.company"].create(
            {"name": f"KPI Test Co {cls.__name__}", "currency_id": cls.usd.id}
        )
        cls.company.partner_id.tz = cls.tz
        cls.env.user.company_ids |= cls.company
        cls.env = cls.env(
            context=dict(
                cls.env.context,
                allowed_company_ids=[cls.company.id],
            )
        )
        cls.manager = new_test_user(
            cls.env,
            login=f"kpi_manager_{cls.__name__.lower()}",
            groups="sales_team.group_sale_manager,crm_success_kpi.group_crm_kpi_manager",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.salesman = new_test_user(
            cls.env,
            login=f"kpi_salesman_{cls.__name__.lower()}",
            groups="sales_team.group_sale_salesman",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.team = cls.env["crm.team"].create(
            {
                "name": "KPI Team A",
                "company_id": cls.company.id,
                "user_id": cls.manager.id,
            }
        )
        cls.team_b = cls.env["crm.team"].create(
            {"name": "KPI Team B", "company_id": cls.company.id}
        )
        cls.product = cls.env["product.product"].create(
            {"name": "KPI Widget", "list_price": 100.0, "standard_price": 60.0}
        )
        cls.product_b = cls.env["product.product"].create(
            {"name": "KPI Gadget", "list_price": 50.0, "standard_price": 10.0}
        )
        cls.Snapshot = cls.env["crm.kpi.snapshot"]

    # -- data builders -------------------------------------------------------
    @classmethod
    def make_customers(cls, count, prefix="Customer"):
        return cls.env["res.partner"].create(
            [
                {"name": f"{prefix} {cls.__name__} {i}", "is_company": True}
                for i in range(count)
            ]
        )

    @classmethod
    def make_office_calendar(cls, name):
        """Working hours 09:00-17:00, Monday to Friday (UTC), of the company."""
        return cls.env["resource.calendar"].create(
            {
                "name": name,
                "tz": "UTC",
                "company_id": cls.company.id,
                "attendance_ids": [Command.clear()]
                + [
                    Command.create(
                        {
                            "name": f"Day {day}",
                            "dayofweek": str(day),
                            "hour_from": 9.0,
                            "hour_to": 17.0,
                            "day_period": "full_day",
                        }
                    )
                    for day in range(5)
                ],
            }
        )

    @classmethod
    def make_orders(cls, specs):
        """``specs``: dicts with partner, date (date or datetime), and
        optional amount (unit price), qty, product, team, user, currency,
        campaign.  Orders are confirmed, then dated."""
        pricelists = {}

        def pricelist(currency):
            if currency not in pricelists:
                pricelists[currency] = cls.env["product.pricelist"].create(
                    {
                        "name": f"KPI {currency.name}",
                        "currency_id": currency.id,
                        "company_id": cls.company.id,
                    }
                )
            return pricelists[currency]

        vals_list = []
        for spec in specs:
            currency = spec.get("currency") or cls.company.currency_id
            vals = {
                "partner_id": spec["partner"].id,
                "company_id": cls.company.id,
                "team_id": (spec.get("team") or cls.team).id,
                "user_id": (spec.get("user") or cls.salesman).id,
                "pricelist_id": pricelist(currency).id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": (spec.get("product") or cls.product).id,
                            "product_uom_qty": spec.get("qty", 1),
                            "price_unit": spec.get("amount", 100.0),
                        }
                    )
                ],
            }
            if spec.get("campaign"):
                vals["campaign_id"] = spec["campaign"].id
            if spec.get("opportunity"):
                vals["opportunity_id"] = spec["opportunity"].id
            vals_list.append(vals)
        orders = cls.env["sale.order"].with_company(cls.company).create(vals_list)
        orders.action_confirm()
        for order, spec in zip(orders, specs, strict=True):
            when = spec["date"]
            if not isinstance(when, datetime):
                when = datetime.combine(when, datetime.min.time().replace(hour=12))
            order.date_order = when
        return orders

    def make_movable_order(self, partner, user, amount, when, company_name):
        """A second company ``company_name`` (allowed to the test user), and
        a confirmed order of ``partner`` in the test company, by ``user``,
        dated ``when``, without sales team nor pricelist (both of a company):
        an order that can move to the second company.  Returns both."""
        other = self.env["res.company"].create(
            {"name": company_name, "currency_id": self.usd.id}
        )
        self.env.user.company_ids |= other
        order = (
            self.env["sale.order"]
            .with_company(self.company)
            .create(
                {
                    "partner_id": partner.id,
                    "company_id": self.company.id,
                    "user_id": user.id,
                    "team_id": False,
                    "pricelist_id": False,
                    "order_line": [
                        Command.create(
                            {"product_id": self.product.id, "price_unit": amount}
                        )
                    ],
                }
            )
        )
        order.action_confirm()
        order.date_order = when
        return other, order

    @classmethod
    def make_leads(cls, specs):
        """``specs``: dicts with created (datetime), optional status
        ('won', 'lost', None), closed (datetime), revenue, team, user,
        campaign, medium, converted (datetime)."""
        Lead = cls.env["crm.lead"].with_company(cls.company)
        leads = Lead.create(
            [
                {
                    "name": f"Lead {i}",
                    "type": "opportunity",
                    "company_id": cls.company.id,
                    "team_id": (spec.get("team") or cls.team).id,
                    "user_id": (spec.get("user") or cls.salesman).id,
                    "expected_revenue": spec.get("revenue", 0.0),
                    "campaign_id": spec.get("campaign") and spec["campaign"].id,
                    "medium_id": spec.get("medium") and spec["medium"].id,
                }
                for i, spec in enumerate(specs)
            ]
        )
        for lead, spec in zip(leads, specs, strict=True):
            if spec.get("status") == "won":
                lead.action_set_won()
            elif spec.get("status") == "lost":
                lead.action_set_lost()
        leads.flush_recordset()
        for lead, spec in zip(leads, specs, strict=True):
            cls.env.cr.execute(
                "UPDATE crm_lead SET create_date = %s, date_closed = %s,"
                " date_conversion = %s WHERE id = %s",
                (
                    spec["created"],
                    spec.get("closed") if spec.get("status") else None,
                    spec.get("converted"),
                    lead.id,
                ),
            )
        leads.invalidate_recordset()
        return leads

    # -- reading results -----------------------------------------------------
    def compute(self, granularity, day):
        return self.Snapshot.compute_period(granularity, day, companies=self.company)

    def values(self, snapshots, scope="company", scope_id=None):
        """``{code: value record}`` of one scope."""
        snap = snapshots.filtered(
            lambda s: s.scope == scope
            and (
                scope_id is None
                or (s.team_id or s.user_id or s.helpdesk_team_id).id == scope_id
            )
        )
        self.assertEqual(len(snap), 1, f"one {scope} snapshot expected")
        return {v.kpi_code: v for v in snap.value_ids}

    def assertKpi(self, values, code, expected, places=2):
        value = values[code]
        if expected is None:
            self.assertFalse(
                value.has_value, f"{code} should be n/a, got {value.value}"
            )
            self.assertTrue(value.note, f"{code} n/a must say why")
        else:
            self.assertTrue(
                value.has_value, f"{code} should have a value ({value.note})"
            )
            self.assertAlmostEqual(value.value, expected, places=places, msg=code)


D = date


class RealCursorCase(BaseCase):
    """Tests on real connections, outside any test transaction, as Odoo's
    cron workers and replica cursors see the database: what they commit,
    they remove."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry_ = Registry(get_db_name())

    @classmethod
    def cursor(cls):
        """A real connection to the primary, outside the test's transaction."""
        return closing(sql_db.db_connect(cls.registry_.db_name).cursor())

    @classmethod
    def run_env(cls, run, context=None):
        """``run(env)`` as the superuser on a new connection, committed
        (``context`` default :data:`COMMITTED_CONTEXT`)."""
        context = COMMITTED_CONTEXT if context is None else context
        with cls.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, dict(context))
            result = run(env)
            # outside a cron, _commit_progress commits
            env["ir.cron"]._commit_progress(0)
            return result

    def in_thread(self, name, run, results, context=None):
        """:meth:`run_env` of ``run`` in a thread named ``name``; its result
        or exception lands in ``results[name]``."""

        def target():
            try:
                results[name] = self.run_env(run, context)
            except Exception as exc:  # noqa: BLE001 -- reported by the test
                results[name] = exc

        thread = threading.Thread(target=target, name=name)
        thread.start()
        return thread

    @staticmethod
    def remove_orders(env, order_ids, product_id, partner_id):
        """The orders (cancelled first), product and customer a test
        committed: gone."""
        orders = env["sale.order"].browse(order_ids).exists()
        orders._action_cancel()
        orders.unlink()
        env["product.product"].browse(product_id).unlink()
        env["res.partner"].browse(partner_id).unlink()

    @classmethod
    def remove_periods(cls, env, company_ids, granularity=None, starts=None):
        """The stored history of these periods: gone."""
        domain = [("company_id", "in", company_ids)]
        if granularity:
            domain.append(("granularity", "=", granularity))
        if starts:
            domain.append(("date_start", "in", starts))
        env["crm.kpi.snapshot"].search(domain).unlink()
        cohort_domain = [
            ("period_start" if d[0] == "date_start" else d[0], *d[1:]) for d in domain
        ]
        env["crm.kpi.cohort"].search(cohort_domain).unlink()
        for model in ("crm.kpi.maturity", "crm.kpi.campaign.report"):
            env[model].search(domain).unlink()

    def period_values(self, company_id, start, columns):
        """The stored values of the month of ``start`` of the company, by
        scope and KPI: ``(scope_key, kpi_code, *columns)`` (columns of the
        value ``v`` and the snapshot ``s``)."""
        with self.cursor() as cr:
            cr.execute(
                SQL(
                    """SELECT s.scope_key, v.kpi_code, %s
                         FROM crm_kpi_value v
                         JOIN crm_kpi_snapshot s ON s.id = v.snapshot_id
                        WHERE s.company_id = %s AND s.granularity = 'month'
                          AND s.date_start = %s
                     ORDER BY 1, 2""",
                    # constant column names of the tests
                    SQL(", ").join(SQL(column) for column in columns),
                    company_id,
                    start,
                )
            )
            return cr.fetchall()
