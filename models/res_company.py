import logging
from datetime import timedelta

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..kpi.events import events_sql
from .crm_kpi_snapshot import GRANULARITY

_logger = logging.getLogger(__name__)


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

    def write(self, vals):
        # what counts as a revenue event, or the local dates of the events,
        # change: every customer figure of these companies is recomputed
        changed = self.browse()
        if "kpi_revenue_source" in vals or "kpi_timezone" in vals:
            changed = self.filtered(
                lambda c: c.kpi_revenue_source
                != vals.get("kpi_revenue_source", c.kpi_revenue_source)
                or (c.kpi_timezone or False)
                != (vals.get("kpi_timezone", c.kpi_timezone) or False)
            )
        result = super().write(vals)
        if changed:
            self.env["crm.kpi.customer.stat"]._kpi_mark(companies=changed.ids)
        return result

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

    def _kpi_managers(self, domain=()):
        """The internal KPI managers of this company (the report's
        recipients, the alerts' default responsible), sudo."""
        self.ensure_one()
        group = self.env.ref("crm_success_kpi.group_crm_kpi_manager")
        return (
            self.env["res.users"]
            .sudo()
            .search(
                [
                    ("all_group_ids", "in", group.id),
                    ("company_ids", "in", self.id),
                    ("share", "=", False),
                    ("id", "!=", SUPERUSER_ID),
                    *domain,
                ]
            )
        )

    # -- costs drawn from accounting -------------------------------------------
    kpi_cost_sales_analytic_ids = fields.Many2many(
        "account.analytic.account",
        "crm_kpi_company_sales_analytic_rel",
        "company_id",
        "account_id",
        string="Sales Cost Analytic Accounts",
        help="Posted expense items on these analytic accounts become sales cost "
        "entries of the customer acquisition cost.",
    )
    kpi_cost_marketing_analytic_ids = fields.Many2many(
        "account.analytic.account",
        "crm_kpi_company_marketing_analytic_rel",
        "company_id",
        "account_id",
        string="Marketing Cost Analytic Accounts",
        help="Posted expense items on these analytic accounts become marketing "
        "cost entries of the customer acquisition cost.",
    )

    @api.constrains("kpi_cost_sales_analytic_ids", "kpi_cost_marketing_analytic_ids")
    def _check_kpi_cost_analytic_mapping(self):
        for company in self:
            both = (
                company.kpi_cost_sales_analytic_ids
                & company.kpi_cost_marketing_analytic_ids
            )
            if both:
                raise ValidationError(
                    self.env._(
                        "The analytic accounts %(accounts)s are mapped to both sales "
                        "and marketing costs of %(company)s: map each account to "
                        "one category only.",
                        accounts=", ".join(both.mapped("display_name")),
                        company=company.name,
                    )
                )

    # -- maturity stages -------------------------------------------------------
    kpi_maturity_min_responses = fields.Integer(
        string="Maturity: Minimum Survey Sample",
        default=30,
        help="Satisfaction is measured (maturity stage 3) when NPS, CES or CSAT "
        "has at least this many responses in the period.",
    )

    @api.constrains("kpi_maturity_min_responses")
    def _check_kpi_maturity_min_responses(self):
        for company in self:
            if company.kpi_maturity_min_responses < 1:
                raise ValidationError(
                    self.env._(
                        "The minimum survey sample of %(company)s must be at least 1 "
                        "response, not %(value)s.",
                        company=company.name,
                        value=company.kpi_maturity_min_responses,
                    )
                )

    # -- scheduled success report ----------------------------------------------
    kpi_report_enabled = fields.Boolean(
        string="Mail the Success Report",
        default=True,
        help="Mail the PDF of the success criteria of the period just closed to "
        "the KPI managers of the company.",
    )
    kpi_report_granularity = fields.Selection(
        GRANULARITY,
        string="Success Report Period",
        default="month",
        required=True,
        help="Period of the scheduled success report: it is sent once the "
        "period is closed.",
    )

    # -- NPS invitations -------------------------------------------------------
    kpi_nps_auto_invite = fields.Boolean(
        "Send NPS Invitations",
        help="A scheduled action invites the active customers to the NPS "
        "survey, at most once per customer in the chosen number of days.",
    )
    kpi_nps_survey_id = fields.Many2one(
        "survey.survey",
        string="NPS Survey",
        domain=[("kpi_survey_type", "=", "nps")],
        default=lambda self: self.env.ref(
            "crm_success_kpi.survey_kpi_nps", raise_if_not_found=False
        ),
    )
    kpi_nps_interval_days = fields.Integer(
        "Days Between NPS Invitations",
        default=180,
        help="A customer invited to the NPS survey is not invited again before "
        "this many days.",
    )

    @api.constrains("kpi_nps_interval_days", "kpi_nps_auto_invite", "kpi_nps_survey_id")
    def _check_kpi_nps_invitations(self):
        for company in self:
            if company.kpi_nps_interval_days < 1:
                raise ValidationError(
                    self.env._(
                        "The days between two NPS invitations of %(company)s must be "
                        "at least 1 (got %(days)s).",
                        company=company.name,
                        days=company.kpi_nps_interval_days,
                    )
                )
            survey = company.kpi_nps_survey_id
            if (
                company.kpi_nps_auto_invite
                and survey
                and survey.kpi_survey_type != "nps"
            ):
                raise ValidationError(
                    self.env._(
                        "%(company)s sends NPS invitations: choose a survey marked "
                        "as an NPS survey.",
                        company=company.name,
                    )
                )

    # ------------------------------------------------------------------
    @api.model
    def _kpi_cron_send_nps_invitations(self, limit=500):
        """Daily: invite the active customers of every company that asks for
        it to its NPS survey, skipping customers invited in the last
        ``kpi_nps_interval_days`` days.  At most ``limit`` invitations per
        company and run; the next run goes on."""
        companies = self.sudo().search([("kpi_nps_auto_invite", "=", True)])
        for company in companies:
            sent = company._kpi_send_nps_invitations(limit=limit)
            _logger.info("CRM KPIs: %s NPS invitations sent for %s", sent, company.name)
            self.env["ir.cron"]._commit_progress(sent)

    def _kpi_nps_candidates(self, limit=500):
        """Commercial partners of this company active today (a revenue event
        in the activity window), with an email, not invited to an NPS survey
        of this company in the last ``kpi_nps_interval_days`` days."""
        self.ensure_one()
        Snapshot = self.env["crm.kpi.snapshot"]
        today = fields.Date.context_today(self)
        ctx = Snapshot._period_context(self, "month", today)
        tomorrow = today + timedelta(days=1)
        since = fields.Datetime.now() - timedelta(days=self.kpi_nps_interval_days)
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                WITH ev AS (%(events)s),
                customers AS (SELECT DISTINCT partner_id FROM ev)
                SELECT c.partner_id
                  FROM customers c
                  JOIN res_partner p ON p.id = c.partner_id
                 WHERE p.active AND COALESCE(p.email, '') <> ''
                   AND NOT EXISTS (
                       SELECT 1 FROM survey_user_input ui
                        WHERE ui.kpi_partner_id = c.partner_id
                          AND ui.kpi_survey_type = 'nps'
                          AND ui.kpi_company_id = %(company)s
                          AND ui.create_date >= %(since)s)
                 ORDER BY c.partner_id
                 LIMIT %(limit)s
                """,
                events=events_sql(
                    ctx, tomorrow, today - timedelta(days=ctx.window_days)
                ),
                company=self.id,
                since=since,
                limit=limit,
            )
        )
        return self.env["res.partner"].browse([r[0] for r in self.env.cr.fetchall()])

    def _kpi_send_nps_invitations(self, limit=500):
        self.ensure_one()
        survey = self.kpi_nps_survey_id or self.env.ref(
            "crm_success_kpi.survey_kpi_nps", raise_if_not_found=False
        )
        survey = survey.sudo() if survey else self.env["survey.survey"].sudo()
        if not survey.active or survey.kpi_survey_type != "nps":
            return 0
        partners = self.sudo()._kpi_nps_candidates(limit=limit)
        template = self.env.ref(
            "crm_success_kpi.mail_template_kpi_nps_invitation", raise_if_not_found=False
        )
        for partner in partners:
            answer = survey._create_answer(
                partner=partner,
                check_attempts=False,
                kpi_invited=True,
                kpi_company_id=self.id,
            )
            if template:
                template.sudo().send_mail(
                    answer.id, email_layout_xmlid="mail.mail_notification_light"
                )
        return len(partners)
