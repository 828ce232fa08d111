"""Customer perception KPIs: NPS, CES, CSAT, response rate, invalid answers,
the partner's latest NPS and tickets, and the scheduled NPS invitations."""

from datetime import date, datetime, timedelta

from odoo import Command, fields
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import KpiCase

JAN = date(2026, 1, 1)


@tagged("post_install", "-at_install")
class TestPerceptionKpi(KpiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Survey = cls.env["survey.survey"]
        cls.nps_survey = Survey.create(
            {"title": "KPI test NPS", "access_mode": "token"}
        )
        cls.nps_question = cls.env["survey.question"].create(
            {
                "survey_id": cls.nps_survey.id,
                "title": "Recommend us?",
                "question_type": "scale",
                "scale_min": 0,
                "scale_max": 10,
            }
        )
        cls.nps_survey.write(
            {"kpi_survey_type": "nps", "kpi_question_id": cls.nps_question.id}
        )
        cls.ces_survey = Survey.create(
            {"title": "KPI test CES 1-7", "access_mode": "token"}
        )
        cls.ces_question = cls.env["survey.question"].create(
            {
                "survey_id": cls.ces_survey.id,
                "title": "How easy?",
                "question_type": "numerical_box",
            }
        )
        cls.ces_survey.write(
            {
                "kpi_survey_type": "ces",
                "kpi_question_id": cls.ces_question.id,
                "kpi_scale_min": 1,
                "kpi_scale_max": 7,
            }
        )
        cls.csat_survey = cls.env.ref("crm_success_kpi.survey_kpi_csat")
        cls.respondents = cls.make_customers(4, "Respondent")

        # NPS of the spec: 600 promoters, 50 passives, 150 detractors
        scores = [10] * 300 + [9] * 300 + [8] * 25 + [7] * 25 + [6] * 100 + [0] * 50
        # three answers outside 0-10 (stored as such): not counted
        scores += [11, 12, 15]
        cls.nps_inputs = cls._answers(cls.nps_survey, scores, datetime(2026, 1, 15, 12))
        # CES on 1-7: valid 7, 6, 5, 3; invalid 9 (off scale) and 5.5 (not whole)
        cls.ces_inputs = cls._answers(
            cls.ces_survey, [7, 6, 5, 3, 9, 5.5], datetime(2026, 1, 20, 8)
        )
        # CSAT on 1-5: 5 and 4 satisfied, 3 and 1 not
        cls.csat_inputs = cls._answers(
            cls.csat_survey, [5, 4, 3, 1], datetime(2026, 1, 31, 23)
        )
        # a completion of February does not count in January
        cls._answers(cls.nps_survey, [0], datetime(2026, 2, 1, 0, 30))

        # invitations sent in January: 10 to the CSAT survey, 4 completed
        cls.invitations = cls.env["survey.user_input"].create(
            [
                {
                    "survey_id": cls.csat_survey.id,
                    "partner_id": cls.respondents[i % 4].id,
                    "kpi_invited": True,
                    "kpi_company_id": cls.company.id,
                }
                for i in range(10)
            ]
        )
        cls.invitations.flush_recordset()
        cls.env.cr.execute(
            "UPDATE survey_user_input SET create_date = %s WHERE id = ANY(%s)",
            (datetime(2026, 1, 10, 9), cls.invitations.ids),
        )
        cls.env.cr.execute(
            "UPDATE survey_user_input SET state = 'done', end_datetime = %s"
            " WHERE id = ANY(%s)",
            (datetime(2026, 3, 1, 9), cls.invitations[:4].ids),
        )
        cls.invitations.invalidate_recordset()

    @classmethod
    def _answers(cls, survey, scores, when, partners=None):
        question = survey.kpi_question_id
        kind = question.question_type
        vals = []
        for i, score in enumerate(scores):
            line = {"question_id": question.id, "answer_type": kind}
            line["value_scale" if kind == "scale" else "value_numerical_box"] = score
            vals.append(
                {
                    "survey_id": survey.id,
                    "partner_id": (partners or cls.respondents)[i % 4].id,
                    "state": "done",
                    "end_datetime": when,
                    "kpi_company_id": cls.company.id,
                    "user_input_line_ids": [Command.create(line)],
                }
            )
        inputs = cls.env["survey.user_input"].create(vals)
        inputs.flush_recordset()
        return inputs

    # -- scores --------------------------------------------------------------
    def test_scores_on_responses(self):
        promoter = self.nps_inputs[0]
        self.assertEqual(promoter.kpi_survey_type, "nps")
        self.assertEqual(promoter.kpi_score, 10)
        self.assertTrue(promoter.kpi_valid)
        self.assertEqual(promoter.kpi_nps_category, "promoter")
        off = self.nps_inputs[-1]
        self.assertEqual(off.kpi_score, 15)
        self.assertTrue(off.kpi_has_score)
        self.assertFalse(off.kpi_valid)
        self.assertFalse(off.kpi_nps_category)
        self.assertEqual(self.nps_survey.kpi_invalid_count, 3)
        self.assertEqual(self.nps_survey.kpi_response_count, 801)  # incl. February
        self.assertEqual(self.ces_survey.kpi_invalid_count, 2)
        # the scale of a scale question comes from the question
        self.assertEqual(
            (self.nps_survey.kpi_scale_min, self.nps_survey.kpi_scale_max), (0, 10)
        )
        # a response still in progress has no score
        draft = self.env["survey.user_input"].create(
            {"survey_id": self.nps_survey.id, "partner_id": self.respondents[0].id}
        )
        self.assertFalse(draft.kpi_has_score)

    def test_period_kpis(self):
        v = self.values(self.compute("month", JAN))
        # (600 - 150) / 800 x 100 = 56.25; the 3 off-scale answers are left out
        self.assertKpi(v, "nps", 56.25)
        self.assertEqual(v["nps"].numerator, 450)
        self.assertEqual(v["nps"].denominator, 800)
        self.assertIn("3 invalid", v["nps"].note)
        # CES: (7 + 6 + 5 + 3) / 4 = 5.25; easy (6-7 on 1-7): 2 / 4
        self.assertKpi(v, "ces", 5.25)
        self.assertKpi(v, "ces_easy_rate", 50.0)
        self.assertIn("2 invalid", v["ces"].note)
        # CSAT: 2 satisfied of 4 (the 4 completed invitations finished in March)
        self.assertKpi(v, "csat", 50.0)
        # 10 invitations sent in January, 4 of them completed
        self.assertKpi(v, "survey_response_rate", 40.0)

    def test_empty_period(self):
        v = self.values(self.compute("month", date(2025, 6, 1)))
        for code in ("nps", "ces", "ces_easy_rate", "csat", "survey_response_rate"):
            self.assertKpi(v, code, None)
        # February: one detractor only
        feb = self.values(self.compute("month", date(2026, 2, 1)))
        self.assertKpi(feb, "nps", -100.0)

    def test_drill_down(self):
        v = self.values(self.compute("month", JAN))
        action = v["nps"].action_open_denominator()
        self.assertEqual(action["res_model"], "survey.user_input")
        self.assertEqual(
            self.env["survey.user_input"].search_count(action["domain"]), 800
        )

    def test_other_company_does_not_count(self):
        other = self.env["res.company"].create({"name": "KPI other perception co"})
        self.nps_inputs[:100].kpi_company_id = other
        v = self.values(self.compute("month", JAN))
        # the first 100 were promoters: (500 - 150) / 700
        self.assertKpi(v, "nps", 50.0)

    # -- bad input -----------------------------------------------------------
    def test_kpi_survey_needs_a_scale_question(self):
        survey = self.env["survey.survey"].create({"title": "No scale"})
        text = self.env["survey.question"].create(
            {"survey_id": survey.id, "title": "Comment", "question_type": "text_box"}
        )
        with self.assertRaisesRegex(ValidationError, "score question"):
            survey.kpi_survey_type = "csat"
        with self.assertRaisesRegex(ValidationError, "score question"):
            survey.write({"kpi_survey_type": "csat", "kpi_question_id": text.id})
        # an NPS survey must be on 0-10
        scale = self.env["survey.question"].create(
            {
                "survey_id": survey.id,
                "title": "Score",
                "question_type": "scale",
                "scale_min": 1,
                "scale_max": 5,
            }
        )
        with self.assertRaisesRegex(ValidationError, "0 to 10"):
            survey.write({"kpi_survey_type": "nps", "kpi_question_id": scale.id})
        survey.write({"kpi_survey_type": "csat", "kpi_question_id": scale.id})
        self.assertEqual((survey.kpi_scale_min, survey.kpi_scale_max), (1, 5))

    # -- partner figures -----------------------------------------------------
    def test_partner_latest_nps_and_tickets(self):
        customer = self.make_customers(1, "NPS customer")
        contact = self.env["res.partner"].create(
            {"name": "NPS contact", "parent_id": customer.id, "email": "c@example.com"}
        )
        passive = self.make_customers(1, "Passive customer")
        self._answers(
            self.nps_survey, [3], datetime(2026, 1, 2), partners=[contact] * 4
        )
        self._answers(
            self.nps_survey, [10], datetime(2026, 1, 5), partners=[contact] * 4
        )
        self._answers(
            self.nps_survey, [7], datetime(2026, 1, 5), partners=[passive] * 4
        )
        stage_open = self.env["helpdesk.ticket.stage"].create(
            {"name": "KPI open", "company_id": self.company.id}
        )
        stage_closed = self.env["helpdesk.ticket.stage"].create(
            {"name": "KPI closed", "closed": True, "company_id": self.company.id}
        )
        self.env["helpdesk.ticket"].create(
            [
                {
                    "name": n,
                    "description": "<p>x</p>",
                    "partner_id": contact.id,
                    "company_id": self.company.id,
                    "stage_id": s.id,
                }
                for n, s in (("open", stage_open), ("done", stage_closed))
            ]
        )
        partners = customer | contact | passive
        partners.invalidate_recordset()
        self.assertEqual(customer.kpi_nps_score, 10)
        self.assertEqual(customer.kpi_nps_category, "promoter")
        self.assertEqual(contact.kpi_nps_category, "promoter")  # commercial entity
        self.assertEqual(customer.kpi_ticket_count, 2)
        self.assertEqual(customer.kpi_open_ticket_count, 1)
        self.assertEqual(passive.kpi_nps_category, "passive")
        self.assertEqual(passive.kpi_ticket_count, 0)
        # a salesman without helpdesk or survey rights sees nothing of them
        as_salesman = customer.with_user(self.salesman)
        self.assertEqual(as_salesman.kpi_ticket_count, 0)
        self.assertFalse(as_salesman.kpi_nps_category)

    # -- invitations ---------------------------------------------------------
    def test_scheduled_nps_invitations(self):
        active, old, recent = self.make_customers(3, "NPS invitee")
        for partner in (active, old, recent):
            partner.email = f"{partner.id}@example.com"
        today = fields.Date.context_today(self.env["res.partner"])
        self.make_orders(
            [
                {"partner": active, "date": today - timedelta(days=10)},
                {"partner": old, "date": today - timedelta(days=800)},
                {"partner": recent, "date": today - timedelta(days=20)},
            ]
        )
        # ``recent`` was invited 5 days ago
        previous = self.env["survey.user_input"].create(
            {
                "survey_id": self.nps_survey.id,
                "partner_id": recent.id,
                "kpi_invited": True,
                "kpi_company_id": self.company.id,
            }
        )
        previous.flush_recordset()
        self.env.cr.execute(
            "UPDATE survey_user_input SET create_date = %s WHERE id = %s",
            (fields.Datetime.now() - timedelta(days=5), previous.id),
        )
        self.company.write(
            {
                "kpi_nps_auto_invite": True,
                "kpi_nps_survey_id": self.nps_survey.id,
                "kpi_nps_interval_days": 30,
            }
        )
        sent = self.company._kpi_send_nps_invitations()
        self.assertEqual(sent, 1)
        invitation = self.env["survey.user_input"].search(
            [("survey_id", "=", self.nps_survey.id), ("partner_id", "=", active.id)]
        )
        self.assertEqual(len(invitation), 1)
        self.assertTrue(invitation.kpi_invited)
        mail = self.env["mail.mail"].search(
            [("model", "=", "survey.user_input"), ("res_id", "=", invitation.id)]
        )
        self.assertEqual(len(mail), 1)
        self.assertIn(invitation.access_token, mail.body_html)
        # at most once per customer in 30 days
        self.assertEqual(self.company._kpi_send_nps_invitations(), 0)

    def test_invite_wizard_marks_invitations(self):
        wizard = self.env["survey.invite"].create(
            {
                "survey_id": self.csat_survey.id,
                "partner_ids": [Command.set(self.respondents[:1].ids)],
            }
        )
        self.assertTrue(wizard._get_answers_values().get("kpi_invited"))
        with self.assertRaisesRegex(ValidationError, "at least 1"):
            self.company.kpi_nps_interval_days = 0
