"""CAC, CAC payback and campaign ROI; cost entries: bad input, import,
analytic sync."""

from datetime import date, datetime

from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import KpiCase

MARCH = date(2024, 3, 1)


@tagged("post_install", "-at_install")
class TestCosts(KpiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Campaign = cls.env["utm.campaign"]
        cls.camp_a = Campaign.create({"name": "KPI Cost Campaign A"})
        cls.camp_b = Campaign.create({"name": "KPI Cost Campaign B"})
        cls.camp_c = Campaign.create({"name": "KPI Cost Campaign C"})

        # 1,000 new customers in March 2024 (the spec's CAC example), one
        # order of 100 each (margin 100 - 60 = 40): 600 in team A, 400 in B.
        #   orders 0-29  : campaign A on the order          (team A)
        #   orders 30-49 : no campaign, opportunity of B    (team A)
        #   orders 50-54 : campaign C (no costs)            (team A)
        cls.new_customers = cls.make_customers(1000, "CostNew")
        opportunities = cls.make_leads(
            [
                {"created": datetime(2024, 2, 10, 9), "campaign": cls.camp_b}
                for _ in range(20)
            ]
        )
        specs = []
        for i, partner in enumerate(cls.new_customers):
            spec = {
                "partner": partner,
                "date": date(2024, 3, 1 + i % 28),
                "team": cls.team if i < 600 else cls.team_b,
            }
            if i < 30:
                spec["campaign"] = cls.camp_a
            elif i < 50:
                spec["opportunity"] = opportunities[i - 30]
            elif i < 55:
                spec["campaign"] = cls.camp_c
            specs.append(spec)
        # an existing customer (first purchase in January) buys again in
        # March through campaign A: 1,000 of revenue, not a new customer
        cls.old_customer = cls.make_customers(1, "CostOld")
        specs += [
            {"partner": cls.old_customer, "date": date(2024, 1, 15)},
            {
                "partner": cls.old_customer,
                "date": date(2024, 3, 20),
                "amount": 1000.0,
                "campaign": cls.camp_a,
            },
        ]
        cls.make_orders(specs)
        # campaign responses of March: 3 leads of campaign A
        cls.make_leads(
            [
                {"created": datetime(2024, 3, 5, 10), "campaign": cls.camp_a}
                for _ in range(3)
            ]
        )
        Cost = cls.env["crm.kpi.cost"]
        # sales 6,000,000 (team A) + 4,000,000 = 10,000,000
        # marketing 1,000 (A, team A) + 2,500 (B) + 4,996,500 = 5,000,000
        cls.costs = Cost.create(
            [
                cls._cost("Sales team A", 6_000_000, "sales", team=cls.team),
                cls._cost("Sales overhead", 4_000_000, "sales"),
                cls._cost(
                    "Campaign A ads",
                    1_000,
                    "marketing",
                    campaign=cls.camp_a,
                    team=cls.team,
                ),
                cls._cost(
                    "Campaign B mailing", 2_500, "marketing", campaign=cls.camp_b
                ),
                cls._cost("Brand", 4_996_500, "marketing"),
            ]
        )
        # May: a cost but no new customer
        Cost.create(cls._cost("May fair", 500, "marketing", day=date(2024, 5, 10)))
        cls.march = cls.Snapshot.compute_period("month", MARCH, companies=cls.company)

    @classmethod
    def _cost(
        cls, name, amount, category, campaign=None, team=None, day=date(2024, 3, 12)
    ):
        return {
            "name": name,
            "date": day,
            "amount": amount,
            "category": category,
            "campaign_id": campaign and campaign.id,
            "team_id": team and team.id,
            "company_id": cls.company.id,
        }

    # -- CAC ---------------------------------------------------------------
    def test_cac_spec_example(self):
        values = self.values(self.march)
        # (10,000,000 sales + 5,000,000 marketing) / 1,000 new customers
        self.assertKpi(values, "cac", 15_000.0)
        self.assertEqual(values["cac"].numerator, 15_000_000.0)
        self.assertEqual(values["cac"].denominator, 1000.0)
        # the old customer is not new: the customers family agrees on N
        self.assertKpi(values, "new_customers", 1000.0)

    def test_cac_payback(self):
        values = self.values(self.march)
        # gross profit of the new customers: 1,000 x 40 = 40,000 in one
        # month -> 40 per new customer and month; 15,000 / 40 = 375 months
        self.assertKpi(values, "cac_payback_months", 375.0)
        self.assertAlmostEqual(values["cac_payback_months"].denominator, 40_000.0)

    def test_cac_per_team(self):
        team_a = self.values(self.march, "team", self.team.id)
        # (6,000,000 + 1,000) / 600 new customers of team A = 10,001.67
        self.assertKpi(team_a, "cac", 6_001_000 / 600)
        # payback: 6,001,000 / (600 x 40 per month) = 250.04 months
        self.assertKpi(team_a, "cac_payback_months", 6_001_000 / 24_000)
        team_b = self.values(self.march, "team", self.team_b.id)
        self.assertKpi(team_b, "cac", None)
        self.assertIn("no costs", team_b["cac"].note)

    def test_cac_weekly(self):
        values = self.values(self.compute("week", date(2024, 3, 11)))
        # the week of 11-17 March holds all March costs (dated the 12th);
        # orders fall on day 1 + i % 28: residues 10..16 -> 35 x 7 + 7 = 252
        # new customers; CAC = 15,000,000 / 252
        self.assertKpi(values, "cac", 15_000_000 / 252)
        # a week is 7 x 12 / 365.25 months: payback = costs / (252 x 40 / that)
        self.assertKpi(
            values, "cac_payback_months", 15_000_000 / (10_080 / (84 / 365.25))
        )

    def test_cac_without_new_customers_or_costs(self):
        may = self.values(self.compute("month", date(2024, 5, 1)))
        self.assertKpi(may, "cac", None)
        self.assertIn("no new customers", may["cac"].note)
        self.assertEqual(may["cac"].numerator, 500.0)
        june = self.values(self.compute("month", date(2024, 6, 1)))
        self.assertKpi(june, "cac", None)
        self.assertIn("no costs", june["cac"].note)
        self.assertKpi(june, "campaign_roi", None)
        self.assertKpi(june, "cac_payback_months", None)

    # -- campaigns drill-down ----------------------------------------------
    def _campaigns(self, values):
        action = values["campaigns"].action_open_numerator()
        return self.env[action["res_model"]].search(action["domain"])

    def test_campaigns_drill_down(self):
        """The campaigns counted in March: A (orders, leads, cost), B (only
        through the opportunity of its orders, and a cost), C (orders, no
        cost) and D, which only has a cost; in both revenue modes."""
        camp_d = self.env["utm.campaign"].create({"name": "KPI Cost Campaign D"})
        self.env["crm.kpi.cost"].create(
            self._cost("Campaign D poster", 300, "marketing", campaign=camp_d)
        )
        values = self.values(self.compute("month", MARCH))
        expected = self.camp_a | self.camp_b | self.camp_c | camp_d
        self.assertKpi(values, "campaigns", 4)
        self.assertEqual(self._campaigns(values), expected)
        # team A: A's cost and orders, B's and C's orders (D's cost has no team)
        team_a = self.values(self.march, "team", self.team.id)
        self.assertEqual(
            self._campaigns(team_a), self.camp_a | self.camp_b | self.camp_c
        )
        self.assertKpi(team_a, "campaigns", 3)
        # invoice mode: no invoice in March, the costed campaigns still count
        self.company.kpi_revenue_source = "invoice"
        values = self.values(self.compute("month", MARCH))
        self.assertEqual(self._campaigns(values), self.camp_a | self.camp_b | camp_d)
        self.assertKpi(values, "campaigns", 3)
        self.assertEqual(
            self.Snapshot.reconcile_period("month", MARCH, companies=self.company),
            [],
        )

    # -- campaign ROI ------------------------------------------------------
    def test_campaign_roi_by_hand(self):
        values = self.values(self.march)
        # campaign A: revenue 30 x 100 + 1,000 (old customer) = 4,000, cost 1,000
        # campaign B: 20 orders of its opportunities x 100 = 2,000, cost 2,500
        # campaign C: 500 of revenue but no cost: left out of the total
        # total = (4,000 + 2,000 - 3,500) / 3,500 x 100 = 71.43 %
        self.assertKpi(values, "campaign_roi", 2500 / 3500 * 100)
        self.assertEqual(values["campaign_roi"].denominator, 3500.0)
        team_a = self.values(self.march, "team", self.team.id)
        # team A's campaign costs: campaign A only (1,000); its orders 4,000
        self.assertKpi(team_a, "campaign_roi", 300.0)

    def test_campaign_ranking(self):
        rows = self.env["crm.kpi.campaign.report"].search(
            [
                ("company_id", "=", self.company.id),
                ("granularity", "=", "month"),
                ("date_start", "=", MARCH),
            ]
        )
        self.assertEqual(rows.campaign_id, self.camp_a | self.camp_b | self.camp_c)
        # ranked by ROI: A (300 %), B (-20 %), then C (no cost, no ROI)
        self.assertEqual(
            [r.campaign_id.id for r in rows],
            [self.camp_a.id, self.camp_b.id, self.camp_c.id],
        )
        a, b, c = rows
        self.assertAlmostEqual(a.roi, 300.0)
        self.assertAlmostEqual(b.roi, (2000 - 2500) / 2500 * 100)
        self.assertFalse(c.has_roi)
        self.assertEqual((a.orders, b.orders, c.orders), (31, 20, 5))
        self.assertEqual((a.responses, b.responses, c.responses), (3, 0, 0))
        self.assertEqual((a.revenue, a.cost), (4000.0, 1000.0))
        # grouped, the ROI is the one of the costed campaigns together
        [group] = self.env["crm.kpi.campaign.report"]._read_group(
            [("id", "in", rows.ids)], [], ["roi:sum", "orders:sum"]
        )
        self.assertAlmostEqual(group[0], 2500 / 3500 * 100)
        self.assertEqual(group[1], 56)
        # drill-down from a row
        action = a.action_open_orders()
        self.assertEqual(
            self.env[action["res_model"]].search_count(action["domain"]), 31
        )
        action = b.action_open_orders()
        self.assertEqual(
            self.env[action["res_model"]].search_count(action["domain"]), 20
        )
        # recomputing replaces the rows
        self.compute("month", MARCH)
        self.assertEqual(
            self.env["crm.kpi.campaign.report"].search_count(
                [
                    ("company_id", "=", self.company.id),
                    ("date_start", "=", MARCH),
                    ("granularity", "=", "month"),
                ]
            ),
            3,
        )

    def test_drill_down(self):
        values = self.values(self.march)

        def count(action):
            return (
                self.env[action["res_model"]]
                .with_context(active_test=False)
                .search_count(action["domain"])
            )

        self.assertEqual(count(values["cac"].action_open_numerator()), 5)
        action = values["cac"].action_open_denominator()
        self.assertEqual(action["res_model"], "res.partner")
        self.assertEqual(count(action), 1000)
        # campaign ROI: the 31 + 20 orders of costed campaigns, their 2 costs
        self.assertEqual(count(values["campaign_roi"].action_open_numerator()), 51)
        self.assertEqual(count(values["campaign_roi"].action_open_denominator()), 2)
        # campaign orders: the drill-down lists exactly the orders counted
        orders = values["campaign_orders"]
        self.assertGreaterEqual(orders.value, 51)
        self.assertEqual(count(orders.action_open_numerator()), orders.value)
        self.assertEqual(
            count(values["cac_payback_months"].action_open_denominator()), 1000
        )

    # -- bad input ---------------------------------------------------------
    def test_refuses_bad_amounts(self):
        Cost = self.env["crm.kpi.cost"]
        for amount in (0.0, -10.0):
            with self.assertRaisesRegex(ValidationError, "greater than zero"):
                Cost.create(self._cost("Bad", amount, "sales"))
        with self.assertRaisesRegex(ValidationError, "greater than zero"):
            self.costs[0].amount = -1

    def test_currency_conversion_and_missing_rate(self):
        Cost = self.env["crm.kpi.cost"]
        vals = dict(
            self._cost("Fair in EUR", 100.0, "marketing"), currency_id=self.eur.id
        )
        # no EUR rate in this company's records: refused, nothing saved
        before = Cost.search_count([])
        with (
            self.assertRaisesRegex(ValidationError, "EUR has no exchange rate"),
            self.env.cr.savepoint(),
        ):
            Cost.create(vals)
        self.assertEqual(Cost.search_count([]), before)
        # 1 USD = 0.8 EUR from 2024-03-01: 100 EUR = 125 USD; earlier dates refused
        self.env["res.currency.rate"].create(
            {
                "name": "2024-03-01",
                "rate": 0.8,
                "currency_id": self.eur.id,
                "company_id": self.company.id,
            }
        )
        cost = Cost.create(vals)
        self.assertAlmostEqual(cost.amount_company, 125.0)
        with self.assertRaisesRegex(ValidationError, "on or before 2024-02-28"):
            cost.date = date(2024, 2, 28)

    def test_import_bad_row_imports_nothing(self):
        Cost = self.env["crm.kpi.cost"].with_context(import_file=True)
        fields = ["name", "date", "amount", "category"]
        before = Cost.search_count([])
        result = Cost.load(
            fields,
            [
                ["Import ok", "2024-03-02", "100", "sales"],
                ["Import bad", "2024-03-03", "-5", "marketing"],
                ["Import ok 2", "2024-03-04", "50", "marketing"],
            ],
        )
        self.assertFalse(result["ids"])
        errors = [m for m in result["messages"] if m["type"] == "error"]
        # the error names the second data row (index 1) and the entry
        self.assertIn(1, [e["rows"]["from"] for e in errors])
        for error in errors:
            self.assertIn("Import bad of 2024-03-03", error["message"])
            self.assertIn("greater than zero", error["message"])
        self.assertEqual(Cost.search_count([]), before)
        result = Cost.load(fields, [["Import ok", "2024-03-02", "100", "sales"]])
        self.assertEqual(len(result["ids"]), 1)
        self.assertEqual(Cost.browse(result["ids"]).source, "import")


@tagged("post_install", "-at_install")
class TestCostSync(KpiCase):
    """Costs drawn from posted journal items on mapped analytic accounts."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.company
        cls.env.user.group_ids |= cls.env.ref("analytic.group_analytic_accounting")
        Account = cls.env["account.account"].with_company(company)
        cls.expense = Account.create(
            {
                "name": "KPI Ads",
                "code": "KPI610",
                "account_type": "expense",
                "company_ids": [Command.set(company.ids)],
            }
        )
        cls.payable = Account.create(
            {
                "name": "KPI Payable",
                "code": "KPI401",
                "account_type": "liability_current",
                "company_ids": [Command.set(company.ids)],
            }
        )
        cls.journal = cls.env["account.journal"].create(
            {
                "name": "KPI Misc",
                "code": "KPIM",
                "type": "general",
                "company_id": company.id,
            }
        )
        plan = cls.env["account.analytic.plan"].create({"name": "KPI Departments"})
        Analytic = cls.env["account.analytic.account"]
        cls.acc_marketing, cls.acc_sales, cls.acc_other = Analytic.create(
            [
                {"name": f"KPI {n}", "plan_id": plan.id, "company_id": company.id}
                for n in ("Marketing", "Sales", "Other")
            ]
        )
        company.kpi_cost_marketing_analytic_ids = cls.acc_marketing
        company.kpi_cost_sales_analytic_ids = cls.acc_sales
        # 5 new customers in March 2024
        cls.make_orders(
            [
                {"partner": p, "date": date(2024, 3, 10)}
                for p in cls.make_customers(5, "Sync")
            ]
        )
        # expenses: 1,000 all marketing; 300 half sales half unmapped
        cls.move = (
            cls.env["account.move"]
            .with_company(company)
            .create(
                {
                    "move_type": "entry",
                    "journal_id": cls.journal.id,
                    "date": date(2024, 3, 15),
                    "line_ids": [
                        Command.create(
                            {
                                "name": "Ads",
                                "account_id": cls.expense.id,
                                "debit": 1000.0,
                                "analytic_distribution": {
                                    str(cls.acc_marketing.id): 100
                                },
                            }
                        ),
                        Command.create(
                            {
                                "name": "Sales tools",
                                "account_id": cls.expense.id,
                                "debit": 300.0,
                                "analytic_distribution": {
                                    str(cls.acc_sales.id): 50,
                                    str(cls.acc_other.id): 50,
                                },
                            }
                        ),
                        Command.create(
                            {
                                "name": "Payable",
                                "account_id": cls.payable.id,
                                "credit": 1300.0,
                            }
                        ),
                    ],
                }
            )
        )
        # a draft move is not synced
        cls.draft = cls.move.copy({"date": date(2024, 3, 16)})
        cls.move.action_post()

    def _cac(self):
        return self.values(self.compute("month", date(2024, 3, 1)))["cac"]

    def test_resync_gives_the_same_cac(self):
        Cost = self.env["crm.kpi.cost"]
        self.assertEqual(Cost._kpi_sync_analytic(self.company), (2, 0, 0))
        costs = Cost.search([("company_id", "=", self.company.id)])
        self.assertEqual(
            sorted((c.category, c.amount, c.source) for c in costs),
            [("marketing", 1000.0, "analytic"), ("sales", 150.0, "analytic")],
        )
        # (1,000 marketing + 150 sales) / 5 new customers = 230
        self.assertAlmostEqual(self._cac().value, 230.0)
        self.assertEqual(Cost._kpi_sync_analytic(self.company), (0, 0, 0))
        self.assertEqual(Cost.search_count([("company_id", "=", self.company.id)]), 2)
        self.assertAlmostEqual(self._cac().value, 230.0)
        # the button does the same
        Cost.with_user(self.manager).action_sync_analytic()
        self.assertAlmostEqual(self._cac().value, 230.0)

    def test_same_item_cannot_be_linked_twice(self):
        Cost = self.env["crm.kpi.cost"]
        Cost._kpi_sync_analytic(self.company)
        cost = Cost.search([("company_id", "=", self.company.id)], limit=1)
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaises(IntegrityError),
            self.env.cr.savepoint(),
        ):
            cost.copy({"analytic_line_id": cost.analytic_line_id.id})
            self.env.flush_all()

    def test_unposted_or_unmapped_items_leave(self):
        Cost = self.env["crm.kpi.cost"]
        Cost._kpi_sync_analytic(self.company)
        self.company.kpi_cost_sales_analytic_ids = False
        self.assertEqual(Cost._kpi_sync_analytic(self.company), (0, 0, 1))
        self.assertAlmostEqual(self._cac().value, 200.0)  # 1,000 / 5
        self.move.button_draft()
        self.assertFalse(Cost.search_count([("company_id", "=", self.company.id)]))
        cac = self._cac()
        self.assertFalse(cac.has_value)

    def test_mapping_one_category_per_account(self):
        with self.assertRaisesRegex(ValidationError, "both sales and marketing"):
            self.company.kpi_cost_sales_analytic_ids = self.acc_marketing
