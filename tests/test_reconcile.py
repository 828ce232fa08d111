"""Numbers that reconcile: the stored values, their drill-down lists and
:meth:`crm.kpi.snapshot.reconcile_period` agree, for hand-worked leads of
November 2026 (UTC company, team A with a 09:00-17:00 Monday-Friday
calendar and a public holiday on Tuesday 3 November):

===  ===========  ==============  =========  ==============================
 #   type         company         status     notes
===  ===========  ==============  =========  ==============================
L1   opportunity  the company     won 11-10  created Mon 11-02 10:00; the
                                             salesperson's reply arrives by
                                             email Wed 11-04 10:00; the
                                             customer's email and a note do
                                             not count
L2   opportunity  the company     lost 11-12
L3   lead         the company     lost 11-12 a lost lead is not a lost deal
L4   opportunity  none (team A)   won 11-11  counts for team A's company
L5   opportunity  none, no team   lost 11-12 counts for its salesperson's
===  ===========  ==============  =========  ==============================

Won L1, L4; lost L2, L5: win rate 2 / 4 = 50 % (33 % if L3 counted as a
lost deal, 1 / 3 if the leads without company were left out).
"""

from datetime import datetime

from freezegun import freeze_time

from odoo import Command
from odoo.fields import Domain
from odoo.tests import tagged

from .common import D, KpiCase

NOV = D(2026, 11, 1)
SNAPSHOT = "odoo.addons.crm_success_kpi.models.crm_kpi_snapshot"


@tagged("post_install", "-at_install")
class TestReconcile(KpiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.calendar = cls.make_office_calendar("KPI sales 9-17")
        cls.env["resource.calendar.leaves"].create(
            {
                "name": "KPI holiday",
                "calendar_id": cls.calendar.id,
                "date_from": datetime(2026, 11, 3, 0, 0),
                "date_to": datetime(2026, 11, 3, 23, 59, 59),
                "time_type": "leave",
            }
        )
        cls.team.kpi_resource_calendar_id = cls.calendar
        created = datetime(2026, 11, 2, 10, 0)
        cls.l1, cls.l2, cls.l3, cls.l4, cls.l5 = cls.make_leads(
            [
                {
                    "created": created,
                    "status": "won",
                    "closed": datetime(2026, 11, 10),
                    "revenue": 1000.0,
                },
                {
                    "created": created,
                    "status": "lost",
                    "closed": datetime(2026, 11, 12),
                    "revenue": 400.0,
                },
                {
                    "created": created,
                    "status": "lost",
                    "closed": datetime(2026, 11, 12),
                },
                {
                    "created": datetime(2026, 11, 3, 10, 0),
                    "status": "won",
                    "closed": datetime(2026, 11, 11),
                    "revenue": 3000.0,
                },
                {
                    "created": datetime(2026, 11, 3, 10, 0),
                    "status": "lost",
                    "closed": datetime(2026, 11, 12),
                    "revenue": 600.0,
                },
            ]
        )
        cls.env.flush_all()
        cr = cls.env.cr
        cr.execute("UPDATE crm_lead SET type = 'lead' WHERE id = %s", [cls.l3.id])
        cr.execute(
            "UPDATE crm_lead SET company_id = NULL WHERE id IN %s",
            [(cls.l4.id, cls.l5.id)],
        )
        cr.execute("UPDATE crm_lead SET team_id = NULL WHERE id = %s", [cls.l5.id])
        cls.env.invalidate_all()
        customer = cls.env["res.partner"].create(
            {"name": "KPI Reconcile Customer", "email": "rc@example.com"}
        )
        posted = [
            # the salesperson's reply, through the mail gateway
            cls.l1.message_post(
                body="Here is our offer",
                message_type="email",
                subtype_xmlid="mail.mt_comment",
                author_id=cls.salesman.partner_id.id,
            ),
            # the customer's email and an internal note: not responses
            cls.l1.message_post(
                body="Any news?",
                message_type="email",
                subtype_xmlid="mail.mt_comment",
                author_id=customer.id,
            ),
            cls.l1.with_user(cls.salesman).message_post(
                body="internal", subtype_xmlid="mail.mt_note"
            ),
        ]
        cls.reply = posted[0]
        dates = [
            datetime(2026, 11, 4, 10, 0),
            datetime(2026, 11, 2, 11, 0),
            datetime(2026, 11, 2, 12, 0),
        ]
        cls.env.flush_all()
        for message, when in zip(posted, dates, strict=True):
            cr.execute(
                "UPDATE mail_message SET date = %s WHERE id = %s", [when, message.id]
            )
        cls.env.invalidate_all()
        cls.snapshots = cls.compute("month", NOV)

    @classmethod
    def compute(cls, granularity, day):
        return cls.Snapshot.compute_period(granularity, day, companies=cls.company)

    def _records(self, value, part="numerator"):
        action = value._drill(part)
        return (
            self.env[action["res_model"]]
            .with_context(active_test=False)
            .search(action["domain"])
        )

    def _win_later(self, lead):
        """``lead``, lost in November, is marked won (on 20 November) after
        November was computed."""
        lead.action_unarchive()
        lead.action_set_won()
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE crm_lead SET date_closed = %s WHERE id = %s",
            [datetime(2026, 11, 20), lead.id],
        )
        self.env.invalidate_all()

    # -- the situations ------------------------------------------------------
    def test_lost_leads_are_not_lost_deals(self):
        v = self.values(self.snapshots)
        self.assertKpi(v, "deals_won", 2)
        self.assertKpi(v, "deals_lost", 2)
        self.assertKpi(v, "win_rate", 50.0)
        # by value: 4000 won of 4000 + 1000 lost
        self.assertKpi(v, "win_rate_value", 80.0)
        self.assertEqual(self._records(v["deals_lost"]), self.l2 | self.l5)
        self.assertEqual(
            self._records(v["win_rate"], "denominator"),
            self.l1 | self.l2 | self.l4 | self.l5,
        )
        # every lead and opportunity created is a prospect
        self.assertKpi(v, "prospects", 5)

    def test_leads_without_company(self):
        self.assertFalse(self.l4.company_id or self.l5.company_id)
        self.assertEqual(self.l4._kpi_company(), self.company)
        self.assertEqual(self.l5._kpi_company(), self.company)
        v = self.values(self.snapshots)
        self.assertEqual(self._records(v["deals_won"]), self.l1 | self.l4)
        team = self.values(self.snapshots, "team", self.team.id)
        # L1, L2, L4 are team A's decided deals (L5 has no team)
        self.assertKpi(team, "win_rate", 2 / 3 * 100)
        user = self.values(self.snapshots, "user", self.salesman.id)
        self.assertKpi(user, "win_rate", 50.0)

    def test_email_reply_is_a_response(self):
        v = self.values(self.snapshots)
        # L1 answered 48 h after creation by the salesperson's email; the
        # customer's email (1 h after) and the note (2 h after) do not count
        self.assertKpi(v, "sales_response_hours", 48.0)
        self.assertKpi(v, "unanswered_leads", 4)
        self.assertKpi(v, "outbound_emails", 1)
        self.assertEqual(self._records(v["outbound_emails"]), self.reply)
        self.assertTrue(self.l1.kpi_responded)
        self.assertEqual(self.l1.kpi_email_count, 1)
        self.assertAlmostEqual(self.l1.kpi_first_response_hours, 48.0)
        # team A's calendar: Monday 10:00-17:00 (7 h), Tuesday is a public
        # holiday, Wednesday 09:00-10:00 (1 h)
        self.assertAlmostEqual(self.l1.kpi_first_response_working_hours, 8.0)

    # -- reconciliation ------------------------------------------------------
    def test_every_value_agrees_with_its_records(self):
        for granularity in ("week", "month", "quarter", "year"):
            # the week of Monday 2 November, the month, quarter and year
            day = D(2026, 11, 2)
            self.compute(granularity, day)
            self.assertEqual(
                self.Snapshot.reconcile_period(
                    granularity, day, companies=self.company
                ),
                [],
                granularity,
            )

    def test_drill_after_a_later_edit(self):
        v = self.values(self.snapshots)
        value = v["deals_won"]
        action = value.action_open_numerator()
        # as computed: no warning
        self.assertNotIn("crm_kpi_drill", action["context"])
        self.assertEqual(len(self._records(value)), 2)
        # L2 is won after all, after the computation
        self._win_later(self.l2)
        action = value.action_open_numerator()
        self.assertEqual(len(self._records(value)), 3)
        banner = action["context"]["crm_kpi_drill"]
        self.assertEqual(banner["stored"], 2.0)
        self.assertEqual(banner["now"], 3.0)
        self.assertEqual(banner["value_id"], value.id)
        self.assertTrue(banner["computed_at"])
        found = self.Snapshot.reconcile_period("month", NOV, companies=self.company)
        company = self.snapshots.filtered(lambda s: s.scope == "company")
        self.assertIn((company, "deals_won", 2.0, 3.0), found)
        self.assertIn((company, "win_rate", 2.0, 3.0), found)
        self.assertEqual(
            {item.part for item in found if item[1] == "deals_lost"}, {"numerator"}
        )
        # the button of the list computes the period again: they agree
        result = value.with_user(self.manager).action_recompute_period()
        self.assertEqual(result["res_model"], "crm.kpi.value")
        recomputed = self.env["crm.kpi.value"].browse(result["res_id"])
        self.assertEqual(recomputed.value, 3.0)
        self.assertNotIn("crm_kpi_drill", recomputed.action_open_numerator()["context"])
        self.assertEqual(
            self.Snapshot.reconcile_period("month", NOV, companies=self.company), []
        )

    def test_daily_action_logs_disagreements(self):
        for granularity in ("week", "quarter", "year"):
            self.compute(granularity, D(2026, 11, 20))
        with freeze_time("2026-11-21 08:00:00"):
            self.assertEqual(self.Snapshot._cron_reconcile_yesterday(), [])
            self._win_later(self.l2)
            with self.assertLogs(SNAPSHOT, "WARNING") as logs:
                found = self.Snapshot._cron_reconcile_yesterday()
        # yesterday, 20 November: its week, month, quarter and year now count
        # L2's win of the 20th
        self.assertEqual(
            {
                (item[0].granularity, item[1], item.part)
                for item in found
                if item[1] == "deals_won"
            },
            {
                ("week", "deals_won", "numerator"),
                ("month", "deals_won", "numerator"),
                ("quarter", "deals_won", "numerator"),
                ("year", "deals_won", "numerator"),
            },
        )
        self.assertTrue(all(item[0].scope == "company" for item in found))
        self.assertTrue(
            any(
                "deals_won numerator stored 2.0, its records give 3.0" in line
                for line in logs.output
            )
        )

    def test_broken_drill_down_is_reported(self):
        """A family whose drill-down no longer lists what it counts makes the
        reconciliation report that KPI (and that KPI only)."""
        Sales = type(self.env["crm.kpi.family.sales"])
        original = Sales._kpi_drill

        def broken(family, code, scope, scope_id, part):
            found = original(family, code, scope, scope_id, part)
            if code == "prospects" and found:
                model, domain = found
                return model, Domain(domain) & Domain("id", "!=", self.l3.id)
            return found

        self.patch(Sales, "_kpi_drill", broken)
        found = self.Snapshot.reconcile_period("month", NOV, companies=self.company)
        self.assertTrue(found)
        self.assertEqual({item[1] for item in found}, {"prospects"})
        company = [item for item in found if item[0].scope == "company"]
        self.assertEqual([tuple(item[1:]) for item in company], [("prospects", 5, 4)])

    def test_reconcile_wizard(self):
        wizard = (
            self.env["crm.kpi.reconcile"]
            .with_user(self.manager)
            .create(
                {
                    "date_from": D(2026, 11, 5),
                    "date_to": D(2026, 11, 25),
                    "granularity": "month",
                    "company_ids": [Command.set(self.company.ids)],
                }
            )
        )
        wizard.action_run()
        self.assertEqual(wizard.state, "done")
        self.assertEqual(wizard.period_count, 1)
        self.assertFalse(wizard.line_ids)
        # a later edit shows up as a line that opens the records
        self._win_later(self.l5)
        wizard.action_run()
        lines = wizard.line_ids.filtered(lambda line: line.kpi_code == "deals_won")
        self.assertTrue(lines)
        company_line = lines.filtered(lambda line: line.scope == "company")
        self.assertEqual((company_line.stored, company_line.recounted), (2.0, 3.0))
        action = company_line.action_open_records()
        self.assertEqual(action["res_model"], "crm.lead")

    def test_reconcile_is_for_kpi_managers(self):
        from odoo.exceptions import AccessError  # noqa: PLC0415

        with self.assertRaises(AccessError):
            self.Snapshot.with_user(self.salesman).reconcile_period("month", NOV)
        # nor open the wizard, nor recompute a period from a drill-down
        with self.assertRaises(AccessError):
            self.env["crm.kpi.reconcile"].with_user(self.salesman).create(
                {"granularity": "month"}
            )
        own = self.snapshots.filtered(
            lambda s: s.scope == "user" and s.user_id == self.salesman
        )
        value = own.value_ids.filtered(lambda v: v.kpi_code == "deals_won")
        self.assertTrue(value.with_user(self.salesman).action_open_numerator())
        with self.assertRaises(AccessError):
            value.with_user(self.salesman).action_recompute_period()
