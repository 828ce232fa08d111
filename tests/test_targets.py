from psycopg2 import IntegrityError

from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import D, KpiCase


@tagged("post_install", "-at_install")
class TestTargets(KpiCase):
    """Status of the stored values against targets.

    Data of March 2025, one order each, all in team A, salesman:
      c0: 100, c1: 200, c2: 150  -> revenue 450, 3 new customers,
      3 buyers -> average customer value 150, revenue per purchase 150,
      active at end E = 3, buyers 3 -> customer conversion rate 100 %,
      nobody active at start -> churn rate n/a."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        customers = cls.make_customers(3)
        cls.make_orders(
            [
                {"partner": customers[0], "date": D(2025, 3, 3), "amount": 100.0},
                {"partner": customers[1], "date": D(2025, 3, 10), "amount": 200.0},
                {"partner": customers[2], "date": D(2025, 3, 20), "amount": 150.0},
            ]
        )
        cls.Target = cls.env["crm.kpi.target"]
        cls.kpi = {k.code: k for k in cls.env["crm.kpi.definition"].search([])}

    def target(self, code, target, warning, **kw):
        vals = {
            "kpi_id": self.kpi[code].id,
            "company_id": self.company.id,
            "target_value": target,
            "warning_value": warning,
        }
        vals.update(kw)
        return self.Target.create(vals)

    def test_status_after_computation_and_target_changes(self):
        revenue_target = self.target("revenue", 500.0, 300.0, granularity="month")
        snaps = self.compute("month", D(2025, 3, 1))
        values = self.values(snaps)
        self.assertKpi(values, "revenue", 450.0)
        # 300 <= 450 < 500, higher is better -> warning
        self.assertEqual(values["revenue"].status, "warning")
        self.assertEqual(values["revenue"].target_id, revenue_target)
        self.assertEqual(values["revenue"].target_value, 500.0)
        # a KPI without target has no status, an n/a value has 'no data'
        self.assertFalse(values["new_customers"].status)
        self.assertFalse(values["new_customers"].target_id)
        self.assertKpi(values, "churn_rate", None)
        self.assertEqual(values["churn_rate"].status, "no_data")

        # changing the target updates the stored status without recomputing
        revenue_target.target_value = 450.0
        self.assertEqual(values["revenue"].status, "on_target")
        revenue_target.write({"target_value": 600.0, "warning_value": 460.0})
        self.assertEqual(values["revenue"].status, "off_target")
        self.assertEqual(values["revenue"].target_value, 600.0)
        # archived: no target any more
        revenue_target.active = False
        self.assertFalse(values["revenue"].status)
        self.assertFalse(values["revenue"].target_id)
        revenue_target.active = True
        self.assertEqual(values["revenue"].status, "off_target")
        revenue_target.unlink()
        self.assertFalse(values["revenue"].status)

        # the status is a stored, searchable column (Overview filter)
        self.target("revenue", 400.0, 300.0)
        Value = self.env["crm.kpi.value"]
        on_target = Value.search(
            [("company_id", "=", self.company.id), ("status", "=", "on_target")]
        )
        self.assertIn(values["revenue"], on_target)
        self.assertEqual(
            Value.search_count(
                [("company_id", "=", self.company.id), ("status", "=", "warning")]
            ),
            0,
        )
        # a recomputation of the period keeps the status
        snaps = self.compute("month", D(2025, 3, 1))
        self.assertEqual(self.values(snaps)["revenue"].status, "on_target")

    def test_lower_is_better(self):
        # revenue per purchase 150; lower is better, target 160, warning 200
        target = self.target("revenue_per_purchase", 160.0, 200.0, direction="down")
        values = self.values(self.compute("month", D(2025, 3, 1)))
        self.assertKpi(values, "revenue_per_purchase", 150.0)
        self.assertEqual(values["revenue_per_purchase"].status, "on_target")
        target.write({"target_value": 120.0})  # 120 < 150 <= 200
        self.assertEqual(values["revenue_per_purchase"].status, "warning")
        target.write({"warning_value": 140.0, "target_value": 120.0})  # 150 > 140
        self.assertEqual(values["revenue_per_purchase"].status, "off_target")
        # the direction defaults to the KPI's: churn, lower is better
        churn = self.target("churn_rate", 5.0, 10.0)
        self.assertEqual(churn.direction, self.kpi["churn_rate"].direction)

    def test_team_and_granularity_precedence(self):
        company_revenue = self.target("revenue", 500.0, 300.0)
        team_revenue = self.target("revenue", 1000.0, 400.0, team_id=self.team.id)
        conversion = self.target("customer_conversion_rate", 90.0, 80.0)
        snaps = self.compute("month", D(2025, 3, 1))
        company = self.values(snaps)
        team = self.values(snaps, "team", self.team.id)
        user = self.values(snaps, "user", self.salesman.id)
        # company: 450 against 500/300 -> warning
        self.assertEqual(company["revenue"].target_id, company_revenue)
        self.assertEqual(company["revenue"].status, "warning")
        # team A: 450 against its own 1000/400 -> warning, its own target
        self.assertKpi(team, "revenue", 450.0)
        self.assertEqual(team["revenue"].target_id, team_revenue)
        # a salesperson: the company revenue target (an amount) is not his
        self.assertFalse(user["revenue"].target_id)
        self.assertFalse(user["revenue"].status)
        # a rate: the company target applies to teams and people too
        # conversion = 3 buyers / 3 active at end = 100 % >= 90
        for values in (company, team, user):
            self.assertKpi(values, "customer_conversion_rate", 100.0)
            self.assertEqual(values["customer_conversion_rate"].target_id, conversion)
            self.assertEqual(values["customer_conversion_rate"].status, "on_target")
        # a target of the granularity wins over one for every granularity
        monthly = self.target("revenue", 450.0, 400.0, granularity="month")
        self.assertEqual(company["revenue"].target_id, monthly)
        self.assertEqual(company["revenue"].status, "on_target")
        # ... and a quarterly target does not apply to a month
        monthly.unlink()
        quarterly = self.target("revenue", 100.0, 50.0, granularity="quarter")
        self.assertEqual(company["revenue"].target_id, company_revenue)
        quarter = self.values(self.compute("quarter", D(2025, 3, 1)))
        self.assertEqual(quarter["revenue"].target_id, quarterly)
        self.assertEqual(quarter["revenue"].status, "on_target")

    def test_bad_targets(self):
        with (
            self.assertRaisesRegex(ValidationError, "at or below the target"),
            self.cr.savepoint(),
        ):
            self.target("revenue", 500.0, 600.0)
        with (
            self.assertRaisesRegex(ValidationError, "at or above the target"),
            self.cr.savepoint(),
        ):
            self.target("churn_rate", 5.0, 2.0, direction="down")
        helpdesk_team = self.env["helpdesk.ticket.team"].create(
            {"name": "KPI desk", "company_id": self.company.id}
        )
        with self.assertRaisesRegex(ValidationError, "not both"), self.cr.savepoint():
            self.target(
                "win_rate",
                50.0,
                40.0,
                team_id=self.team.id,
                helpdesk_team_id=helpdesk_team.id,
            )
        self.target("revenue", 500.0, 300.0)
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaises(IntegrityError),
            self.cr.savepoint(),
        ):
            self.target("revenue", 700.0, 300.0)
        # an archived duplicate is allowed (history of targets)
        self.target("revenue", 700.0, 300.0, active=False)
