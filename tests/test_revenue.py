from datetime import datetime

from odoo.tests import tagged

from .common import D, KpiCase


@tagged("post_install", "-at_install")
class TestRevenueTimezone(KpiCase):
    """Company in Asia/Tehran (UTC+03:30): an order at 2026-09-30 21:00 UTC is
    on 1 October locally; one at 2026-10-31 21:00 UTC is on 1 November."""

    tz = "Asia/Tehran"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        c = cls.make_customers(3)
        cls.make_orders(
            [
                {
                    "partner": c[0],
                    "date": datetime(2026, 9, 30, 21, 0),
                    "amount": 100.0,
                },
                {
                    "partner": c[1],
                    "date": datetime(2026, 10, 15, 8, 0),
                    "amount": 200.0,
                },
                {
                    "partner": c[2],
                    "date": datetime(2026, 10, 31, 21, 0),
                    "amount": 400.0,
                },
                {"partner": c[0], "date": datetime(2026, 7, 10, 8, 0), "amount": 50.0},
                {
                    "partner": c[1],
                    "date": datetime(2025, 10, 10, 8, 0),
                    "amount": 250.0,
                },
            ]
        )

    def test_boundaries_follow_company_timezone(self):
        v = self.values(self.compute("month", D(2026, 10, 1)))
        self.assertKpi(v, "revenue", 300.0)
        v = self.values(self.compute("month", D(2026, 11, 1)))
        self.assertKpi(v, "revenue", 400.0)
        v = self.values(self.compute("month", D(2026, 9, 1)))
        self.assertKpi(v, "revenue", 0.0)

    def test_customers_follow_company_timezone(self):
        # the only order of c[2], 2026-10-31 21:00 UTC, is on 1 November in
        # Tehran: a new customer of November, not of October
        v = self.values(self.compute("month", D(2026, 10, 1)))
        self.assertKpi(v, "new_customers", 0.0)
        self.assertKpi(v, "new_revenue", 0.0)
        v = self.values(self.compute("month", D(2026, 11, 1)))
        self.assertKpi(v, "new_customers", 1.0)
        self.assertKpi(v, "new_revenue", 400.0)
        # c[0] and c[1], active in the year before 1 October, bought again in
        # October (c[0] on 1 October local time, 30 September in UTC)
        v = self.values(self.compute("month", D(2026, 10, 1)))
        self.assertKpi(v, "renewal_rate", 100.0)

    def test_growth(self):
        v = self.values(self.compute("month", D(2026, 10, 1)))
        # QoQ: July 2026 = 50 → (300 - 50) / 50
        self.assertKpi(v, "revenue_growth_qoq", 500.0)
        # YoY: October 2025 = 250 → (300 - 250) / 250
        self.assertKpi(v, "revenue_growth_yoy", 20.0)
        # margins: (price - 60) per unit
        self.assertKpi(v, "profit_growth_yoy", ((40 + 140) - 190) / 190 * 100)
        v = self.values(self.compute("quarter", D(2026, 10, 1)))
        # Q4 2026: 700 against Q3 (50 + the 1 October order? no: local
        # 1 October is Q4) = 50
        self.assertKpi(v, "revenue", 700.0)
        self.assertKpi(v, "revenue_growth_qoq", (700 - 50) / 50 * 100)
        v = self.values(self.compute("year", D(2026, 5, 1)))
        self.assertKpi(v, "revenue_growth_qoq", None)
        self.assertKpi(v, "revenue_growth_yoy", (750 - 250) / 250 * 100)

    def test_week(self):
        # ISO week of Thursday 2026-10-15 starts Monday 2026-10-12
        snaps = self.compute("week", D(2026, 10, 15))
        self.assertEqual(snaps[0].date_start, D(2026, 10, 12))
        self.assertEqual(snaps[0].date_end, D(2026, 10, 19))
        self.assertKpi(self.values(snaps), "revenue", 200.0)


@tagged("post_install", "-at_install")
class TestRevenueCurrencies(KpiCase):
    """EUR orders convert at their own date's rate: 1 USD = 0.5 EUR in
    October (100 EUR = 200 USD), 0.25 EUR from November (100 EUR = 400 USD)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Rate = cls.env["res.currency.rate"]
        Rate.create(
            [
                {
                    "currency_id": cls.eur.id,
                    "company_id": cls.company.id,
                    "name": D(2026, 10, 1),
                    "rate": 0.5,
                },
                {
                    "currency_id": cls.eur.id,
                    "company_id": cls.company.id,
                    "name": D(2026, 11, 1),
                    "rate": 0.25,
                },
            ]
        )
        c = cls.make_customers(2)
        cls.make_orders(
            [
                {
                    "partner": c[0],
                    "date": D(2026, 10, 10),
                    "amount": 100.0,
                    "currency": cls.eur,
                },
                {"partner": c[1], "date": D(2026, 10, 12), "amount": 100.0},
                {
                    "partner": c[0],
                    "date": D(2026, 11, 5),
                    "amount": 100.0,
                    "currency": cls.eur,
                },
            ]
        )

    def test_conversion_at_document_date(self):
        v = self.values(self.compute("month", D(2026, 10, 1)))
        self.assertKpi(v, "revenue", 300.0)
        v = self.values(self.compute("month", D(2026, 11, 1)))
        self.assertKpi(v, "revenue", 400.0)
        self.assertKpi(v, "revenue_per_purchase", 400.0)
