import logging
from collections import defaultdict

from odoo import api, fields, models
from odoo.tools import SQL, split_every

from ..kpi.messages import SENT_TYPES, is_reply, reply_condition
from ..kpi.working_hours import working_hours_batch

_logger = logging.getLogger(__name__)

# raw figures maintained as events happen
KPI_RAW_FIELDS = (
    "kpi_first_response_date",
    "kpi_last_close_date",
    "kpi_last_reopen_date",
    "kpi_reply_count",
    "kpi_reopen_count",
)
# figures derived from them
KPI_COMPUTED_FIELDS = (
    "kpi_first_response_hours",
    "kpi_first_response_working_hours",
    "kpi_resolution_hours",
    "kpi_resolution_working_hours",
    "kpi_fcr",
)


def _hours(start, end):
    if not start or not end or end < start:
        return 0.0
    return (end - start).total_seconds() / 3600.0


class HelpdeskTicket(models.Model):
    _name = "helpdesk.ticket"
    _inherit = ["helpdesk.ticket", "crm.kpi.drillable"]

    kpi_first_response_date = fields.Datetime(
        "First Response",
        readonly=True,
        copy=False,
        help="When a person of the company first replied to the customer. "
        "Internal notes, automatic template mails and assignment notifications "
        "are not replies.",
    )
    kpi_last_close_date = fields.Datetime(
        "Last Closed",
        readonly=True,
        copy=False,
        # the drill-downs of the tickets closed in a period read them by it
        index="btree_not_null",
        help="When the ticket last moved from an open to a closed stage.",
    )
    kpi_last_reopen_date = fields.Datetime("Last Reopened", readonly=True, copy=False)
    kpi_reply_count = fields.Integer(
        "Replies",
        readonly=True,
        copy=False,
        default=0,
        help="Replies sent to the customer while the ticket was open.",
    )
    kpi_reopen_count = fields.Integer(
        "Reopened",
        readonly=True,
        copy=False,
        default=0,
        help="How many times the ticket moved from a closed stage back to an open one.",
    )
    kpi_first_response_hours = fields.Float(
        "First Response (h)",
        compute="_compute_kpi_times",
        store=True,
        digits=(16, 2),
        help="Hours from creation to the first reply to the customer.",
    )
    kpi_first_response_working_hours = fields.Float(
        "First Response (working h)",
        compute="_compute_kpi_times",
        store=True,
        digits=(16, 2),
        help="The same, in the working hours of the team's calendar (else the "
        "company's).",
    )
    kpi_resolution_hours = fields.Float(
        "Resolution (h)",
        compute="_compute_kpi_times",
        store=True,
        digits=(16, 2),
        help="Hours from creation to the last close.",
    )
    kpi_resolution_working_hours = fields.Float(
        "Resolution (working h)",
        compute="_compute_kpi_times",
        store=True,
        digits=(16, 2),
        help="The same, in the working hours of the team's calendar (else the "
        "company's).",
    )
    kpi_fcr = fields.Boolean(
        "First Contact Resolution",
        compute="_compute_kpi_fcr",
        store=True,
        help="Closed with at most one reply to the customer and never reopened.",
    )
    kpi_survey_input_ids = fields.One2many(
        "survey.user_input", "kpi_ticket_id", string="Survey Responses"
    )

    # ------------------------------------------------------------------
    # Derived figures
    # ------------------------------------------------------------------
    @api.depends(
        "create_date",
        "kpi_first_response_date",
        "kpi_last_close_date",
        "team_id.kpi_resource_calendar_id",
    )
    def _compute_kpi_times(self):
        by_calendar = defaultdict(list)
        for ticket in self:
            ticket.kpi_first_response_hours = _hours(
                ticket.create_date, ticket.kpi_first_response_date
            )
            ticket.kpi_resolution_hours = _hours(
                ticket.create_date, ticket.kpi_last_close_date
            )
            calendar = ticket.sudo().team_id._kpi_calendar(ticket.sudo().company_id)
            by_calendar[calendar].append(ticket)
        for calendar, tickets in by_calendar.items():
            if not calendar:
                for ticket in tickets:
                    ticket.kpi_first_response_working_hours = (
                        ticket.kpi_first_response_hours
                    )
                    ticket.kpi_resolution_working_hours = ticket.kpi_resolution_hours
                continue
            first = working_hours_batch(
                calendar, [(t.create_date, t.kpi_first_response_date) for t in tickets]
            )
            resolution = working_hours_batch(
                calendar, [(t.create_date, t.kpi_last_close_date) for t in tickets]
            )
            for ticket, fr, res in zip(tickets, first, resolution, strict=True):
                ticket.kpi_first_response_working_hours = fr
                ticket.kpi_resolution_working_hours = res

    @api.depends("kpi_last_close_date", "kpi_reply_count", "kpi_reopen_count")
    def _compute_kpi_fcr(self):
        for ticket in self:
            ticket.kpi_fcr = bool(
                ticket.kpi_last_close_date
                and ticket.kpi_reply_count <= 1
                and not ticket.kpi_reopen_count
            )

    # ------------------------------------------------------------------
    # Events: creation, stage changes, messages
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        tickets = super().create(vals_list)
        closed = tickets.filtered(lambda t: t.stage_id.closed)
        for ticket in closed.sudo():
            # created directly in a closed stage (imports, logged calls)
            ticket.kpi_last_close_date = ticket.create_date or fields.Datetime.now()
        return tickets

    def write(self, vals):
        if "stage_id" not in vals and "team_id" not in vals:
            return super().write(vals)
        was_closed = {ticket.id: ticket.stage_id.closed for ticket in self}
        result = super().write(vals)
        closing = self.filtered(lambda t: t.stage_id.closed and not was_closed[t.id])
        reopening = self.filtered(lambda t: was_closed[t.id] and not t.stage_id.closed)
        now = fields.Datetime.now()
        if closing:
            closing.sudo().write({"kpi_last_close_date": now})
        if reopening:
            by_count = defaultdict(list)
            for ticket in reopening:
                by_count[ticket.kpi_reopen_count].append(ticket.id)
            for reopens, ids in by_count.items():
                self.browse(ids).sudo().write(
                    {"kpi_reopen_count": reopens + 1, "kpi_last_reopen_date": now}
                )
        if closing:
            closing._kpi_send_ces_invitations()
        return result

    @api.model
    def _kpi_register_messages(self, messages):
        """Count the replies among freshly created ``messages`` of tickets:
        the first one sets the first response, replies sent while the ticket
        is open add to its reply count."""
        candidates = messages.filtered(
            lambda m: m.message_type in SENT_TYPES
            and m.subtype_id
            and not m.subtype_id.internal
            and not m.is_internal
            and m.author_id
        )
        if not candidates:
            return
        internal = set(
            self.env["res.users"]
            .sudo()
            .search(
                [("partner_id", "in", candidates.author_id.ids), ("share", "=", False)]
            )
            .partner_id.ids
        )
        replies = defaultdict(list)
        for message in candidates:
            if is_reply(message, internal):
                replies[message.res_id].append(message.date or fields.Datetime.now())
        if not replies:
            return
        for ticket in self.sudo().browse(list(replies)).exists():
            dates = replies[ticket.id]
            vals = {}
            first = min(dates)
            if (
                not ticket.kpi_first_response_date
                or first < ticket.kpi_first_response_date
            ):
                vals["kpi_first_response_date"] = first
            if not ticket.stage_id.closed:
                vals["kpi_reply_count"] = ticket.kpi_reply_count + len(dates)
            if vals:
                ticket.write(vals)

    # ------------------------------------------------------------------
    # CES invitations
    # ------------------------------------------------------------------
    def _kpi_send_ces_invitations(self):
        """Invite the customer of each closed ticket whose team asks for it
        to the team's CES survey, once per ticket (a second close sends
        nothing)."""
        tickets = self.sudo().filtered(
            lambda t: t.team_id.kpi_send_ces_on_close
            and t.team_id.kpi_ces_survey_id.active
            and t.partner_id
        )
        if not tickets:
            return
        UserInput = self.env["survey.user_input"].sudo()
        already = set(
            UserInput.search(
                [("kpi_ticket_id", "in", tickets.ids), ("kpi_survey_type", "=", "ces")]
            ).kpi_ticket_id.ids
        )
        template = self.env.ref(
            "crm_success_kpi.mail_template_kpi_ces_invitation", raise_if_not_found=False
        )
        for ticket in tickets:
            if ticket.id in already:
                continue
            survey = ticket.team_id.kpi_ces_survey_id
            answer = survey._create_answer(
                partner=ticket.partner_id,
                check_attempts=False,
                kpi_ticket_id=ticket.id,
                kpi_invited=True,
                kpi_company_id=ticket.company_id.id,
            )
            if template:
                template.sudo().send_mail(
                    answer.id, email_layout_xmlid="mail.mail_notification_light"
                )

    # ------------------------------------------------------------------
    # Backfill
    # ------------------------------------------------------------------
    @api.model
    def _kpi_backfill(self, ticket_ids=None):
        """Fill the KPI figures of existing tickets from their history: the
        replies in their messages and the closes and reopens in their stage
        tracking, in one SQL update; then recompute the derived hours in
        batches.  Run at install; safe to run again."""
        where = (
            SQL("TRUE")
            if ticket_ids is None
            else SQL("t.id = ANY(%s)", list(ticket_ids))
        )
        stage_field = self.env["ir.model.fields"]._get("helpdesk.ticket", "stage_id").id
        self.flush_model()
        self.env["mail.message"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                WITH tk AS (
                    SELECT t.id, t.create_date, t.closed_date, t.last_stage_update,
                           COALESCE(st.closed, FALSE) AS is_closed
                      FROM helpdesk_ticket t
                      LEFT JOIN helpdesk_ticket_stage st ON st.id = t.stage_id
                     WHERE %(where)s
                ),
                moves AS (
                    SELECT m.res_id, m.date,
                           COALESCE(so.closed, FALSE) AS was_closed,
                           COALESCE(sn.closed, FALSE) AS now_closed
                      FROM mail_tracking_value tv
                      JOIN mail_message m ON m.id = tv.mail_message_id
                      JOIN tk ON tk.id = m.res_id
                      LEFT JOIN helpdesk_ticket_stage so ON so.id = tv.old_value_integer
                      LEFT JOIN helpdesk_ticket_stage sn ON sn.id = tv.new_value_integer
                     WHERE tv.field_id = %(stage_field)s AND m.model = 'helpdesk.ticket'
                ),
                cycles AS (
                    SELECT res_id,
                           MAX(date) FILTER (WHERE now_closed AND NOT was_closed)
                               AS last_close,
                           MAX(date) FILTER (WHERE was_closed AND NOT now_closed)
                               AS last_reopen,
                           COUNT(*) FILTER (WHERE was_closed AND NOT now_closed)
                               AS reopens
                      FROM moves GROUP BY res_id
                ),
                agg AS (
                    SELECT tk.id, tk.is_closed, c.last_reopen,
                           COALESCE(c.reopens, 0) AS reopens,
                           CASE WHEN NOT tk.is_closed THEN c.last_close
                                WHEN c.last_close IS NOT NULL
                                     AND (c.last_reopen IS NULL
                                          OR c.last_close > c.last_reopen)
                                    THEN c.last_close
                                ELSE COALESCE(tk.closed_date, tk.last_stage_update,
                                              tk.create_date)
                           END AS last_close
                      FROM tk LEFT JOIN cycles c ON c.res_id = tk.id
                ),
                replies AS (
                    SELECT m.res_id, MIN(m.date) AS first_date,
                           COUNT(*) FILTER (
                               WHERE agg.last_close IS NULL OR m.date <= agg.last_close
                                  OR (NOT agg.is_closed AND m.date > agg.last_reopen)
                           ) AS n
                      FROM mail_message m
                      JOIN agg ON agg.id = m.res_id
                     WHERE m.model = 'helpdesk.ticket' AND %(reply)s
                     GROUP BY m.res_id
                )
                UPDATE helpdesk_ticket t
                   SET kpi_first_response_date = r.first_date,
                       kpi_reply_count = COALESCE(r.n, 0),
                       kpi_last_close_date = agg.last_close,
                       kpi_last_reopen_date = agg.last_reopen,
                       kpi_reopen_count = agg.reopens
                  FROM agg LEFT JOIN replies r ON r.res_id = agg.id
                 WHERE t.id = agg.id
                RETURNING t.id
                """,
                where=where,
                stage_field=stage_field or 0,
                reply=reply_condition("m"),
            )
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        for chunk in split_every(1000, ids):
            tickets = self.browse(chunk)
            tickets.invalidate_recordset(KPI_RAW_FIELDS)
            for fname in KPI_COMPUTED_FIELDS:
                self.env.add_to_compute(self._fields[fname], tickets)
            tickets.flush_recordset()
            tickets.invalidate_recordset()
        _logger.info("CRM KPIs: KPI figures of %s helpdesk tickets filled", len(ids))
        return len(ids)
