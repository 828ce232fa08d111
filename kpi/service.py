"""Customer service family: helpdesk ticket KPIs per company, helpdesk team
and agent.

The per-ticket figures (first response, last close, reopen and reply
counts, working hours) are stored on ``helpdesk.ticket`` as the events
happen (see ``models/helpdesk_ticket.py``); this family only aggregates
those columns with one ``GROUPING SETS`` query per period.  Reopen events
of the period come from the stage history (tracking values), so a ticket
reopened twice is counted twice.
"""

from bisect import bisect_right
from datetime import timedelta

import pytz

from odoo.tools import SQL

from .base import Family, _lt, count, na, ratio, register

TICKET_SCOPES = SQL(
    """CASE GROUPING(team_id, user_id) WHEN 3 THEN 'company'
            WHEN 1 THEN 'helpdesk_team' ELSE 'agent' END AS scope,
       CASE GROUPING(team_id, user_id) WHEN 3 THEN NULL
            WHEN 1 THEN team_id ELSE user_id END AS scope_id"""
)


# ---------------------------------------------------------------------------
# What is a reply to the customer
# ---------------------------------------------------------------------------
def reply_condition(alias="m"):
    """SQL condition: the message ``alias`` is a reply that a person of the
    company sent to the customer.  Internal notes (internal subtype or
    'employee only' flag), automatic mails of stage templates and automated
    rules (``auto_comment``), assignment notifications
    (``user_notification``), tracking notifications and messages of the
    customer are not replies."""
    m = SQL.identifier(alias)
    return SQL(
        """(%(m)s.message_type IN ('comment', 'email_outgoing')
            AND NOT COALESCE(%(m)s.is_internal, FALSE)
            AND EXISTS (SELECT 1 FROM mail_message_subtype st
                         WHERE st.id = %(m)s.subtype_id
                           AND NOT COALESCE(st.internal, FALSE))
            AND EXISTS (SELECT 1 FROM res_users u
                         WHERE u.partner_id = %(m)s.author_id
                           AND u.active AND NOT u.share))""",
        m=m,
    )


def is_reply(message, internal_partner_ids):
    """Python twin of :func:`reply_condition` for freshly created messages.
    ``internal_partner_ids``: partners of active internal users."""
    return (
        message.message_type in ("comment", "email_outgoing")
        and not message.is_internal
        and message.subtype_id
        and not message.subtype_id.internal
        and message.author_id.id in internal_partner_ids
    )


# ---------------------------------------------------------------------------
# Working hours
# ---------------------------------------------------------------------------
def working_hours_batch(calendar, pairs):
    """Working hours of ``calendar`` (its attendances, in its timezone,
    leaves ignored) between each ``(start, end)`` pair of naive UTC
    datetimes.  The calendar's intervals are read once for the whole span and
    every pair is answered by bisection, so a batch of tickets costs one
    calendar computation."""
    result = [0.0] * len(pairs)
    valid = [(i, s, e) for i, (s, e) in enumerate(pairs) if s and e and e > s]
    if not valid or not calendar:
        return result
    lo = min(s for _i, s, _e in valid)
    hi = max(e for _i, _s, e in valid)
    intervals = calendar._attendance_intervals_batch(
        pytz.utc.localize(lo - timedelta(days=1)),
        pytz.utc.localize(hi + timedelta(days=1)),
    )[False]
    spans = sorted(
        (
            begin.astimezone(pytz.utc).replace(tzinfo=None),
            stop.astimezone(pytz.utc).replace(tzinfo=None),
        )
        for begin, stop, _meta in intervals
    )
    starts = [b for b, _e in spans]
    cumulative = [0.0]
    for begin, stop in spans:
        cumulative.append(cumulative[-1] + (stop - begin).total_seconds())

    def upto(moment):
        index = bisect_right(starts, moment)
        if not index:
            return 0.0
        begin, stop = spans[index - 1]
        return cumulative[index - 1] + (min(stop, moment) - begin).total_seconds()

    for i, start, end in valid:
        result[i] = (upto(end) - upto(start)) / 3600.0
    return result


def timesheets_on_tickets(env):
    """True when timesheet lines carry a ticket (helpdesk_mgmt_timesheet)."""
    model = env.registry.get("account.analytic.line")
    return bool(model is not None and "ticket_id" in model._fields)


@register
class ServiceFamily(Family):
    area = "service"
    codes = (
        "tickets_opened",
        "tickets_closed",
        "ticket_backlog",
        "ticket_first_response_hours",
        "ticket_first_response_working_hours",
        "ticket_resolution_hours",
        "ticket_resolution_working_hours",
        "fcr_rate",
        "contacts_per_ticket",
        "handle_time_hours",
        "reopen_rate",
    )

    def _stage_field_id(self):
        field = self.env["ir.model.fields"]._get("helpdesk.ticket", "stage_id")
        return field.id or 0

    def _handle_sql(self):
        """Time spent per ticket: timesheet hours when timesheets on tickets
        are installed, else the durations of calls and meetings logged in
        the calendar on the ticket."""
        if timesheets_on_tickets(self.env):
            return SQL(
                """SELECT aal.ticket_id AS res_id, SUM(aal.unit_amount) AS hours
                     FROM account_analytic_line aal
                     JOIN tk ON tk.id = aal.ticket_id AND tk.closed_in
                    GROUP BY aal.ticket_id"""
            )
        return SQL(
            """SELECT e.res_id, SUM(e.duration) AS hours
                 FROM calendar_event e
                 JOIN tk ON tk.id = e.res_id AND tk.closed_in
                WHERE e.res_model = 'helpdesk.ticket' AND e.active
                GROUP BY e.res_id"""
        )

    def _rows_sql(self):
        """One row per ticket of the company that matters for the period,
        with its flags, the completed activities before its close, its
        handle time and its reopen events in the period."""
        ctx = self.ctx
        return SQL(
            """
            WITH reopens AS (
                SELECT m.res_id, COUNT(*) AS n
                  FROM mail_tracking_value tv
                  JOIN mail_message m ON m.id = tv.mail_message_id
                  JOIN helpdesk_ticket_stage so ON so.id = tv.old_value_integer
                  JOIN helpdesk_ticket_stage sn ON sn.id = tv.new_value_integer
                 WHERE tv.field_id = %(stage_field)s
                   AND m.model = 'helpdesk.ticket'
                   AND m.date >= %(a)s AND m.date < %(b)s
                   AND so.closed AND NOT COALESCE(sn.closed, FALSE)
                 GROUP BY m.res_id
            ),
            tk AS (
                SELECT t.id, t.team_id, t.user_id,
                       COALESCE(t.kpi_reply_count, 0) AS replies,
                       t.kpi_first_response_hours AS fr_hours,
                       t.kpi_first_response_working_hours AS fr_whours,
                       t.kpi_resolution_hours AS res_hours,
                       t.kpi_resolution_working_hours AS res_whours,
                       COALESCE(t.kpi_fcr, FALSE) AS fcr,
                       t.kpi_last_close_date AS close_date,
                       (t.create_date >= %(a)s AND t.create_date < %(b)s) AS opened,
                       COALESCE(t.kpi_last_close_date >= %(a)s
                                AND t.kpi_last_close_date < %(b)s, FALSE) AS closed_in,
                       COALESCE(t.kpi_first_response_date >= %(a)s
                                AND t.kpi_first_response_date < %(b)s, FALSE)
                           AS answered_in,
                       NOT COALESCE(t.kpi_last_close_date < %(b)s
                                    AND (COALESCE(st.closed, FALSE)
                                         OR t.kpi_last_reopen_date >= %(b)s), FALSE)
                           AS open_at_end,
                       COALESCE(r.n, 0) AS reopens
                  FROM helpdesk_ticket t
                  LEFT JOIN helpdesk_ticket_stage st ON st.id = t.stage_id
                  LEFT JOIN reopens r ON r.res_id = t.id
                 WHERE t.company_id = %(company)s
                   AND t.create_date < %(b)s
                   AND (t.kpi_last_close_date IS NULL
                        OR t.kpi_last_close_date >= %(a)s
                        OR NOT COALESCE(st.closed, FALSE)
                        OR t.kpi_last_reopen_date >= %(a)s
                        OR t.kpi_first_response_date >= %(a)s
                        OR r.n IS NOT NULL)
            ),
            handle AS (%(handle)s)
            SELECT tk.*,
                   -- completed activities of a ticket closed in the period,
                   -- counted on its own messages (through the (model, res_id)
                   -- index) rather than from all the activities of all tickets
                   CASE WHEN tk.closed_in THEN (
                       SELECT COUNT(*) FROM mail_message m
                        WHERE m.model = 'helpdesk.ticket' AND m.res_id = tk.id
                          AND m.mail_activity_type_id IS NOT NULL
                          AND m.date <= tk.close_date)
                   ELSE 0 END AS activities,
                   handle.hours AS handle_hours
              FROM tk
              LEFT JOIN handle ON handle.res_id = tk.id
            """,
            stage_field=self._stage_field_id(),
            a=ctx.start_utc,
            b=ctx.end_utc,
            company=self.company.id,
            handle=self._handle_sql(),
        )

    def compute(self):
        rows = self.fetch_heavy(
            SQL(
                """
                WITH rows AS (%(rows)s)
                SELECT %(scopes)s,
                       COUNT(*) FILTER (WHERE opened) AS opened,
                       COUNT(*) FILTER (WHERE closed_in) AS closed,
                       COUNT(*) FILTER (WHERE open_at_end) AS backlog,
                       COUNT(*) FILTER (WHERE answered_in) AS answered,
                       COALESCE(SUM(fr_hours) FILTER (WHERE answered_in), 0)
                           AS fr_hours,
                       COALESCE(SUM(fr_whours) FILTER (WHERE answered_in), 0)
                           AS fr_whours,
                       COALESCE(SUM(res_hours) FILTER (WHERE closed_in), 0)
                           AS res_hours,
                       COALESCE(SUM(res_whours) FILTER (WHERE closed_in), 0)
                           AS res_whours,
                       COUNT(*) FILTER (WHERE closed_in AND fcr) AS fcr,
                       COALESCE(SUM(replies + activities) FILTER (WHERE closed_in), 0)
                           AS contacts,
                       COUNT(handle_hours) FILTER (WHERE closed_in) AS handled,
                       COALESCE(SUM(handle_hours) FILTER (WHERE closed_in), 0)
                           AS handle_hours,
                       COALESCE(SUM(reopens), 0) AS reopens
                  FROM rows
                 GROUP BY GROUPING SETS ((), (team_id), (user_id))
                """,
                rows=self._rows_sql(),
                scopes=TICKET_SCOPES,
            )
        )
        timesheets = timesheets_on_tickets(self.env)
        results = {}
        for r in rows:
            key = (r["scope"], r["scope_id"])
            if key[0] != "company" and key[1] is None:
                continue
            closed = r["closed"]
            if not closed:
                handle = na(_lt("no ticket closed in the period"))
            elif not r["handled"]:
                handle = na(
                    _lt("no timesheet hours on the tickets closed in the period")
                    if timesheets
                    else _lt(
                        "timesheets on tickets not installed and no call "
                        "durations logged on the tickets closed in the period"
                    )
                )
            else:
                handle = ratio(r["handle_hours"], closed, factor=1.0)
            results[key] = {
                "tickets_opened": count(r["opened"]),
                "tickets_closed": count(closed),
                "ticket_backlog": count(r["backlog"]),
                "ticket_first_response_hours": ratio(
                    r["fr_hours"],
                    r["answered"],
                    factor=1.0,
                    note=_lt("no ticket first answered in the period"),
                ),
                "ticket_first_response_working_hours": ratio(
                    r["fr_whours"],
                    r["answered"],
                    factor=1.0,
                    note=_lt("no ticket first answered in the period"),
                ),
                "ticket_resolution_hours": ratio(
                    r["res_hours"],
                    closed,
                    factor=1.0,
                    note=_lt("no ticket closed in the period"),
                ),
                "ticket_resolution_working_hours": ratio(
                    r["res_whours"],
                    closed,
                    factor=1.0,
                    note=_lt("no ticket closed in the period"),
                ),
                "fcr_rate": ratio(
                    r["fcr"], closed, note=_lt("no ticket closed in the period")
                ),
                "contacts_per_ticket": ratio(
                    r["contacts"],
                    closed,
                    factor=1.0,
                    note=_lt("no ticket closed in the period"),
                ),
                "handle_time_hours": handle,
                "reopen_rate": ratio(
                    r["reopens"], closed, note=_lt("no ticket closed in the period")
                ),
            }
        return results

    # -- drill-down ----------------------------------------------------------
    _SETS = {
        "tickets_opened": ("opened", None),
        "tickets_closed": ("closed_in", None),
        "ticket_backlog": ("open_at_end", None),
        "ticket_first_response_hours": ("answered_in", "answered_in"),
        "ticket_first_response_working_hours": ("answered_in", "answered_in"),
        "ticket_resolution_hours": ("closed_in", "closed_in"),
        "ticket_resolution_working_hours": ("closed_in", "closed_in"),
        "fcr_rate": ("closed_in AND fcr", "closed_in"),
        "contacts_per_ticket": ("closed_in", "closed_in"),
        "handle_time_hours": ("closed_in AND handle_hours IS NOT NULL", "closed_in"),
        "reopen_rate": ("reopens > 0", "closed_in"),
    }

    def drill(self, code, scope, scope_id, part):
        num, den = self._SETS.get(code, (None, None))
        condition = num if part == "numerator" else den
        if not condition:
            return None
        if scope == "helpdesk_team":
            where = SQL("team_id = %s", scope_id)
        elif scope == "agent":
            where = SQL("user_id = %s", scope_id)
        else:
            where = SQL("TRUE")
        rows = self.fetch(
            SQL(
                "WITH rows AS (%s) SELECT id FROM rows WHERE %s AND %s",
                self._rows_sql(),
                SQL(condition),  # constant expressions of this class only
                where,
            )
        )
        return "helpdesk.ticket", [("id", "in", [r["id"] for r in rows])]
