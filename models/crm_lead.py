import bisect
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
        # working hours: one calendar computation per calendar for the whole
        # batch, whatever the number of leads on screen
        spans = defaultdict(list)
        for lead in self:
            first = stats.get(lead.id, {}).get("first")
            calendar = (lead.company_id or self.env.company).resource_calendar_id
            if first and lead.create_date and calendar:
                spans[calendar].append((lead.id, lead.create_date, first))
        working = {}
        for calendar, items in spans.items():
            working.update(self._kpi_working_hours_batch(calendar, items))
        for lead in self:
            s = stats.get(lead.id, {})
            first = s.get("first")
            lead.kpi_call_count = s.get("calls", 0)
            lead.kpi_email_count = s.get("emails", 0)
            lead.kpi_followup_count = s.get("followups", 0)
            lead.kpi_responded = bool(first)
            if first and lead.create_date:
                hours = (first - lead.create_date).total_seconds() / 3600.0
                lead.kpi_first_response_hours = hours
                lead.kpi_first_response_working_hours = working.get(lead.id, hours)
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
    def _kpi_working_hours_batch(self, calendar, items):
        """``{key: working hours}`` of ``calendar`` for ``items`` = (key, start,
        end) naive UTC datetimes, ignoring leaves (the company's opening
        hours), with a single attendance computation over their whole span."""
        items = [(key, start, end) for key, start, end in items if end > start]
        if not items:
            return {}
        low = pytz.utc.localize(min(start for _k, start, _e in items))
        high = pytz.utc.localize(max(end for _k, _s, end in items))
        intervals = sorted(
            (
                begin.astimezone(pytz.utc).replace(tzinfo=None),
                stop.astimezone(pytz.utc).replace(tzinfo=None),
            )
            for begin, stop, _meta in calendar._attendance_intervals_batch(low, high)[
                False
            ]
        )
        starts = [begin for begin, _stop in intervals]
        result = {}
        for key, start, end in items:
            total = 0.0
            index = max(bisect.bisect_right(starts, start) - 1, 0)
            for begin, stop in intervals[index:]:
                if begin >= end:
                    break
                overlap = (min(stop, end) - max(begin, start)).total_seconds()
                if overlap > 0:
                    total += overlap
            result[key] = total / 3600.0
        return result

    @api.model
    def _kpi_working_hours(self, calendar, start, end):
        """Working hours of ``calendar`` between two naive UTC datetimes."""
        return self._kpi_working_hours_batch(calendar, [(0, start, end)]).get(0, 0.0)
