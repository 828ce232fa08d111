"""KPIs fed by optional OCA modules: SLA compliance (``helpdesk_mgmt_sla``)
and CSAT from ticket ratings (``helpdesk_mgmt_rating``).

The addon does not depend on them.  ``make test`` runs this file twice: in
the suite's database, where they are not installed (the KPIs say so), and
in a second database where they are (``kpictl test --with-optional``).
Each class runs in the database of its case and is skipped in the other.

SLA tickets, January 2026 (UTC), team calendar 09:00-17:00 Monday-Friday,
one SLA "Done within 4 working hours":

===  ======  ===================  ===================  ======================
 #   agent   created              deadline             history
===  ======  ===================  ===================  ======================
S1   agent   Mon 01-05 09:00      Mon 01-05 13:00      done 11:00: met
S2   agent   Mon 01-05 10:00      Mon 01-05 14:00      done 16:00: missed
S3   agent   Tue 01-06 09:00      Tue 01-06 13:00      never done: missed
S4   agent2  Wed 01-07 09:00      Wed 01-07 13:00      done 10:00: met
S5   agent2  Fri 01-30 15:00      Mon 02-02 11:00      done Mon 10:00: met
===  ======  ===================  ===================  ======================

January: 2 met of 4 decided = 50 %; agent 1 of 3 (33.33 %), agent2 1 of 1;
February: S5, 1 of 1.  A ticket of a team without SLA counts nowhere.

Ratings of the company's tickets (Odoo's 1-5 rating, satisfied from 4):
January 5, 5, 4, 3, 1 (plus a rating request never answered, a rating of
another company's ticket, and one given on 1 February): CSAT 3 / 5 = 60 %.
"""

import unittest
from datetime import date, datetime

from freezegun import freeze_time

from odoo import Command
from odoo.tests import new_test_user, tagged

from .common import KpiCase

JAN, FEB = date(2026, 1, 1), date(2026, 2, 1)


def dt(*args):
    return datetime(*args)


class OptionalCase(KpiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(
            context=dict(cls.env.context, tracking_disable=False, mail_notrack=False)
        )
        groups = "helpdesk_mgmt.group_helpdesk_user,base.group_user"
        cls.agent, cls.agent2 = (
            new_test_user(
                cls.env,
                login=f"kpi_opt_{name}_{cls.__name__.lower()}",
                groups=groups,
                company_id=cls.company.id,
                company_ids=[Command.set(cls.company.ids)],
            )
            for name in ("agent", "agent2")
        )
        cls.calendar = cls.make_office_calendar("KPI SLA 9-17")
        cls.helpdesk_team = cls.env["helpdesk.ticket.team"].create(
            {
                "name": "KPI SLA Support",
                "company_id": cls.company.id,
                "user_ids": [Command.set((cls.agent | cls.agent2).ids)],
                "kpi_resource_calendar_id": cls.calendar.id,
            }
        )
        Stage = cls.env["helpdesk.ticket.stage"]
        cls.stage_new = Stage.create(
            {
                "name": "KPI SLA New",
                "sequence": 1,
                "company_id": cls.company.id,
                "team_ids": [Command.set(cls.helpdesk_team.ids)],
            }
        )
        cls.stage_done = Stage.create(
            {
                "name": "KPI SLA Done",
                "sequence": 5,
                "closed": True,
                "company_id": cls.company.id,
                "team_ids": [Command.set(cls.helpdesk_team.ids)],
            }
        )
        cls.customer = cls.env["res.partner"].create(
            {"name": "KPI SLA Customer", "email": "sla@example.com"}
        )

    @classmethod
    def _ticket(cls, name, when, user, team=None):
        with freeze_time(when):
            ticket = (
                cls.env["helpdesk.ticket"]
                .with_company(cls.company)
                .create(
                    {
                        "name": name,
                        "description": f"<p>{name}</p>",
                        "team_id": (team or cls.helpdesk_team).id,
                        "user_id": user.id,
                        "partner_id": cls.customer.id,
                        "company_id": cls.company.id,
                        "stage_id": cls.stage_new.id,
                    }
                )
            )
            cls.env.flush_all()
            # the database sets create_date: move it to the frozen time
            cls.env.cr.execute(
                "UPDATE helpdesk_ticket SET create_date = %s WHERE id = %s",
                (when, ticket.id),
            )
            ticket.invalidate_recordset(["create_date"])
            if "ticket_sla_ids" in ticket._fields:
                # the SLA lines again, from the creation time
                ticket.set_sla()
                cls.env.flush_all()
        return ticket

    @classmethod
    def _stage(cls, ticket, stage, when):
        with freeze_time(when):
            ticket.write({"stage_id": stage.id})
            cls.env.flush_all()


@tagged("post_install", "-at_install")
class TestWithoutOptionalModules(OptionalCase):
    """The suite's database: neither module is installed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        modules = cls.env["ir.module.module"].search(
            [
                ("name", "in", ("helpdesk_mgmt_sla", "helpdesk_mgmt_rating")),
                ("state", "=", "installed"),
            ]
        )
        if modules:
            raise unittest.SkipTest("the optional modules are installed here")

    def test_sla_compliance_not_installed(self):
        self._ticket("N1", dt(2026, 1, 5, 9), self.agent)
        v = self.values(self.compute("month", JAN))
        self.assertKpi(v, "sla_compliance_rate", None)
        self.assertEqual(
            v["sla_compliance_rate"].note, "module not installed: helpdesk_mgmt_sla"
        )
        self.assertIn("not installed", v["sla_compliance_rate"].display_value)
        # no value to open
        self.assertFalse(v["sla_compliance_rate"].numerator)

    def test_csat_without_survey_nor_ratings(self):
        v = self.values(self.compute("month", JAN))
        self.assertKpi(v, "csat", None)
        self.assertIn("helpdesk_mgmt_rating", v["csat"].note)
        self.assertIn("no CSAT survey in use", v["csat"].note)

    def test_csat_survey_in_use_keeps_its_note(self):
        """A CSAT invitation sent before the period: the survey is CSAT's
        source, so the empty month says no response was completed."""
        survey = self.env.ref("crm_success_kpi.survey_kpi_csat")
        answer = survey._create_answer(partner=self.customer, check_attempts=False)
        answer.kpi_company_id = self.company
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE survey_user_input SET create_date = %s WHERE id = %s",
            (dt(2025, 12, 20, 9), answer.id),
        )
        v = self.values(self.compute("month", JAN))
        self.assertKpi(v, "csat", None)
        self.assertEqual(
            v["csat"].note, "no valid CSAT response completed in the period"
        )


@tagged("post_install", "-at_install")
class TestWithOptionalModules(OptionalCase):
    """A database where helpdesk_mgmt_sla and helpdesk_mgmt_rating are
    installed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if "helpdesk.ticket.sla" not in cls.env or "rating_ids" not in (
            cls.env["helpdesk.ticket"]._fields
        ):
            raise unittest.SkipTest("the optional modules are not installed here")
        # the demo SLAs (and any other) do not apply to these tickets
        cls.env["helpdesk.sla"].search([]).active = False
        cls.helpdesk_team.write(
            {"use_sla": True, "resource_calendar_id": cls.calendar.id}
        )
        cls.sla = cls.env["helpdesk.sla"].create(
            {
                "name": "KPI 4 working hours",
                "company_id": cls.company.id,
                "team_ids": [Command.set(cls.helpdesk_team.ids)],
                "stage_id": cls.stage_done.id,
                "hours": 4,
            }
        )
        T, S = cls._ticket, cls._stage
        cls.s1 = T("S1", dt(2026, 1, 5, 9), cls.agent)
        S(cls.s1, cls.stage_done, dt(2026, 1, 5, 11))
        cls.s2 = T("S2", dt(2026, 1, 5, 10), cls.agent)
        S(cls.s2, cls.stage_done, dt(2026, 1, 5, 16))
        cls.s3 = T("S3", dt(2026, 1, 6, 9), cls.agent)
        cls.s4 = T("S4", dt(2026, 1, 7, 9), cls.agent2)
        S(cls.s4, cls.stage_done, dt(2026, 1, 7, 10))
        cls.s5 = T("S5", dt(2026, 1, 30, 15), cls.agent2)
        S(cls.s5, cls.stage_done, dt(2026, 2, 2, 10))
        # a team without SLA: its ticket has no SLA line
        cls.other_team = cls.env["helpdesk.ticket.team"].create(
            {"name": "KPI no SLA", "company_id": cls.company.id}
        )
        cls.stage_new.team_ids |= cls.other_team
        cls.no_sla = T("N", dt(2026, 1, 8, 9), cls.agent, team=cls.other_team)

    # -- SLA compliance ------------------------------------------------------
    def test_sla_lines_as_the_module_keeps_them(self):
        """The hand-worked deadlines and states come from the module itself."""
        lines = {
            t.name: t.ticket_sla_ids
            for t in (self.s1, self.s2, self.s3, self.s4, self.s5, self.no_sla)
        }
        self.assertEqual(lines["S1"].deadline, dt(2026, 1, 5, 13))
        self.assertEqual(lines["S1"].state, "accomplished")
        self.assertEqual(lines["S2"].deadline, dt(2026, 1, 5, 14))
        self.assertEqual(lines["S2"].state, "expired")
        self.assertEqual(lines["S3"].state, "in_progress")
        self.assertEqual(lines["S5"].deadline, dt(2026, 2, 2, 11))
        self.assertEqual(lines["S5"].state, "accomplished")
        self.assertFalse(lines["N"])

    def test_sla_compliance(self):
        snaps = self.compute("month", JAN)
        v = self.values(snaps)
        self.assertKpi(v, "sla_compliance_rate", 50.0)
        self.assertEqual(v["sla_compliance_rate"].numerator, 2)
        self.assertEqual(v["sla_compliance_rate"].denominator, 4)
        team = self.values(snaps, "helpdesk_team", self.helpdesk_team.id)
        self.assertKpi(team, "sla_compliance_rate", 50.0)
        agent = self.values(snaps, "agent", self.agent.id)
        self.assertKpi(agent, "sla_compliance_rate", 100 / 3)
        agent2 = self.values(snaps, "agent", self.agent2.id)
        self.assertKpi(agent2, "sla_compliance_rate", 100.0)
        feb = self.values(self.compute("month", FEB))
        self.assertKpi(feb, "sla_compliance_rate", 100.0)
        self.assertEqual(feb["sla_compliance_rate"].denominator, 1)
        # the quarter: 3 met of 5
        q1 = self.values(self.compute("quarter", JAN))
        self.assertKpi(q1, "sla_compliance_rate", 60.0)
        # an empty month
        dec = self.values(self.compute("month", date(2025, 12, 1)))
        self.assertKpi(dec, "sla_compliance_rate", None)
        self.assertEqual(
            dec["sla_compliance_rate"].note,
            "no ticket with an SLA deadline in the period",
        )

    def test_sla_drill_down_and_reconcile(self):
        snaps = self.compute("month", JAN)
        v = self.values(snaps)["sla_compliance_rate"]
        Ticket = self.env["helpdesk.ticket"]
        action = v.action_open_numerator()
        self.assertEqual(action["res_model"], "helpdesk.ticket")
        self.assertEqual(Ticket.search(action["domain"]), self.s1 | self.s4)
        action = v.action_open_denominator()
        self.assertEqual(
            Ticket.search(action["domain"]), self.s1 | self.s2 | self.s3 | self.s4
        )
        agent = self.values(snaps, "agent", self.agent.id)["sla_compliance_rate"]
        self.assertEqual(
            Ticket.search(agent.action_open_denominator()["domain"]),
            self.s1 | self.s2 | self.s3,
        )
        self.assertEqual(
            self.Snapshot.reconcile_period("month", JAN, companies=self.company), []
        )

    def test_sla_running_not_counted(self):
        """A ticket whose SLA runs on (before its deadline) is not decided: it
        counts in no period yet."""
        self.sla.hours = 400
        ticket = self._ticket("Running", datetime.now(), self.agent)
        line = ticket.ticket_sla_ids
        self.assertEqual(line.state, "in_progress")
        self.assertGreater(line.deadline, datetime.now())
        month = line.deadline.date().replace(day=1)
        v = self.values(self.compute("month", month))
        self.assertKpi(v, "sla_compliance_rate", None)

    # -- CSAT from ticket ratings -------------------------------------------
    @classmethod
    def _rate(cls, ticket, value, when, consumed=True):
        with freeze_time(when):
            vals = {
                "res_model_id": cls.env["ir.model"]._get_id("helpdesk.ticket"),
                "res_id": ticket.id,
                "partner_id": cls.customer.id,
                "consumed": consumed,
            }
            if consumed:
                vals["rating"] = value
            rating = cls.env["rating.rating"].create(vals)
            cls.env.flush_all()
        return rating

    def _ratings(self):
        R = self._rate
        good = (
            R(self.s1, 5, dt(2026, 1, 5, 12))
            | R(self.s2, 5, dt(2026, 1, 6, 12))
            | R(self.s4, 4, dt(2026, 1, 7, 12))
        )
        bad = R(self.s3, 3, dt(2026, 1, 8, 12)) | R(self.no_sla, 1, dt(2026, 1, 9))
        R(self.s5, 0, dt(2026, 1, 10), consumed=False)  # never answered
        R(self.s5, 5, dt(2026, 2, 1, 8))  # February
        other = self.env["res.company"].create({"name": "KPI Other Ratings"})
        foreign = (
            self.env["helpdesk.ticket"]
            .with_company(other)
            .create(
                {
                    "name": "Other company",
                    "description": "<p>x</p>",
                    "company_id": other.id,
                }
            )
        )
        R(foreign, 5, dt(2026, 1, 12))
        return good, bad

    def test_csat_from_ratings(self):
        good, bad = self._ratings()
        v = self.values(self.compute("month", JAN))
        self.assertKpi(v, "csat", 60.0)
        self.assertEqual(v["csat"].numerator, 3)
        self.assertEqual(v["csat"].denominator, 5)
        self.assertEqual(v["csat"].note, "from ticket ratings: no CSAT survey in use")
        Rating = self.env["rating.rating"]
        action = v["csat"].action_open_numerator()
        self.assertEqual(action["res_model"], "rating.rating")
        self.assertEqual(Rating.search(action["domain"]), good)
        action = v["csat"].action_open_denominator()
        self.assertEqual(Rating.search(action["domain"]), good | bad)
        self.assertEqual(
            self.Snapshot.reconcile_period("month", JAN, companies=self.company), []
        )
        feb = self.values(self.compute("month", FEB))
        self.assertKpi(feb, "csat", 100.0)
        dec = self.values(self.compute("month", date(2025, 12, 1)))
        self.assertKpi(dec, "csat", None)
        self.assertEqual(
            dec["csat"].note, "no CSAT survey in use and no ticket rated in the period"
        )

    def test_csat_survey_in_use_wins_over_ratings(self):
        """Once the company sent a CSAT survey, surveys are CSAT's source:
        the ratings no longer count, from that period on."""
        self._ratings()
        survey = self.env.ref("crm_success_kpi.survey_kpi_csat")
        answer = survey._create_answer(partner=self.customer, check_attempts=False)
        answer.kpi_company_id = self.company
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE survey_user_input SET create_date = %s WHERE id = %s",
            (dt(2026, 1, 20, 9), answer.id),
        )
        v = self.values(self.compute("month", JAN))
        self.assertKpi(v, "csat", None)
        self.assertEqual(
            v["csat"].note, "no valid CSAT response completed in the period"
        )
        # the month before the survey was sent still reads the ratings
        R = self._rate
        R(self.s1, 2, dt(2025, 12, 10))
        dec = self.values(self.compute("month", date(2025, 12, 1)))
        self.assertKpi(dec, "csat", 0.0)
