"""SLA family: SLA compliance of helpdesk tickets, when OCA's
``helpdesk_mgmt_sla`` is installed.

``helpdesk_mgmt_sla`` keeps one ``helpdesk.ticket.sla`` line per SLA that
applies to a ticket, with its stored ``deadline`` and ``state``
(accomplished, in progress, expired, on hold).  A ticket counts in the
period that holds its SLA deadline (the earliest deadline of its lines);
it *met* its SLA when every line is accomplished, *missed* it when a line
expired or is still in progress past its deadline.  A ticket whose SLA is
still running (in progress before its deadline, or on hold) is not decided
yet and counts nowhere, so a running period does not show a rate its
future can only lower.

Without the module the family is not run and its KPI says so (n/a), like
web visits without the website app.  The addon does not depend on it.
"""

from odoo import fields, models
from odoo.tools import SQL

from ..kpi.base import ratio
from ..kpi.translate import _lt
from .crm_kpi_family_service import TICKET_SCOPES


class CrmKpiFamilySla(models.AbstractModel):
    _name = "crm.kpi.family.sla"
    _inherit = "crm.kpi.family"
    _description = "CRM KPI family: helpdesk SLA"
    _kpi_area = "service"
    _kpi_requires = ("helpdesk_mgmt_sla",)

    def _kpi_codes(self):
        return ("sla_compliance_rate",)

    def _rows_sql(self):
        """One row per ticket of the company whose SLA deadline falls in the
        period: its team, agent and whether it met or missed its SLA."""
        ctx = self.ctx
        return SQL(
            """
            SELECT t.id, t.team_id, t.user_id,
                   BOOL_AND(s.state = 'accomplished') AS met,
                   BOOL_OR(s.state = 'expired'
                           OR (s.state = 'in_progress' AND s.deadline < %(now)s))
                       AS missed
              FROM helpdesk_ticket_sla s
              JOIN helpdesk_ticket t ON t.id = s.ticket_id
             WHERE t.company_id = %(company)s
               AND s.deadline IS NOT NULL
               -- the tickets with an SLA line due in the period; all their
               -- lines decide whether they met it
               AND s.ticket_id IN (SELECT ticket_id FROM helpdesk_ticket_sla
                                    WHERE deadline >= %(a)s AND deadline < %(b)s)
             GROUP BY t.id, t.team_id, t.user_id
            HAVING MIN(s.deadline) >= %(a)s
            """,
            company=self.company.id,
            a=ctx.start_utc,
            b=ctx.end_utc,
            now=fields.Datetime.now(),
        )

    def _kpi_compute(self):
        rows = self._fetch(
            SQL(
                """
                WITH rows AS (%(rows)s)
                SELECT %(scopes)s,
                       COUNT(*) FILTER (WHERE met) AS met,
                       COUNT(*) FILTER (WHERE met OR missed) AS decided
                  FROM rows
                 GROUP BY GROUPING SETS ((), (team_id), (user_id))
                """,
                rows=self._rows_sql(),
                scopes=TICKET_SCOPES,
            )
        )
        results = {}
        for r in rows:
            key = (r["scope"], r["scope_id"])
            if key[0] != "company" and key[1] is None:
                continue
            results[key] = {
                "sla_compliance_rate": ratio(
                    r["met"],
                    r["decided"],
                    note=_lt("no ticket with an SLA deadline in the period"),
                )
            }
        return results

    def _kpi_recount_rules(self):
        return {"sla_compliance_rate": ("count", "count")}

    _SETS = {"sla_compliance_rate": ("met", "met OR missed")}

    def _kpi_drill(self, code, scope, scope_id, part):
        if self._kpi_missing_modules():
            return None
        return self._kpi_drill_tickets(code, scope, scope_id, part)
