"""CRM adoption KPIs per company and per user.

January 2026, three licensed users (manager and salesman with sales access,
agent with helpdesk access) and one internal user without CRM access:

- salesman: creates lead L (its creation notice is not an extra action),
  posts two messages on it and completes an activity on it: 4 actions;
- agent: creates ticket T and later changes it without leaving a message:
  2 actions;
- manager: acts only in February;
- a lead of another company where the salesman is the author does not count.
"""

from datetime import date, datetime

from freezegun import freeze_time

from odoo import Command
from odoo.tests import new_test_user, tagged

from .common import KpiCase


@tagged("post_install", "-at_install")
class TestAdoptionKpi(KpiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=False))
        cls.agent = new_test_user(
            cls.env,
            login="kpi_adoption_agent",
            groups="helpdesk_mgmt.group_helpdesk_user,base.group_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.clerk = new_test_user(
            cls.env,
            login="kpi_adoption_clerk",
            groups="base.group_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        with freeze_time(datetime(2026, 1, 5, 9)):
            cls.lead = (
                cls.env["crm.lead"]
                .with_user(cls.salesman)
                .create(
                    {
                        "name": "Adoption lead",
                        "company_id": cls.company.id,
                        "user_id": cls.salesman.id,
                        "team_id": cls.team.id,
                    }
                )
            )
            cls._flush()
        cls._sql_dates("crm_lead", cls.lead.id, datetime(2026, 1, 5, 9), cls.salesman)
        for day in (6, 7):
            with freeze_time(datetime(2026, 1, day, 10)):
                cls.lead.with_user(cls.salesman).message_post(
                    body="Follow-up",
                    message_type="comment",
                    subtype_xmlid="mail.mt_comment",
                )
                cls._flush()
        activity = cls.env["mail.activity"].create(
            {
                "activity_type_id": cls.env.ref("mail.mail_activity_data_call").id,
                "res_model_id": cls.env["ir.model"]._get_id("crm.lead"),
                "res_id": cls.lead.id,
                "user_id": cls.salesman.id,
            }
        )
        with freeze_time(datetime(2026, 1, 8, 10)):
            activity.with_user(cls.salesman).action_feedback("Done")
            cls._flush()

        with freeze_time(datetime(2026, 1, 10, 9)):
            cls.ticket = (
                cls.env["helpdesk.ticket"]
                .with_user(cls.agent)
                .create(
                    {
                        "name": "Adoption ticket",
                        "description": "<p>x</p>",
                        "company_id": cls.company.id,
                    }
                )
            )
            cls._flush()
        cls._sql_dates(
            "helpdesk_ticket",
            cls.ticket.id,
            datetime(2026, 1, 10, 9),
            cls.agent,
            written=datetime(2026, 1, 12, 9),
        )
        # February: the manager's only action
        with freeze_time(datetime(2026, 2, 3, 10)):
            cls.lead.with_user(cls.manager).message_post(
                body="Checked", message_type="comment", subtype_xmlid="mail.mt_note"
            )
            cls._flush()
        # another company's lead, with a message of the salesman
        other = cls.env["res.company"].create({"name": "KPI adoption other co"})
        other_lead = cls.env["crm.lead"].create(
            {"name": "Elsewhere", "company_id": other.id}
        )
        with freeze_time(datetime(2026, 1, 9, 10)):
            other_lead.message_post(
                body="Not ours",
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                author_id=cls.salesman.partner_id.id,
            )
            cls._flush()

    @classmethod
    def _flush(cls):
        cls.env.flush_all()
        cls.env.cr.flush()

    @classmethod
    def _sql_dates(cls, table, rid, created, user, written=None):
        cls.env.cr.execute(
            f"UPDATE {table} SET create_date = %s, create_uid = %s, write_date = %s,"  # noqa: S608
            " write_uid = %s WHERE id = %s",
            (created, user.id, written or created, user.id, rid),
        )
        cls.env.invalidate_all()

    def test_company(self):
        v = self.values(self.compute("month", date(2026, 1, 1)))
        # licensed: manager, salesman, agent (not the clerk)
        self.assertKpi(v, "crm_users", 3)
        self.assertKpi(v, "crm_active_users", 2)
        self.assertKpi(v, "adoption_rate", 2 / 3 * 100)
        # (4 + 2) actions / 2 active users
        self.assertKpi(v, "actions_per_user", 3.0)

    def test_users(self):
        snaps = self.compute("month", date(2026, 1, 1))
        salesman = self.values(snaps, "user", self.salesman.id)
        self.assertKpi(salesman, "crm_active_users", 1)
        self.assertKpi(salesman, "actions_per_user", 4.0)
        self.assertKpi(salesman, "adoption_rate", 100.0)
        agent = self.values(snaps, "user", self.agent.id)
        self.assertKpi(agent, "actions_per_user", 2.0)
        # inactive users (the manager) and users without CRM access (the
        # clerk) have no user scope
        self.assertFalse(snaps.filtered(lambda s: s.user_id == self.manager))
        self.assertFalse(snaps.filtered(lambda s: s.user_id == self.clerk))

    def test_february_and_empty_period(self):
        feb = self.values(self.compute("month", date(2026, 2, 1)))
        self.assertKpi(feb, "crm_active_users", 1)
        self.assertKpi(feb, "actions_per_user", 1.0)
        empty = self.values(self.compute("month", date(2025, 6, 1)))
        self.assertKpi(empty, "crm_users", 3)
        self.assertKpi(empty, "crm_active_users", 0)
        self.assertKpi(empty, "adoption_rate", 0.0)
        self.assertKpi(empty, "actions_per_user", None)

    def test_drill_down(self):
        v = self.values(self.compute("month", date(2026, 1, 1)))
        action = v["crm_active_users"].action_open_numerator()
        self.assertEqual(
            self.env["res.users"].search(action["domain"]), self.salesman | self.agent
        )
        action = v["adoption_rate"].action_open_denominator()
        self.assertEqual(
            self.env["res.users"].search(action["domain"]),
            self.salesman | self.agent | self.manager,
        )
