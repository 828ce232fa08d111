from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    kpi_revenue_source = fields.Selection(
        [("order", "Confirmed sale orders"), ("invoice", "Posted customer invoices")],
        string="KPI Revenue Source",
        default="order",
        required=True,
        help="What counts as a revenue event: a confirmed sale order (at its "
        "order date) or a posted customer invoice or refund (at its invoice date).",
    )
    kpi_activity_window_days = fields.Integer(
        string="Activity Window (days)",
        default=365,
        help="A customer is active at a date when it has a revenue event in the "
        "window of this many days before that date. For periods longer than the "
        "window (a 366-day year), the window is stretched to the period.",
    )
    kpi_customer_base_method = fields.Selection(
        [
            ("all", "All customers with an earlier purchase"),
            ("active", "Customers active at the start of the period"),
        ],
        string="Customer Base for Growth",
        default="all",
        required=True,
    )
    kpi_timezone = fields.Selection(
        "_kpi_tz_selection",
        string="KPI Timezone",
        help="Timezone of period boundaries. Empty: the company's timezone "
        "(its partner's), else UTC.",
    )
    kpi_period_calendar = fields.Selection(
        [("gregorian", "Gregorian"), ("jalali", "Solar Hijri (Jalali)")],
        string="Period Calendar",
        default="gregorian",
        required=True,
    )

    @api.model
    def _kpi_tz_selection(self):
        return self.env["res.partner"]._fields["tz"]._description_selection(self.env)

    @api.constrains("kpi_activity_window_days")
    def _check_kpi_activity_window_days(self):
        for company in self:
            if company.kpi_activity_window_days < 31:
                raise ValidationError(
                    self.env._(
                        "The activity window of %(company)s must be at least 31 days "
                        "(the longest month): a customer who bought inside a period "
                        "must still be active at its end. %(days)s days is too short.",
                        company=company.name,
                        days=company.kpi_activity_window_days,
                    )
                )

    def _kpi_tz(self):
        self.ensure_one()
        return self.kpi_timezone or self.partner_id.tz or "UTC"
