"""The role × model access matrix.

Each row of ``READ`` and ``WRITE`` is a model or an action of the addon,
each column a role (see ``roles_common``); the cell says what the role gets
on company A's records:

``A``    it finds and reads all of them;
``0``    it may use the model but finds none of them, and reading one
         directly raises AccessError (another company's records);
``-``    the model is refused (AccessError on search and read);
a set    (snapshots and values) the scope keys it finds: ``company``,
         ``team:<attr>``, ``user:<attr>``, ``helpdesk_team:<attr>``,
         ``agent:<attr>``; every other scope raises AccessError.

Write cells: ``w`` the write (or create, for wizards) succeeds, ``-`` it
raises AccessError.  The rule that matters most: company-level figures
(company-scope values, maturity and its criteria, the company report) are
readable by exactly the roles that see company-scope values.
"""

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged

from .common import D
from .roles_common import OCT, KpiRolesCase

ROLES = (
    "salesman",  # salesperson, own documents
    "all_leads",  # salesperson, all documents
    "leader",  # sales team leader (own documents)
    "agent",  # helpdesk, own tickets
    "agent_team",  # helpdesk, team tickets
    "hd_all",  # helpdesk, all tickets
    "kpi_only",  # KPI manager without sales rights
    "manager",  # sales manager (implies KPI manager)
    "user_b",  # manager of company B only
    "portal",
    "plain",  # internal user without sales or helpdesk rights
)

SALES_ALL = {
    "company",
    "team:team_l",
    "team:team_b",
    "user:salesman",
    "user:leader",
    "user:rep_b",
}
HELPDESK_ALL = {
    "helpdesk_team:h1",
    "helpdesk_team:h2",
    "agent:agent",
    "agent:agent_team",
    "agent:agent2",
}
SCOPES = {
    "salesman": {"user:salesman"},
    "all_leads": SALES_ALL,
    "leader": {"team:team_l", "user:leader", "user:salesman"},
    "agent": {"agent:agent"},
    "agent_team": {"helpdesk_team:h1", "agent:agent_team"},
    "hd_all": HELPDESK_ALL,
    "kpi_only": SALES_ALL | HELPDESK_ALL,
    "manager": SALES_ALL | HELPDESK_ALL,
    "user_b": set(),
    "portal": "-",
    "plain": "-",
}

# model -> cells in the order of ROLES
READ = {
    #                           sal  all  lead agt  agtT hdAl kpi  mgr  B    port plain
    "crm.kpi.definition": ("A", "A", "A", "A", "A", "A", "A", "A", "A", "-", "-"),
    "crm.kpi.maturity": ("-", "A", "-", "-", "-", "-", "A", "A", "0", "-", "-"),
    "crm.kpi.cohort": ("-", "A", "-", "-", "-", "-", "A", "A", "0", "-", "-"),
    # revenue per customer: the roles that read every order of the company
    "crm.kpi.customer.stat": (
        *("-", "A", "-", "-", "-", "-", "-", "A", "0", "-", "-"),
    ),
    # first purchase per customer and scope: the same roles
    "crm.kpi.customer.first": (
        *("-", "A", "-", "-", "-", "-", "-", "A", "0", "-", "-"),
    ),
    "crm.kpi.maturity.criterion": (
        *("-", "A", "-", "-", "-", "-", "A", "A", "0", "-", "-"),
    ),
    "crm.kpi.target": ("A", "A", "A", "A", "A", "A", "A", "A", "0", "-", "-"),
    "crm.kpi.cost": ("-", "A", "-", "-", "-", "-", "A", "A", "0", "-", "-"),
    "crm.kpi.investment": ("-", "A", "-", "-", "-", "-", "A", "A", "0", "-", "-"),
    "crm.kpi.investment.entry": (
        *("-", "A", "-", "-", "-", "-", "A", "A", "0", "-", "-"),
    ),
    "crm.kpi.campaign.report": (
        *("-", "A", "-", "-", "-", "-", "A", "A", "0", "-", "-"),
    ),
    "crm.kpi.report.log": ("-", "-", "-", "-", "-", "-", "A", "A", "0", "-", "-"),
    "crm.kpi.backfill": ("-", "-", "-", "-", "-", "-", "A", "A", "0", "-", "-"),
    # the daily computation's work rows: seen by KPI managers, written by
    # the scheduled actions only
    "crm.kpi.work": ("-", "-", "-", "-", "-", "-", "A", "A", "0", "-", "-"),
    # the KPI fields of another salesperson's lead and of agent's ticket
    "crm.lead": ("0", "A", "0", "-", "-", "-", "-", "A", "0", "-", "-"),
    "helpdesk.ticket": ("0", "0", "0", "A", "A", "A", "0", "0", "0", "0", "0"),
}
WRITE = {
    #                           sal  all  lead agt  agtT hdAl kpi  mgr  B    port plain
    # the catalogue is shared by the companies: any KPI manager edits it
    "crm.kpi.definition": ("-", "-", "-", "-", "-", "-", "w", "w", "w", "-", "-"),
    "crm.kpi.snapshot": ("-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-"),
    "crm.kpi.value": ("-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-"),
    "crm.kpi.maturity": ("-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-"),
    "crm.kpi.cohort": ("-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-"),
    "crm.kpi.customer.stat": (
        *("-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-"),
    ),
    "crm.kpi.customer.first": (
        *("-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-"),
    ),
    "crm.kpi.target": ("-", "-", "-", "-", "-", "-", "w", "w", "-", "-", "-"),
    "crm.kpi.cost": ("-", "-", "-", "-", "-", "-", "w", "w", "-", "-", "-"),
    "crm.kpi.investment": ("-", "-", "-", "-", "-", "-", "w", "w", "-", "-", "-"),
    "crm.kpi.investment.entry": (
        *("-", "-", "-", "-", "-", "-", "w", "w", "-", "-", "-"),
    ),
    "crm.kpi.campaign.report": (
        *("-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-"),
    ),
    "crm.kpi.report.log": ("-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-"),
    "crm.kpi.backfill": ("-", "-", "-", "-", "-", "-", "w", "w", "-", "-", "-"),
    "crm.kpi.work": ("-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-"),
    # wizards: creating one is the right to use it
    "crm.kpi.reconcile": ("-", "-", "-", "-", "-", "-", "w", "w", "w", "-", "-"),
    "crm.kpi.report.wizard": ("w", "w", "w", "w", "w", "w", "w", "w", "w", "-", "-"),
}
# the company report of A (and the maturity section in a report of one's
# own scope): the roles that see company-scope values
COMPANY_REPORT = {r for r in ROLES if "company" in SCOPES[r]}

WRITE_VALUES = {
    "crm.kpi.definition": {"sequence": 7},
    "crm.kpi.snapshot": {"period_label": "x"},
    "crm.kpi.value": {"value": 1.0},
    "crm.kpi.maturity": {"level": 5},
    "crm.kpi.cohort": {"customers": 5},
    "crm.kpi.customer.stat": {"order_count": 5},
    "crm.kpi.customer.first": {"first_at": "2020-01-01 00:00:00"},
    "crm.kpi.target": {"note": "edited"},
    "crm.kpi.cost": {"name": "edited"},
    "crm.kpi.investment": {"equity": 1.0},
    "crm.kpi.investment.entry": {"name": "edited"},
    "crm.kpi.campaign.report": {"revenue": 1.0},
    "crm.kpi.report.log": {"granularity": "week"},
    "crm.kpi.backfill": {"date_to": D(2026, 10, 30)},
    "crm.kpi.work": {"state": "done"},
}


class AccessMatrixMixin:
    def role(self, name):
        return getattr(self, name)

    def env_of(self, role):
        user = self.role(role)
        return self.env(
            user=user, context={"allowed_company_ids": user.company_ids.ids}
        )

    def scope_key(self, label):
        scope, _sep, attr = label.partition(":")
        record = self.role(attr) if attr else None
        return (self.company.id, scope, record.id if record else None)

    def company_snapshot(self):
        return self.snaps_a.filtered(lambda s: s.scope == "company")


@tagged("post_install", "-at_install")
class TestAccessMatrix(AccessMatrixMixin, KpiRolesCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lead_other = cls.make_leads(
            [{"created": D(2026, 10, 2), "user": cls.rep_b}]
        )

    def records_of_a(self, model):
        if model == "crm.lead":
            return self.lead_other
        if model == "helpdesk.ticket":
            return self.ticket_a
        if model == "crm.kpi.definition":
            return self.env["crm.kpi.definition"].search([], limit=5)
        records = self._records()[model]
        return records.filtered(lambda r: self.company in self._company_of(r))

    def test_matrix_is_complete(self):
        """Every model of the addon has a row; every role has at least one
        refused cell."""
        models = set(
            self.env["ir.model"]
            .search([("model", "=like", "crm.kpi.%"), ("abstract", "=", False)])
            .mapped("model")
        )
        covered = set(READ) | set(WRITE) | {"crm.kpi.snapshot", "crm.kpi.value"}
        self.assertFalse(models - covered - {"crm.kpi.reconcile.line"})
        for index, role in enumerate(ROLES):
            cells = [row[index] for row in (*READ.values(), *WRITE.values())]
            self.assertIn("-", cells, role)

    def test_read_cells(self):
        for model, cells in READ.items():
            records = self.records_of_a(model)
            self.assertTrue(records, model)
            fields = (
                ["kpi_first_response_hours"]
                if model in ("crm.lead", "helpdesk.ticket")
                else ["display_name"]
            )
            for role, cell in zip(ROLES, cells, strict=True):
                with self.subTest(model=model, role=role, cell=cell):
                    Model = self.env_of(role)[model]
                    if cell == "-":
                        with self.assertRaises(AccessError):
                            Model.search([("id", "in", records.ids)])
                        with self.assertRaises(AccessError):
                            Model.browse(records.ids).read(fields)
                        continue
                    found = Model.search([("id", "in", records.ids)])
                    if cell == "A":
                        self.assertEqual(sorted(found.ids), sorted(records.ids))
                        self.assertTrue(found.read(fields))
                    else:
                        self.assertFalse(found)
                        with self.assertRaises(AccessError):
                            Model.browse(records.ids).read(fields)

    def write_as(self, env, model):
        """The write (or, for a wizard, the creation) of a write cell."""
        if model == "crm.kpi.reconcile":
            return env[model].create({"date_from": OCT, "date_to": D(2026, 10, 31)})
        if model == "crm.kpi.report.wizard":
            return env[model].create({"granularity": "month", "date": OCT})
        record = {
            "crm.kpi.snapshot": self.snaps_a[:1],
            "crm.kpi.value": self.snaps_a.value_ids[:1],
        }.get(model) or self.records_of_a(model)[:1]
        return env[model].browse(record.id).write(WRITE_VALUES[model])

    def test_write_cells(self):
        for model, cells in WRITE.items():
            for role, cell in zip(ROLES, cells, strict=True):
                with self.subTest(model=model, role=role, cell=cell):
                    env = self.env_of(role)
                    if cell == "w":
                        with self.cr.savepoint(flush=True) as sp:
                            self.assertTrue(self.write_as(env, model))
                            sp.rollback()
                    else:
                        with self.assertRaises(AccessError), self.cr.savepoint():
                            self.write_as(env, model)
                            self.env.flush_all()

    def test_snapshot_and_value_scopes(self):
        for role in ROLES:
            expected = SCOPES[role]
            env = self.env_of(role)
            for model in ("crm.kpi.snapshot", "crm.kpi.value"):
                with self.subTest(role=role, model=model):
                    records = (
                        self.snaps_a
                        if model == "crm.kpi.snapshot"
                        else self.snaps_a.value_ids
                    )
                    if expected == "-":
                        with self.assertRaises(AccessError):
                            env[model].search([("id", "in", records.ids)])
                        continue
                    found = env[model].search([("id", "in", records.ids)])
                    keys = {self.key(r.sudo()) for r in found}
                    self.assertEqual(keys, {self.scope_key(k) for k in expected})
                    hidden = records - found.sudo()
                    if hidden:
                        with self.assertRaises(AccessError):
                            env[model].browse(hidden.ids).read(["scope"])

    def test_read_group_and_export_follow_the_scopes(self):
        values = self.snaps_a.value_ids
        for role in ROLES:
            expected = SCOPES[role]
            if expected == "-":
                continue
            env = self.env_of(role)
            Value = env["crm.kpi.value"]
            with self.subTest(role=role):
                groups = Value.formatted_read_group(
                    [("id", "in", values.ids)], ["scope"], ["__count"]
                )
                scopes = {g["scope"] for g in groups}
                self.assertEqual(scopes, {k.partition(":")[0] for k in expected})
                self.assertEqual(sum(g["__count"] for g in groups), 2 * len(expected))
                company = self.company_snapshot().value_ids
                if "company" in expected:
                    rows = Value.browse(company.ids).export_data(["value"])["datas"]
                    self.assertEqual(len(rows), len(company))
                else:
                    with self.assertRaises(AccessError):
                        Value.browse(company.ids).export_data(["value"])
                    rows = Value.search([("id", "in", values.ids)]).export_data(
                        ["scope"]
                    )["datas"]
                    self.assertNotIn(
                        "Company", {r[0] for r in rows}, "no company scope exported"
                    )

    def test_drill_down_actions(self):
        company = self.company_snapshot().value_ids
        for role in ROLES:
            env = self.env_of(role)
            for action in ("action_open_numerator", "action_open_denominator"):
                with self.subTest(role=role, action=action):
                    value = env["crm.kpi.value"].browse(company[:1].id)
                    if role in COMPANY_REPORT:
                        result = getattr(value, action)()
                        self.assertEqual(result["type"], "ir.actions.act_window")
                    else:
                        with self.assertRaises(AccessError):
                            getattr(value, action)()

    def test_company_report_and_maturity_section(self):
        Report = self.env["ir.actions.report"]
        company = self.company_snapshot()
        for role in ROLES:
            with self.subTest(role=role):
                env = self.env_of(role)
                if role in COMPANY_REPORT:
                    html = (
                        Report.with_env(env)
                        ._render_qweb_html(
                            "crm_success_kpi.success_report", company.ids
                        )[0]
                        .decode()
                    )
                    self.assertIn("Maturity stage", html)
                else:
                    with self.assertRaises(AccessError):
                        Report.with_env(env)._render_qweb_html(
                            "crm_success_kpi.success_report", company.ids
                        )
        # the salesman's own report: his figures, no maturity section
        own = self.snaps_a.filtered(
            lambda s: s.scope == "user" and s.user_id == self.salesman
        )
        html = (
            Report.with_env(self.env_of("salesman"))
            ._render_qweb_html("crm_success_kpi.success_report", own.ids)[0]
            .decode()
        )
        self.assertIn(self.salesman.name, html)
        self.assertNotIn("Maturity stage", html)
        self.assertNotIn("To reach stage", html)


@tagged("post_install", "-at_install")
class TestReportRoute(AccessMatrixMixin, KpiRolesCase, HttpCase):
    """The PDF route of the report, as the browser calls it (HTML converter:
    the same access checks without wkhtmltopdf)."""

    def test_report_route(self):
        company = self.company_snapshot()
        own = self.snaps_a.filtered(
            lambda s: s.scope == "user" and s.user_id == self.salesman
        )
        url = "/report/html/crm_success_kpi.success_report/%s"
        for role, snap, allowed in (
            ("salesman", company, False),
            ("salesman", own, True),
            ("agent", company, False),
            ("all_leads", company, True),
            ("kpi_only", company, True),
        ):
            with self.subTest(role=role, snap=snap.name):
                login = self.role(role).login
                self.authenticate(login, login)
                response = self.url_open(url % snap.id)
                if allowed:
                    self.assertEqual(response.status_code, 200)
                    self.assertEqual(
                        "Maturity stage" in response.text, role != "salesman"
                    )
                else:
                    self.assertNotEqual(response.status_code, 200)
                    self.assertNotIn("Maturity stage", response.text)
