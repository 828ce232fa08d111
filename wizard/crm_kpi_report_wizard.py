from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..kpi import period as P
from ..models.crm_kpi_snapshot import GRANULARITY


class CrmKpiReportWizard(models.TransientModel):
    _name = "crm.kpi.report.wizard"
    _description = "Print the CRM Success Criteria Report"

    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    granularity = fields.Selection(GRANULARITY, required=True, default="month")
    date = fields.Date(
        string="Period",
        required=True,
        default=lambda self: self._default_date(),
        help="Any day of the period to report on.",
    )
    scope = fields.Selection(
        [
            ("company", "Company"),
            ("team", "Sales Team"),
            ("helpdesk_team", "Helpdesk Team"),
        ],
        required=True,
        default="company",
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        domain="[('company_id', 'in', (company_id, False))]",
    )
    helpdesk_team_id = fields.Many2one("helpdesk.ticket.team")
    comparison = fields.Selection(
        [("previous", "Previous period"), ("year", "Same period last year")],
        required=True,
        default="previous",
    )
    period_label = fields.Char(
        compute="_compute_period_label", string="Reported Period"
    )

    @api.model
    def _default_date(self):
        # the last closed month by default
        today = fields.Date.context_today(self)
        return P.shift_period("month", today.replace(day=1), -1)

    @api.model
    def default_get(self, fields_list):
        res = super().default_get(fields_list)
        # opened from the Overview or a snapshot: take the period and scope
        # of the selected records
        model = self.env.context.get("active_model")
        ids = self.env.context.get("active_ids") or []
        if model in ("crm.kpi.value", "crm.kpi.snapshot") and ids:
            record = self.env[model].browse(ids[:1]).exists()
            snap = record.snapshot_id if model == "crm.kpi.value" else record
            if snap:
                res.update(
                    company_id=snap.company_id.id,
                    granularity=snap.granularity,
                    date=snap.date_start,
                )
                if snap.scope in ("team", "helpdesk_team"):
                    res.update(
                        scope=snap.scope,
                        team_id=snap.team_id.id,
                        helpdesk_team_id=snap.helpdesk_team_id.id,
                    )
        return res

    def _period_start(self):
        calendar = self.company_id.kpi_period_calendar or "gregorian"
        return P.period_start(self.granularity, self.date, calendar)

    @api.depends("granularity", "date", "company_id")
    def _compute_period_label(self):
        for wizard in self:
            if wizard.granularity and wizard.date and wizard.company_id:
                calendar = wizard.company_id.kpi_period_calendar or "gregorian"
                wizard.period_label = P.period_label(
                    wizard.granularity, wizard._period_start(), calendar
                )
            else:
                wizard.period_label = False

    @api.constrains("scope", "team_id", "helpdesk_team_id")
    def _check_scope(self):
        for wizard in self:
            if wizard.scope == "team" and not wizard.team_id:
                raise ValidationError(self.env._("Choose the sales team to report on."))
            if wizard.scope == "helpdesk_team" and not wizard.helpdesk_team_id:
                raise ValidationError(
                    self.env._("Choose the helpdesk team to report on.")
                )

    def _snapshot(self):
        self.ensure_one()
        domain = [
            ("company_id", "=", self.company_id.id),
            ("granularity", "=", self.granularity),
            ("date_start", "=", self._period_start()),
            ("scope", "=", self.scope),
        ]
        if self.scope == "team":
            domain.append(("team_id", "=", self.team_id.id))
        elif self.scope == "helpdesk_team":
            domain.append(("helpdesk_team_id", "=", self.helpdesk_team_id.id))
        snapshot = self.env["crm.kpi.snapshot"].search(domain, limit=1)
        if not snapshot:
            raise UserError(
                self.env._(
                    "No KPIs are computed for %(period)s of %(who)s. Compute the "
                    "period first (Configuration > Backfill History), or pick "
                    "another period or scope.",
                    period=self.period_label,
                    who=(
                        self.team_id or self.helpdesk_team_id or self.company_id
                    ).display_name,
                )
            )
        return snapshot

    def action_print(self):
        self.ensure_one()
        snapshot = self._snapshot()
        return self.env.ref(
            "crm_success_kpi.action_report_crm_kpi_success"
        ).report_action(
            snapshot,
            data={"snapshot_ids": snapshot.ids, "comparison": self.comparison},
        )
