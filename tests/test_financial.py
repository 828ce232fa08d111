"""CRM investment: TCO, incremental gross profit, benefit, ROI, NPV, IRR,
payback and revenue to equity, checked against numbers worked out by hand."""

from datetime import date

from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import BaseCase, tagged
from odoo.tools import mute_logger

from ..kpi.cashflow import irr, npv, payback_months, period_months
from .common import KpiCase

# an annual rate of 1.01^12 - 1 = 12.6825030131969...% is 1 % a month
ONE_PERCENT_A_MONTH = (1.01**12 - 1) * 100


@tagged("post_install", "-at_install")
class TestCashFlowMath(BaseCase):
    def test_npv(self):
        # 1 % a month: -1000 + 300/1.01 + 400/1.0201 + 500/1.030301
        #            = -1000 + 297.0297 + 392.1184 + 485.2951 = 174.4432
        self.assertAlmostEqual(npv(0.01, [-1000, 300, 400, 500]), 174.4432, places=4)
        self.assertEqual(npv(0.0, [-1000, 300, 400, 500]), 200.0)

    def test_irr_by_hand(self):
        # -1000 + 1100 / (1 + x) = 0  ->  x = 10 %
        self.assertAlmostEqual(irr([-1000, 1100])[0], 0.10, places=10)
        # -100 + 60/u + 60/u^2 = 0  ->  100u^2 - 60u - 60 = 0
        # u = (60 + sqrt(3600 + 24000)) / 200 = (60 + 166.1325) / 200
        #   = 1.1306624  ->  x = 13.06624 %
        self.assertAlmostEqual(
            irr([-100, 60, 60])[0], (60 + 27600**0.5) / 200 - 1, places=10
        )
        self.assertAlmostEqual(irr([-100, 60, 60])[0], 0.1306624, places=6)
        # -1000 + 300/u + 400/u^2 = 0  ->  1000u^2 - 300u - 400 = 0
        # u = (300 + sqrt(90000 + 1600000)) / 2000 = (300 + 1300) / 2000 = 0.8
        self.assertAlmostEqual(irr([-1000, 300, 400])[0], -0.2, places=10)
        # the NPV is zero at the rate found
        rate = irr([-1000, 300, 400, 500])[0]
        self.assertAlmostEqual(npv(rate, [-1000, 300, 400, 500]), 0.0, places=8)

    def test_irr_without_sign_change(self):
        rate, why = irr([-1000, -50, 0])
        self.assertIsNone(rate)
        self.assertIn("never change sign", why)
        rate, why = irr([100, 50])
        self.assertIsNone(rate)
        self.assertIsNone(irr([0, 0])[0])

    def test_payback(self):
        # cost 1000 at the start of month 0; benefits 300, 400, 500 accrue
        # evenly: after months 0 and 1, 300 is left, covered after 300/500
        # of month 2 -> 2.6 months
        self.assertAlmostEqual(payback_months([300, 400, 500], [1000, 0, 0]), 2.6)
        self.assertIsNone(payback_months([300, 400], [1000, 0]))
        self.assertIsNone(payback_months([300, 400], [0, 0]))

    def test_period_months(self):
        self.assertEqual(period_months(date(2024, 1, 1), date(2024, 4, 1)), 3.0)
        # a week of April (30 days) and one of February 2024 (29 days)
        self.assertAlmostEqual(
            period_months(date(2024, 4, 8), date(2024, 4, 15)), 7 / 30
        )
        self.assertAlmostEqual(
            period_months(date(2024, 2, 26), date(2024, 3, 4)), 4 / 29 + 3 / 31
        )


@tagged("post_install", "-at_install")
class TestFinancial(KpiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # a product without cost: the gross profit of an order is its amount
        cls.service = cls.env["product.product"].create(
            {"name": "KPI Service", "list_price": 100.0, "standard_price": 0.0}
        )
        customers = cls.make_customers(2, "Fin")
        cls.make_orders(
            [
                # the 12 months before the go-live month: 1,200 -> baseline 100 a month
                {
                    "partner": customers[0],
                    "date": date(2023, 6, 1),
                    "amount": 1200.0,
                    "product": cls.service,
                },
                # months 0..3 after go-live: gross profit 100, 300, 400, 500
                {
                    "partner": customers[0],
                    "date": date(2024, 1, 20),
                    "amount": 100.0,
                    "product": cls.service,
                },
                {
                    "partner": customers[1],
                    "date": date(2024, 2, 10),
                    "amount": 300.0,
                    "product": cls.service,
                },
                {
                    "partner": customers[0],
                    "date": date(2024, 3, 10),
                    "amount": 400.0,
                    "product": cls.service,
                },
                {
                    "partner": customers[1],
                    "date": date(2024, 4, 10),
                    "amount": 500.0,
                    "product": cls.service,
                },
            ],
        )
        cls.investment = cls.env["crm.kpi.investment"].create(
            {
                "company_id": cls.company.id,
                "go_live_date": date(2024, 1, 15),
                # 2.5 h x 2 licensed users x 20 = 100 a month
                "hours_saved_per_user": 2.5,
                "hourly_cost": 20.0,
                "discount_rate": ONE_PERCENT_A_MONTH,
                "equity": 10_000.0,
                "entry_ids": [
                    # before the go-live month: counts in month 0
                    Command.create(
                        {
                            "name": "Implementation",
                            "category": "implementation",
                            "date": date(2023, 12, 20),
                            "amount": 500.0,
                        }
                    ),
                    Command.create(
                        {
                            "name": "Licenses",
                            "category": "license",
                            "date": date(2024, 1, 10),
                            "amount": 600.0,
                        }
                    ),
                    # after April: not in April's figures
                    Command.create(
                        {
                            "name": "Maintenance",
                            "category": "maintenance",
                            "date": date(2024, 6, 5),
                            "amount": 50.0,
                        }
                    ),
                ],
            }
        )

    def test_setup(self):
        # the manager and the salesman of the test company
        self.assertEqual(self.investment.licensed_users, 2)
        self.assertEqual(self.investment.monthly_time_saving, 100.0)
        self.assertAlmostEqual(self.investment.monthly_discount_rate(), 0.01)
        self.assertEqual(self.investment.total_cost, 1150.0)

    def test_april(self):
        # monthly flows from the go-live month (January 2024) to April:
        #   benefit_t = gross profit - baseline 100 + time saving 100
        #             = 100, 300, 400, 500;  cost_t = 1,100, 0, 0, 0
        #   net flows = -1,000, 300, 400, 500
        values = self.values(self.compute("month", date(2024, 4, 1)))
        self.assertKpi(values, "crm_tco", 1100.0)
        self.assertKpi(values, "incremental_gross_profit", 400.0)  # 500 - 100
        self.assertKpi(values, "crm_benefit", 1300.0)
        # (1,300 - 1,100) / 1,100 x 100
        self.assertKpi(values, "crm_roi", 200 / 1100 * 100)
        # -1000 + 300/1.01 + 400/1.01^2 + 500/1.01^3 = 174.4432
        self.assertKpi(values, "crm_npv", 174.4432, places=3)
        # 10u^3 - 3u^2 - 4u - 5 = 0 (u = 1 + monthly IRR) has its real root at
        # u = 1.0889634: check 10(1.291337) - 3(1.185841) - 4(1.088963) - 5
        # = 12.91337 - 3.55752 - 4.35585 - 5 = 0.0000; annual = u^12 - 1
        # = 1.780734 -> 178.07 %
        self.assertKpi(values, "crm_irr", 178.0734, places=3)
        # cumulative net: -1000, -700, -300, +200: 300 of month 3's 500 -> 3.6
        self.assertKpi(values, "crm_payback_months", 3.6)
        # revenue May 2023 - April 2024: 1,200 + 100 + 300 + 400 + 500 = 2,500
        self.assertKpi(values, "revenue_to_equity", 0.25)

    def test_week_counts_the_cut_month_pro_rata(self):
        # the week of 8-14 April 2024: April counts 14 of its 30 days
        # benefit_3 = 500 - 100 x 14/30 + 100 x 14/30 = 500 -> 1,300 in all
        values = self.values(self.compute("week", date(2024, 4, 8)))
        self.assertKpi(values, "crm_benefit", 1300.0)
        # gross profit of the week 500 - baseline 100 x 7/30
        self.assertKpi(values, "incremental_gross_profit", 500 - 100 * 7 / 30)

    def test_first_quarter(self):
        values = self.values(self.compute("quarter", date(2024, 1, 1)))
        # (100 + 300 + 400) - 3 x 100
        self.assertKpi(values, "incremental_gross_profit", 500.0)
        self.assertKpi(values, "crm_benefit", 800.0)
        # flows -1000, 300, 400: u = 0.8 (see test_irr_by_hand), monthly -20 %
        # annual 0.8^12 - 1 = 0.068719 - 1 = -93.128 %
        self.assertKpi(values, "crm_irr", (0.8**12 - 1) * 100)
        self.assertKpi(values, "crm_npv", -1000 + 300 / 1.01 + 400 / 1.01**2)
        self.assertKpi(values, "crm_payback_months", None)
        self.assertIn("not paid back", values["crm_payback_months"].note)

    def test_no_sign_change(self):
        # January alone: one flow of -1,000 -> no IRR, with the reason
        values = self.values(self.compute("month", date(2024, 1, 1)))
        self.assertKpi(values, "crm_irr", None)
        self.assertIn("never change sign", values["crm_irr"].note)
        self.assertKpi(values, "crm_npv", -1000.0)
        self.assertKpi(values, "crm_benefit", 100.0)
        self.assertKpi(values, "crm_roi", (100 - 1100) / 1100 * 100)

    def test_before_go_live(self):
        values = self.values(self.compute("month", date(2023, 12, 1)))
        self.assertKpi(values, "crm_tco", 500.0)
        for code in ("crm_benefit", "crm_npv", "crm_irr", "incremental_gross_profit"):
            self.assertKpi(values, code, None)
            self.assertIn("before the go-live", values[code].note)

    def test_drill_down(self):
        values = self.values(self.compute("month", date(2024, 4, 1)))
        action = values["crm_tco"].action_open_numerator()
        self.assertEqual(action["res_model"], "crm.kpi.investment.entry")
        self.assertEqual(
            self.env[action["res_model"]].search_count(action["domain"]), 2
        )
        action = values["revenue_to_equity"].action_open_numerator()
        self.assertEqual(
            self.env[action["res_model"]].search_count(action["domain"]), 5
        )

    def test_without_investment(self):
        other = self.env["res.company"].create({"name": "KPI Fin Other Co"})
        snaps = self.Snapshot.compute_period("month", date(2024, 4, 1), companies=other)
        values = self.values(snaps)
        for code in ("crm_tco", "crm_roi", "crm_npv", "crm_irr", "revenue_to_equity"):
            self.assertKpi(values, code, None)
            self.assertIn("no CRM investment", values[code].note)

    def test_baseline_needs_history_or_an_entry(self):
        self.investment.go_live_date = date(2023, 3, 1)  # no sale before
        values = self.values(self.compute("month", date(2024, 4, 1)))
        self.assertKpi(values, "crm_npv", None)
        self.assertIn("enter a baseline", values["crm_npv"].note)
        self.investment.write(
            {"use_manual_baseline": True, "baseline_monthly_gross_profit": 0.0}
        )
        values = self.values(self.compute("month", date(2024, 4, 1)))
        self.assertKpi(values, "incremental_gross_profit", 500.0)

    def test_bad_input(self):
        for rate in (-100.0, -150.0):
            with (
                self.assertRaisesRegex(ValidationError, "above −100"),
                self.env.cr.savepoint(),
            ):
                self.investment.discount_rate = rate
        self.assertAlmostEqual(self.investment.discount_rate, ONE_PERCENT_A_MONTH)
        Entry = self.env["crm.kpi.investment.entry"]
        base = {
            "investment_id": self.investment.id,
            "name": "x",
            "date": date(2024, 2, 1),
        }
        for amount in (0.0, -20.0):
            with (
                self.assertRaisesRegex(ValidationError, "greater than zero"),
                self.env.cr.savepoint(),
            ):
                Entry.create(dict(base, amount=amount))
        with (
            self.assertRaisesRegex(ValidationError, "no exchange rate"),
            self.env.cr.savepoint(),
        ):
            Entry.create(dict(base, amount=10.0, currency_id=self.eur.id))
        self.assertEqual(len(self.investment.entry_ids), 3)
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaises(IntegrityError),
            self.env.cr.savepoint(),
        ):
            self.env["crm.kpi.investment"].create({"company_id": self.company.id})
            self.env.flush_all()
