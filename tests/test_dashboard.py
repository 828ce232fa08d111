from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import D, KpiCase


@tagged("post_install", "-at_install")
class TestDashboard(KpiCase):
    """The dashboard reads the stored values, never computes them.

    Orders (team A, the salesman):
      March 2024: c0 200                      -> revenue 200
      February 2025: c0 100, c1 200           -> revenue 300
      March 2025: c0 100, c1 200, c2 150      -> revenue 450, 1 new customer
    So March 2025 against February: +50.0 % (150 / 300), against March
    2024: +125.0 % (250 / 200)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        c = cls.make_customers(3)
        cls.make_orders(
            [
                {"partner": c[0], "date": D(2024, 3, 5), "amount": 200.0},
                {"partner": c[0], "date": D(2025, 2, 3), "amount": 100.0},
                {"partner": c[1], "date": D(2025, 2, 13), "amount": 200.0},
                {"partner": c[0], "date": D(2025, 3, 3), "amount": 100.0},
                {"partner": c[1], "date": D(2025, 3, 10), "amount": 200.0},
                {"partner": c[2], "date": D(2025, 3, 20), "amount": 150.0},
            ]
        )
        for day in (D(2024, 3, 1), D(2025, 2, 1), D(2025, 3, 1)):
            cls.Snapshot.compute_period("month", day, companies=cls.company)
        cls.kpi = {k.code: k for k in cls.env["crm.kpi.definition"].search([])}
        cls.Dashboard = cls.env["crm.kpi.dashboard"]

    def dashboard(self, user=None, **kw):
        env = self.env(user=user or self.manager)
        kw.setdefault("date_start", "2025-03-01")
        return env["crm.kpi.dashboard"].get_dashboard(**kw)

    def cards(self, data):
        return {card["code"]: card for area in data["areas"] for card in area["cards"]}

    def stored(self, code, start="2025-03-01", scope="company", **where):
        domain = [
            ("company_id", "=", self.company.id),
            ("granularity", "=", "month"),
            ("date_start", "=", start),
            ("scope", "=", scope),
            ("kpi_code", "=", code),
        ] + [(k, "=", v) for k, v in where.items()]
        value = self.env["crm.kpi.value"].search(domain)
        self.assertEqual(len(value), 1)
        return value

    def test_cards_are_the_stored_values(self):
        data = self.dashboard()
        self.assertEqual(data["granularity"], "month")
        self.assertEqual(data["date_start"], "2025-03-01")
        self.assertEqual(data["scope_key"], "company:0")
        self.assertEqual(data["previous_start"], "2025-02-01")
        self.assertEqual(data["next_start"], "2025-04-01")
        cards = self.cards(data)
        # every KPI of the catalogue has a card, in the spec's area order
        self.assertEqual(set(cards), set(self.kpi))
        self.assertEqual(
            [a["key"] for a in data["areas"]][:3], ["customers", "revenue", "sales"]
        )
        revenue = cards["revenue"]
        stored = self.stored("revenue")
        self.assertEqual(revenue["value"], 450.0)
        self.assertEqual(revenue["value"], stored.value)
        self.assertEqual(revenue["value_id"], stored.id)
        # the PDF report's format: the stored figure with its currency
        self.assertEqual(revenue["display"], "$\xa0450.00")
        self.assertIn(stored.display_value, revenue["display"])
        self.assertEqual(revenue["vs_previous"], {"text": "+50.0 %", "good": True})
        self.assertEqual(revenue["vs_year"], {"text": "+125.0 %", "good": True})
        # the sparkline: 12 months up to March 2025, holes where nothing is stored
        self.assertEqual(len(revenue["spark"]), 12)
        self.assertEqual(revenue["spark"][-1], 450.0)
        self.assertEqual(revenue["spark"][-2], 300.0)
        self.assertIsNone(revenue["spark"][0])
        # one new customer in March (c2), the stored value
        self.assertEqual(cards["new_customers"]["value"], 1.0)
        self.assertEqual(
            cards["new_customers"]["value"], self.stored("new_customers").value
        )
        # no survey: n/a with the stored reason
        nps = cards["nps"]
        self.assertIsNone(nps["value"])
        self.assertEqual(nps["display"], "")
        self.assertEqual(nps["na_reason"], self.stored("nps").note_label)
        self.assertTrue(nps["na_reason"])
        self.assertIsNone(nps["vs_previous"])

    def test_change_is_coloured_by_direction(self):
        # revenue up 50 %: good while higher is better ...
        self.assertTrue(self.cards(self.dashboard())["revenue"]["vs_previous"]["good"])
        # ... bad once a manager says lower is better
        self.kpi["revenue"].direction = "down"
        change = self.cards(self.dashboard())["revenue"]["vs_previous"]
        self.assertEqual(change, {"text": "+50.0 %", "good": False})

    def test_percentages_change_in_points(self):
        cards = self.cards(self.dashboard())
        retention = cards["retention_rate"]
        now = self.stored("retention_rate").value
        then = self.stored("retention_rate", "2025-02-01")
        diff = now - then.value
        self.assertTrue(retention["vs_previous"]["text"].endswith(" pts"))
        self.assertIn(f"{abs(diff):.2f}", retention["vs_previous"]["text"])

    def test_target_and_status(self):
        self.env["crm.kpi.target"].create(
            {
                "kpi_id": self.kpi["revenue"].id,
                "company_id": self.company.id,
                "target_value": 500.0,
                "warning_value": 300.0,
                "granularity": "month",
            }
        )
        revenue = self.cards(self.dashboard())["revenue"]
        stored = self.stored("revenue")
        self.assertEqual(stored.status, "warning")
        self.assertEqual(revenue["status"], "warning")
        self.assertEqual(revenue["status_label"], "Warning")
        self.assertTrue(revenue["target"])
        self.assertIn("500.00", revenue["target"])

    def test_reads_only(self):
        """A period never computed shows n/a cards; nothing is computed."""
        before = self.Snapshot.search_count([])
        data = self.dashboard(date_start="2025-05-10")
        self.assertEqual(data["date_start"], "2025-05-01")
        self.assertEqual(self.Snapshot.search_count([]), before)
        revenue = self.cards(data)["revenue"]
        self.assertIsNone(revenue["value"])
        self.assertFalse(revenue["value_id"])
        self.assertEqual(revenue["spark"][-3], 450.0)

    def test_scopes_by_role(self):
        manager = self.dashboard()
        keys = {s["key"] for s in manager["scopes"]}
        self.assertIn("company:0", keys)
        self.assertIn(f"team:{self.team.id}", keys)
        self.assertIn(f"user:{self.salesman.id}", keys)
        self.assertTrue(manager["maturity"])
        # the salesman sees his own scope only, lands on it, no maturity
        salesman = self.dashboard(user=self.salesman)
        self.assertEqual(
            [s["key"] for s in salesman["scopes"]], [f"user:{self.salesman.id}"]
        )
        self.assertEqual(salesman["scope_key"], f"user:{self.salesman.id}")
        self.assertIsNone(salesman["maturity"])
        revenue = self.cards(salesman)["revenue"]
        self.assertEqual(revenue["value"], 450.0)
        self.assertEqual(revenue["value_id"], self.stored("revenue", scope="user").id)
        # asking for the company scope falls back to his own
        forced = self.dashboard(user=self.salesman, scope_key="company:0")
        self.assertEqual(forced["scope_key"], f"user:{self.salesman.id}")
        # the manager may pick the salesman's scope
        picked = self.dashboard(scope_key=f"user:{self.salesman.id}")
        self.assertEqual(picked["scope_key"], f"user:{self.salesman.id}")

    def test_current_period_is_the_last(self):
        data = self.dashboard(date_start=None)
        self.assertTrue(data["next_start"])
        current = self.dashboard(date_start=data["next_start"])
        self.assertFalse(current["next_start"])

    def test_bad_granularity(self):
        with self.assertRaises(UserError):
            self.dashboard(granularity="decade")

    def test_trend_action(self):
        action = self.Dashboard.with_user(self.manager).action_open_trend(
            self.kpi["revenue"].id, "month", f"user:{self.salesman.id}"
        )
        self.assertEqual(action["res_model"], "crm.kpi.value")
        values = self.env["crm.kpi.value"].search(action["domain"])
        self.assertEqual(sorted(values.mapped("value")), [200.0, 300.0, 450.0], values)
        self.assertEqual(set(values.mapped("user_id")), {self.salesman})

    def test_overview_fits_the_user(self):
        Value = self.env["crm.kpi.value"]
        manager = Value.with_user(self.manager).action_overview()
        self.assertEqual(manager["context"].get("search_default_scope_company"), 1)
        salesman = Value.with_user(self.salesman).action_overview()
        self.assertNotIn("search_default_scope_company", salesman["context"])
        self.assertEqual(salesman["context"].get("search_default_my_scope"), 1)
        # a salesman with nothing computed in his scope is told so, not
        # sent to a Configuration menu he does not have
        Value.search([("user_id", "=", self.salesman.id)]).sudo().unlink()
        empty = Value.with_user(self.salesman).action_overview()
        self.assertIn("Nothing in your scope yet", empty["help"])
        self.assertNotIn("Configuration", empty["help"])

    def test_solar_hijri_periods(self):
        """A Solar Hijri company's dashboard walks Jalali months."""
        self.company.kpi_period_calendar = "jalali"
        data = self.dashboard(date_start="2026-10-01")
        # Mehr 1405 runs from 23 September to 22 October 2026
        self.assertEqual(data["date_start"], "2026-09-23")
        self.assertEqual(data["period_label"], "Mehr 1405")
        self.assertEqual(data["previous_label"], "Shahrivar 1405")
        self.assertEqual(data["previous_start"], "2026-08-23")
        self.assertEqual(data["year_ago_label"], "Mehr 1404")
        self.assertEqual(data["spark_labels"][-1], "Mehr 1405")
        self.assertEqual(len(data["spark_labels"]), 12)
