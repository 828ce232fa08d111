"""KPI families are models of the registry: another addon extends one with
``_inherit`` or adds a family model of its own, and its KPIs appear only
where its models are loaded; the catalogue and the families must agree."""

from contextlib import contextmanager

from odoo import models
from odoo.exceptions import UserError
from odoo.orm.model_classes import add_to_registry
from odoo.tests import tagged

from ..kpi.base import COMPANY, count
from .common import D, KpiCase

OCT = D(2026, 10, 1)


class SalesWithEcho(models.AbstractModel):
    """What an addon writes to add a KPI to the sales family."""

    _module = None
    _name = "crm.kpi.family.sales"
    _inherit = "crm.kpi.family.sales"

    def _kpi_codes(self):
        return (*super()._kpi_codes(), "test_won_twice")

    def _kpi_compute(self):
        results = super()._kpi_compute()
        for values in results.values():
            won = values["deals_won"].value or 0.0
            values["test_won_twice"] = count(2 * won)
        return results


class EchoFamily(models.AbstractModel):
    """What an addon writes to add a family of its own."""

    _module = None
    _name = "crm.kpi.family.test_echo"
    _inherit = "crm.kpi.family"
    _kpi_area = "sales"

    def _kpi_codes(self):
        return ("test_echo",)

    def _kpi_compute(self):
        return {COMPANY: {"test_echo": count(self.ctx.date_start.month)}}


@tagged("post_install", "-at_install")
class TestFamilies(KpiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.make_leads(
            [
                {
                    "created": D(2026, 10, 2),
                    "status": "won",
                    "closed": D(2026, 10, 9),
                    "revenue": 10.0,
                }
                for _i in range(3)
            ]
        )

    @contextmanager
    def _loaded(self, *definitions):
        """The registry with ``definitions`` loaded, as if their addon were
        installed, then put back as it was."""
        registry = self.registry
        names = [d._name for d in definitions]
        existing = {
            name: registry[name]._base_classes__ for name in names if name in registry
        }
        added = [name for name in names if name not in registry]
        for definition in definitions:
            add_to_registry(registry, definition)
        registry._setup_models__(self.env.cr, names)
        try:
            yield
        finally:
            for name in added:
                for parent in registry[name]._inherit:
                    registry[parent]._inherit_children.discard(name)
                del registry[name]
            for name, bases in existing.items():
                registry[name]._base_classes__ = bases
                registry[name]._setup_done__ = False
            registry._setup_models__(self.env.cr, list(existing) or ["crm.kpi.family"])
            self.env.invalidate_all()

    def _catalogue(self, code):
        return self.env["crm.kpi.definition"].create(
            {
                "code": code,
                "name": code,
                "area": "sales",
                "unit": "count",
                "grouping": "sum",
            }
        )

    def _stored(self, snapshots):
        return {v.kpi_code: v for v in snapshots.value_ids if v.scope == "company"}

    def test_families_are_found_in_the_registry(self):
        Family = self.env["crm.kpi.family"]
        self.assertEqual(
            Family._kpi_family_names(),
            [
                "crm.kpi.family.adoption",
                "crm.kpi.family.costs",
                "crm.kpi.family.customers",
                "crm.kpi.family.financial",
                "crm.kpi.family.marketing",
                "crm.kpi.family.perception",
                "crm.kpi.family.revenue",
                "crm.kpi.family.sales",
                "crm.kpi.family.service",
                "crm.kpi.family.sla",
            ],
        )
        self.assertEqual(
            Family._kpi_family_of("win_rate")._name, "crm.kpi.family.sales"
        )
        self.assertIsNone(Family._kpi_family_of("no_such_kpi"))
        # every code of the catalogue has exactly one family
        owner = Family._kpi_check_catalogue()
        codes = (
            self.env["crm.kpi.definition"].with_context(active_test=False).search([])
        )
        self.assertEqual(set(owner), set(codes.mapped("code")))

    def test_a_kpi_added_by_inherit(self):
        self._catalogue("test_won_twice")
        with self._loaded(SalesWithEcho):
            values = self._stored(
                self.Snapshot.compute_period("month", OCT, companies=self.company)
            )
            self.assertEqual(values["deals_won"].value, 3.0)
            self.assertEqual(values["test_won_twice"].value, 6.0)
            self.assertEqual(
                self.env["crm.kpi.family"]._kpi_family_of("test_won_twice")._name,
                "crm.kpi.family.sales",
            )
        # without the addon: its KPI has no family, and the engine says so
        with self.assertRaisesRegex(UserError, "test_won_twice.*computed by no family"):
            self.Snapshot.compute_period("month", OCT, companies=self.company)

    def test_a_family_of_its_own(self):
        self._catalogue("test_echo")
        with self._loaded(EchoFamily):
            self.assertIn(
                "crm.kpi.family.test_echo",
                self.env["crm.kpi.family"]._kpi_family_names(),
            )
            values = self._stored(
                self.Snapshot.compute_period("month", OCT, companies=self.company)
            )
            self.assertEqual(values["test_echo"].value, 10.0)
        # a database without the addon has neither the family nor its KPI
        self.env["crm.kpi.definition"].search([("code", "=", "test_echo")]).unlink()
        self.assertNotIn(
            "crm.kpi.family.test_echo", self.env["crm.kpi.family"]._kpi_family_names()
        )
        values = self._stored(
            self.Snapshot.compute_period("month", OCT, companies=self.company)
        )
        self.assertNotIn("test_echo", values)
        self.assertEqual(values["deals_won"].value, 3.0)

    def test_catalogue_and_families_must_agree(self):
        # a family code missing from the catalogue
        with self._loaded(EchoFamily):
            with self.assertRaisesRegex(
                UserError, "test_echo, which is not in the KPI catalogue"
            ):
                self.Snapshot.compute_period("month", OCT, companies=self.company)
        # a catalogue code without family
        self._catalogue("test_orphan")
        with self.assertRaisesRegex(
            UserError, "test_orphan of the catalogue is computed by no family"
        ):
            self.Snapshot.compute_period("month", OCT, companies=self.company)

    def test_a_family_needing_a_missing_module(self):
        self._catalogue("test_echo")

        class NeedsModule(models.AbstractModel):
            _module = None
            _name = "crm.kpi.family.test_echo"
            _inherit = "crm.kpi.family"
            _kpi_requires = ("no_such_module",)

            def _kpi_codes(self):
                return ("test_echo",)

            def _kpi_compute(self):
                raise AssertionError("not run: a module it needs is missing")

        with self._loaded(NeedsModule):
            values = self._stored(
                self.Snapshot.compute_period("month", OCT, companies=self.company)
            )
        self.assertFalse(values["test_echo"].has_value)
        self.assertIn("no_such_module", values["test_echo"].note)
