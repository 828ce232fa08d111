"""Scheduled delivery of the success report, and the log of what was sent.

The scheduled action mails the PDF of the period just closed to the KPI
managers of every company.  One log line per company, period, granularity and
recipient (unique) is written with the mail: a rerun of the action, or a
second worker running it at the same time, never mails twice."""

import logging

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..kpi import period as P
from .crm_kpi_snapshot import GRANULARITY

_logger = logging.getLogger(__name__)

REPORT_XMLID = "crm_success_kpi.action_report_crm_kpi_success"
TEMPLATE_XMLID = "crm_success_kpi.mail_template_crm_kpi_success_report"


class CrmKpiReportLog(models.Model):
    _name = "crm.kpi.report.log"
    _description = "CRM Success Report Delivery"
    _order = "create_date desc, id desc"
    _rec_name = "period_label"

    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True, ondelete="cascade"
    )
    granularity = fields.Selection(GRANULARITY, required=True, readonly=True)
    date_start = fields.Date(required=True, readonly=True)
    period_label = fields.Char(string="Period", readonly=True)
    snapshot_id = fields.Many2one(
        "crm.kpi.snapshot", readonly=True, ondelete="set null"
    )
    user_id = fields.Many2one(
        "res.users",
        string="Recipient",
        required=True,
        readonly=True,
        ondelete="cascade",
    )
    mail_id = fields.Many2one("mail.mail", readonly=True, ondelete="set null")
    mail_state = fields.Selection(related="mail_id.state", string="Mail Status")
    attachment_id = fields.Many2one(
        "ir.attachment", string="PDF", readonly=True, ondelete="set null"
    )
    sent_at = fields.Datetime(readonly=True, default=fields.Datetime.now)

    _one_mail = models.Constraint(
        "UNIQUE(company_id, granularity, date_start, user_id)",
        "The success report of a period is mailed once to each recipient.",
    )

    # ------------------------------------------------------------------
    @api.model
    def _cron_send_reports(self, today=None, commit=True):
        """Mail the report of the period just closed to every company that
        wants it.  Each company in a savepoint; a failing one is logged and the
        others go on.  Returns the log lines written."""
        today = fields.Date.to_date(today) or fields.Date.context_today(self)
        companies = (
            self.env["res.company"].sudo().search([("kpi_report_enabled", "=", True)])
        )
        logs = self.browse()
        for index, company in enumerate(companies):
            granularity = company.kpi_report_granularity or "month"
            calendar = company.kpi_period_calendar or "gregorian"
            current = P.period_start(granularity, today, calendar)
            closed = P.shift_period(granularity, current, -1, calendar)
            try:
                with self.env.cr.savepoint():
                    logs |= self._send_company_report(company, granularity, closed)
            except Exception:
                _logger.exception(
                    "CRM KPIs: mailing the success report %s %s of %s failed",
                    granularity,
                    closed,
                    company.name,
                )
            if commit:
                self.env["ir.cron"]._commit_progress(
                    1, remaining=len(companies) - index - 1
                )
        return logs

    @api.model
    def _recipients(self, company):
        return company._kpi_managers([("email", "!=", False)])

    @api.model
    def _send_company_report(self, company, granularity, date_start):
        if not self.env.is_superuser() and not self.env.user.has_group(
            "crm_success_kpi.group_crm_kpi_manager"
        ):
            raise UserError(
                self.env._("Only KPI managers can mail the success report.")
            )
        self = self.sudo()
        recipients = self._recipients(company)
        # lock the period's log so that a concurrent run waits, then skips
        self.env.cr.execute(
            SQL(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                company.id,
                f"crm_kpi_report:{granularity}:{date_start}",
            )
        )
        done = self.search(
            [
                ("company_id", "=", company.id),
                ("granularity", "=", granularity),
                ("date_start", "=", date_start),
            ]
        ).user_id
        todo = recipients - done
        if not todo:
            return self.browse()
        Snapshot = self.env["crm.kpi.snapshot"]
        domain = [
            ("company_id", "=", company.id),
            ("granularity", "=", granularity),
            ("date_start", "=", date_start),
            ("scope", "=", "company"),
        ]
        snapshot = Snapshot.search(domain, limit=1)
        if not snapshot or (
            snapshot.computed_at
            and snapshot.computed_at < P.to_utc(snapshot.date_end, company._kpi_tz())
        ):
            # the period just closed was never computed, or only before it
            # closed: compute it now
            Snapshot.compute_period(granularity, date_start, companies=company)
            snapshot = Snapshot.search(domain, limit=1)
        if not snapshot:
            raise UserError(
                self.env._(
                    "No KPI snapshot of %(company)s for the period starting %(start)s.",
                    company=company.name,
                    start=date_start,
                )
            )
        template = self.env.ref(TEMPLATE_XMLID)
        report = self.env.ref(REPORT_XMLID)
        attachments = {}
        logs = self.browse()
        for user in todo:
            lang = user.lang or company.partner_id.lang or "en_US"
            if lang not in attachments:
                pdf, _type = (
                    self.env["ir.actions.report"]
                    .with_context(lang=lang)
                    ._render_qweb_pdf(report, snapshot.ids)
                )
                in_lang = self.with_context(lang=lang)
                period = in_lang.env[
                    "report.crm_success_kpi.success_report"
                ]._period_label(
                    snapshot.granularity,
                    snapshot.date_start,
                    company.kpi_period_calendar or "gregorian",
                )
                name = in_lang.env._(
                    "CRM success criteria - %(period)s - %(company)s",
                    period=period,
                    company=company.name,
                )
                attachments[lang] = self.env["ir.attachment"].create(
                    {
                        "name": f"{name}.pdf",
                        "raw": pdf,
                        "mimetype": "application/pdf",
                        "res_model": "crm.kpi.snapshot",
                        "res_id": snapshot.id,
                    }
                )
            attachment = attachments[lang]
            mail_id = template.with_context(lang=lang).send_mail(
                snapshot.id,
                email_values={
                    "recipient_ids": [fields.Command.link(user.partner_id.id)],
                    "attachment_ids": [fields.Command.link(attachment.id)],
                },
            )
            logs |= self.create(
                {
                    "company_id": company.id,
                    "granularity": granularity,
                    "date_start": date_start,
                    "period_label": snapshot.period_label,
                    "snapshot_id": snapshot.id,
                    "user_id": user.id,
                    "mail_id": mail_id,
                    "attachment_id": attachment.id,
                }
            )
        return logs
