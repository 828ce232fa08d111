import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..kpi.events import events_sql

_logger = logging.getLogger(__name__)


class ResCompany(models.Model):
    _inherit = "res.company"

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


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    kpi_nps_auto_invite = fields.Boolean(
        related="company_id.kpi_nps_auto_invite", readonly=False
    )
    kpi_nps_survey_id = fields.Many2one(
        related="company_id.kpi_nps_survey_id", readonly=False
    )
    kpi_nps_interval_days = fields.Integer(
        related="company_id.kpi_nps_interval_days", readonly=False
    )
