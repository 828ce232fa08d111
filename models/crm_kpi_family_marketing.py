"""Marketing family: campaigns, attributed orders and web visits.

Cost-based KPIs (CAC, CAC payback, campaign ROI) live in the costs family.
"""

from odoo import models
from odoo.tools import SQL

from ..kpi.base import COMPANY, _lt, count, na, ratio
from ..kpi.events import campaign_events_domain, campaign_ids, campaign_summary


class CrmKpiFamilyMarketing(models.AbstractModel):
    _name = "crm.kpi.family.marketing"
    _inherit = "crm.kpi.family"
    _description = "CRM KPI family: marketing"
    _kpi_area = "marketing"

    def _kpi_codes(self):
        return ("campaigns", "campaign_orders", "web_visits", "web_visit_minutes")

    def _kpi_compute(self):
        results = {}
        # campaign figures read once with the cost family: a campaign is
        # counted where it was touched (an order, a lead or a cost entry)
        for r in campaign_summary(self.ctx):
            if r["set"] == "company":
                key = COMPANY
            elif r["set"] == "team" and r["team_id"] and r["touches"]:
                key = ("team", r["team_id"])
            elif r["set"] == "user" and r["user_id"] and r["touches"]:
                key = ("user", r["user_id"])
            else:
                continue
            results[key] = {
                "campaigns": count(r["campaigns"]),
                "campaign_orders": count(r["campaign_orders"]),
            }
        company = results.setdefault(
            COMPANY,
            {
                "campaigns": count(0),
                "campaign_orders": count(0),
            },
        )
        company.update(self._web())
        return results

    def _web(self):
        if "website.track" not in self.env:
            note = _lt("website not installed")
            return {"web_visits": na(note), "web_visit_minutes": na(note)}
        ctx = self.ctx
        row = self._fetch(
            SQL(
                """
                WITH views AS (
                    SELECT t.visitor_id, t.visit_datetime AS ts,
                           CASE WHEN t.visit_datetime - LAG(t.visit_datetime) OVER w
                                     < INTERVAL '30 minutes' THEN 0 ELSE 1 END
                               AS starts
                      FROM website_track t
                      JOIN website_visitor v ON v.id = t.visitor_id
                      JOIN website ws ON ws.id = v.website_id
                     WHERE ws.company_id = %(company)s
                       AND t.visit_datetime >= %(a)s AND t.visit_datetime < %(b)s
                    WINDOW w AS (PARTITION BY t.visitor_id ORDER BY t.visit_datetime)
                ),
                numbered AS (
                    SELECT visitor_id, ts,
                           SUM(starts) OVER (PARTITION BY visitor_id ORDER BY ts)
                               AS session
                      FROM views
                ),
                sessions AS (
                    SELECT visitor_id, session,
                           EXTRACT(EPOCH FROM MAX(ts) - MIN(ts)) / 60.0 AS minutes
                      FROM numbered GROUP BY visitor_id, session
                )
                SELECT COUNT(*) AS visits, COALESCE(SUM(minutes), 0) AS minutes
                  FROM sessions
                """,
                company=self.company.id,
                a=ctx.start_utc,
                b=ctx.end_utc,
            )
        )[0]
        return {
            "web_visits": count(row["visits"]),
            "web_visit_minutes": ratio(
                row["minutes"], row["visits"], note=_lt("no web visit")
            ),
        }

    def _kpi_recount_rules(self):
        return {
            "campaigns": ("count", None),
            "campaign_orders": ("count", None),
        }

    def _kpi_drill(self, code, scope, scope_id, part):
        ctx = self.ctx
        if code == "campaign_orders" and part == "numerator":
            return campaign_events_domain(ctx, "!=", False, scope, scope_id)
        if code == "campaigns" and part == "numerator":
            return "utm.campaign", [("id", "in", campaign_ids(ctx, scope, scope_id))]
        return None
