# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from datetime import date, datetime, timedelta

from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL

from odoo.addons.crm_success_kpi.generator.history import (
    PARAM_PREFIX,
    demo_targets,
    generate,
)

END = date(2025, 6, 30)
SIZE = {"customers": 40, "months": 6, "seed": 7, "end_date": END}


class _Undo(Exception):
    """Raised to roll a savepoint back on purpose."""


@tagged("post_install", "-at_install")
class TestGenerator(TransactionCase):
    def _snapshot(self):
        """Id-free aggregates of the generated rows."""
        cr = self.env.cr
        self.env.flush_all()
        snap = {}
        cr.execute(
            """
            SELECT so.name, p.name, so.date_order, so.amount_untaxed, so.amount_total,
                   so.margin, so.currency_rate, c.name, l.name, camp.name::text,
                   so.state
              FROM sale_order so
              JOIN res_partner p ON p.id = so.partner_id
              JOIN res_currency c ON c.id = so.currency_id
              LEFT JOIN crm_lead l ON l.id = so.opportunity_id
              LEFT JOIN utm_campaign camp ON camp.id = so.campaign_id
             WHERE so.id > %s ORDER BY so.name""",
            [self.max_id["sale_order"]],
        )
        snap["orders"] = cr.fetchall()
        cr.execute(
            """
            SELECT so.name, sol.name, sol.product_uom_qty, sol.price_unit, sol.discount,
                   sol.price_subtotal, sol.purchase_price, sol.margin
              FROM sale_order_line sol JOIN sale_order so ON so.id = sol.order_id
             WHERE so.id > %s ORDER BY so.name, sol.sequence""",
            [self.max_id["sale_order"]],
        )
        snap["lines"] = cr.fetchall()
        cr.execute(
            """
            SELECT l.name, l.type, l.won_status, l.active, l.probability, l.create_date,
                   l.date_closed, l.date_conversion, l.expected_revenue, p.name
              FROM crm_lead l LEFT JOIN res_partner p ON p.id = l.partner_id
             WHERE l.id > %s ORDER BY l.create_date, l.name, l.id""",
            [self.max_lead],
        )
        snap["leads"] = cr.fetchall()
        cr.execute(
            """
            SELECT t.number, t.name, t.create_date, t.closed_date, s.closed, p.name
              FROM helpdesk_ticket t
              JOIN helpdesk_ticket_stage s ON s.id = t.stage_id
              JOIN res_partner p ON p.id = t.partner_id
             WHERE t.id > %s ORDER BY t.number""",
            [self.max_id["helpdesk_ticket"]],
        )
        snap["tickets"] = cr.fetchall()
        cr.execute(
            """
            SELECT m.model, m.message_type, m.date, a.name
              FROM mail_message m LEFT JOIN res_partner a ON a.id = m.author_id
             WHERE m.id > %s AND m.message_id LIKE '<kpiG%%'
             ORDER BY m.date, m.model, m.message_type, a.name""",
            [self.max_id["mail_message"]],
        )
        snap["messages"] = cr.fetchall()
        cr.execute(
            """
            SELECT name, customer_rank, is_company, create_date FROM res_partner
             WHERE ref LIKE 'KPIG%%' AND id > %s ORDER BY ref""",
            [self.max_id["res_partner"]],
        )
        snap["customers"] = cr.fetchall()
        cr.execute(
            """
            SELECT i.end_datetime, p.name, l.answer_type, l.value_scale,
                   l.value_numerical_box
              FROM survey_user_input i
              JOIN res_partner p ON p.id = i.partner_id
              JOIN survey_user_input_line l ON l.user_input_id = i.id
             WHERE i.access_token LIKE 'kpigen%%' AND p.id > %s
             ORDER BY i.end_datetime, p.name""",
            [self.max_id["res_partner"]],
        )
        snap["surveys"] = cr.fetchall()
        return snap

    def setUp(self):
        super().setUp()
        # the database may already hold generated data: look only past it
        self.max_id = {}
        for table in (
            "res_partner",
            "sale_order",
            "crm_lead",
            "helpdesk_ticket",
            "mail_message",
        ):
            self.env.cr.execute(
                SQL("SELECT COALESCE(max(id), 0) FROM %s", SQL.identifier(table))
            )
            self.max_id[table] = self.env.cr.fetchone()[0]
        self.max_lead = self.max_id["crm_lead"]

    def test_generator_deterministic_and_consistent(self):
        # first run inside a savepoint that is rolled back
        first = {}
        with self.assertRaises(_Undo), self.env.cr.savepoint():
            first["counts"] = generate(self.env, **SIZE)
            first["snap"] = self._snapshot()
            raise _Undo()
        self.env.invalidate_all()
        self.assertFalse(
            self.env["ir.config_parameter"].sudo().get_param(PARAM_PREFIX + "7")
        )

        counts = generate(self.env, **SIZE)
        snap = self._snapshot()

        # determinism: same seed and end_date => same data
        for key in (
            "customers",
            "sale_orders",
            "sale_order_lines",
            "leads",
            "tickets",
            "messages",
            "leads_won",
            "leads_lost",
        ):
            self.assertEqual(counts[key], first["counts"][key], key)
        for key, rows in snap.items():
            self.assertEqual(rows, first["snap"][key], key)

        # idempotence: same seed again is skipped
        again = generate(self.env, **SIZE)
        self.assertTrue(again.get("skipped"))
        self.assertEqual(again["sale_orders"], counts["sale_orders"])

        self._check_consistency(counts)

    def _check_consistency(self, counts):
        env = self.env
        cr = env.cr
        self.assertEqual(counts["customers"], 40)
        self.assertGreater(counts["sale_orders"], 40)
        self.assertGreater(counts["leads_won"], 0)
        self.assertGreater(counts["leads_lost"], 0)
        self.assertGreater(counts["tickets"], 0)
        self.assertGreater(counts["messages"], counts["tickets"])

        partners = env["res.partner"].search(
            [("ref", "=like", "KPIG%"), ("id", ">", self.max_id["res_partner"])]
        )
        self.assertEqual(len(partners), 40)
        self.assertTrue(all(p.customer_rank > 0 for p in partners))
        self.assertTrue(all(p.commercial_partner_id == p for p in partners))

        orders = env["sale.order"].search([("id", ">", self.max_id["sale_order"])])
        self.assertEqual(len(orders), counts["sale_orders"])
        self.assertEqual(set(orders.mapped("state")), {"sale"})
        # the customers' revenue figures follow the orders written in SQL
        stats = env["crm.kpi.customer.stat"].search(
            [("partner_id", "in", partners.ids)]
        )
        self.assertEqual(
            set(stats.partner_id.ids), set(orders.partner_id.commercial_partner_id.ids)
        )
        for partner in partners[:5]:
            mine = orders.filtered(lambda o, p=partner: o.partner_id == p)
            stat = stats.filtered(lambda s, p=partner: s.partner_id == p)
            self.assertEqual(stat.order_count, len(mine))
            self.assertAlmostEqual(
                stat.revenue,
                sum(o.amount_untaxed / (o.currency_rate or 1.0) for o in mine),
                places=2,
            )
        start = datetime(2025, 1, 1)
        end = datetime(2025, 6, 30, 23, 59, 59)
        for order in orders:
            self.assertTrue(order.order_line, order.name)
            self.assertAlmostEqual(
                sum(order.order_line.mapped("price_subtotal")), order.amount_untaxed, 2
            )
            self.assertAlmostEqual(
                order.amount_untaxed + order.amount_tax, order.amount_total, 2
            )
            self.assertAlmostEqual(
                sum(order.order_line.mapped("margin")), order.margin, 2
            )
            self.assertTrue(start <= order.date_order <= end, order.name)
            self.assertTrue(order.partner_id.commercial_partner_id.customer_rank > 0)
        # second currency with a real rate, and links to won opportunities
        company_currency = env.ref("base.main_company").currency_id
        foreign = orders.filtered(lambda o: o.currency_id != company_currency)
        self.assertTrue(foreign, "second currency expected")
        self.assertTrue(all(o.currency_rate != 1.0 for o in foreign))
        self.assertTrue(orders.filtered("opportunity_id"))

        # the ORM recomputes the same amounts, margins and rates
        sample = orders[:15] | foreign[:15]
        stored = {
            o.id: (o.amount_untaxed, o.amount_total, o.margin, o.currency_rate)
            for o in sample
        }
        env.invalidate_all()
        sample = env["sale.order"].browse(list(stored))
        sample.order_line._compute_amount()
        sample.order_line._compute_purchase_price()
        sample.order_line._compute_margin()
        sample._compute_amounts()
        sample._compute_currency_rate()
        sample._compute_margin()
        for order in sample:
            untaxed, total, margin, rate = stored[order.id]
            self.assertAlmostEqual(order.amount_untaxed, untaxed, 2)
            self.assertAlmostEqual(order.amount_total, total, 2)
            self.assertAlmostEqual(order.margin, margin, delta=0.011)
            self.assertAlmostEqual(order.currency_rate, rate, 9)
        env.invalidate_all()

        Lead = env["crm.lead"].with_context(active_test=False)
        leads = Lead.search([("id", ">", self.max_lead)])
        self.assertEqual(len(leads), counts["leads"])
        won = leads.filtered(lambda lead: lead.won_status == "won")
        lost = leads.filtered(lambda lead: lead.won_status == "lost")
        self.assertEqual(len(won), counts["leads_won"])
        self.assertEqual(len(lost), counts["leads_lost"])
        self.assertTrue(
            all(
                lead.date_closed and lead.probability == 100 and lead.stage_id.is_won
                for lead in won
            )
        )
        self.assertTrue(
            all(
                lead.date_closed and not lead.active and lead.lost_reason_id
                for lead in lost
            )
        )
        self.assertTrue(won.filtered("date_conversion"))
        self.assertTrue(leads.filtered("source_id"))

        tickets = env["helpdesk.ticket"].search(
            [("id", ">", self.max_id["helpdesk_ticket"])]
        )
        self.assertEqual(len(tickets), counts["tickets"])
        closed = tickets.filtered("closed")
        self.assertTrue(closed)
        self.assertTrue(all(t.closed_date for t in closed))
        ticket = tickets[0]
        self.assertTrue(ticket.message_ids)
        self.assertIn(
            ticket.commercial_partner_id,
            ticket.message_ids.author_id
            | ticket.message_ids.author_id.commercial_partner_id,
        )

        # optional parts: surveys and costs of the KPI addon, when present
        Survey = env["survey.survey"]
        if "kpi_survey_type" in Survey._fields and env.ref(
            "crm_success_kpi.survey_kpi_nps", raise_if_not_found=False
        ):
            self.assertGreater(counts["survey_answers"], 0)
            inputs = env["survey.user_input"].search(
                [
                    ("access_token", "=like", "kpigen%"),
                    ("partner_id", ">", self.max_id["res_partner"]),
                ]
            )
            self.assertEqual(len(inputs), counts["survey_answers"])
            self.assertEqual(set(inputs.mapped("state")), {"done"})
            self.assertTrue(all(i.user_input_line_ids for i in inputs))
        else:
            self.assertTrue(counts.get("survey_skipped"))
        if "crm.kpi.cost" in env:
            self.assertGreater(counts["costs"], 0)
        else:
            self.assertTrue(counts.get("costs_skipped"))

        cr.execute(
            """
            SELECT count(*) FROM mail_message
             WHERE mail_activity_type_id IS NOT NULL AND message_id LIKE '<kpiG%%'
               AND id > %s""",
            [self.max_id["mail_message"]],
        )
        self.assertEqual(cr.fetchone()[0], counts["activities_done"])


NOW = datetime(2025, 6, 18, 14, 30)
TODAY_SIZE = {
    "customers": 300,
    "months": 16,
    "seed": 11,
    "end_date": NOW.date(),
    "now": NOW,
}


@tagged("post_install", "-at_install")
class TestGeneratorPresent(TransactionCase):
    """History generated "today", in the middle of a month: nothing after
    the moment of generation, the current month at the usual daily pace, a
    CRM investment and (after the snapshots) demo targets."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cr = cls.env.cr
        cls.max_id = {}
        for table in (
            "sale_order",
            "crm_lead",
            "helpdesk_ticket",
            "mail_message",
            "mail_activity",
            "survey_user_input",
            "res_partner",
        ):
            cr.execute(
                SQL("SELECT COALESCE(max(id), 0) FROM %s", SQL.identifier(table))
            )
            cls.max_id[table] = cr.fetchone()[0]
        cls.counts = generate(cls.env, **TODAY_SIZE)
        cls.company = cls.env.ref("base.main_company")

    def _latest(self, table, columns):
        cr = self.env.cr
        # the generated messages (the records the ORM creates at the same
        # time, such as the investment, log theirs at the real time)
        generated = (
            SQL("message_id LIKE %s", "<kpiG%")
            if table == "mail_message"
            else SQL("TRUE")
        )
        cr.execute(
            SQL(
                "SELECT %s FROM %s WHERE id > %s AND %s",
                SQL(", ").join(SQL("max(%s)", SQL.identifier(c)) for c in columns),
                SQL.identifier(table),
                self.max_id[table],
                generated,
            )
        )
        return dict(zip(columns, cr.fetchone(), strict=True))

    def test_nothing_after_generation_time(self):
        self.assertGreater(self.counts["sale_orders"], 300)
        checked = {
            "sale_order": ("date_order", "create_date", "write_date"),
            "crm_lead": (
                "create_date",
                "write_date",
                "date_open",
                "date_conversion",
                "date_closed",
                "date_last_stage_update",
            ),
            # (the tickets' write_date is the real time: the addon's own
            # figures are computed on them through the ORM)
            "helpdesk_ticket": (
                "create_date",
                "assigned_date",
                "closed_date",
                "last_stage_update",
            ),
            "mail_message": ("date", "create_date", "write_date"),
            "mail_activity": ("create_date", "write_date"),
            "survey_user_input": (
                "create_date",
                "write_date",
                "start_datetime",
                "end_datetime",
            ),
        }
        late = []
        for table, columns in checked.items():
            for column, latest in self._latest(table, columns).items():
                self.assertTrue(latest, f"{table}.{column}: nothing generated")
                if latest > NOW:
                    late.append(f"{table}.{column} {latest}")
        self.assertFalse(late)
        # the current month did happen: orders, leads and tickets until today
        self.assertGreaterEqual(
            self._latest("sale_order", ["date_order"])["date_order"],
            datetime(2025, 6, 15),
        )
        for model in ("crm.kpi.cost", "crm.kpi.investment.entry"):
            dates = self.env[model].search([]).mapped("date")
            self.assertTrue(dates, model)
            self.assertLessEqual(max(dates), NOW.date(), model)
        # what has not happened yet: tickets and leads created lately are open
        cr = self.env.cr
        cr.execute(
            SQL(
                """SELECT count(*) FILTER (WHERE closed_date IS NULL), count(*)
                     FROM helpdesk_ticket WHERE id > %s AND create_date > %s""",
                self.max_id["helpdesk_ticket"],
                NOW - timedelta(hours=6),
            )
        )
        still_open, recent = cr.fetchone()
        self.assertGreater(recent, 0)
        self.assertGreater(still_open, 0)

    def test_current_month_at_the_daily_pace(self):
        cr = self.env.cr
        june = datetime(2025, 6, 1)
        cr.execute(
            SQL(
                """SELECT count(*) FILTER (WHERE date_order >= %s),
                          count(*) FILTER (WHERE date_order < %s)
                     FROM sale_order
                    WHERE id > %s AND date_order >= %s""",
                june,
                june,
                self.max_id["sale_order"],
                datetime(2025, 5, 1),
            )
        )
        current, may = cr.fetchone()
        elapsed_days = (NOW - june).total_seconds() / 86400
        per_day_now, per_day_may = current / elapsed_days, may / 31
        self.assertGreater(may, 100)
        self.assertTrue(
            0.5 * per_day_may <= per_day_now <= 1.5 * per_day_may,
            f"{per_day_now:.1f} orders a day in June against {per_day_may:.1f} in May",
        )

    def test_investment_and_demo_targets(self):
        investment = self.env["crm.kpi.investment"].search(
            [("company_id", "=", self.company.id)]
        )
        self.assertEqual(len(investment), 1)
        # went live 12 months before the current month, with costs
        self.assertEqual(investment.go_live_date, date(2024, 6, 1))
        self.assertEqual(
            set(investment.entry_ids.mapped("category")),
            {"implementation", "training", "license", "maintenance"},
        )
        self.assertGreater(investment.total_cost, 0)
        # the last closed month: ROI, NPV, IRR and payback have values
        self.env["crm.kpi.snapshot"].compute_period(
            "month", date(2025, 5, 1), companies=self.company
        )
        Value = self.env["crm.kpi.value"]
        company_may = [
            ("company_id", "=", self.company.id),
            ("scope", "=", "company"),
            ("granularity", "=", "month"),
            ("date_start", "=", date(2025, 5, 1)),
        ]
        for code in ("crm_roi", "crm_npv", "crm_irr", "crm_payback_months"):
            value = Value.search([*company_may, ("kpi_code", "=", code)])
            self.assertEqual(len(value), 1, code)
            self.assertTrue(value.has_value, f"{code}: {value.note}")
        payback = Value.search([*company_may, ("kpi_code", "=", "crm_payback_months")])
        self.assertTrue(0 < payback.value <= 11, payback.value)

        created = demo_targets(self.env, companies=self.company)
        headline = self.env["crm.kpi.definition"].search([("headline", "=", True)])
        self.assertEqual(created, len(headline))
        targets = self.env["crm.kpi.target"].search(
            [("company_id", "=", self.company.id), ("team_id", "=", False)]
        )
        self.assertEqual(targets.kpi_id, headline)
        # the statuses of May: some on target, some warning, some off
        values = Value.search([*company_may, ("kpi_id", "in", headline.ids)])
        statuses = set(values.filtered("has_value").mapped("status"))
        self.assertEqual(statuses, {"on_target", "warning", "off_target"})
        # again: nothing more
        self.assertEqual(demo_targets(self.env, companies=self.company), 0)


# the benchmark's proportions (5 orders a customer), over two years
FLAT_SIZE = {
    "customers": 1500,
    "months": 24,
    "seed": 13,
    "end_date": date(2025, 6, 30),
    "now": datetime(2025, 7, 1, 12, 0),
    "scale": {"customers": 1500, "leads": 7500, "orders": 7500, "tickets": 4500},
}
# the first months hold fewer customers than the volume asks (the repeat
# orders of a month are those of its active customers): compared after them
SETTLED = 6


@tagged("post_install", "-at_install")
class TestGeneratorFlatGrowth(TransactionCase):
    """``growth="flat"``: the same volume every month, where the default
    curve grows (the benchmark compares histories of different lengths)."""

    def _monthly(self, table, column, after, extra=None):
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """SELECT date_trunc('month', %s), count(*) FROM %s
                    WHERE id > %s AND %s GROUP BY 1 ORDER BY 1""",
                SQL.identifier(column),
                SQL.identifier(table),
                after,
                extra or SQL("TRUE"),
            )
        )
        return dict(self.env.cr.fetchall())

    def _volumes(self, growth):
        cr = self.env.cr
        after = {}
        for table in ("sale_order", "crm_lead", "helpdesk_ticket"):
            cr.execute(
                SQL("SELECT COALESCE(max(id), 0) FROM %s", SQL.identifier(table))
            )
            after[table] = cr.fetchone()[0]
        with self.assertRaises(_Undo), cr.savepoint():
            counts = generate(self.env, growth=growth, **FLAT_SIZE)
            volumes = {
                "orders": self._monthly(
                    "sale_order", "date_order", after["sale_order"]
                ),
                # the leads of prospects, placed by the growth curve (won
                # opportunities follow the orders)
                "leads": self._monthly(
                    "crm_lead",
                    "create_date",
                    after["crm_lead"],
                    SQL("won_status != 'won'"),
                ),
                "tickets": self._monthly(
                    "helpdesk_ticket", "create_date", after["helpdesk_ticket"]
                ),
            }
            raise _Undo()
        self.env.invalidate_all()
        return counts, volumes

    def test_flat_growth_same_volume_every_month(self):
        counts, volumes = self._volumes("flat")
        self.assertGreater(counts["sale_orders"], 7000)
        for name, monthly in volumes.items():
            self.assertEqual(len(monthly), 24, name)
            values = list(monthly.values())[SETTLED:]
            mean = sum(values) / len(values)
            # a month's volume is drawn at random around the mean: about
            # 300 orders, 250 leads, 190 tickets, a few percent apart
            for month, count in list(monthly.items())[SETTLED:]:
                self.assertTrue(
                    0.8 * mean <= count <= 1.2 * mean,
                    f"{name}: {count} in {month:%Y-%m} against {mean:.0f} a month",
                )
        # the default curve grows: its last half-year is well above the one
        # a year before, where the flat history stays level
        _counts, curve = self._volumes("curve")
        for name in ("orders", "leads", "tickets"):
            grown = list(curve[name].values())
            level = list(volumes[name].values())
            self.assertGreater(sum(grown[18:]) / sum(grown[6:12]), 1.2, name)
            self.assertLess(abs(sum(level[18:]) / sum(level[6:12]) - 1), 0.1, name)

    def test_unknown_growth_refused(self):
        with self.assertRaises(ValueError):
            generate(self.env, growth="steep", **FLAT_SIZE)
