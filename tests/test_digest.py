from freezegun import freeze_time

from odoo.tests import tagged

from .common import D, KpiCase


@tagged("post_install", "-at_install")
class TestDigest(KpiCase):
    """The headline KPIs in Odoo's KPI Digest, read from the stored values.

    Today is Thursday 10 April 2025: the last closed week is 31 March - 6
    April, the last closed month March, the last closed quarter Q1 2025.
    First orders: c5 3 April 2024 (its only one), c0 15 January, c1 10
    February, c2 5 March, c4 26 March (week of 24 March), c3 2 April (week
    of 31 March).  With the 365-day window c5 is active until 2 April 2025,
    so it is lost in the week of 31 March.
      week of 31 March: S = 5 (c5, c0, c1, c2, c4), N = 1 (c3), L = 1 (c5)
        -> net new 0, churn 20 %; week of 24 March: S = 4, N = 1, L = 0
        -> net new 1, churn 0 %: change -100 % and +20 points
      March: S = 3 (c5, c0, c1), N = 2, L = 0 -> net 2, churn 0 %;
        February: S = 2, N = 1 -> net 1, churn 0 %: +100 %, 0 points
      Q1: S = 1 (c5), N = 4, L = 0 -> net 4, churn 0 %; Q4 2024: S = 1,
        N = 0 -> net 0 (no change shown against 0), churn 0 %: 0 points
    """

    TODAY = "2025-04-10 09:00:00"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        c = cls.make_customers(6)
        cls.make_orders(
            [
                {"partner": c[5], "date": D(2024, 4, 3)},
                {"partner": c[0], "date": D(2025, 1, 15)},
                {"partner": c[1], "date": D(2025, 2, 10)},
                {"partner": c[2], "date": D(2025, 3, 5)},
                {"partner": c[3], "date": D(2025, 4, 2)},
                {"partner": c[4], "date": D(2025, 3, 26)},
            ]
        )
        with freeze_time(cls.TODAY):
            for granularity, day in (
                ("week", D(2025, 3, 31)),
                ("week", D(2025, 3, 24)),
                ("month", D(2025, 3, 1)),
                ("month", D(2025, 2, 1)),
                ("quarter", D(2025, 1, 1)),
                ("quarter", D(2024, 10, 1)),
            ):
                cls.Snapshot.compute_period(granularity, day, companies=cls.company)
        cls.digest = cls.env["digest.digest"].create(
            {
                "name": "KPI test digest",
                "kpi_crm_success_net_new_customers": True,
                "kpi_crm_success_churn_rate": True,
                "kpi_res_users_connected": False,
                "kpi_mail_message_total": False,
            }
        )

    def stored(self, code, granularity, day):
        return self.env["crm.kpi.value"].search(
            [
                ("company_id", "=", self.company.id),
                ("scope", "=", "company"),
                ("granularity", "=", granularity),
                ("date_start", "=", day),
                ("kpi_code", "=", code),
            ]
        )

    def kpis(self, user):
        with freeze_time(self.TODAY):
            return {
                k["kpi_name"]: k for k in self.digest._compute_kpis(self.company, user)
            }

    def test_manager_reads_the_stored_periods(self):
        kpis = self.kpis(self.manager)
        net = kpis["kpi_crm_success_net_new_customers"]
        week = self.stored("net_new_customers", "week", D(2025, 3, 31))
        month = self.stored("net_new_customers", "month", D(2025, 3, 1))
        quarter = self.stored("net_new_customers", "quarter", D(2025, 1, 1))
        self.assertEqual([week.value, month.value, quarter.value], [0.0, 2.0, 4.0])
        self.assertEqual(net["kpi_col1"]["value"], week.display_value)
        self.assertEqual(net["kpi_col1"]["value"], "0")
        self.assertEqual(net["kpi_col1"]["col_subtitle"], week.period_name)
        self.assertEqual(net["kpi_col1"]["margin"], -100.0)
        self.assertEqual(net["kpi_col2"]["value"], "2")
        self.assertEqual(net["kpi_col2"]["col_subtitle"], month.period_name)
        self.assertEqual(net["kpi_col2"]["margin"], 100.0)
        self.assertEqual(net["kpi_col3"]["value"], "4")
        self.assertEqual(net["kpi_col3"]["col_subtitle"], quarter.period_name)
        self.assertNotIn("margin", net["kpi_col3"])  # the quarter before had 0
        self.assertEqual(net["kpi_action"], "crm_success_kpi.crm_kpi_dashboard_action")
        # a rate changes in points, in the caption, not in the % badge
        churn = kpis["kpi_crm_success_churn_rate"]
        self.assertEqual(
            [churn[f"kpi_col{i}"]["value"] for i in (1, 2, 3)],
            ["20.00 %", "0.00 %", "0.00 %"],
        )
        self.assertEqual(
            [churn[f"kpi_col{i}"]["col_subtitle"] for i in (1, 2, 3)],
            [
                f"{week.period_name} · +20.00 pts",
                f"{month.period_name} · 0.00 pts",
                f"{quarter.period_name} · 0.00 pts",
            ],
        )
        self.assertFalse([i for i in (1, 2, 3) if "margin" in churn[f"kpi_col{i}"]])
        # n/a stays n/a: win rate without any deal
        self.digest.kpi_crm_success_win_rate = True
        win = self.kpis(self.manager)["kpi_crm_success_win_rate"]
        self.digest.kpi_crm_success_win_rate = False
        self.assertEqual([win[f"kpi_col{i}"]["value"] for i in (1, 2, 3)], ["n/a"] * 3)
        # a KPI switched off is not in the mail
        self.assertNotIn("kpi_crm_success_win_rate", kpis)
        # the field itself holds the last closed month
        with freeze_time(self.TODAY):
            digest = self.digest.with_user(self.manager).with_company(self.company)
            self.assertEqual(digest.kpi_crm_success_net_new_customers_value, 2.0)

    def test_default_digest_has_them_on(self):
        default = self.env.ref("digest.digest_digest_default")
        self.assertTrue(default.kpi_crm_success_churn_rate)
        self.assertTrue(default.kpi_crm_success_nps)
        self.assertIn("kpi_crm_success_win_rate", default._get_kpi_fields())

    def test_salesperson_does_not_get_company_figures(self):
        kpis = self.kpis(self.salesman)
        self.assertNotIn("kpi_crm_success_net_new_customers", kpis)
        self.assertNotIn("kpi_crm_success_churn_rate", kpis)

    def test_mail_renders(self):
        with freeze_time(self.TODAY):
            self.digest.user_ids = self.manager
            self.manager.email = "kpi.manager@example.com"
            mails = self.env["mail.mail"].search([])
            self.digest._action_send_to_user(self.manager)
            mail = self.env["mail.mail"].search([]) - mails
        self.assertEqual(len(mail), 1)
        body = mail.body_html
        self.assertIn("Net New Customers (CRM Success)", body)
        self.assertIn(
            self.stored("net_new_customers", "month", D(2025, 3, 1)).period_name, body
        )
