from collections import defaultdict

import pytz

from odoo import api, fields, models
from odoo.tools import SQL

from ..kpi.sales import internal_author, response_condition


class CrmLead(models.Model):
    _inherit = "crm.lead"

    kpi_first_response_hours = fields.Float(
        "First Response (h)",
        compute="_compute_kpi_lead",
        digits=(16, 2),
        help="Hours from creation to the first response of the company: a "
        "message or email sent by an internal user, a completed activity or a "
        "logged call.",
    )
    kpi_first_response_working_hours = fields.Float(
        "First Response (working h)",
        compute="_compute_kpi_lead",
        digits=(16, 2),
        help="The same, counted in the working hours of the company's calendar.",
    )
    kpi_responded = fields.Boolean("Responded", compute="_compute_kpi_lead")
    kpi_call_count = fields.Integer("Calls", compute="_compute_kpi_lead")
    kpi_email_count = fields.Integer("Emails Sent", compute="_compute_kpi_lead")
    kpi_followup_count = fields.Integer(
        "Follow-ups",
        compute="_compute_kpi_lead",
        help="Completed activities other than calls, before the lead closed.",
    )
    kpi_sales_cycle_days = fields.Float(
        "Sales Cycle (days)",
        compute="_compute_kpi_lead",
        digits=(16, 1),
        help="Days from creation to won.",
    )
    kpi_campaign_id = fields.Many2one(
        "utm.campaign", related="campaign_id", string="Attributed Campaign"
    )

    @api.depends("create_date", "date_closed", "won_status")
    def _compute_kpi_lead(self):
        ids = [lead.id for lead in self if isinstance(lead.id, int)]
        stats = defaultdict(dict)
        if ids:
            self.env.flush_all()
            comment = self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_comment")
            self.env.cr.execute(
                SQL(
                    """
                    SELECT l.id,
                           MIN(m.date) FILTER (WHERE %(response)s) AS first_response,
                           COUNT(*) FILTER (WHERE t.category = 'phonecall') AS calls,
                           COUNT(*) FILTER (WHERE m.mail_activity_type_id IS NULL
                                AND m.message_type IN ('comment', 'email_outgoing')
                                AND m.subtype_id = %(comment)s AND %(internal)s)
                               AS emails,
                           COUNT(*) FILTER (WHERE m.mail_activity_type_id IS NOT NULL
                                AND COALESCE(t.category, '') <> 'phonecall')
                               AS followups
                      FROM crm_lead l
                      JOIN mail_message m ON m.model = 'crm.lead' AND m.res_id = l.id
                      LEFT JOIN mail_activity_type t ON t.id = m.mail_activity_type_id
                     WHERE l.id IN %(ids)s
                       AND (l.date_closed IS NULL OR m.date <= l.date_closed)
                     GROUP BY l.id
                    """,
                    response=response_condition(self.env),
                    comment=comment,
                    internal=internal_author(),
                    ids=tuple(ids),
                )
            )
            for lead_id, first, calls, emails, followups in self.env.cr.fetchall():
                stats[lead_id] = {
                    "first": first,
                    "calls": calls,
                    "emails": emails,
                    "followups": followups,
                }
        for lead in self:
            s = stats.get(lead.id, {})
            first = s.get("first")
            lead.kpi_call_count = s.get("calls", 0)
            lead.kpi_email_count = s.get("emails", 0)
            lead.kpi_followup_count = s.get("followups", 0)
            lead.kpi_responded = bool(first)
            if first and lead.create_date:
                lead.kpi_first_response_hours = (
                    first - lead.create_date
                ).total_seconds() / 3600.0
                company = lead.company_id or self.env.company
                calendar = company.resource_calendar_id
                lead.kpi_first_response_working_hours = (
                    self._kpi_working_hours(calendar, lead.create_date, first)
                    if calendar
                    else lead.kpi_first_response_hours
                )
            else:
                lead.kpi_first_response_hours = 0.0
                lead.kpi_first_response_working_hours = 0.0
            if lead.won_status == "won" and lead.date_closed and lead.create_date:
                lead.kpi_sales_cycle_days = (
                    lead.date_closed - lead.create_date
                ).total_seconds() / 86400.0
            else:
                lead.kpi_sales_cycle_days = 0.0

    @api.model
    def _kpi_working_hours(self, calendar, start, end):
        """Working hours of ``calendar`` between two naive UTC datetimes,
        ignoring leaves (the company's opening hours)."""
        if end <= start:
            return 0.0
        start_utc = pytz.utc.localize(start)
        end_utc = pytz.utc.localize(end)
        intervals = calendar._attendance_intervals_batch(start_utc, end_utc)[False]
        return sum(
            (stop - begin).total_seconds() / 3600.0 for begin, stop, _meta in intervals
        )
