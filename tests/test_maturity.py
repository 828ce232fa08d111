from odoo.exceptions import ValidationError
from odoo.tests import tagged

from ..kpi.base import Result, count, na
from .common import D, KpiCase

COMPANY = ("company", None)


@tagged("post_install", "-at_install")
class TestMaturity(KpiCase):
    """The maturity stage is read from the stored company values of the
    period.  Each stage gets values built for it and stored through the
    engine's own ``_store`` (which runs the after-store hook, as a real
    computation does), independent of which families are installed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.kpi_maturity_min_responses = 30
        kpis = {k.code: k for k in cls.env["crm.kpi.definition"].search([])}
        cls.Target = cls.env["crm.kpi.target"]
        cls.retention_target = cls.Target.create(
            {
                "kpi_id": kpis["retention_rate"].id,
                "company_id": cls.company.id,
                "target_value": 90.0,
                "warning_value": 80.0,
            }
        )
        cls.renewal_target = cls.Target.create(
            {
                "kpi_id": kpis["renewal_rate"].id,
                "company_id": cls.company.id,
                "target_value": 85.0,
                "warning_value": 75.0,
            }
        )

    # -- values of each stage ------------------------------------------------
    @staticmethod
    def stage_values(stage):
        """Company values meeting every criterion up to ``stage``."""
        values = {
            # nothing of stage 1: no customers active, no lead
            "customer_conversion_rate": na("no customers active at end"),
            "new_customers": count(0),
            "prospects": count(0),
        }
        if stage >= 1:
            values.update(
                {
                    # E = 10 customers active at end, 20 leads created
                    "customer_conversion_rate": Result(100.0, 10.0, 10.0),
                    "new_customers": count(3),
                    "prospects": count(20),
                    "average_customer_value": na("no buying customer"),
                    "clv": na("no churn in the last 12 months"),
                }
            )
        if stage >= 2:
            values.update(
                {
                    # 10 buyers: top 20 % = 2 customers; CLV 6,000
                    "average_customer_value": Result(500.0, 5000.0, 10.0),
                    "clv": Result(6000.0, 600.0, 0.1),
                }
            )
        if stage >= 3:
            # 40 NPS responses >= 30, NPS 20
            values["nps"] = Result(20.0, 8.0, 40.0)
        if stage >= 4:
            # costs 15,000 for 10 new customers: CAC 1,500; CLV / CAC = 4
            values["cac"] = Result(1500.0, 15000.0, 10.0)
        if stage >= 5:
            # retention 95 >= 90, renewal 90 >= 85, NPS 20 > 0
            values["retention_rate"] = Result(95.0, 95.0, 100.0)
            values["renewal_rate"] = Result(90.0, 90.0, 100.0)
        else:
            values["retention_rate"] = Result(70.0, 70.0, 100.0)
            values["renewal_rate"] = Result(60.0, 60.0, 100.0)
        return values

    def store(self, values, day=None, granularity="month"):
        day = day or D(2025, 6, 1)
        ctx = self.Snapshot._period_context(self.company, granularity, day)
        snaps = self.Snapshot._store(ctx, {COMPANY: values})
        return self.env["crm.kpi.maturity"].search(
            [
                ("company_id", "=", self.company.id),
                ("granularity", "=", granularity),
                ("date_start", "=", ctx.date_start),
            ]
        ), snaps

    def criteria(self, maturity, level):
        return {c.code: c for c in maturity.criterion_ids if c.level == level}

    # -- one test per stage --------------------------------------------------
    def test_stage_0_nothing(self):
        maturity, _snaps = self.store(self.stage_values(0))
        self.assertEqual(maturity.level, 0)
        self.assertEqual(maturity.stage, "0")
        self.assertEqual(maturity.next_stage, "1")
        nxt = {c.code: c.met for c in maturity.next_criterion_ids}
        self.assertEqual(nxt, {"customers": False, "leads": False})

    def test_stage_1_awareness(self):
        maturity, _snaps = self.store(self.stage_values(1))
        self.assertEqual(maturity.level, 1)
        self.assertEqual(maturity.stage, "1")
        focus = self.criteria(maturity, 2)
        self.assertFalse(focus["average_customer_value"].met)
        self.assertFalse(focus["clv"].met)
        self.assertIn("no churn", focus["clv"].detail)
        self.assertFalse(focus["top_customers"].met)

    def test_stage_2_focus(self):
        maturity, _snaps = self.store(self.stage_values(2))
        self.assertEqual(maturity.level, 2)
        self.assertIn(
            "2 top customers of 10", self.criteria(maturity, 2)["top_customers"].detail
        )
        survey = self.criteria(maturity, 3)["survey_sample"]
        self.assertFalse(survey.met)
        self.assertEqual(maturity.next_criterion_ids, survey)

    def test_stage_3_satisfaction(self):
        maturity, _snaps = self.store(self.stage_values(3))
        self.assertEqual(maturity.level, 3)
        value = self.criteria(maturity, 4)
        self.assertFalse(value["costs"].met)
        self.assertFalse(value["cac"].met)
        self.assertFalse(value["clv_cac"].met)
        # the minimum sample is a setting: 50 > 40 responses -> back to 2
        self.company.kpi_maturity_min_responses = 50
        maturity._recompute()
        self.assertEqual(maturity.level, 2)
        with self.assertRaises(ValidationError):
            self.company.kpi_maturity_min_responses = 0

    def test_stage_4_value(self):
        maturity, _snaps = self.store(self.stage_values(4))
        self.assertEqual(maturity.level, 4)
        self.assertIn("4.00", self.criteria(maturity, 4)["clv_cac"].detail)
        loyalty = self.criteria(maturity, 5)
        # retention 70 < 90, renewal 60 < 85; NPS 20 > 0
        self.assertFalse(loyalty["retention_rate"].met)
        self.assertFalse(loyalty["renewal_rate"].met)
        self.assertTrue(loyalty["nps_positive"].met)
        # CLV / CAC below 3: CAC 2,500 -> 6,000 / 2,500 = 2.4
        values = self.stage_values(4)
        values["cac"] = Result(2500.0, 25000.0, 10.0)
        maturity, _snaps = self.store(values)
        self.assertEqual(maturity.level, 3)
        # exactly 3 is enough: CAC 2,000
        values["cac"] = Result(2000.0, 20000.0, 10.0)
        maturity, _snaps = self.store(values)
        self.assertEqual(maturity.level, 4)

    def test_stage_5_loyalty(self):
        maturity, snaps = self.store(self.stage_values(5))
        self.assertEqual(maturity.level, 5)
        self.assertEqual(maturity.stage, "5")
        self.assertFalse(maturity.next_stage)
        self.assertFalse(maturity.next_criterion_ids)
        self.assertTrue(all(maturity.criterion_ids.mapped("met")))
        # raising the retention target above 95 drops the stage at once
        self.retention_target.write({"target_value": 96.0})
        self.assertEqual(maturity.level, 4)
        # without a target the criterion cannot be met
        self.retention_target.active = False
        self.assertEqual(maturity.level, 4)
        self.assertIn(
            "no target set", self.criteria(maturity, 5)["retention_rate"].detail
        )
        self.retention_target.write({"active": True, "target_value": 90.0})
        self.assertEqual(maturity.level, 5)
        # NPS at 0 is not above 0
        values = self.stage_values(5)
        values["nps"] = Result(0.0, 0.0, 40.0)
        maturity, _snaps = self.store(values)
        self.assertEqual(maturity.level, 4)
        self.assertEqual(len(snaps), 1)

    def test_lower_stages_first(self):
        # everything of stages 3 to 5, but no customer value known (stage 2
        # unmet): the stage is 1, whatever is met above
        values = self.stage_values(5)
        values["clv"] = na("no churn in the last 12 months")
        maturity, _snaps = self.store(values)
        self.assertEqual(maturity.level, 1)
        # (CLV / CAC needs the CLV: unmet too)
        self.assertEqual(
            [c.code for c in maturity.criterion_ids if c.level >= 3 and not c.met],
            ["clv_cac"],
        )
        # a missing KPI (family not installed) counts as not computed
        values = self.stage_values(5)
        del values["nps"]
        maturity, _snaps = self.store(values)
        self.assertEqual(maturity.level, 2)
        self.assertIn("NPS 0", self.criteria(maturity, 3)["survey_sample"].detail)
        self.assertIn("not computed", self.criteria(maturity, 5)["nps_positive"].detail)

    def test_trailing_twelve_months(self):
        # leads and customers created in earlier months of the last 12
        # count for Awareness; a recomputation keeps one maturity per period
        old = self.stage_values(0)
        old["prospects"] = count(4)
        self.store(old, day=D(2024, 9, 1))
        values = self.stage_values(0)
        values["customer_conversion_rate"] = Result(100.0, 2.0, 2.0)
        maturity, _snaps = self.store(values, day=D(2025, 6, 1))
        self.assertEqual(maturity.level, 1)
        self.assertIn("4 leads", self.criteria(maturity, 1)["leads"].detail)
        # 13 months back is out of the window
        self.env["crm.kpi.snapshot"].search(
            [("company_id", "=", self.company.id), ("date_start", "=", D(2024, 9, 1))]
        ).unlink()
        self.store(old, day=D(2024, 5, 1))
        maturity, _snaps = self.store(values, day=D(2025, 6, 1))
        self.assertEqual(maturity.level, 0)
        self.assertEqual(
            self.env["crm.kpi.maturity"].search_count(
                [
                    ("company_id", "=", self.company.id),
                    ("date_start", "=", D(2025, 6, 1)),
                ]
            ),
            1,
        )

    def test_real_computation(self):
        # five customers buying in March 2025 and one lead: customers and
        # leads exist (Awareness), 5 buyers -> top 20 % = 1 customer, but no
        # churn in the last 12 months -> CLV n/a -> stage 1
        customers = self.make_customers(5)
        self.make_orders(
            [
                {"partner": c, "date": D(2025, 3, 5 + i), "amount": 100.0 * (i + 1)}
                for i, c in enumerate(customers)
            ]
        )
        self.make_leads([{"created": D(2025, 3, 2)}])
        self.compute("month", D(2025, 3, 1))
        maturity = self.env["crm.kpi.maturity"].search(
            [
                ("company_id", "=", self.company.id),
                ("date_start", "=", D(2025, 3, 1)),
                ("granularity", "=", "month"),
            ]
        )
        self.assertEqual(maturity.level, 1)
        focus = self.criteria(maturity, 2)
        self.assertTrue(focus["average_customer_value"].met)
        self.assertTrue(focus["top_customers"].met)
        self.assertFalse(focus["clv"].met)
        # an empty period of the same company: stage 0
        self.compute("month", D(2023, 1, 1))
        empty = self.env["crm.kpi.maturity"].search(
            [
                ("company_id", "=", self.company.id),
                ("date_start", "=", D(2023, 1, 1)),
                ("granularity", "=", "month"),
            ]
        )
        self.assertEqual(empty.level, 0)
