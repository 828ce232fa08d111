"""Customer service KPIs: ticket figures kept up to date as messages are
posted and stages change, their backfill, and the period KPIs per company,
helpdesk team and agent.

Every event happens at a frozen time of January 2026 (UTC company), in a
team whose calendar is 09:00-17:00 Monday-Friday (UTC):

===  =====  ===================  ==========================================
 #   agent  created              history
===  =====  ===================  ==========================================
T1   agent  Mon 01-05 09:00      created by the agent for the customer;
                                 note 10:00, assigned 10:15, customer mail
                                 10:30, note 11:00, reply 12:00, closed 14:00
T2   agent  Tue 01-06 09:00      reply 10:00, reply 11:00, closed 12:00;
                                 a 30-minute call in the calendar
T3   agent  Wed 01-07 09:00      reply 09:30, closed 10:00, reopened 11:00,
                                 closed 12:00, reopened 13:00, closed 15:00
T4   agent  Fri 01-09 16:00      call completed Mon 09:30, closed Mon 01-12
                                 10:00 (2 working hours, 66 calendar hours)
T5   agent2 Thu 01-08 09:00      stays open
T6   agent2 Mon 2025-12-29 09:00 reply 10:00, closed Fri 2026-01-02 09:00
===  =====  ===================  ==========================================

The closed stage sends the helpdesk "ticket closed" template mail: an
automatic mail, never a reply.
"""

from datetime import date, datetime

from freezegun import freeze_time

from odoo import Command
from odoo.tests import Form, new_test_user, tagged

from .common import KpiCase


def dt(*args):
    return datetime(*args)


@tagged("post_install", "-at_install")
class TestServiceKpi(KpiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # tickets need tracking (stage history) and notifications
        cls.env = cls.env(
            context=dict(cls.env.context, tracking_disable=False, mail_notrack=False)
        )
        cls.calendar = cls.make_office_calendar("KPI 9-17")
        groups = "helpdesk_mgmt.group_helpdesk_user,base.group_user"
        cls.agent = new_test_user(
            cls.env,
            login="kpi_svc_agent",
            groups=groups,
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.agent2 = new_test_user(
            cls.env,
            login="kpi_svc_agent2",
            groups=groups,
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.helpdesk_team = cls.env["helpdesk.ticket.team"].create(
            {
                "name": "KPI Support",
                "company_id": cls.company.id,
                "user_ids": [Command.set((cls.agent | cls.agent2).ids)],
                "kpi_resource_calendar_id": cls.calendar.id,
            }
        )
        Stage = cls.env["helpdesk.ticket.stage"]
        cls.stage_new = Stage.create(
            {
                "name": "KPI New",
                "sequence": 1,
                "company_id": cls.company.id,
                "team_ids": [Command.set(cls.helpdesk_team.ids)],
            }
        )
        cls.stage_done = Stage.create(
            {
                "name": "KPI Done",
                "sequence": 5,
                "closed": True,
                "company_id": cls.company.id,
                "team_ids": [Command.set(cls.helpdesk_team.ids)],
                "mail_template_id": cls.env.ref(
                    "helpdesk_mgmt.closed_ticket_template"
                ).id,
            }
        )
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "KPI Ticket Customer",
                "email": "ticket.customer@example.com",
                "is_company": True,
            }
        )
        call = cls.env.ref("mail.mail_activity_data_call")

        T = cls._ticket
        cls.t1 = T("T1", dt(2026, 1, 5, 9), user=None)
        cls._note(cls.t1, dt(2026, 1, 5, 10))
        with freeze_time(dt(2026, 1, 5, 10, 15)):
            cls.t1.with_user(cls.agent).write({"user_id": cls.agent.id})
            cls._flush()
        cls._customer_mail(cls.t1, dt(2026, 1, 5, 10, 30))
        cls._note(cls.t1, dt(2026, 1, 5, 11))
        cls._reply(cls.t1, dt(2026, 1, 5, 12))
        cls._stage(cls.t1, cls.stage_done, dt(2026, 1, 5, 14))

        cls.t2 = T("T2", dt(2026, 1, 6, 9))
        cls._reply(cls.t2, dt(2026, 1, 6, 10))
        cls._reply(cls.t2, dt(2026, 1, 6, 11))
        cls._stage(cls.t2, cls.stage_done, dt(2026, 1, 6, 12))
        cls.env["calendar.event"].create(
            {
                "name": "Call about T2",
                "start": dt(2026, 1, 6, 10),
                "stop": dt(2026, 1, 6, 10, 30),
                "res_model_id": cls.env["ir.model"]._get_id("helpdesk.ticket"),
                "res_id": cls.t2.id,
            }
        )

        cls.t3 = T("T3", dt(2026, 1, 7, 9))
        cls._reply(cls.t3, dt(2026, 1, 7, 9, 30))
        cls._stage(cls.t3, cls.stage_done, dt(2026, 1, 7, 10))
        cls._stage(cls.t3, cls.stage_new, dt(2026, 1, 7, 11))
        cls._stage(cls.t3, cls.stage_done, dt(2026, 1, 7, 12))
        cls._stage(cls.t3, cls.stage_new, dt(2026, 1, 7, 13))
        cls._stage(cls.t3, cls.stage_done, dt(2026, 1, 7, 15))

        cls.t4 = T("T4", dt(2026, 1, 9, 16))
        activity = (
            cls.env["mail.activity"]
            .with_user(cls.agent)
            .create(
                {
                    "activity_type_id": call.id,
                    "res_model_id": cls.env["ir.model"]._get_id("helpdesk.ticket"),
                    "res_id": cls.t4.id,
                    "user_id": cls.agent.id,
                    "summary": "Call the customer",
                }
            )
        )
        with freeze_time(dt(2026, 1, 12, 9, 30)):
            activity.with_user(cls.agent).action_feedback("Called")
            cls._flush()
        cls._stage(cls.t4, cls.stage_done, dt(2026, 1, 12, 10))

        cls.t5 = T("T5", dt(2026, 1, 8, 9), user=cls.agent2)

        cls.t6 = T("T6", dt(2025, 12, 29, 9), user=cls.agent2)
        cls._reply(cls.t6, dt(2025, 12, 29, 10), author=cls.agent2)
        cls._stage(cls.t6, cls.stage_done, dt(2026, 1, 2, 9), author=cls.agent2)
        cls.tickets = cls.t1 | cls.t2 | cls.t3 | cls.t4 | cls.t5 | cls.t6

    # -- builders ------------------------------------------------------------
    @classmethod
    def _flush(cls):
        cls.env.flush_all()
        cls.env.cr.flush()  # runs the tracking (stage history, stage mails)

    @classmethod
    def _ticket(cls, name, when, user=False):
        user = cls.agent if user is False else user
        with freeze_time(when):
            ticket = (
                cls.env["helpdesk.ticket"]
                .with_user(cls.agent)
                .with_company(cls.company)
                .create(
                    {
                        "name": name,
                        "description": f"<p>{name}</p>",
                        "team_id": cls.helpdesk_team.id,
                        "user_id": user.id if user else False,
                        "partner_id": cls.customer.id,
                        "company_id": cls.company.id,
                        "stage_id": cls.stage_new.id,
                    }
                )
            )
            cls._flush()
        # the database sets create_date: move it to the frozen time
        cls.env.cr.execute(
            "UPDATE helpdesk_ticket SET create_date = %s WHERE id = %s",
            (when, ticket.id),
        )
        ticket.invalidate_recordset()
        return ticket.with_user(cls.env.user)

    @classmethod
    def _reply(cls, ticket, when, author=None):
        with freeze_time(when):
            ticket.with_user(author or cls.agent).message_post(
                body="Here is the answer",
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
            cls._flush()

    @classmethod
    def _note(cls, ticket, when):
        with freeze_time(when):
            ticket.with_user(cls.agent).message_post(
                body="Internal note",
                message_type="comment",
                subtype_xmlid="mail.mt_note",
            )
            cls._flush()

    @classmethod
    def _customer_mail(cls, ticket, when):
        with freeze_time(when):
            ticket.message_post(
                body="Any news?",
                message_type="email",
                subtype_xmlid="mail.mt_comment",
                author_id=cls.customer.id,
            )
            cls._flush()

    @classmethod
    def _stage(cls, ticket, stage, when, author=None):
        with freeze_time(when):
            ticket.with_user(author or cls.agent).write({"stage_id": stage.id})
            cls._flush()

    # -- per ticket ----------------------------------------------------------
    def test_ticket_first_response_ignores_notes_and_notifications(self):
        t1 = self.t1
        # created 09:00 by the agent on the customer's behalf: not a response.
        # Notes 10:00/11:00, assignment notice 10:15, customer mail 10:30 and
        # the automatic "closed" mail do not count: reply 12:00 -> 3 h
        self.assertEqual(t1.kpi_first_response_date, dt(2026, 1, 5, 12))
        self.assertAlmostEqual(t1.kpi_first_response_hours, 3.0)
        self.assertAlmostEqual(t1.kpi_first_response_working_hours, 3.0)
        self.assertEqual(t1.kpi_reply_count, 1)
        # created 09:00, closed 14:00
        self.assertAlmostEqual(t1.kpi_resolution_hours, 5.0)
        self.assertTrue(t1.kpi_fcr)
        # the stage template mail was really sent from the ticket (an
        # outgoing mail of the agent, without subtype: not a reply)
        self.assertTrue(
            t1.message_ids.filtered(
                lambda m: m.message_type == "email_outgoing" and not m.subtype_id
            ),
            "the closed stage's template should have mailed the customer",
        )

    def test_ticket_fcr_with_and_without_reopen(self):
        # T2: two replies -> not FCR; T3: one reply but reopened -> not FCR
        self.assertEqual(self.t2.kpi_reply_count, 2)
        self.assertFalse(self.t2.kpi_fcr)
        self.assertEqual(self.t3.kpi_reply_count, 1)
        self.assertEqual(self.t3.kpi_reopen_count, 2)
        self.assertEqual(self.t3.kpi_last_reopen_date, dt(2026, 1, 7, 13))
        self.assertFalse(self.t3.kpi_fcr)
        # last close 15:00, created 09:00
        self.assertAlmostEqual(self.t3.kpi_resolution_hours, 6.0)
        # T4: no reply and never reopened -> FCR; T5 open -> not FCR
        self.assertTrue(self.t4.kpi_fcr)
        self.assertFalse(self.t5.kpi_fcr)
        self.assertFalse(self.t5.kpi_last_close_date)

    def test_ticket_working_hours(self):
        # Friday 16:00 -> Monday 10:00: 1 h on Friday + 1 h on Monday;
        # 8 h + 48 h + 10 h = 66 calendar hours
        t4 = self.t4
        self.assertEqual(t4.kpi_last_close_date, dt(2026, 1, 12, 10))
        self.assertAlmostEqual(t4.kpi_resolution_hours, 66.0)
        self.assertAlmostEqual(t4.kpi_resolution_working_hours, 2.0)
        self.assertFalse(t4.kpi_first_response_date)
        # T6: Mon 12-29 09:00 -> Fri 01-02 09:00: 96 h, 4 working days = 32 h
        self.assertAlmostEqual(self.t6.kpi_resolution_hours, 96.0)
        self.assertAlmostEqual(self.t6.kpi_resolution_working_hours, 32.0)

    def test_working_hours_fall_back_to_company_calendar(self):
        self.company.resource_calendar_id = self.calendar
        self.helpdesk_team.kpi_resource_calendar_id = False
        self.assertEqual(self.helpdesk_team._kpi_calendar(self.company), self.calendar)
        other = self.env["resource.calendar"].create(
            {
                "name": "KPI 24/7",
                "tz": "UTC",
                "company_id": self.company.id,
                "attendance_ids": [Command.clear()]
                + [
                    Command.create(
                        {
                            "name": f"D{d}",
                            "dayofweek": str(d),
                            "hour_from": 0,
                            "hour_to": 24,
                            "day_period": "full_day",
                        }
                    )
                    for d in range(7)
                ],
            }
        )
        self.helpdesk_team.kpi_resource_calendar_id = other
        # on a 24/7 calendar, working hours are calendar hours
        self.assertAlmostEqual(self.t4.kpi_resolution_working_hours, 66.0, places=1)

    def test_backfill_rebuilds_figures_from_history(self):
        fields = (
            "kpi_first_response_date",
            "kpi_last_close_date",
            "kpi_last_reopen_date",
            "kpi_reply_count",
            "kpi_reopen_count",
            "kpi_first_response_hours",
            "kpi_resolution_hours",
            "kpi_resolution_working_hours",
            "kpi_fcr",
        )
        expected = {t.id: {f: t[f] for f in fields} for t in self.tickets}
        self.env.flush_all()
        self.env.cr.execute(
            """UPDATE helpdesk_ticket SET kpi_first_response_date = NULL,
                      kpi_last_close_date = NULL, kpi_last_reopen_date = NULL,
                      kpi_reply_count = 0, kpi_reopen_count = 0,
                      kpi_first_response_hours = 0, kpi_resolution_hours = 0,
                      kpi_resolution_working_hours = 0, kpi_fcr = FALSE
                WHERE id = ANY(%s)""",
            (self.tickets.ids,),
        )
        self.tickets.invalidate_recordset()
        self.assertFalse(self.t3.kpi_reopen_count)
        done = self.env["helpdesk.ticket"]._kpi_backfill(self.tickets.ids)
        self.assertEqual(done, 6)
        for ticket in self.tickets:
            got = {f: ticket[f] for f in fields}
            for f in fields:
                if isinstance(got[f], float):
                    self.assertAlmostEqual(
                        got[f], expected[ticket.id][f], msg=f"{ticket.name} {f}"
                    )
                else:
                    self.assertEqual(
                        got[f], expected[ticket.id][f], f"{ticket.name} {f}"
                    )

    # -- period KPIs ---------------------------------------------------------
    def test_period_kpis(self):
        snaps = self.compute("month", date(2026, 1, 1))
        v = self.values(snaps)
        # created in January: T1-T5; closed: T1, T2, T3, T4, T6; open at end: T5
        self.assertKpi(v, "tickets_opened", 5)
        self.assertKpi(v, "tickets_closed", 5)
        self.assertKpi(v, "ticket_backlog", 1)
        # first answered in January: T1 3 h, T2 1 h, T3 0.5 h -> 4.5 / 3
        self.assertKpi(v, "ticket_first_response_hours", 1.5)
        self.assertKpi(v, "ticket_first_response_working_hours", 1.5)
        # resolution: 5 + 3 + 6 + 66 + 96 = 176 / 5; working 5+3+6+2+32 = 48 / 5
        self.assertKpi(v, "ticket_resolution_hours", 35.2)
        self.assertKpi(v, "ticket_resolution_working_hours", 9.6)
        # FCR: T1, T4, T6 of 5
        self.assertKpi(v, "fcr_rate", 60.0)
        self.assertEqual(v["fcr_rate"].numerator, 3)
        # contacts: replies 1 + 2 + 1 + 0 + 1, plus T4's call = 6 / 5
        self.assertKpi(v, "contacts_per_ticket", 1.2)
        # handle time: no timesheets -> calendar: 0.5 h on T2 / 5 tickets
        self.assertKpi(v, "handle_time_hours", 0.1)
        # closed tickets reopened in January: T3 (twice, one ticket) -> 1 / 5
        self.assertKpi(v, "reopen_rate", 20.0)
        self.assertEqual(v["reopen_rate"].numerator, 1)

        team = self.values(snaps, "helpdesk_team", self.helpdesk_team.id)
        self.assertKpi(team, "tickets_closed", 5)
        self.assertKpi(team, "fcr_rate", 60.0)

        agent = self.values(snaps, "agent", self.agent.id)
        # T1-T4: all closed; FCR T1, T4; resolution (5+3+6+66)/4
        self.assertKpi(agent, "tickets_opened", 4)
        self.assertKpi(agent, "fcr_rate", 50.0)
        self.assertKpi(agent, "ticket_resolution_hours", 20.0)
        self.assertKpi(agent, "ticket_backlog", 0)
        agent2 = self.values(snaps, "agent", self.agent2.id)
        # T5 open, T6 closed (answered in December: n/a in January)
        self.assertKpi(agent2, "tickets_opened", 1)
        self.assertKpi(agent2, "tickets_closed", 1)
        self.assertKpi(agent2, "ticket_backlog", 1)
        self.assertKpi(agent2, "ticket_first_response_hours", None)
        self.assertKpi(agent2, "ticket_resolution_hours", 96.0)

    def test_previous_and_empty_periods(self):
        december = self.values(self.compute("month", date(2025, 12, 1)))
        # T6 created and answered in December (1 h), open at its end
        self.assertKpi(december, "tickets_opened", 1)
        self.assertKpi(december, "tickets_closed", 0)
        self.assertKpi(december, "ticket_backlog", 1)
        self.assertKpi(december, "ticket_first_response_hours", 1.0)
        self.assertKpi(december, "fcr_rate", None)
        self.assertKpi(december, "reopen_rate", None)
        self.assertKpi(december, "handle_time_hours", None)
        empty = self.values(self.compute("month", date(2025, 6, 1)))
        self.assertKpi(empty, "tickets_opened", 0)
        self.assertKpi(empty, "ticket_backlog", 0)
        self.assertKpi(empty, "ticket_resolution_hours", None)
        self.assertKpi(empty, "contacts_per_ticket", None)

    def test_reopened_across_months(self):
        """T7 is closed on 20 January, reopened on 3 February and closed again
        on 5 February.  Computed after all of it, January still saw it
        handled and not open at its end; February handled it again."""
        t7 = self._ticket("T7", dt(2026, 1, 19, 10))
        self._stage(t7, self.stage_done, dt(2026, 1, 20, 10))
        self._stage(t7, self.stage_new, dt(2026, 2, 3, 10))
        self._stage(t7, self.stage_done, dt(2026, 2, 5, 10))
        january = self.values(self.compute("month", date(2026, 1, 1)))
        # T1-T4, T6 and T7 closed; only T5 open at the end of January
        self.assertKpi(january, "tickets_closed", 6)
        self.assertKpi(january, "ticket_backlog", 1)
        # no reopen in January for T7: T3 only
        self.assertEqual(january["reopen_rate"].numerator, 1)
        closed = self.env["helpdesk.ticket"].search(
            january["tickets_closed"].action_open_numerator()["domain"]
        )
        self.assertIn(t7, closed)
        # the list holds what the value counts, its close read from the
        # stage history (the ticket's last close is in February)
        self.assertEqual(len(closed), 6)
        backlog = self.env["helpdesk.ticket"].search(
            january["ticket_backlog"].action_open_numerator()["domain"]
        )
        self.assertEqual(backlog, self.t5)
        february = self.values(self.compute("month", date(2026, 2, 1)))
        self.assertKpi(february, "tickets_closed", 1)
        self.assertEqual(
            self.env["helpdesk.ticket"].search(
                february["tickets_closed"].action_open_numerator()["domain"]
            ),
            t7,
        )
        self.assertKpi(february, "tickets_opened", 0)
        # T7 reopened in February and closed again: 1 / 1
        self.assertKpi(february, "reopen_rate", 100.0)
        self.assertKpi(february, "ticket_backlog", 1)
        # its resolution time is from creation to its last close (17 days)
        self.assertKpi(february, "ticket_resolution_hours", 17 * 24)
        # the stored values agree with their records in both months
        Snapshot = self.env["crm.kpi.snapshot"]
        for month in (date(2026, 1, 1), date(2026, 2, 1)):
            self.assertEqual(
                Snapshot.reconcile_period("month", month, companies=self.company), []
            )

    def test_public_holiday_not_worked(self):
        """T8 is created on Thursday 15 January 16:00 and closed on Monday 19
        January 10:00; Friday 16 January is a public holiday of the team's
        calendar: 1 h on Thursday + 1 h on Monday (10 h without it)."""
        self.env["resource.calendar.leaves"].create(
            {
                "name": "KPI public holiday",
                "calendar_id": self.calendar.id,
                "date_from": dt(2026, 1, 16, 0),
                "date_to": dt(2026, 1, 16, 23, 59, 59),
                "time_type": "leave",
            }
        )
        t8 = self._ticket("T8", dt(2026, 1, 15, 16))
        self._stage(t8, self.stage_done, dt(2026, 1, 19, 10))
        self.assertAlmostEqual(t8.kpi_resolution_hours, 90.0)
        self.assertAlmostEqual(t8.kpi_resolution_working_hours, 2.0)
        # a holiday of another company does not apply
        other = self.env["res.company"].create({"name": "KPI Other Holidays"})
        leave = (
            self.env["resource.calendar.leaves"]
            .with_company(other)
            .create(
                {
                    "name": "KPI other company's holiday",
                    "date_from": dt(2026, 1, 19, 0),
                    "date_to": dt(2026, 1, 19, 23, 59, 59),
                    "time_type": "leave",
                }
            )
        )
        self.assertEqual(leave.company_id, other)
        self.env["helpdesk.ticket"]._kpi_backfill(t8.ids)
        t8.invalidate_recordset()
        self.assertAlmostEqual(t8.kpi_resolution_working_hours, 2.0)

    def test_drill_down(self):
        snaps = self.compute("month", date(2026, 1, 1))
        v = self.values(snaps)
        action = v["fcr_rate"].action_open_numerator()
        self.assertEqual(action["res_model"], "helpdesk.ticket")
        found = self.env["helpdesk.ticket"].search(action["domain"])
        self.assertEqual(found, self.t1 | self.t4 | self.t6)
        action = v["reopen_rate"].action_open_numerator()
        self.assertEqual(self.env["helpdesk.ticket"].search(action["domain"]), self.t3)

    # -- CES invitations -----------------------------------------------------
    def test_ces_invitation_on_close_once(self):
        ces = self.env.ref("crm_success_kpi.survey_kpi_ces")
        team = self.env["helpdesk.ticket.team"].create(
            {
                "name": "KPI CES team",
                "company_id": self.company.id,
                "user_ids": [Command.set(self.agent.ids)],
                "kpi_send_ces_on_close": True,
                "kpi_ces_survey_id": ces.id,
            }
        )
        (self.stage_new | self.stage_done).team_ids |= team
        ticket = (
            self.env["helpdesk.ticket"]
            .with_company(self.company)
            .create(
                {
                    "name": "CES",
                    "description": "<p>x</p>",
                    "team_id": team.id,
                    "partner_id": self.customer.id,
                    "stage_id": self.stage_new.id,
                }
            )
        )
        Input = self.env["survey.user_input"]
        Mail = self.env["mail.mail"]
        ticket.write({"stage_id": self.stage_done.id})
        answers = Input.search([("kpi_ticket_id", "=", ticket.id)])
        self.assertEqual(len(answers), 1)
        self.assertEqual(answers.survey_id, ces)
        self.assertEqual(answers.partner_id, self.customer)
        self.assertEqual(answers.kpi_partner_id, self.customer)
        self.assertTrue(answers.kpi_invited)
        self.assertEqual(answers.kpi_company_id, self.company)
        mails = Mail.search(
            [("model", "=", "survey.user_input"), ("res_id", "=", answers.id)]
        )
        self.assertEqual(len(mails), 1)
        self.assertIn(answers.access_token, mails.body_html)
        # reopened and closed again: no second invitation
        ticket.write({"stage_id": self.stage_new.id})
        ticket.write({"stage_id": self.stage_done.id})
        self.assertEqual(Input.search_count([("kpi_ticket_id", "=", ticket.id)]), 1)
        self.assertEqual(
            Mail.search_count(
                [("model", "=", "survey.user_input"), ("res_id", "=", answers.id)]
            ),
            1,
        )
        # a team without the option sends nothing
        self.t5.write({"stage_id": self.stage_done.id})
        self.assertFalse(Input.search_count([("kpi_ticket_id", "=", self.t5.id)]))

    def test_agent_opens_ticket_and_team_forms(self):
        """An agent without survey rights opens the ticket (KPI page) and
        reads its figures."""
        self.assertFalse(self.agent.has_group("survey.group_survey_user"))
        form = Form(self.t1.with_user(self.agent))
        self.assertAlmostEqual(form.kpi_first_response_hours, 3.0)
        self.assertTrue(form.kpi_fcr)
