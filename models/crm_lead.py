from collections import defaultdict

from odoo import api, fields, models
from odoo.tools import SQL

from ..kpi.messages import internal_author, response_condition, sent_condition
from ..kpi.working_hours import working_hours_batch


class CrmLead(models.Model):
    _name = "crm.lead"
    _inherit = ["crm.lead", "crm.kpi.drillable"]

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
        help="The same, counted in the working hours of the sales team's "
        "calendar, else the company's (public holidays and global leaves "
        "excluded).",
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
            self.env.cr.execute(
                SQL(
                    """
                    SELECT l.id,
                           MIN(m.date) FILTER (WHERE %(response)s) AS first_response,
                           COUNT(*) FILTER (WHERE t.category = 'phonecall') AS calls,
                           COUNT(*) FILTER (WHERE m.mail_activity_type_id IS NULL
                                AND %(sent)s AND %(internal)s) AS emails,
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
                    response=response_condition(),
                    sent=sent_condition(),
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
            calendar = lead._kpi_calendar() if first and lead.create_date else None
            if calendar:
                spans[calendar].append((lead.id, lead.create_date, first))
        working = {}
        for calendar, items in spans.items():
            hours = working_hours_batch(calendar, [(s, e) for _k, s, e in items])
            working.update(zip((k for k, _s, _e in items), hours, strict=True))
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

    def _kpi_calendar(self):
        """The working hours of the lead: its sales team's calendar, else its
        company's (the company the lead counts for)."""
        self.ensure_one()
        lead = self.sudo()
        return (
            lead.team_id.kpi_resource_calendar_id
            or (lead._kpi_company() or self.env.company).resource_calendar_id
        )

    def _kpi_company(self):
        """The company a lead counts for: its own, else its sales team's, else
        its salesperson's."""
        self.ensure_one()
        lead = self.sudo()
        return lead.company_id or lead.team_id.company_id or lead.user_id.company_id
