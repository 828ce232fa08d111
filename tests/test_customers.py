import json
from contextlib import contextmanager

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import D, KpiCase


@tagged("post_install", "-at_install")
class TestCustomerWorkedExamples(KpiCase):
    """October 2026, W = 365 days.

    - 100 customers active at start: 95 bought on 2026-06-15 and again in
      October; 5 bought only on 2025-10-15 (active at 2026-10-01, not at
      2026-11-01: lost).
    - 20 new customers buy for the first time in October.
    So S = 100, L = 5, N = 20, R = 0, E = 115: churn 5 %, retention
    (115 - 20) / 100 = 95 %, renewal 95 / 100 = 95 %, net new 20 - 5 = 15."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        loyal = cls.make_customers(95, "Loyal")
        leaving = cls.make_customers(5, "Leaving")
        new = cls.make_customers(20, "New")
        specs = [{"partner": p, "date": D(2026, 6, 15)} for p in loyal]
        specs += [
            {"partner": p, "date": D(2026, 10, 5), "amount": 200.0} for p in loyal
        ]
        specs += [{"partner": p, "date": D(2025, 10, 15)} for p in leaving]
        specs += [{"partner": p, "date": D(2026, 10, 20), "amount": 50.0} for p in new]
        # one loyal customer buys twice in October: a repeat purchase
        specs.append({"partner": loyal[0], "date": D(2026, 10, 25), "amount": 100.0})
        cls.make_orders(specs)
        cls.snapshots = cls.Snapshot.compute_period(
            "month", D(2026, 10, 1), companies=cls.company
        )

    def test_counts_and_identity(self):
        v = self.values(self.snapshots)
        self.assertKpi(v, "new_customers", 20)
        self.assertKpi(v, "churn_rate", 5.0)
        self.assertEqual(v["churn_rate"].numerator, 5)
        self.assertEqual(v["churn_rate"].denominator, 100)
        self.assertKpi(v, "retention_rate", 95.0)
        self.assertEqual(v["retention_rate"].numerator, 115 - 20)
        self.assertKpi(v, "renewal_rate", 95.0)
        self.assertKpi(v, "net_new_customers", 15)
        # (S - E) / S = (100 - 115) / 100: negative when the base grows
        self.assertKpi(v, "net_customer_loss_rate", -15.0)
        # buyers 95 + 20 = 115 over E = 115
        self.assertKpi(v, "customer_conversion_rate", 100.0)
        # base = customers with a purchase before October: 100
        self.assertKpi(v, "customer_base_growth_rate", 20.0)

    def test_revenue_based(self):
        v = self.values(self.snapshots)
        # 95 × 200 + 20 × 50 + 100 = 20,100 over 116 orders and 115 buyers
        self.assertKpi(v, "revenue", 20100.0)
        self.assertKpi(v, "revenue_per_purchase", 20100.0 / 116)
        self.assertKpi(v, "average_customer_value", 20100.0 / 115)
        self.assertKpi(v, "repeat_purchase_rate", 100.0 / 115)
        self.assertKpi(v, "new_revenue", 1000.0)
        # one product per buyer except the repeater, who bought the same one
        self.assertKpi(v, "product_penetration", 1.0)
        # margins: price - 60 cost per unit
        self.assertKpi(v, "gross_profit", 95 * 140 + 20 * -10 + 40)
        # existing customers' revenue now 19,100; in September (customers
        # known before September) 0 → n/a
        self.assertKpi(v, "expansion_revenue_ratio", None)

    def test_scopes(self):
        v = self.values(self.snapshots, "team", self.team.id)
        self.assertKpi(v, "churn_rate", 5.0)
        v = self.values(self.snapshots, "user", self.salesman.id)
        self.assertKpi(v, "new_customers", 20)

    def test_clv(self):
        """Trailing year Nov 2025 - Oct 2026: S (active at 2025-11-01) = the 5
        leaving customers; all 5 lost → churn 100 %. Revenue of the year
        95 × 100 + 20,100 = 29,600 with margin 95 × 40 + 13,140 = 16,940, over
        E = 115 active customers: CLV = 29,600 / 115 × (16,940 / 29,600) / 1."""
        v = self.values(self.snapshots)
        self.assertKpi(v, "clv", 16940.0 / 115)

    def test_drill_down(self):
        v = self.values(self.snapshots)
        action = v["churn_rate"].action_open_numerator()
        lost = self.env[action["res_model"]].search(action["domain"])
        self.assertEqual(len(lost), 5)
        self.assertTrue(all(p.name.startswith("Leaving") for p in lost))
        action = v["churn_rate"].action_open_denominator()
        self.assertEqual(
            self.env[action["res_model"]].search_count(action["domain"]), 100
        )
        action = v["revenue"].action_open_numerator()
        orders = self.env[action["res_model"]].search(action["domain"])
        self.assertEqual(len(orders), 116)
        self.assertAlmostEqual(sum(orders.mapped("amount_untaxed")), 20100.0)

    def test_recompute_replaces(self):
        before = self.env["crm.kpi.value"].search_count(
            [("company_id", "=", self.company.id)]
        )
        again = self.Snapshot.compute_period(
            "month", D(2026, 10, 17), companies=self.company
        )
        self.assertEqual(again, self.snapshots, "same snapshots, not new ones")
        after = self.env["crm.kpi.value"].search_count(
            [("company_id", "=", self.company.id)]
        )
        self.assertEqual(before, after)

    def test_empty_period(self):
        snaps = self.Snapshot.compute_period(
            "month", D(2020, 1, 1), companies=self.company
        )
        v = self.values(snaps)
        self.assertKpi(v, "new_customers", 0)
        self.assertKpi(v, "churn_rate", None)
        self.assertKpi(v, "retention_rate", None)
        self.assertKpi(v, "average_customer_value", None)
        self.assertKpi(v, "clv", None)
        self.assertEqual(
            v["churn_rate"].display_value, "n/a: no customers active at start"
        )


@tagged("post_install", "-at_install")
class TestNetNewAndReactivation(KpiCase):
    """March 2026, W = 365.

    - 80 customers bought only on 2025-03-10: active at 2026-03-01, not at
      2026-04-01 → lost.
    - 100 new customers buy in March 2026.
    - 3 customers bought in 2024-01 (inactive at start), come back in March:
      reactivated.
    - 10 customers bought on 2025-12-01 and stay active (no purchase in March).
    S = 90, L = 80, N = 100, R = 3 → E = 90 - 80 + 100 + 3 = 113; net new
    100 - 80 = 20."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        lost = cls.make_customers(80, "Lost")
        new = cls.make_customers(100, "New")
        back = cls.make_customers(3, "Back")
        steady = cls.make_customers(10, "Steady")
        specs = [{"partner": p, "date": D(2025, 3, 10)} for p in lost]
        specs += [{"partner": p, "date": D(2026, 3, 12)} for p in new]
        specs += [{"partner": p, "date": D(2024, 1, 5)} for p in back]
        specs += [{"partner": p, "date": D(2026, 3, 20)} for p in back]
        specs += [{"partner": p, "date": D(2025, 12, 1)} for p in steady]
        cls.make_orders(specs)
        cls.snapshots = cls.Snapshot.compute_period(
            "month", D(2026, 3, 1), companies=cls.company
        )

    def test_identity(self):
        v = self.values(self.snapshots)
        self.assertKpi(v, "net_new_customers", 20)
        self.assertKpi(v, "new_customers", 100)
        s = v["churn_rate"].denominator
        lost = v["churn_rate"].numerator
        self.assertEqual((s, lost), (90, 80))
        # E from the conversion rate's denominator
        e = v["customer_conversion_rate"].denominator
        self.assertEqual(e, 113)
        self.assertEqual(e, s - lost + 100 + 3, "E = S - L + N + R")
        # retention (E - N) / S = 13 / 90
        self.assertKpi(v, "retention_rate", 13 / 90 * 100)
        # base: customers with a purchase before March = 80 + 3 + 10
        self.assertKpi(v, "customer_base_growth_rate", 100 / 93 * 100)

    def test_active_base_setting(self):
        self.company.kpi_customer_base_method = "active"
        snaps = self.Snapshot.compute_period(
            "month", D(2026, 3, 1), companies=self.company
        )
        self.assertKpi(self.values(snaps), "customer_base_growth_rate", 100 / 90 * 100)

    def test_window_setting(self):
        """With W = 120 days the 10 'steady' customers (2025-12-01) are active
        at 2026-03-01 but not at 2026-04-01: they become lost too."""
        self.company.kpi_activity_window_days = 120
        snaps = self.Snapshot.compute_period(
            "month", D(2026, 3, 1), companies=self.company
        )
        v = self.values(snaps)
        self.assertEqual(v["churn_rate"].denominator, 10)
        self.assertEqual(v["churn_rate"].numerator, 10)

    def test_reactivated_drill(self):
        v = self.values(self.snapshots)
        action = v["retention_rate"].action_open_numerator()
        kept = self.env["res.partner"].search(action["domain"])
        # E - N: the 10 steady and the 3 who came back
        self.assertEqual(len(kept), 13)

    def test_drill_lists_page(self):
        """The browser gets a reference to the value, not the ids; each page
        of the list runs the customers' query again, and the pages add up to
        the count.  The 3 customers who bought before the activity window
        and came back are not new: that is asked of their older orders."""
        v = self.values(self.snapshots)
        action = v["new_customers"].action_open_numerator()
        self.assertEqual(
            action["domain"],
            [("crm_kpi_drill_of", "=", f"{v['new_customers'].id}:numerator")],
        )
        self.assertLess(len(json.dumps(action["domain"])), 100)
        Partner = self.env["res.partner"].with_context(**action["context"])
        self.assertEqual(Partner.search_count(action["domain"]), 100)
        pages = [
            Partner.search(action["domain"], limit=40, offset=offset, order="id")
            for offset in (0, 40, 80)
        ]
        self.assertEqual([len(page) for page in pages], [40, 40, 20])
        found = pages[0] | pages[1] | pages[2]
        self.assertEqual(
            found, Partner.search([("name", "=like", f"New {type(self).__name__} %")])
        )
        # the base of the growth rate: every customer who bought before March
        action = v["customer_base_growth_rate"].action_open_denominator()
        base = Partner.search(action["domain"])
        self.assertEqual(len(base), 93)
        # a team's list is the team's query
        team = self.values(self.snapshots, "team", self.team.id)
        action = team["new_customers"].action_open_numerator()
        self.assertEqual(Partner.search(action["domain"]), found)

    def test_drill_list_request_reads_the_set_once(self):
        """The list's request (its page and its count) runs the customers'
        query once and reads its values as one array; the page and the
        count are those of the plain search.  The action's recount too."""
        v = self.values(self.snapshots)
        churn = v["churn_rate"]
        action = churn.action_open_denominator()
        Partner = self.env["res.partner"].with_context(**action["context"])
        expected = Partner.search(action["domain"], order="id")
        self.assertEqual(len(expected), churn.denominator)
        self.assertGreater(len(expected), 40)
        self.env.invalidate_all()
        queries = []
        with contextmanager(self._patchExecute)(queries):
            data = Partner.web_search_read(
                action["domain"], {"display_name": {}}, limit=40, order="id"
            )
        self.assertEqual(data["length"], len(expected))
        self.assertEqual([r["id"] for r in data["records"]], expected[:40].ids)
        # the set is read by one query, the page and the count
        # read the array (no second reading of the orders)
        reads = [q for q in queries if "WITH flags AS" in q]
        self.assertEqual(len(reads), 1, "\n".join(reads))
        self.assertEqual(sum("::int4[]" in q for q in queries), 2)
        # the recount of the action: the same number, one reading
        queries.clear()
        with contextmanager(self._patchExecute)(queries):
            action = churn.action_open_denominator()
        self.assertNotIn("crm_kpi_drill", action["context"])
        self.assertEqual(len([q for q in queries if "WITH flags AS" in q]), 1)

    def test_drill_reference_errors(self):
        Partner = self.env["res.partner"]
        for reference in ("churn_rate", "12:everything", "x:numerator"):
            with self.subTest(reference=reference), self.assertRaises(UserError):
                Partner.search([("crm_kpi_drill_of", "=", reference)])
        value = self.values(self.snapshots)["new_customers"]
        gone = value.id
        value.unlink()
        with self.assertRaises(UserError):
            Partner.search([("crm_kpi_drill_of", "=", f"{gone}:numerator")])
        # a reference to a value of partners, asked of another model
        churn = self.values(self.snapshots)["churn_rate"]
        with self.assertRaises(UserError):
            self.env["crm.lead"].search(
                [("crm_kpi_drill_of", "=", f"{churn.id}:numerator")]
            )
