from odoo.tests import tagged

from ..kpi import period as P
from .common import D, KpiCase


@tagged("post_install", "-at_install")
class TestSolarHijri(KpiCase):
    """Mehr 1405 runs from 23 September to 22 October 2026, so it shares no
    boundary with a Gregorian month.

    c0 buys 100 on 22 September (Shahrivar 31: Gregorian September, not Mehr)
    c1 buys 200 on 23 September (Mehr 1: September and Mehr)
    c2 buys 300 on 22 October   (Mehr 30: October and Mehr)
    c3 buys 400 on 23 October   (Aban 1: October, not Mehr)

    Mehr 1405: revenue 200 + 300 = 500, 2 new customers (c1, c2), 2 buyers
    and 2 purchases (average customer value and revenue per purchase 250).
    Gregorian September 2026: revenue 100 + 200 = 300, 2 new customers.
    """

    tz = "Asia/Tehran"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.kpi_period_calendar = "jalali"
        cls.customers = cls.make_customers(4)
        c0, c1, c2, c3 = cls.customers
        cls.make_orders(
            [
                {"partner": c0, "date": D(2026, 9, 22), "amount": 100.0},
                {"partner": c1, "date": D(2026, 9, 23), "amount": 200.0},
                {"partner": c2, "date": D(2026, 10, 22), "amount": 300.0},
                {"partner": c3, "date": D(2026, 10, 23), "amount": 400.0},
            ]
        )

    def company_snapshot(self, granularity, day):
        snaps = self.Snapshot.compute_period(granularity, day, companies=self.company)
        return snaps.filtered(lambda s: s.scope == "company")

    def test_month_follows_jalali_boundaries(self):
        # any day of Mehr gives the same period
        for day in (D(2026, 9, 23), D(2026, 10, 1), D(2026, 10, 22)):
            snap = self.company_snapshot("month", day)
            self.assertEqual(snap.date_start, D(2026, 9, 23))
            self.assertEqual(snap.date_end, D(2026, 10, 23))
            self.assertEqual(snap.period_label, "Mehr 1405")
        values = self.values(snap)
        self.assertKpi(values, "revenue", 500.0)
        self.assertKpi(values, "new_customers", 2)
        self.assertKpi(values, "average_customer_value", 250.0)
        self.assertKpi(values, "revenue_per_purchase", 250.0)
        self.assertEqual(values["revenue"].period_label, "Mehr 1405")

    def test_gregorian_month_differs(self):
        self.company.kpi_period_calendar = "gregorian"
        snap = self.company_snapshot("month", D(2026, 9, 23))
        self.assertEqual(
            (snap.date_start, snap.date_end), (D(2026, 9, 1), D(2026, 10, 1))
        )
        self.assertEqual(snap.period_label, "2026-09")
        values = self.values(snap)
        self.assertKpi(values, "revenue", 300.0)
        self.assertKpi(values, "new_customers", 2)

    def test_previous_month_and_quarter(self):
        shahrivar = self.company_snapshot("month", D(2026, 9, 22))
        self.assertEqual(shahrivar.period_label, "Shahrivar 1405")
        self.assertEqual(
            (shahrivar.date_start, shahrivar.date_end),
            (D(2026, 8, 23), D(2026, 9, 23)),
        )
        self.assertKpi(self.values(shahrivar), "revenue", 100.0)
        # autumn quarter: Mehr, Aban, Azar = 23 September to 21 December
        quarter = self.company_snapshot("quarter", D(2026, 11, 1))
        self.assertEqual(quarter.period_label, "1405 Q3")
        self.assertEqual(
            (quarter.date_start, quarter.date_end), (D(2026, 9, 23), D(2026, 12, 22))
        )
        self.assertKpi(self.values(quarter), "revenue", 900.0)
        year = self.company_snapshot("year", D(2026, 9, 23))
        self.assertEqual(
            (year.date_start, year.date_end, year.period_label),
            (D(2026, 3, 21), D(2027, 3, 21), "1405"),
        )

    def test_week_starts_on_saturday(self):
        week = self.company_snapshot("week", D(2026, 9, 23))  # a Wednesday
        self.assertEqual(
            (week.date_start, week.date_end), (D(2026, 9, 19), D(2026, 9, 26))
        )
        self.assertEqual(week.date_start.weekday(), 5)
        self.assertEqual(week.period_label, "1405/06/28")
        self.assertKpi(self.values(week), "revenue", 300.0)

    def test_labels_in_the_readers_language(self):
        self.assertEqual(
            P.period_label("month", D(2026, 9, 23), "jalali", translate=str.upper),
            "MEHR 1405",
        )
        self.assertEqual(
            P.period_label("month", D(2026, 3, 21), "jalali"), "Farvardin 1405"
        )
        self.assertEqual(
            P.period_label("month", D(2027, 3, 20), "jalali"), "Esfand 1405"
        )
