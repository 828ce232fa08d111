from freezegun import freeze_time

from odoo.tests import tagged

from .common import D, KpiCase


@tagged("post_install", "-at_install")
class TestAlerts(KpiCase):
    """Alerts when a computed value turns to warning or off target.

    March 2025, one order each, all in team A: c0 100, c1 200, c2 150, so the
    monthly revenue of the company (and of team A) is 450.  Revenue target of
    the company 500, warning at 300: 450 is "warning".  Today is 10 April
    2025, so March is the previous period (alerted) and February is older
    (not alerted)."""

    TODAY = "2025-04-10 09:00:00"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customers = cls.make_customers(4)
        cls.orders = cls.make_orders(
            [
                {"partner": cls.customers[0], "date": D(2025, 3, 3), "amount": 100.0},
                {"partner": cls.customers[1], "date": D(2025, 3, 10), "amount": 200.0},
                {"partner": cls.customers[2], "date": D(2025, 3, 20), "amount": 150.0},
                {"partner": cls.customers[3], "date": D(2025, 2, 12), "amount": 10.0},
            ]
        )
        cls.kpi = {k.code: k for k in cls.env["crm.kpi.definition"].search([])}
        cls.target = cls.env["crm.kpi.target"].create(
            {
                "kpi_id": cls.kpi["revenue"].id,
                "company_id": cls.company.id,
                "granularity": "month",
                "target_value": 500.0,
                "warning_value": 300.0,
            }
        )
        cls.alert_type = cls.env.ref("crm_success_kpi.mail_activity_type_kpi_alert")

    def alerts(self, target=None):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "crm.kpi.target"),
                ("res_id", "=", (target or self.target).id),
                ("activity_type_id", "=", self.alert_type.id),
            ],
            order="id",
        )

    def compute_march(self):
        with freeze_time(self.TODAY):
            return self.values(self.compute("month", D(2025, 3, 1)))

    def test_alert_once_then_again_after_recovery(self):
        values = self.compute_march()
        self.assertKpi(values, "revenue", 450.0)
        self.assertEqual(values["revenue"].status, "warning")
        alerts = self.alerts()
        # no responsible: the KPI managers of the company, the test's manager
        # among them, one activity each
        self.assertIn(self.manager, alerts.user_id)
        mine = alerts.filtered(lambda a: a.user_id == self.manager)
        self.assertEqual(len(mine), 1)
        self.assertIn("Revenue", mine.summary)
        self.assertIn("warning", mine.summary)
        self.assertIn(self.company.name, mine.summary)
        self.assertIn("450.00", mine.note)
        self.assertIn("500.00", mine.note)
        self.assertIn(f"/odoo/crm.kpi.value/{values['revenue'].id}", mine.note)
        self.assertEqual(str(mine.date_deadline), "2025-04-10")
        first = len(alerts)

        # a rerun finds the same status: nothing new
        self.compute_march()
        self.assertEqual(len(self.alerts()), first)

        # a new order of 100 brings March to 550: on target, no alert
        extra = self.make_orders(
            [{"partner": self.customers[0], "date": D(2025, 3, 25), "amount": 100.0}]
        )
        values = self.compute_march()
        self.assertKpi(values, "revenue", 550.0)
        self.assertEqual(values["revenue"].status, "on_target")
        self.assertEqual(len(self.alerts()), first)

        # the order cancelled: back to 450, warning again -> a second alert
        extra._action_cancel()
        values = self.compute_march()
        self.assertKpi(values, "revenue", 450.0)
        self.assertEqual(values["revenue"].status, "warning")
        self.assertEqual(len(self.alerts()), 2 * first)

    def test_responsible_off_target_and_switch(self):
        self.target.write(
            {
                "alert_user_id": self.salesman.id,
                "target_value": 1000.0,
                "warning_value": 800.0,
            }
        )
        values = self.compute_march()
        self.assertEqual(values["revenue"].status, "off_target")
        alerts = self.alerts()
        self.assertEqual(alerts.user_id, self.salesman)
        self.assertEqual(len(alerts), 1)
        self.assertIn("off target", alerts.summary)

        # a target edit changes the status at once; the alert comes with the
        # next computation of the period, once
        self.target.write({"target_value": 400.0, "warning_value": 300.0})
        self.assertEqual(values["revenue"].status, "on_target")
        self.target.write({"target_value": 1000.0, "warning_value": 800.0})
        self.assertEqual(len(self.alerts()), 1)
        self.target.write({"target_value": 600.0, "warning_value": 400.0})
        self.assertEqual(values["revenue"].status, "warning")
        self.compute_march()
        self.assertEqual(len(self.alerts()), 2)
        self.compute_march()
        self.assertEqual(len(self.alerts()), 2)

        # alerts switched off for the target: the status changes, no alert
        self.target.write(
            {"alert_active": False, "target_value": 1000.0, "warning_value": 800.0}
        )
        values = self.compute_march()
        self.assertEqual(values["revenue"].status, "off_target")
        self.assertEqual(len(self.alerts()), 2)

    def test_old_periods_and_other_levels_are_not_alerted(self):
        # February (10, far below the target) is older than the previous
        # period on 10 April: off target, no alert
        with freeze_time(self.TODAY):
            values = self.values(self.compute("month", D(2025, 2, 1)))
        self.assertEqual(values["revenue"].status, "off_target")
        self.assertFalse(self.alerts())
        # April, the current month, is still running: 80 on the 8th is off
        # target, and nobody is alerted until the month is closed
        self.make_orders(
            [{"partner": self.customers[1], "date": D(2025, 4, 8), "amount": 80.0}]
        )
        with freeze_time(self.TODAY):
            values = self.values(self.compute("month", D(2025, 4, 1)))
        self.assertKpi(values, "revenue", 80.0)
        self.assertEqual(values["revenue"].status, "off_target")
        self.assertFalse(self.alerts())
        # on 2 May April is the last closed month: its next computation alerts
        with freeze_time("2025-05-02 09:00:00"):
            self.compute("month", D(2025, 4, 1))
        alerts = self.alerts()
        self.assertTrue(alerts)
        self.assertEqual(
            set(alerts.mapped("summary")),
            {f"Revenue off target in 2025-04 ({self.company.name})"},
        )
        # the company target of a rate applies to the team's value too, but
        # only the company's value is alerted
        rate = self.env["crm.kpi.target"].create(
            {
                "kpi_id": self.kpi["customer_conversion_rate"].id,
                "company_id": self.company.id,
                "target_value": 200.0,
                "warning_value": 150.0,
            }
        )
        with freeze_time(self.TODAY):
            snaps = self.compute("month", D(2025, 3, 1))
        team_values = self.values(snaps, "team", self.team.id)
        self.assertEqual(team_values["customer_conversion_rate"].status, "off_target")
        self.assertEqual(
            self.values(snaps)["customer_conversion_rate"].status, "off_target"
        )
        managers = self.alerts(rate).mapped("user_id")
        self.assertIn(self.manager, managers)
        self.assertEqual(len(self.alerts(rate)), len(managers))

    def test_weekly_summary(self):
        self.target.write({"target_value": 1000.0, "warning_value": 800.0})
        self.compute_march()
        self.manager.write({"kpi_weekly_summary": True, "email": "boss@example.com"})
        # the salesman may switch it on himself (a self-writeable preference)
        self.salesman.with_user(self.salesman).write({"kpi_weekly_summary": True})
        self.assertTrue(self.salesman.kpi_weekly_summary)
        self.salesman.email = "seller@example.com"
        Mail = self.env["mail.mail"]
        before = Mail.search([])
        with freeze_time(self.TODAY):
            self.env["crm.kpi.target"]._cron_send_weekly_summary()
        mails = Mail.search([]) - before
        by_partner = {m.recipient_ids: m for m in mails}
        boss = by_partner.get(self.manager.partner_id)
        self.assertTrue(boss, "the manager gets the summary")
        self.assertIn("Revenue", boss.body_html)
        self.assertIn("450.00", boss.body_html)
        self.assertIn("KPIs off target: 1", boss.subject)
        # the salesman reads only his own scope: the company's revenue is not
        # his, and his own scope has no target off, so he gets no mail
        self.assertNotIn(self.salesman.partner_id, by_partner)
        values = self.env["crm.kpi.value"]._kpi_off_target_for(self.salesman)
        self.assertFalse(values.filtered(lambda v: v.scope == "company"))
