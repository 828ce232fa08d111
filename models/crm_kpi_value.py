from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..kpi import base as kpi_base
from .crm_kpi_definition import AREAS, UNITS
from .crm_kpi_snapshot import GRANULARITY, SCOPE


class CrmKpiValue(models.Model):
    _name = "crm.kpi.value"
    _inherit = ["crm.kpi.period.mixin"]
    _description = "CRM KPI Value"
    _order = "date_start desc, kpi_id, id"
    _rec_name = "kpi_id"

    snapshot_id = fields.Many2one(
        "crm.kpi.snapshot", required=True, readonly=True, ondelete="cascade", index=True
    )
    kpi_id = fields.Many2one(
        "crm.kpi.definition",
        string="KPI",
        required=True,
        readonly=True,
        ondelete="cascade",
        index=True,
    )
    kpi_code = fields.Char(readonly=True, index=True)
    area = fields.Selection(AREAS, readonly=True)
    unit = fields.Selection(UNITS, readonly=True)
    value = fields.Float(
        readonly=True,
        aggregator="sum",
        help="Empty when the KPI has no value for the period (n/a). Grouped, "
        "rates are the ratio of the summed numerators and denominators.",
    )
    has_value = fields.Boolean(
        readonly=True,
        help="False when the KPI has no value (n/a): the ORM reads an empty "
        "value as 0.0, so use this flag to tell them apart.",
    )
    numerator = fields.Float(readonly=True, aggregator="sum")
    denominator = fields.Float(readonly=True, aggregator="sum")
    factor = fields.Float(readonly=True, default=1.0, aggregator="max")
    note = fields.Char(
        string="Why n/a (source)",
        readonly=True,
        help="The reason in English, as computed; shown translated in Why n/a.",
    )
    note_label = fields.Char(string="Why n/a", compute="_compute_note_label")
    display_value = fields.Char(string="Shown Value", compute="_compute_display_value")
    # the values a computation gives again unchanged are not written again:
    # the time they were last computed is their snapshot's
    computed_at = fields.Datetime(related="snapshot_id.computed_at")
    # the snapshot's period and scope, stored for grouping
    granularity = fields.Selection(GRANULARITY, readonly=True, index=True)
    date_start = fields.Date(readonly=True, index=True)
    date_end = fields.Date(readonly=True)
    period_label = fields.Char(string="Period", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True, index=True)
    scope = fields.Selection(SCOPE, readonly=True, index=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    user_id = fields.Many2one("res.users", readonly=True)
    helpdesk_team_id = fields.Many2one("helpdesk.ticket.team", readonly=True)

    _snapshot_kpi_unique = models.Constraint(
        "UNIQUE(snapshot_id, kpi_id)", "A snapshot holds one value per KPI."
    )

    # room in every page for the new version of its rows: the values that a
    # period computed again changes then stay in their page and skip the
    # nine indexes (heap-only updates) instead of moving to a new page
    FILLFACTOR = 50

    def init(self):
        res = super().init()
        cr = self.env.cr
        cr.execute(
            SQL(
                "SELECT reloptions FROM pg_class WHERE oid = %s::regclass",
                self._table,
            )
        )
        wanted = f"fillfactor={self.FILLFACTOR}"
        if wanted not in (cr.fetchone()[0] or []):
            cr.execute(
                SQL(
                    "ALTER TABLE %s SET (fillfactor = %s)",
                    SQL.identifier(self._table),
                    self.FILLFACTOR,
                )
            )
        return res

    def _translate_note(self, note):
        """The reader's-language text of an n/a reason the engine stored in
        English (the reasons are code terms of the addon's translations)."""
        return self.env._(note) if note else ""

    @api.depends("note")
    @api.depends_context("lang")
    def _compute_note_label(self):
        for rec in self:
            rec.note_label = self._translate_note(rec.note)

    @api.depends("value", "has_value", "unit", "note")
    @api.depends_context("lang")
    def _compute_display_value(self):
        for rec in self:
            if not rec.has_value:
                rec.display_value = self.env._(
                    "n/a: %(why)s", why=self._translate_note(rec.note)
                )
            elif rec.unit == "percent":
                rec.display_value = f"{rec.value:.2f} %"
            elif rec.unit == "count":
                rec.display_value = f"{rec.value:,.0f}"
            else:
                rec.display_value = f"{rec.value:,.2f}"

    def _read_group_select(self, aggregate_spec, query):
        """Grouped values are correct at every level: rates are the ratio of
        the summed numerators and denominators (never an average of rates),
        counts and amounts are summed, other values averaged."""
        if aggregate_spec == "value:sum":
            t = self._table
            return SQL(
                """CASE
                     WHEN BOOL_AND(%(den)s IS NOT NULL AND %(unit)s <> 'count')
                       THEN SUM(%(num)s) / NULLIF(SUM(%(den)s), 0) * MAX(%(factor)s)
                     WHEN BOOL_AND(%(unit)s IN ('count', 'currency')
                                   AND %(den)s IS NULL)
                       THEN SUM(%(value)s)
                     ELSE AVG(%(value)s)
                   END""",
                num=SQL.identifier(t, "numerator"),
                den=SQL.identifier(t, "denominator"),
                unit=SQL.identifier(t, "unit"),
                factor=SQL.identifier(t, "factor"),
                value=SQL.identifier(t, "value"),
            )
        return super()._read_group_select(aggregate_spec, query)

    # ------------------------------------------------------------------
    # Drill-down
    # ------------------------------------------------------------------
    def _drill(self, part):
        self.ensure_one()
        snapshot = self.snapshot_id
        family_cls = kpi_base.family_for(self.kpi_code)
        found = None
        if family_cls:
            ctx = snapshot._period_context(
                snapshot.company_id, snapshot.granularity, snapshot.date_start
            )
            scope_id = (
                snapshot.team_id.id
                or snapshot.helpdesk_team_id.id
                or snapshot.user_id.id
                or None
            )
            found = family_cls(ctx).drill(self.kpi_code, snapshot.scope, scope_id, part)
        if not found:
            raise UserError(
                self.env._(
                    "%(kpi)s has no list of records behind its %(part)s.",
                    kpi=self.kpi_id.name,
                    part=self.env._("numerator")
                    if part == "numerator"
                    else self.env._("denominator"),
                )
            )
        model, domain = found
        # the records are then read with the user's own rights
        return {
            "type": "ir.actions.act_window",
            "name": f"{self.kpi_id.name} · {snapshot.period_label} · "
            + (
                self.env._("numerator")
                if part == "numerator"
                else self.env._("denominator")
            ),
            "res_model": model,
            "views": [(False, "list"), (False, "form")],
            "domain": domain,
            "context": {"active_test": False, "create": False},
            "target": "current",
        }

    def action_open_numerator(self):
        return self._drill("numerator")

    def action_open_denominator(self):
        return self._drill("denominator")
