"""Cohort retention on hand-worked customers (UTC company, sale orders as
revenue events, activity window W = 31 days: a customer is active at the end
of a month when he bought in its last 31 days).

January 2026 cohort, 10 customers (first order 15 January):

=====  ====  =======  ========  =====================================
 cust  team  January  February  April
=====  ====  =======  ========  =====================================
 C1    A     300                150 (capped at 150 for GRR)
 C2    A     100                250 (capped at 100 for GRR)
 C3-6  A     100 each           100 each
 C7    B     100                100
 C8    B     100      100
 C9-10 B     100 each
=====  ====  =======  ========  =====================================

C11 (team A) first buys in February; O1 first bought in November 2025 and
again in January: he belongs to the November cohort, not January's.

April (3 months after acquisition), January cohort:
* logo retention: C1-C7 active of 10 = 70 %;
* revenue 150 + 250 + 5 × 100 = 900; first-month revenue 300 + 9 × 100 =
  1,200: NRR = 900 / 1,200 = 75 %;
* GRR: 150 + 100 + 5 × 100 = 750 / 1,200 = 62.5 %.
Team A (C1-C6): 6 of 6 active, revenue 800 of 800 (NRR 100 %), GRR 650 /
800 = 81.25 %.  Team B (C7-C10): 1 of 4 (25 %), 100 of 400 (NRR and GRR
25 %).  Both teams grouped: 7 of 10 = 70 % (never the average 62.5 %).
February: C8 only, 1 of 10 = 10 %, NRR = GRR = 100 / 1,200.
"""

from datetime import date, datetime

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import KpiCase

JAN, FEB, APR = date(2026, 1, 1), date(2026, 2, 1), date(2026, 4, 1)
MAR = date(2026, 3, 1)


@tagged("post_install", "-at_install")
class TestCohorts(KpiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.kpi_activity_window_days = 31
        c = cls.make_customers(11, "Cohort")
        cls.c = c
        cls.o1 = cls.make_customers(1, "Old")
        A, B = cls.team, cls.team_b
        specs = [
            {"partner": cls.o1, "date": date(2025, 11, 10), "amount": 100},
            {"partner": cls.o1, "date": date(2026, 1, 10), "amount": 100},
            {"partner": c[0], "date": date(2026, 1, 15), "amount": 300, "team": A},
        ]
        specs += [
            {"partner": p, "date": date(2026, 1, 15), "amount": 100, "team": A}
            for p in c[1:6]
        ]
        specs += [
            {"partner": p, "date": date(2026, 1, 15), "amount": 100, "team": B}
            for p in c[6:10]
        ]
        specs += [
            {"partner": c[7], "date": date(2026, 2, 10), "amount": 100, "team": B},
            {"partner": c[10], "date": date(2026, 2, 12), "amount": 100, "team": A},
            {"partner": c[0], "date": date(2026, 4, 15), "amount": 150, "team": A},
            {"partner": c[1], "date": date(2026, 4, 15), "amount": 250, "team": A},
        ]
        specs += [
            {"partner": p, "date": date(2026, 4, 15), "amount": 100, "team": A}
            for p in c[2:6]
        ]
        specs.append(
            {"partner": c[6], "date": date(2026, 4, 15), "amount": 100, "team": B}
        )
        cls.orders = cls.make_orders(specs)
        cls.Cohort = cls.env["crm.kpi.cohort"]

    def row(self, period, cohort, scope="company", team=None, granularity="month"):
        domain = [
            ("company_id", "=", self.company.id),
            ("granularity", "=", granularity),
            ("period_start", "=", period),
            ("cohort_start", "=", cohort),
            ("scope", "=", scope),
        ]
        if team:
            domain.append(("team_id", "=", team.id))
        row = self.Cohort.search(domain)
        self.assertEqual(len(row), 1, f"one {scope} row of {cohort} in {period}")
        return row

    def test_january_cohort_in_april(self):
        self.compute("month", APR)
        row = self.row(APR, JAN)
        self.assertEqual(row.period_index, 3)
        self.assertEqual(row.cohort_label, "2026-01")
        self.assertEqual(row.period_label, "2026-04")
        self.assertEqual(row.customers, 10)
        self.assertEqual(row.active_customers, 7)
        self.assertAlmostEqual(row.logo_retention, 70.0)
        self.assertAlmostEqual(row.revenue, 900.0)
        self.assertAlmostEqual(row.first_revenue, 1200.0)
        self.assertAlmostEqual(row.net_revenue_retention, 75.0)
        self.assertAlmostEqual(row.retained_revenue, 750.0)
        self.assertAlmostEqual(row.gross_revenue_retention, 62.5)
        team_a = self.row(APR, JAN, "team", self.team)
        self.assertEqual((team_a.customers, team_a.active_customers), (6, 6))
        self.assertAlmostEqual(team_a.net_revenue_retention, 100.0)
        self.assertAlmostEqual(team_a.gross_revenue_retention, 81.25)
        team_b = self.row(APR, JAN, "team", self.team_b)
        self.assertEqual((team_b.customers, team_b.active_customers), (4, 1))
        self.assertAlmostEqual(team_b.logo_retention, 25.0)
        self.assertAlmostEqual(team_b.net_revenue_retention, 25.0)
        self.assertAlmostEqual(team_b.gross_revenue_retention, 25.0)
        # the November cohort (O1), 5 months on: nobody left
        november = self.row(APR, date(2025, 11, 1))
        self.assertEqual((november.customers, november.active_customers), (1, 0))
        self.assertEqual(november.period_index, 5)
        self.assertAlmostEqual(november.net_revenue_retention, 0.0)
        # a cohort period without any acquisition has no row
        self.assertFalse(
            self.Cohort.search(
                [
                    ("company_id", "=", self.company.id),
                    ("period_start", "=", APR),
                    ("cohort_start", "=", date(2026, 3, 1)),
                ]
            )
        )

    def test_grouped_rates_are_ratios_of_sums(self):
        self.compute("month", APR)
        [group] = self.Cohort._read_group(
            [
                ("company_id", "=", self.company.id),
                ("period_start", "=", APR),
                ("cohort_start", "=", JAN),
                ("scope", "=", "team"),
            ],
            aggregates=[
                "logo_retention:avg",
                "net_revenue_retention:avg",
                "gross_revenue_retention:avg",
                "customers:sum",
            ],
        )
        retention, nrr, grr, customers = group
        self.assertEqual(customers, 10)
        self.assertAlmostEqual(retention, 70.0)
        self.assertAlmostEqual(nrr, 75.0)
        self.assertAlmostEqual(grr, 62.5)
        # the pivot's read (formatted_read_group) gives the same
        [pivot] = self.Cohort.formatted_read_group(
            [
                ("company_id", "=", self.company.id),
                ("period_start", "=", APR),
                ("cohort_start", "=", JAN),
                ("scope", "=", "team"),
            ],
            aggregates=["logo_retention:avg"],
        )
        self.assertAlmostEqual(pivot["logo_retention:avg"], 70.0)

    def test_february_and_new_cohort(self):
        self.compute("month", FEB)
        row = self.row(FEB, JAN)
        self.assertEqual((row.period_index, row.active_customers), (1, 1))
        self.assertAlmostEqual(row.logo_retention, 10.0)
        self.assertAlmostEqual(row.net_revenue_retention, 100 / 12)
        self.assertAlmostEqual(row.gross_revenue_retention, 100 / 12)
        feb = self.row(FEB, FEB)
        self.assertEqual((feb.period_index, feb.customers), (0, 1))
        self.assertAlmostEqual(feb.logo_retention, 100.0)
        self.assertAlmostEqual(feb.net_revenue_retention, 100.0)

    def test_quarter(self):
        q1 = date(2026, 1, 1)
        self.compute("quarter", q1)
        row = self.row(q1, q1, granularity="quarter")
        # C1-C11; the window stretches to the quarter: all active
        self.assertEqual((row.customers, row.active_customers), (11, 11))
        self.assertEqual(row.cohort_label, "2026 Q1")
        self.assertAlmostEqual(row.first_revenue, 1400.0)

    def test_team_of_the_first_day(self):
        """A customer whose first day has two orders belongs to the team of
        the first of them by number, whatever their hours: the one entered
        first (team B, 18:00) and not the one dated earlier that day (team
        A, 09:00)."""
        late = self.make_customers(1, "Two teams")
        self.make_orders(
            [
                {
                    "partner": late,
                    "date": datetime(2026, 3, 5, 18, 0),
                    "amount": 100,
                    "team": self.team_b,
                },
                {
                    "partner": late,
                    "date": datetime(2026, 3, 5, 9, 0),
                    "amount": 50,
                    "team": self.team,
                },
            ]
        )
        self.compute("month", MAR)
        row = self.row(MAR, MAR, "team", self.team_b)
        self.assertEqual((row.customers, row.first_revenue), (1, 150.0))
        self.assertFalse(
            self.Cohort.search(
                [
                    ("period_start", "=", MAR),
                    ("cohort_start", "=", MAR),
                    ("team_id", "=", self.team.id),
                ]
            )
        )

    def test_drill_down(self):
        self.compute("month", APR)
        row = self.row(APR, JAN)
        Partner = self.env["res.partner"]
        action = row.action_open_customers()
        self.assertEqual(action["res_model"], "res.partner")
        self.assertEqual(Partner.search(action["domain"]), self.c[:10])
        action = row.action_open_active_customers()
        self.assertEqual(Partner.search(action["domain"]), self.c[:7])
        team_b = self.row(APR, JAN, "team", self.team_b)
        action = team_b.action_open_active_customers()
        self.assertEqual(Partner.search(action["domain"]), self.c[6])

    def test_recompute_replaces_and_follows_edits(self):
        self.compute("month", APR)
        before = self.Cohort.search_count([("company_id", "=", self.company.id)])
        self.compute("month", APR)
        self.assertEqual(
            self.Cohort.search_count([("company_id", "=", self.company.id)]), before
        )
        # C7's April order cancelled: 6 of 10 still active
        april_c7 = self.orders.filtered(
            lambda o: o.partner_id == self.c[6] and o.date_order.month == 4
        )
        april_c7._action_cancel()
        self.compute("month", APR)
        row = self.row(APR, JAN)
        self.assertEqual(row.active_customers, 6)
        self.assertAlmostEqual(row.net_revenue_retention, 800 / 12)
        # team B lost its only active customer
        self.assertAlmostEqual(
            self.row(APR, JAN, "team", self.team_b).logo_retention, 0.0
        )

    def test_access(self):
        """Team leaders read the cohorts of their companies; a salesperson
        who sees only his own documents does not."""
        self.compute("month", APR)
        self.assertTrue(self.Cohort.with_user(self.manager).search_count([]))
        with self.assertRaises(AccessError):
            self.Cohort.with_user(self.salesman).search([])
        other = self.env["res.company"].create({"name": "KPI Cohort Other"})
        self.manager.company_ids |= other
        rows = (
            self.Cohort.with_user(self.manager)
            .with_context(allowed_company_ids=[other.id])
            .search([])
        )
        self.assertFalse(rows)

    def test_report_heat_map(self):
        """The success report of April shows the cohorts' heat map: the
        January cohort's row reads 70 % three months on."""
        for month in (JAN, FEB, date(2026, 3, 1), APR):
            snaps = self.compute("month", month)
        snap = snaps.filtered(lambda s: s.scope == "company")
        values = self.env["report.crm_success_kpi.success_report"]._get_report_values(
            snap.ids
        )
        cohorts = values["pages"][0]["cohorts"]
        january = next(line for line in cohorts["lines"] if line["label"] == "2026-01")
        self.assertEqual(january["customers"], "10")
        texts = [cell["text"] for cell in january["cells"][:5]]
        # months 0-3 computed (100, 10, 0, 70), month 4 not yet
        self.assertEqual(texts, ["100", "10", "0", "70", ""])
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("crm_success_kpi.success_report", snap.ids)[0]
            .decode()
        )
        self.assertIn("Cohort retention", html)

    def test_dashboard_card(self):
        """The dashboard of April shows the same heat map for the company
        and for team B; a salesperson's own scope has none."""
        for month in (JAN, FEB, date(2026, 3, 1), APR):
            self.compute("month", month)
        Dashboard = self.env["crm.kpi.dashboard"].with_company(self.company)
        data = Dashboard.with_user(self.manager).get_dashboard(
            "month", "2026-04-01", "company:0"
        )
        january = next(
            line for line in data["cohorts"]["lines"] if line["label"] == "2026-01"
        )
        self.assertEqual(january["cells"][3]["text"], "70")
        self.assertEqual(
            self.Cohort.browse(january["cells"][3]["id"]), self.row(APR, JAN)
        )
        team_b = Dashboard.with_user(self.manager).get_dashboard(
            "month", "2026-04-01", f"team:{self.team_b.id}"
        )
        line = next(
            line for line in team_b["cohorts"]["lines"] if line["label"] == "2026-01"
        )
        self.assertEqual(line["cells"][3]["text"], "25")
        own = Dashboard.with_user(self.salesman).get_dashboard("month", "2026-04-01")
        self.assertIsNone(own["cohorts"])

    def test_reconciliation(self):
        """The period's reconciliation recounts the cohorts: an order
        cancelled after the computation shows, a recomputation clears it."""
        self.compute("month", APR)
        Snapshot = self.Snapshot
        self.assertEqual(
            Snapshot.reconcile_period("month", APR, companies=self.company), []
        )
        april_c7 = self.orders.filtered(
            lambda o: o.partner_id == self.c[6] and o.date_order.month == 4
        )
        april_c7._action_cancel()
        found = Snapshot.reconcile_period("month", APR, companies=self.company)
        self.assertEqual(
            sorted(
                (item[1], item[2], item[3])
                for item in found
                if item[1].startswith("cohort")
            ),
            [
                ("cohort 2026-01 KPI Team B: active_customers", 1.0, 0.0),
                ("cohort 2026-01: active_customers", 7.0, 6.0),
            ],
        )
        self.assertTrue(
            all(item[0].scope == "company" for item in found if "cohort" in item[1])
        )
        self.compute("month", APR)
        self.assertEqual(
            Snapshot.reconcile_period("month", APR, companies=self.company), []
        )
