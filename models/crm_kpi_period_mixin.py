from odoo import api, fields, models

from ..kpi import period as P


class CrmKpiPeriodMixin(models.AbstractModel):
    """The period of a record (``granularity``, ``date_start`` and
    ``company_id`` fields) as the reader says it: Solar Hijri month names in
    the reader's language. ``period_label`` stays the stored label, for
    searching and grouping."""

    _name = "crm.kpi.period.mixin"
    _description = "KPI Period in the Reader's Language"

    period_name = fields.Char(
        compute="_compute_period_name",
        help="The period in the reader's language (Solar Hijri month names "
        "translated); Period holds the label as stored.",
    )

    @api.depends("granularity", "date_start", "company_id.kpi_period_calendar")
    @api.depends_context("lang")
    def _compute_period_name(self):
        for rec in self:
            calendar = rec.company_id.kpi_period_calendar or "gregorian"
            rec.period_name = (
                P.period_label(
                    rec.granularity, rec.date_start, calendar, translate=self.env._
                )
                if rec.granularity and rec.date_start
                else rec.period_label
            )
