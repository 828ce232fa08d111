"""What the CRM cost and what it is expected to return, per company.

One ``crm.kpi.investment`` per company holds the benefit assumptions (go-live
date, hours saved, hourly cost, discount rate, equity, baseline) and the
investment entries (license, implementation, training, maintenance, other).
The financial KPI family reads them.
"""

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..kpi.users import licensed_crm_users

INVESTMENT_CATEGORIES = [
    ("license", "License"),
    ("implementation", "Implementation"),
    ("training", "Training"),
    ("maintenance", "Maintenance"),
    ("other", "Other"),
]


class CrmKpiInvestment(models.Model):
    _name = "crm.kpi.investment"
    _description = "CRM Investment"
    _rec_name = "company_id"
    _order = "company_id"

    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
        ondelete="cascade",
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    go_live_date = fields.Date(
        "Go-live Date",
        help="The CRM went into use on this date. Month 0 of the cash flows is "
        "its month; the baseline is the 12 months before it.",
    )
    hours_saved_per_user = fields.Float(
        "Hours Saved per User and Month",
        digits=(16, 2),
        help="Working hours the CRM saves each licensed CRM user (internal "
        "user with sales or helpdesk access) per month.",
    )
    hourly_cost = fields.Monetary(
        currency_field="currency_id", help="Cost of one working hour."
    )
    discount_rate = fields.Float(
        "Annual Discount Rate (%)",
        default=10.0,
        help="Annual rate discounting the monthly flows in the NPV; the monthly "
        "rate is (1 + annual)^(1/12) − 1. Must be above −100 %.",
    )
    equity = fields.Monetary(
        currency_field="currency_id",
        help="Shareholders' equity, the denominator of revenue to equity.",
    )
    use_manual_baseline = fields.Boolean(
        "Enter the Baseline",
        help="Use the monthly gross profit entered below as the baseline instead "
        "of the average of the 12 months before go-live (for instance when "
        "there is no sales history in Odoo before go-live).",
    )
    baseline_monthly_gross_profit = fields.Monetary(currency_field="currency_id")
    entry_ids = fields.One2many(
        "crm.kpi.investment.entry", "investment_id", string="Investment Entries"
    )
    total_cost = fields.Monetary(
        "Total Cost of Ownership",
        currency_field="currency_id",
        compute="_compute_totals",
        help="All investment entries, in the company currency.",
    )
    licensed_users = fields.Integer(
        "Licensed CRM Users",
        compute="_compute_totals",
        help="Active internal users with sales or helpdesk access.",
    )
    monthly_time_saving = fields.Monetary(
        currency_field="currency_id",
        compute="_compute_totals",
        help="Hours saved × licensed users × hourly cost.",
    )

    _company_unique = models.Constraint(
        "UNIQUE(company_id)", "A company has one CRM investment record."
    )

    @api.depends(
        "entry_ids.amount_company", "hours_saved_per_user", "hourly_cost", "company_id"
    )
    def _compute_totals(self):
        for rec in self:
            rec.total_cost = sum(rec.entry_ids.mapped("amount_company"))
            rec.licensed_users = (
                len(licensed_crm_users(self.env, rec.company_id))
                if rec.company_id
                else 0
            )
            rec.monthly_time_saving = (
                rec.hours_saved_per_user * rec.licensed_users * rec.hourly_cost
            )

    @api.constrains("discount_rate", "hours_saved_per_user", "hourly_cost")
    def _check_assumptions(self):
        for rec in self:
            if rec.discount_rate <= -100.0:
                raise ValidationError(
                    self.env._(
                        "The annual discount rate of %(company)s must be above −100 %% "
                        "(got %(rate)s %%): at −100 %% or below, future money would "
                        "be worth infinitely much.",
                        company=rec.company_id.name,
                        rate=rec.discount_rate,
                    )
                )
            if rec.hours_saved_per_user < 0 or rec.hourly_cost < 0:
                raise ValidationError(
                    self.env._(
                        "Hours saved and hourly cost of %(company)s cannot be "
                        "negative.",
                        company=rec.company_id.name,
                    )
                )

    def monthly_discount_rate(self):
        """The monthly rate r with (1 + r)^12 = 1 + annual rate."""
        self.ensure_one()
        return (1.0 + self.discount_rate / 100.0) ** (1.0 / 12.0) - 1.0

    def go_live_month(self):
        self.ensure_one()
        return self.go_live_date and self.go_live_date.replace(day=1)

    def baseline_window(self):
        """``[start, end)`` of the 12 months before the go-live month."""
        month = self.go_live_month()
        return month - relativedelta(months=12), month

    def action_open_entries(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Investment Entries"),
            "res_model": "crm.kpi.investment.entry",
            "views": [(False, "list"), (False, "form")],
            "domain": [("investment_id", "=", self.id)],
            "context": {"default_investment_id": self.id},
        }


class CrmKpiInvestmentEntry(models.Model):
    _name = "crm.kpi.investment.entry"
    _inherit = ["crm.kpi.money.mixin"]
    _description = "CRM Investment Entry"
    _order = "date desc, id desc"

    investment_id = fields.Many2one(
        "crm.kpi.investment", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(
        "res.company",
        related="investment_id.company_id",
        store=True,
        readonly=True,
        index=True,
        precompute=True,
    )
    currency_id = fields.Many2one(
        "res.currency",
        required=True,
        compute="_compute_currency_id",
        store=True,
        readonly=False,
        precompute=True,
    )
    category = fields.Selection(
        INVESTMENT_CATEGORIES, required=True, default="license", index=True
    )

    @api.depends("investment_id")
    def _compute_currency_id(self):
        for rec in self:
            if not rec.currency_id:
                rec.currency_id = (
                    rec.investment_id.company_id.currency_id
                    or self.env.company.currency_id
                )
