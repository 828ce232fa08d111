from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..kpi import period as P
from ..models.crm_kpi_snapshot import GRANULARITY


class CrmKpiReconcile(models.TransientModel):
    """Recount the stored KPIs of a range of periods from their drill-down
    records and list the values that disagree with them."""

    _name = "crm.kpi.reconcile"
    _description = "CRM KPI Reconciliation"

    date_from = fields.Date(
        required=True,
        default=lambda self: fields.Date.context_today(self) - relativedelta(months=3),
    )
    date_to = fields.Date(required=True, default=fields.Date.context_today)
    granularity = fields.Selection(GRANULARITY, required=True, default="month")
    company_ids = fields.Many2many(
        "res.company",
        string="Companies",
        required=True,
        default=lambda self: self.env.companies,
    )
    state = fields.Selection(
        [("draft", "Draft"), ("done", "Done")], default="draft", readonly=True
    )
    period_count = fields.Integer(string="Periods checked", readonly=True)
    line_ids = fields.One2many(
        "crm.kpi.reconcile.line", "reconcile_id", string="Disagreements", readonly=True
    )

    @api.constrains("date_from", "date_to")
    def _check_dates(self):
        for rec in self:
            if rec.date_from > rec.date_to:
                raise ValidationError(
                    self.env._("The start of the range must precede its end.")
                )

    def _periods(self, company):
        calendar = company.kpi_period_calendar or "gregorian"
        start = P.period_start(self.granularity, self.date_from, calendar)
        while start <= self.date_to:
            yield start
            start = P.shift_period(self.granularity, start, 1, calendar)

    def action_run(self):
        self.ensure_one()
        Snapshot = self.env["crm.kpi.snapshot"]
        lines = [fields.Command.clear()]
        count = 0
        for company in self.company_ids:
            for start in self._periods(company):
                count += 1
                found = Snapshot.reconcile_period(
                    self.granularity, start, companies=company
                )
                lines += [
                    fields.Command.create(
                        {
                            "snapshot_id": item[0].id,
                            "kpi_code": item[1],
                            "part": item.part,
                            "stored": item[2],
                            "recounted": item[3],
                            "has_recount": item[3] is not None,
                        }
                    )
                    for item in found
                ]
        self.write({"line_ids": lines, "state": "done", "period_count": count})
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "views": [(False, "form")],
            "target": "current",
        }


class CrmKpiReconcileLine(models.TransientModel):
    _name = "crm.kpi.reconcile.line"
    _description = "CRM KPI Reconciliation Disagreement"
    _order = "id"

    reconcile_id = fields.Many2one(
        "crm.kpi.reconcile", required=True, ondelete="cascade"
    )
    snapshot_id = fields.Many2one("crm.kpi.snapshot", readonly=True)
    period_label = fields.Char(related="snapshot_id.period_label", string="Period")
    scope = fields.Selection(related="snapshot_id.scope")
    snapshot_name = fields.Char(related="snapshot_id.name", string="Snapshot Name")
    kpi_code = fields.Char(string="KPI", readonly=True)
    part = fields.Selection(
        [("numerator", "Numerator"), ("denominator", "Denominator")], readonly=True
    )
    stored = fields.Float(readonly=True)
    recounted = fields.Float(string="Records now", readonly=True)
    has_recount = fields.Boolean(
        readonly=True, help="False when the drill-down gave no list of records."
    )

    def action_open_records(self):
        self.ensure_one()
        value = self.env["crm.kpi.value"].search(
            [
                ("snapshot_id", "=", self.snapshot_id.id),
                ("kpi_code", "=", self.kpi_code),
            ],
            limit=1,
        )
        return value._drill(self.part)
