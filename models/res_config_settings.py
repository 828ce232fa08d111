from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    kpi_revenue_source = fields.Selection(
        related="company_id.kpi_revenue_source", readonly=False
    )
    kpi_activity_window_days = fields.Integer(
        related="company_id.kpi_activity_window_days", readonly=False
    )
    kpi_customer_base_method = fields.Selection(
        related="company_id.kpi_customer_base_method", readonly=False
    )
    kpi_timezone = fields.Selection(related="company_id.kpi_timezone", readonly=False)
    kpi_period_calendar = fields.Selection(
        related="company_id.kpi_period_calendar", readonly=False
    )
