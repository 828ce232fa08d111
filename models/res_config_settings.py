from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .crm_kpi_read_source import READ_CONNECTIONS_MAX


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

    # -- large databases --------------------------------------------------------
    kpi_replica_max_lag = fields.Integer(
        string="Standby maximum lag (minutes)",
        config_parameter="crm_success_kpi.replica_max_lag",
        default=15,
        help="When Odoo has a read replica, the KPI engine reads the periods "
        "on it unless it is further behind the primary than this: then it "
        "reads on the primary.",
    )
    kpi_read_connections = fields.Integer(
        string="Connections reading a period",
        config_parameter="crm_success_kpi.read_connections",
        default=2,
        help="How many database connections read the KPI families of one "
        "period at the same time, all seeing the same moment of the "
        "database: with several processors on the database server, a period "
        "is computed sooner. 1: one connection.",
    )

    @api.constrains("kpi_read_connections")
    def _check_kpi_read_connections(self):
        for settings in self:
            if not 1 <= settings.kpi_read_connections <= READ_CONNECTIONS_MAX:
                raise ValidationError(
                    self.env._(
                        "Connections reading a period: from 1 to %(max)s (got "
                        "%(value)s).",
                        max=READ_CONNECTIONS_MAX,
                        value=settings.kpi_read_connections,
                    )
                )

    # -- costs drawn from accounting -------------------------------------------
    kpi_cost_sales_analytic_ids = fields.Many2many(
        related="company_id.kpi_cost_sales_analytic_ids", readonly=False
    )
    kpi_cost_marketing_analytic_ids = fields.Many2many(
        related="company_id.kpi_cost_marketing_analytic_ids", readonly=False
    )

    def action_kpi_sync_analytic_costs(self):
        self.ensure_one()
        return (
            self.env["crm.kpi.cost"]
            .with_company(self.company_id)
            .action_sync_analytic()
        )

    # -- scheduled success report ----------------------------------------------
    kpi_report_enabled = fields.Boolean(
        related="company_id.kpi_report_enabled", readonly=False
    )
    kpi_report_granularity = fields.Selection(
        related="company_id.kpi_report_granularity", readonly=False
    )
    kpi_maturity_min_responses = fields.Integer(
        related="company_id.kpi_maturity_min_responses", readonly=False
    )

    # -- NPS invitations -------------------------------------------------------
    kpi_nps_auto_invite = fields.Boolean(
        related="company_id.kpi_nps_auto_invite", readonly=False
    )
    kpi_nps_survey_id = fields.Many2one(
        related="company_id.kpi_nps_survey_id", readonly=False
    )
    kpi_nps_interval_days = fields.Integer(
        related="company_id.kpi_nps_interval_days", readonly=False
    )
