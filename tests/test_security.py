"""Who sees what: KPI snapshots and values per scope, the other models of
the addon, and the KPI fields of partners, leads and tickets (the roles and
their records: ``roles_common``).
"""

from datetime import datetime

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import D
from .roles_common import OCT, KpiRolesCase


@tagged("post_install", "-at_install")
class TestKpiSecurity(KpiRolesCase):
    # -- snapshots and values per scope ---------------------------------------
    def test_setup(self):
        self.assertEqual(len(self.snaps_a), 11)
        self.assertEqual(len(self.snaps_b), 2)
        self.assertEqual(len(self.snaps_a.value_ids), 22)

    def test_salesman_sees_own_user_scope_only(self):
        self.assertSees(self.salesman, self.keys(("user", self.salesman)))
        self.assertSees(self.rep_b, self.keys(("user", self.rep_b)))

    def test_team_leader_sees_his_team_and_its_members(self):
        """The leader of Team L: its team scope, his own and his member
        salesman's user scopes; not Team B nor rep_b, not the company."""
        self.assertSees(
            self.leader,
            self.keys(
                ("team", self.team_l),
                ("user", self.leader),
                ("user", self.salesman),
            ),
        )

    def test_former_member_not_seen_by_leader(self):
        self.team_l.crm_team_member_ids.filtered(
            lambda m: m.user_id == self.salesman
        ).active = False
        self.assertSees(
            self.leader, self.keys(("team", self.team_l), ("user", self.leader))
        )

    def test_all_documents_salesman_sees_all_sales_scopes(self):
        self.assertSees(
            self.all_leads,
            self.keys(
                ("company", None),
                ("team", self.team_l),
                ("team", self.team_b),
                ("user", self.salesman),
                ("user", self.leader),
                ("user", self.rep_b),
            ),
        )

    def test_helpdesk_agents(self):
        # personal tickets: his own agent scope only, not his team's
        self.assertSees(self.agent, self.keys(("agent", self.agent)))
        self.assertSees(self.agent2, self.keys(("agent", self.agent2)))
        # team tickets: his teams' scopes too, not H2
        self.assertSees(
            self.agent_team,
            self.keys(("agent", self.agent_team), ("helpdesk_team", self.h1)),
        )
        # the leader of H1: H1 and the agent scopes of its members
        self.assertSees(
            self.hd_leader,
            self.keys(
                ("helpdesk_team", self.h1),
                ("agent", self.agent),
                ("agent", self.agent_team),
            ),
        )

    def test_kpi_manager_sees_all_of_his_companies_only(self):
        self.assertSees(self.manager, {self.key(s) for s in self.snaps_a})
        self.assertSees(self.user_b, {self.key(s) for s in self.snaps_b})

    def test_compute_only_own_companies(self):
        Snapshot = self.env(user=self.manager, context={})["crm.kpi.snapshot"]
        with self.assertRaisesRegex(AccessError, "companies you have access to"):
            Snapshot.compute_period("month", OCT, companies=self.company_b)
        # by default, only the user's companies
        before = self.snaps_b.mapped("computed_at")
        snaps = Snapshot.compute_period("month", OCT)
        self.assertEqual(snaps.company_id, self.company)
        self.snaps_b.invalidate_recordset()
        self.assertEqual(self.snaps_b.mapped("computed_at"), before)
        for user in (self.salesman, self.leader, self.agent, self.all_leads):
            with self.assertRaises(AccessError):
                self.env(user=user)["crm.kpi.snapshot"].compute_period(
                    "month", OCT, companies=self.company
                )

    def test_backfill_other_company_refused(self):
        Backfill = self.env(user=self.manager, context={})["crm.kpi.backfill"]
        with self.assertRaises(AccessError):
            Backfill.create(
                {
                    "date_from": OCT,
                    "date_to": D(2026, 10, 31),
                    "company_ids": [Command.set(self.company_b.ids)],
                }
            )
        with self.assertRaises(AccessError):
            self.env(user=self.all_leads)["crm.kpi.backfill"].create(
                {"date_from": OCT, "date_to": D(2026, 10, 31)}
            )

    # -- the other models -----------------------------------------------------
    def test_every_model_has_a_company_wall(self):
        """KPI managers of A and B never find or read the other's records."""
        self.assertTrue(
            self.maturities.filtered(lambda m: m.company_id == self.company)
        )
        self.assertTrue(
            self.maturities.filtered(lambda m: m.company_id == self.company_b)
        )
        for manager, own, other in (
            (self.manager, self.company, self.company_b),
            (self.user_b, self.company_b, self.company),
        ):
            env = self.env(user=manager, context={})
            for model, records in self._records().items():
                mine = records.filtered(lambda r, c=own: self._company_of(r) == c)
                theirs = records.filtered(lambda r, c=other: self._company_of(r) == c)
                self.assertTrue(mine and theirs, model)
                found = env[model].search([("id", "in", records.ids)])
                self.assertEqual(found.ids, mine.ids, model)
                with self.assertRaises(AccessError, msg=model):
                    env[model].browse(theirs.ids).read(["display_name"])

    def test_every_model_has_access_rights_and_company_rule(self):
        """Each model of the addon has access rights and a company rule."""
        models = self.env["ir.model"].search(
            [
                ("model", "=like", "crm.kpi.%"),
                ("transient", "=", False),
                ("abstract", "=", False),
            ]
        )
        for model in models:
            self.assertTrue(model.access_ids, f"{model.model} has no access rights")
            if (
                "company_id" in self.env[model.model]
                or "company_ids" in self.env[model.model]
            ):
                rules = model.rule_ids.filtered(
                    lambda r: not r.groups and "company_ids" in r.domain_force
                )
                self.assertTrue(rules, f"{model.model} has no company rule")

    def test_salesman_has_no_company_wide_figures(self):
        """Costs, investments, campaign results, backfills and report
        deliveries are company-wide: a salesperson or helpdesk agent reads
        none of them and writes nothing."""
        for user in (self.salesman, self.leader, self.agent, self.agent_team):
            env = self.env(user=user, context={})
            for model in (
                "crm.kpi.cost",
                "crm.kpi.investment",
                "crm.kpi.investment.entry",
                "crm.kpi.campaign.report",
                "crm.kpi.backfill",
                "crm.kpi.report.log",
            ):
                self.assertFalse(env[model].has_access("read"), f"{user.login} {model}")
                with self.assertRaises(AccessError):
                    env[model].search([])
            # the catalogue and targets are read-only for them
            self.assertTrue(env["crm.kpi.definition"].search([]))
            with self.assertRaises(AccessError):
                env["crm.kpi.definition"].create(
                    {"name": "X", "code": "x", "area": "sales", "unit": "count"}
                )
            with self.assertRaises(AccessError):
                env["crm.kpi.target"].browse(self.targets[0].id).write(
                    {"target_value": 1.0}
                )
            with self.assertRaises(AccessError):
                env["crm.kpi.value"].browse(self.snaps_a.value_ids[0].id).unlink()

    def test_all_leads_reads_but_does_not_configure(self):
        env = self.env(user=self.all_leads, context={})
        self.assertEqual(
            env["crm.kpi.cost"].search([("id", "in", self.costs.ids)]),
            self.costs[0].with_env(env),
        )
        with self.assertRaises(AccessError):
            env["crm.kpi.cost"].create({"name": "X", "amount": 1.0})
        with self.assertRaises(AccessError):
            env["crm.kpi.investment"].browse(self.investments[0].id).write(
                {"equity": 1.0}
            )
        with self.assertRaises(AccessError):
            env["crm.kpi.target"].create(
                {
                    "kpi_id": self.targets[0].kpi_id.id,
                    "team_id": self.team_l.id,
                    "target_value": 1.0,
                    "warning_value": 0.5,
                }
            )

    def test_manager_configures(self):
        env = self.env(user=self.manager, context={})
        cost = env["crm.kpi.cost"].create({"name": "Fair", "amount": 30.0})
        self.assertEqual(cost.company_id, self.company)
        env["crm.kpi.investment"].browse(self.investments[0].id).equity = 1000.0
        env["crm.kpi.target"].browse(self.targets[0].id).target_value = 1200.0
        # a cost or target of company B cannot be slipped in
        with self.assertRaises(UserError):  # AccessError or company mismatch
            env["crm.kpi.cost"].create(
                {"name": "B", "amount": 1.0, "company_id": self.company_b.id}
            )

    # -- KPI fields of records -------------------------------------------------
    def _partner(self, user, companies=None):
        companies = companies or user.company_ids
        # non-stored fields: drop what earlier reads cached
        self.env.invalidate_all()
        env = self.env(user=user, context={"allowed_company_ids": companies.ids})
        return env["res.partner"].browse(self.customer.id)

    def test_partner_fields_do_not_leak_other_companies(self):
        # 100 (salesman, A) + 40 (rep_b, A); 7000 in B
        p = self._partner(self.manager)
        self.assertAlmostEqual(p.kpi_lifetime_revenue, 140.0)
        self.assertEqual(p.kpi_order_count, 2)
        # survey managers see every answer in the survey app: the NPS of B
        # is later, but a user of A gets A's only; tickets follow the rules
        p = self._partner(self.hd_all)
        self.assertEqual(p.kpi_ticket_count, 1)
        self.assertEqual(p.kpi_open_ticket_count, 1)
        self.assertEqual(p.kpi_nps_score, 9)
        self.assertEqual(p.kpi_nps_category, "promoter")
        p = self._partner(self.user_b)
        self.assertAlmostEqual(p.kpi_lifetime_revenue, 7000.0)
        self.assertEqual(p.kpi_order_count, 1)
        self.assertEqual(p.kpi_ticket_count, 1)
        self.assertEqual(p.kpi_nps_score, 2)
        self.assertEqual(p.kpi_nps_category, "detractor")

    def test_partner_fields_follow_document_rights(self):
        """A salesperson who sees his own orders sees his own revenue only;
        no ticket or NPS rights, no tickets or NPS."""
        p = self._partner(self.salesman)
        self.assertAlmostEqual(p.kpi_lifetime_revenue, 100.0)
        self.assertEqual(p.kpi_order_count, 1)
        self.assertEqual(p.kpi_ticket_count, 0)
        self.assertFalse(p.kpi_nps_category)
        p = self._partner(self.rep_b)
        self.assertAlmostEqual(p.kpi_lifetime_revenue, 40.0)
        # an agent with personal tickets counts his own ticket, no revenue
        p = self._partner(self.agent)
        self.assertEqual(p.kpi_ticket_count, 1)
        p = self._partner(self.agent2)
        self.assertEqual(p.kpi_ticket_count, 0)

    def test_partner_status_search_follows_rights(self):
        Partner = self.env(user=self.rep_b, context={})["res.partner"]
        found = Partner.search(
            [("id", "=", self.customer.id), ("kpi_customer_status", "!=", "prospect")]
        )
        self.assertEqual(found.id, self.customer.id)
        agent = self.env(user=self.agent, context={})["res.partner"]
        found = agent.search(
            [("id", "=", self.customer.id), ("kpi_customer_status", "=", "prospect")]
        )
        self.assertEqual(found.id, self.customer.id, "no order visible: a prospect")

    def test_lead_and_ticket_fields_follow_record_rules(self):
        lead_own, lead_other = self.make_leads(
            [
                {"created": datetime(2026, 10, 2)},
                {"created": datetime(2026, 10, 2), "user": self.rep_b},
            ]
        )
        env = self.env(user=self.salesman, context={})
        self.assertEqual(
            env["crm.lead"].browse(lead_own.id).kpi_call_count, 0
        )  # readable
        with self.assertRaises(AccessError):
            env["crm.lead"].browse(lead_other.id).read(["kpi_first_response_hours"])
        env = self.env(user=self.agent2, context={})
        with self.assertRaises(AccessError):
            env["helpdesk.ticket"].browse(self.ticket_a.id).read(
                ["kpi_first_response_hours", "kpi_fcr"]
            )
        env = self.env(user=self.agent, context={})
        with self.assertRaises(AccessError):
            env["helpdesk.ticket"].browse(self.ticket_b.id).read(["kpi_reply_count"])
        self.assertEqual(
            env["helpdesk.ticket"].browse(self.ticket_a.id).kpi_reply_count, 0
        )

    def test_drill_reference_needs_the_value(self):
        """The list behind a value is asked by reference; a user who cannot
        read the value cannot have its list either."""
        other = self.snaps_a.filtered(lambda s: s.scope == "company").value_ids[:1]
        self.assertTrue(other)
        env = self.env(user=self.salesman, context={})
        with self.assertRaises(AccessError):
            env["res.partner"].search(
                [("crm_kpi_drill_of", "=", f"{other.id}:numerator")]
            )

    def test_drill_down_reads_with_user_rights(self):
        """A salesman drilling into his own value gets an action whose
        records he then reads with his own rights; another scope's value
        cannot even be opened."""
        own = self.snaps_a.filtered(
            lambda s: s.scope == "user" and s.user_id == self.salesman
        ).value_ids[:1]
        other = self.snaps_a.filtered(lambda s: s.scope == "company").value_ids[:1]
        env = self.env(user=self.salesman, context={})
        with self.assertRaises(AccessError):
            env["crm.kpi.value"].browse(other.id).action_open_numerator()
        try:
            action = env["crm.kpi.value"].browse(own.id).action_open_numerator()
        except UserError as error:
            # no list behind this KPI: a clear message, no leak
            self.assertIn("has no list of records", str(error))
        else:
            self.assertEqual(action["type"], "ir.actions.act_window")
