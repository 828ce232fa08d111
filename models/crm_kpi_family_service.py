"""Customer service family: helpdesk ticket KPIs per company, helpdesk team
and agent.

The per-ticket figures (first response, last close, reopen and reply
counts, working hours) are stored on ``helpdesk.ticket`` as the events
happen (see ``models/helpdesk_ticket.py``); this family only aggregates
those columns with one ``GROUPING SETS`` query per period.  Reopen events
of the period come from the stage history (tracking values), so a ticket
reopened twice is counted twice.
"""

from odoo import models
from odoo.tools import SQL

from ..kpi.base import Result, count, na, ratio
from ..kpi.translate import _lt

TICKET_SCOPES = SQL(
    """CASE GROUPING(team_id, user_id) WHEN 3 THEN 'company'
            WHEN 1 THEN 'helpdesk_team' ELSE 'agent' END AS scope,
       CASE GROUPING(team_id, user_id) WHEN 3 THEN NULL
            WHEN 1 THEN team_id ELSE user_id END AS scope_id"""
)


def timesheets_on_tickets(env):
    """True when timesheet lines carry a ticket (helpdesk_mgmt_timesheet)."""
    model = env.registry.get("account.analytic.line")
    return bool(model is not None and "ticket_id" in model._fields)


class CrmKpiFamilyService(models.AbstractModel):
    _name = "crm.kpi.family.service"
    _inherit = "crm.kpi.family"
    _description = "CRM KPI family: customer service"
    _kpi_area = "service"
    # heavy reads (the period's tickets and their stage changes)
    _kpi_read_weight = 3

    def _kpi_codes(self):
        return (
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

    def _rows_sql(self, closed_only=False):
        """One row per ticket of the company that matters for the period,
        with its flags, the completed activities before its close, its
        handle time and its reopen events in the period.

        Closes, reopens and the open state at the period end come from the
        ticket's stage history (the tracked changes of its stage), so a past
        period recomputed later gives the same answer; the ticket's own
        last close and last reopen stand in for a history Odoo did not keep
        (a ticket created closed, tracking disabled).  A ticket never
        reopened was open from its creation to its only close; the history
        is read only for the tickets reopened at least once.

        ``closed_only``: only the tickets closed in the period (the rows
        ``closed_in``), read by their ids (their last close by its index,
        the closes of the stage history) instead of scanning every ticket."""
        ctx = self.ctx
        closed = SQL("TRUE")
        if closed_only:
            closed = SQL(
                """t.id = ANY(ARRAY(
                    SELECT res_id FROM moves WHERE closed
                    UNION
                    SELECT c.id FROM helpdesk_ticket c
                     WHERE c.kpi_last_close_date >= %(a)s
                       AND c.kpi_last_close_date < %(b)s
                       AND c.company_id = %(company)s))""",
                a=ctx.start_utc,
                b=ctx.end_utc,
                company=self.company.id,
            )
        return SQL(
            """
            WITH moves AS MATERIALIZED (
                -- the stage changes of the period that close or reopen
                SELECT m.res_id,
                       BOOL_OR(NOT COALESCE(so.closed, FALSE)
                               AND COALESCE(sn.closed, FALSE)) AS closed,
                       COUNT(*) FILTER (WHERE COALESCE(so.closed, FALSE)
                                        AND NOT COALESCE(sn.closed, FALSE)) AS n
                  FROM mail_message m
                  JOIN mail_tracking_value tv ON tv.mail_message_id = m.id
                  LEFT JOIN helpdesk_ticket_stage so ON so.id = tv.old_value_integer
                  LEFT JOIN helpdesk_ticket_stage sn ON sn.id = tv.new_value_integer
                 WHERE tv.field_id = %(stage_field)s
                   AND m.model = 'helpdesk.ticket'
                   AND m.date >= %(a)s AND m.date < %(b)s
                   AND COALESCE(so.closed, FALSE) <> COALESCE(sn.closed, FALSE)
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
                       (COALESCE(t.kpi_last_close_date >= %(a)s
                                 AND t.kpi_last_close_date < %(b)s, FALSE)
                        OR COALESCE(mv.closed, FALSE)) AS closed_in,
                       COALESCE(t.kpi_first_response_date >= %(a)s
                                AND t.kpi_first_response_date < %(b)s, FALSE)
                           AS answered_in,
                       CASE WHEN COALESCE(t.kpi_reopen_count, 0) = 0
                            THEN NOT COALESCE(t.kpi_last_close_date < %(b)s, FALSE)
                            ELSE NOT COALESCE((
                                -- the last close or reopen before the period
                                -- end, from the history and the ticket's own
                                SELECT ev.is_close FROM (
                                    SELECT m.date,
                                           COALESCE(sn.closed, FALSE) AS is_close
                                      FROM mail_message m
                                      JOIN mail_tracking_value tv
                                        ON tv.mail_message_id = m.id
                                      LEFT JOIN helpdesk_ticket_stage so
                                        ON so.id = tv.old_value_integer
                                      LEFT JOIN helpdesk_ticket_stage sn
                                        ON sn.id = tv.new_value_integer
                                     WHERE m.model = 'helpdesk.ticket'
                                       AND m.res_id = t.id AND m.date < %(b)s
                                       AND tv.field_id = %(stage_field)s
                                       AND COALESCE(so.closed, FALSE)
                                           <> COALESCE(sn.closed, FALSE)
                                    UNION ALL
                                    SELECT t.kpi_last_close_date, TRUE
                                     WHERE t.kpi_last_close_date < %(b)s
                                    UNION ALL
                                    SELECT t.kpi_last_reopen_date, FALSE
                                     WHERE t.kpi_last_reopen_date < %(b)s
                                ) ev ORDER BY ev.date DESC, ev.is_close LIMIT 1
                            ), FALSE)
                       END AS open_at_end,
                       COALESCE(mv.n, 0) AS reopens
                  FROM helpdesk_ticket t
                  LEFT JOIN helpdesk_ticket_stage st ON st.id = t.stage_id
                  LEFT JOIN moves mv ON mv.res_id = t.id
                 WHERE t.company_id = %(company)s
                   AND t.create_date < %(b)s
                   AND (t.kpi_last_close_date IS NULL
                        OR t.kpi_last_close_date >= %(a)s
                        OR NOT COALESCE(st.closed, FALSE)
                        OR t.kpi_last_reopen_date >= %(a)s
                        OR t.kpi_first_response_date >= %(a)s
                        OR mv.res_id IS NOT NULL)
                   AND %(closed)s
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
            closed=closed,
        )

    def _kpi_compute(self):
        rows = self._fetch_heavy(
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
                       COUNT(*) FILTER (WHERE reopens > 0) AS reopens
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
                # n/a, still over the tickets closed (its denominator list)
                handle = Result(
                    None,
                    0.0,
                    float(closed),
                    _lt("no timesheet hours on the tickets closed in the period")
                    if timesheets
                    else _lt(
                        "timesheets on tickets not installed and no call "
                        "durations logged on the tickets closed in the period"
                    ),
                )
            else:
                handle = ratio(r["handle_hours"], closed)
            results[key] = {
                "tickets_opened": count(r["opened"]),
                "tickets_closed": count(closed),
                "ticket_backlog": count(r["backlog"]),
                "ticket_first_response_hours": ratio(
                    r["fr_hours"],
                    r["answered"],
                    note=_lt("no ticket first answered in the period"),
                ),
                "ticket_first_response_working_hours": ratio(
                    r["fr_whours"],
                    r["answered"],
                    note=_lt("no ticket first answered in the period"),
                ),
                "ticket_resolution_hours": ratio(
                    r["res_hours"],
                    closed,
                    note=_lt("no ticket closed in the period"),
                ),
                "ticket_resolution_working_hours": ratio(
                    r["res_whours"],
                    closed,
                    note=_lt("no ticket closed in the period"),
                ),
                "fcr_rate": ratio(
                    r["fcr"], closed, note=_lt("no ticket closed in the period")
                ),
                "contacts_per_ticket": ratio(
                    r["contacts"],
                    closed,
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

    def _kpi_recount_rules(self):
        counted = ("count", None)
        on_closed = (None, "count")
        return {
            "tickets_opened": counted,
            "tickets_closed": counted,
            "ticket_backlog": counted,
            "ticket_first_response_hours": on_closed,
            "ticket_first_response_working_hours": on_closed,
            "ticket_resolution_hours": on_closed,
            "ticket_resolution_working_hours": on_closed,
            "fcr_rate": ("count", "count"),
            "contacts_per_ticket": on_closed,
            "handle_time_hours": on_closed,
            "reopen_rate": ("count", "count"),
        }

    def _kpi_drill(self, code, scope, scope_id, part):
        num, den = self._SETS.get(code, (None, None))
        condition = (num if part == "numerator" else den) or ""
        # a set of tickets closed in the period: only those are read
        closed_only = condition.split(" ")[0] == "closed_in"
        return self._kpi_drill_tickets(
            code, scope, scope_id, part, self._rows_sql(closed_only=closed_only)
        )
