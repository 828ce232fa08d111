"""The roles of the access tests: users of every kind in two companies,
with a record of every model of the addon in both.

Two companies, A (the test company) and B.  In A:

==============  ===========================================  ===============
user            groups                                       teams
==============  ===========================================  ===============
manager         sales manager (implies KPI manager)          leads Team A
salesman        salesperson, own documents only              member Team L
leader          salesperson, own documents only              leads Team L
rep_b           salesperson, own documents only              member Team B
all_leads       salesperson, all documents
agent           helpdesk, personal tickets                   member H1
agent_team      helpdesk, team tickets                       member H1
agent2          helpdesk, personal tickets                   member H2
hd_leader       helpdesk, personal tickets                   leads H1
==============  ===========================================  ===============

and ``user_b``, sales manager of company B only; ``hd_all`` (helpdesk, all
tickets, survey manager), ``kpi_only`` (KPI manager without sales rights),
``plain`` (internal user without sales or helpdesk rights) and ``portal``.

Snapshots of October 2026 (stored through the engine's ``_store``) exist
for every scope of A: company, Team L, Team B, salesman, leader, rep_b,
H1, H2, agent, agent_team, agent2; and in B: company and user_b.
"""

from datetime import datetime

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user

from ..kpi import base as kpi_base
from .common import D, KpiCase

OCT = D(2026, 10, 1)


class KpiRolesCase(KpiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.env["res.company"].create(
            {"name": "KPI Security Co B", "currency_id": cls.usd.id}
        )
        cls.env.user.company_ids |= cls.company_b
        A = cls.company

        def user(login, groups, company=A):
            # exports allowed, so that the access tests check the record
            # rules behind them rather than the export switch
            if "portal" not in groups:
                groups += ",base.group_allow_export"
            return new_test_user(
                cls.env,
                login=login,
                groups=groups,
                company_id=company.id,
                company_ids=[Command.set(company.ids)],
            )

        cls.leader = user("kpi_sec_leader", "sales_team.group_sale_salesman")
        cls.rep_b = user("kpi_sec_rep_b", "sales_team.group_sale_salesman")
        cls.all_leads = user(
            "kpi_sec_all_leads", "sales_team.group_sale_salesman_all_leads"
        )
        cls.agent = user("kpi_sec_agent", "helpdesk_mgmt.group_helpdesk_user_own")
        cls.agent_team = user(
            "kpi_sec_agent_team", "helpdesk_mgmt.group_helpdesk_user_team"
        )
        cls.agent2 = user("kpi_sec_agent2", "helpdesk_mgmt.group_helpdesk_user_own")
        cls.hd_leader = user(
            "kpi_sec_hd_leader", "helpdesk_mgmt.group_helpdesk_user_own"
        )
        cls.user_b = user(
            "kpi_sec_user_b",
            "sales_team.group_sale_manager,helpdesk_mgmt.group_helpdesk_user,"
            "survey.group_survey_manager",
            cls.company_b,
        )
        export = cls.env.ref("base.group_allow_export")
        (cls.salesman | cls.manager).write({"group_ids": [Command.link(export.id)]})
        cls.kpi_only = user("kpi_sec_kpi_only", "crm_success_kpi.group_crm_kpi_manager")
        cls.plain = user("kpi_sec_plain", "base.group_user")
        cls.portal = user("kpi_sec_portal", "base.group_portal")
        # all tickets and all survey answers of company A
        cls.hd_all = user(
            "kpi_sec_hd_all",
            "helpdesk_mgmt.group_helpdesk_user,survey.group_survey_manager",
        )
        # sales teams: Team L led by the leader, the salesman a member;
        # rep_b in Team B
        cls.team_l = cls.env["crm.team"].create(
            {
                "name": "KPI Team L",
                "company_id": A.id,
                "user_id": cls.leader.id,
                "crm_team_member_ids": [
                    Command.create({"user_id": cls.salesman.id}),
                    Command.create({"user_id": cls.leader.id}),
                ],
            }
        )
        cls.team_b.crm_team_member_ids = [Command.create({"user_id": cls.rep_b.id})]
        # helpdesk teams
        Team = cls.env["helpdesk.ticket.team"]
        cls.h1 = Team.create(
            {
                "name": "KPI Sec H1",
                "company_id": A.id,
                "user_id": cls.hd_leader.id,
                "user_ids": [
                    Command.set((cls.agent | cls.agent_team | cls.hd_leader).ids)
                ],
            }
        )
        cls.h2 = Team.create(
            {
                "name": "KPI Sec H2",
                "company_id": A.id,
                "user_ids": [Command.set(cls.agent2.ids)],
            }
        )

        # snapshots of every scope, stored as the engine stores them
        Snapshot = cls.env["crm.kpi.snapshot"]

        def store(company, keys):
            ctx = Snapshot._period_context(company, "month", OCT)
            results = {
                key: {
                    "revenue": kpi_base.count(100 + i),
                    "win_rate": kpi_base.ratio(1, 4),
                }
                for i, key in enumerate(keys)
            }
            return Snapshot._store(ctx, results)

        cls.snaps_a = store(
            A,
            [
                ("company", None),
                ("team", cls.team_l.id),
                ("team", cls.team_b.id),
                ("user", cls.salesman.id),
                ("user", cls.leader.id),
                ("user", cls.rep_b.id),
                ("helpdesk_team", cls.h1.id),
                ("helpdesk_team", cls.h2.id),
                ("agent", cls.agent.id),
                ("agent", cls.agent_team.id),
                ("agent", cls.agent2.id),
            ],
        )
        cls.snaps_b = store(cls.company_b, [("company", None), ("user", cls.user_b.id)])

        # one customer buying in both companies, with tickets and NPS
        # answers in both
        cls.customer = cls.make_customers(1, "Shared")
        cls.make_orders(
            [
                {"partner": cls.customer, "date": D(2026, 10, 5), "amount": 100.0},
                {
                    "partner": cls.customer,
                    "date": D(2026, 10, 6),
                    "amount": 40.0,
                    "user": cls.rep_b,
                    "team": cls.team_b,
                },
            ]
        )
        order_b = (
            cls.env["sale.order"]
            .with_company(cls.company_b)
            .create(
                {
                    "partner_id": cls.customer.id,
                    "company_id": cls.company_b.id,
                    "user_id": cls.user_b.id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": cls.product.id,
                                "product_uom_qty": 1,
                                "price_unit": 7000.0,
                            }
                        )
                    ],
                }
            )
        )
        order_b.action_confirm()
        order_b.date_order = datetime(2026, 10, 7, 12)
        cls.h_b = Team.create({"name": "KPI Sec HB", "company_id": cls.company_b.id})
        Ticket = cls.env["helpdesk.ticket"]
        cls.ticket_a = Ticket.create(
            {
                "name": "Ticket A",
                "description": "<p>A</p>",
                "team_id": cls.h1.id,
                "user_id": cls.agent.id,
                "partner_id": cls.customer.id,
                "company_id": A.id,
            }
        )
        cls.ticket_b = Ticket.with_company(cls.company_b).create(
            {
                "name": "Ticket B",
                "description": "<p>B</p>",
                "team_id": cls.h_b.id,
                "partner_id": cls.customer.id,
                "company_id": cls.company_b.id,
            }
        )
        survey = cls.env.ref("crm_success_kpi.survey_kpi_nps")
        question = survey.kpi_question_id
        cls.env["survey.user_input"].create(
            [
                {
                    "survey_id": survey.id,
                    "partner_id": cls.customer.id,
                    "state": "done",
                    "end_datetime": when,
                    "kpi_company_id": company.id,
                    "user_input_line_ids": [
                        Command.create(
                            {
                                "question_id": question.id,
                                "answer_type": question.question_type,
                                "value_scale": score,
                            }
                        )
                    ],
                }
                for company, score, when in (
                    (A, 9, datetime(2026, 10, 10)),
                    # B's answer is the latest one
                    (cls.company_b, 2, datetime(2026, 10, 20)),
                )
            ]
        )
        # records of the other models in both companies
        cls.costs = cls.env["crm.kpi.cost"].create(
            [
                {"name": "Ads A", "amount": 10.0, "company_id": A.id},
                {"name": "Ads B", "amount": 20.0, "company_id": cls.company_b.id},
            ]
        )
        cls.investments = cls.env["crm.kpi.investment"].create(
            [
                {
                    "company_id": company.id,
                    "entry_ids": [Command.create({"name": "Licence", "amount": 500.0})],
                }
                for company in (A, cls.company_b)
            ]
        )
        revenue = cls.env.ref("crm_success_kpi.kpi_revenue")
        cls.targets = cls.env["crm.kpi.target"].create(
            [
                {
                    "kpi_id": revenue.id,
                    "company_id": company.id,
                    "granularity": "month",
                    "target_value": 1000.0,
                    "warning_value": 800.0,
                }
                for company in (A, cls.company_b)
            ]
        )
        cls.backfills = cls.env["crm.kpi.backfill"].create(
            [
                {
                    "date_from": OCT,
                    "date_to": D(2026, 10, 31),
                    "granularities": "month",
                    "company_ids": [Command.set(company.ids)],
                }
                for company in (A, cls.company_b)
            ]
        )
        cls.work_rows = cls.env["crm.kpi.work"].create(
            [
                {
                    "day": D(2026, 11, 2),
                    "company_id": company.id,
                    "granularity": "month",
                    "date_start": OCT,
                }
                for company in (A, cls.company_b)
            ]
        )
        campaign = cls.env["utm.campaign"].create({"name": "KPI Sec Campaign"})
        cls.campaign_reports = cls.env["crm.kpi.campaign.report"].create(
            [
                {
                    "granularity": "month",
                    "date_start": OCT,
                    "date_end": D(2026, 11, 1),
                    "company_id": company.id,
                    "campaign_id": campaign.id,
                    "revenue": 1000.0,
                }
                for company in (A, cls.company_b)
            ]
        )
        cls.maturities = cls.env["crm.kpi.maturity"].search(
            [("company_id", "in", (A | cls.company_b).ids)]
        )
        # the cohorts of October of both companies (the shared customer's
        # first purchases), computed as the period's computation does
        Cohort = cls.env["crm.kpi.cohort"]
        cls.env.flush_all()
        for company in (A, cls.company_b):
            Cohort._compute_cohorts(Snapshot._period_context(company, "month", OCT))
        cls.cohorts = Cohort.search([("company_id", "in", (A | cls.company_b).ids)])
        # the revenue figures of the shared customer in both companies
        cls.customer_stats = cls.env["crm.kpi.customer.stat"].search(
            [("company_id", "in", (A | cls.company_b).ids)]
        )
        cls.customer_firsts = cls.env["crm.kpi.customer.first"].search(
            [("company_id", "in", (A | cls.company_b).ids)]
        )
        cls.report_logs = cls.env["crm.kpi.report.log"].create(
            [
                {
                    "company_id": company.id,
                    "granularity": "month",
                    "date_start": OCT,
                    "user_id": recipient.id,
                }
                for company, recipient in (
                    (A, cls.manager),
                    (cls.company_b, cls.user_b),
                )
            ]
        )

    # -- helpers -------------------------------------------------------------
    def key(self, rec):
        scope_rec = rec.team_id or rec.helpdesk_team_id or rec.user_id
        return (rec.company_id.id, rec.scope, scope_rec.id or None)

    def visible(self, user, model):
        """Scope keys of the records of ``model`` that ``user`` finds, in
        both companies (the user's allowed companies only)."""
        env = self.env(user=user, context={})
        records = env[model].search(
            [("company_id", "in", (self.company | self.company_b).ids)]
        )
        return {self.key(r.sudo()) for r in records}

    def keys(self, *scopes, company=None):
        company = company or self.company
        return {(company.id, scope, rec.id if rec else None) for scope, rec in scopes}

    def assertSees(self, user, expected):
        for model in ("crm.kpi.snapshot", "crm.kpi.value"):
            self.assertEqual(self.visible(user, model), expected, f"{model}")
        # and a record outside the visible ones cannot be read directly
        hidden = self.snaps_a.filtered(lambda s: self.key(s) not in expected)
        env = self.env(user=user, context={})
        for snap in hidden[:3]:
            with self.assertRaises(AccessError):
                env["crm.kpi.snapshot"].browse(snap.id).read(["scope"])
            with self.assertRaises(AccessError):
                env["crm.kpi.value"].browse(snap.value_ids[:1].id).read(["value"])

    def _records(self):
        return {
            "crm.kpi.cost": self.costs,
            "crm.kpi.investment": self.investments,
            "crm.kpi.investment.entry": self.investments.entry_ids,
            "crm.kpi.target": self.targets,
            "crm.kpi.backfill": self.backfills,
            "crm.kpi.work": self.work_rows,
            "crm.kpi.campaign.report": self.campaign_reports,
            "crm.kpi.maturity": self.maturities,
            "crm.kpi.maturity.criterion": self.maturities.criterion_ids,
            "crm.kpi.cohort": self.cohorts,
            "crm.kpi.customer.stat": self.customer_stats,
            "crm.kpi.customer.first": self.customer_firsts,
            "crm.kpi.report.log": self.report_logs,
        }

    def _company_of(self, rec):
        rec = rec.sudo()
        return rec.company_ids if rec._name == "crm.kpi.backfill" else rec.company_id
