"""Upgrading the addon keeps the history and the settings.

A real ``-u`` reloads every data file of the manifest in update mode, then
removes the records whose XML ids are gone.  The test does the same inside
its transaction (a full module upgrade is too heavy for a test) and checks
that snapshots, values, company settings, costs, investments, targets and
what administrators changed in ``noupdate`` data (crons, surveys) survive.

Uninstalling is checked outside the test suite (see the report): it drops
the addon's tables and columns.
"""

from odoo import Command
from odoo.modules.module import get_manifest
from odoo.tests import tagged
from odoo.tools.convert import convert_file

from ..hooks import uninstall_hook
from ..models.crm_kpi_snapshot import CORE_INDEXES
from .common import D, KpiCase

MODULE = "crm_success_kpi"


@tagged("post_install", "-at_install")
class TestKpiUpgrade(KpiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        customers = cls.make_customers(3)
        cls.make_orders(
            [
                {"partner": p, "date": D(2026, 10, 5 + i), "amount": 100.0 * (i + 1)}
                for i, p in enumerate(customers)
            ]
        )
        cls.snapshots = cls.Snapshot.compute_period(
            "month", D(2026, 10, 1), companies=cls.company
        ) | cls.Snapshot.compute_period(
            "quarter", D(2026, 10, 1), companies=cls.company
        )
        cls.company.write(
            {
                "kpi_activity_window_days": 200,
                "kpi_revenue_source": "order",
                "kpi_customer_base_method": "active",
                "kpi_timezone": "Europe/Brussels",
                "kpi_nps_interval_days": 90,
            }
        )
        cls.cost = cls.env["crm.kpi.cost"].create(
            {"name": "Fair", "date": D(2026, 10, 1), "amount": 50.0}
        )
        cls.investment = cls.env["crm.kpi.investment"].create(
            {
                "company_id": cls.company.id,
                "hourly_cost": 40.0,
                "entry_ids": [Command.create({"name": "Licence", "amount": 900.0})],
            }
        )
        cls.target = cls.env["crm.kpi.target"].create(
            {
                "kpi_id": cls.env.ref("crm_success_kpi.kpi_revenue").id,
                "company_id": cls.company.id,
                "granularity": "month",
                "target_value": 1000.0,
                "warning_value": 500.0,
            }
        )
        # what an administrator changes in noupdate data
        cls.cron = cls.env.ref("crm_success_kpi.ir_cron_crm_kpi_compute")
        cls.cron.active = False
        cls.nps_survey = cls.env.ref("crm_success_kpi.survey_kpi_nps")
        cls.nps_survey.title = "How likely are you to recommend ACME?"
        # a KPI switched off in the catalogue
        cls.kpi_off = cls.env.ref("crm_success_kpi.kpi_win_rate_value")
        cls.kpi_off.active = False

    def state(self):
        self.env.invalidate_all()
        snapshots = self.env["crm.kpi.snapshot"].search(
            [("company_id", "=", self.company.id)]
        )
        return {
            "snapshots": sorted(
                (s.id, s.granularity, s.date_start, s.scope_key, s.computed_at)
                for s in snapshots
            ),
            "values": sorted(
                (v.id, v.kpi_code, v.value, v.numerator, v.denominator, v.note or "")
                for v in snapshots.value_ids
            ),
            "company": self.company.read(
                [
                    "kpi_activity_window_days",
                    "kpi_revenue_source",
                    "kpi_customer_base_method",
                    "kpi_timezone",
                    "kpi_period_calendar",
                    "kpi_nps_interval_days",
                ]
            ),
            "cost": self.cost.read(["name", "amount", "amount_company", "source"]),
            "investment": self.investment.read(["hourly_cost", "total_cost"]),
            "target": self.target.read(["target_value", "warning_value", "active"]),
            "cron": self.cron.active,
            "survey": self.nps_survey.title,
            "kpi_off": self.kpi_off.with_context(active_test=False).active,
            "catalogue": self.env["crm.kpi.definition"]
            .with_context(active_test=False)
            .search_count([]),
        }

    def upgrade(self):
        env = self.env(su=True, context={})
        idref = {}
        for filename in get_manifest(MODULE)["data"]:
            convert_file(env, MODULE, filename, idref, mode="update", noupdate=False)
        # (the end of a real upgrade, ``_process_end``, removes the records
        # whose XML ids were not loaded; outside a real module load it would
        # see the models' XML ids as gone, so it is not called here)
        env.flush_all()

    def test_upgrade_keeps_history_and_settings(self):
        before = self.state()
        self.assertTrue(before["snapshots"])
        self.assertTrue(before["values"])
        self.upgrade()
        after = self.state()
        for key in before:
            self.assertEqual(after[key], before[key], key)

    def test_upgrade_keeps_managers_catalogue_edits(self):
        """A manager's headline, sequence, direction and description stay;
        what the addon owns (unit, grouping, factor, and the texts nobody
        edited) comes back from its data."""
        churn = self.env.ref("crm_success_kpi.kpi_churn_rate")
        nps = self.env.ref("crm_success_kpi.kpi_nps")
        shipped = churn.read(["unit", "grouping", "factor"])[0]
        nps_shipped = nps.read(["description", "sequence", "headline"])[0]
        headline = not churn.headline
        manager = self.env(user=self.manager)["crm.kpi.definition"]
        manager.browse(churn.id).write(
            {
                "headline": headline,
                "sequence": 999,
                "direction": "up",
                "description": "Our own words for churn.",
            }
        )
        self.assertEqual(churn.edited_fields, "description,direction,headline,sequence")
        # an older version of the addon had shipped other values
        churn.sudo().with_context(crm_kpi_data_load=True).write(
            {"unit": "count", "grouping": "sum", "factor": 1.0}
        )
        nps.sudo().with_context(crm_kpi_data_load=True).write(
            {"description": "An old formula.", "sequence": 1, "headline": False}
        )
        self.assertFalse(nps.edited_fields)
        self.upgrade()
        self.env.invalidate_all()
        self.assertEqual(
            (churn.headline, churn.sequence, churn.direction, churn.description),
            (headline, 999, "up", "Our own words for churn."),
        )
        self.assertEqual(churn.read(["unit", "grouping", "factor"])[0], shipped)
        self.assertEqual(
            nps.read(["description", "sequence", "headline"])[0], nps_shipped
        )
        # restored: the next upgrade brings the addon's texts back
        churn.action_restore_addon_texts()
        self.upgrade()
        self.env.invalidate_all()
        self.assertEqual(churn.direction, "down")
        self.assertNotEqual(churn.description, "Our own words for churn.")
        self.assertFalse(churn.edited_fields)

    def test_history_still_recomputes_in_place_after_upgrade(self):
        before = self.state()["snapshots"]
        self.upgrade()
        snaps = self.Snapshot.compute_period(
            "month", D(2026, 10, 1), companies=self.company
        )
        revenue = snaps.filtered(lambda s: s.scope == "company").value_ids.filtered(
            lambda v: v.kpi_code == "revenue"
        )
        self.assertAlmostEqual(revenue.value, 600.0)  # 100 + 200 + 300
        ids = {s[0] for s in self.state()["snapshots"]}
        self.assertEqual(ids, {s[0] for s in before}, "same rows, updated in place")

    def test_uninstall_cleans_its_data(self):
        """What an uninstall removes is declared: every table of the addon
        belongs to one of its models (dropped with the model), and every
        column it adds to other models is a field of the addon (dropped with
        the field).  The real uninstall is run outside the suite."""
        data = self.env["ir.model.data"].search(
            [("module", "=", MODULE), ("model", "=", "ir.model")]
        )
        models = self.env["ir.model"].browse(data.mapped("res_id"))
        # the models the addon creates (it also holds XML ids of the ones it
        # extends)
        own = {
            m.model
            for m in models
            if m.model in self.env and self.env[m.model]._original_module == MODULE
        }
        expected = {"crm.kpi.snapshot", "crm.kpi.value", "crm.kpi.cost"}
        self.assertTrue(expected | {"crm.kpi.customer.first"} <= own)
        self.cr.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_name LIKE 'crm_kpi%%'"
        )
        tables = {r[0] for r in self.cr.fetchall()}
        owned_tables = {self.env[m]._table for m in own if m in self.env}
        relation_tables = {
            f.relation
            for m in own
            if m in self.env
            for f in self.env[m]._fields.values()
            if f.type == "many2many" and f.store
        } | {
            "crm_kpi_company_sales_analytic_rel",
            "crm_kpi_company_marketing_analytic_rel",
        }
        self.assertLessEqual(tables, owned_tables | relation_tables)
        # every stored field the addon adds to other models is registered
        # under the addon, so the uninstall drops its column
        added = [
            (model._name, field.name)
            for model in self.env.registry.values()
            if model._name not in own and not model._abstract
            for field in model._fields.values()
            if field.store and MODULE in field._modules and field.column_type
        ]
        self.assertIn(("helpdesk.ticket", "kpi_reply_count"), added)
        self.assertIn(("res.company", "kpi_activity_window_days"), added)
        xmlids = self.env["ir.model.data"].search(
            [("module", "=", MODULE), ("model", "=", "ir.model.fields")]
        )
        registered = {
            (f.model, f.name)
            for f in self.env["ir.model.fields"].browse(xmlids.mapped("res_id"))
        }
        self.assertFalse(set(added) - registered)

    def test_uninstall_drops_its_indexes_on_core_tables(self):
        def indexes():
            self.cr.execute(
                "SELECT indexname FROM pg_indexes WHERE indexname = ANY(%s)",
                [[name for name, _table, _columns in CORE_INDEXES]],
            )
            return {r[0] for r in self.cr.fetchall()}

        self.assertEqual(indexes(), {name for name, _t, _c in CORE_INDEXES})
        uninstall_hook(self.env)  # rolled back with the test
        self.assertEqual(indexes(), set())
