"""Marketing family: campaigns, attributed orders and web visits.

Cost-based KPIs (CAC, CAC payback, campaign ROI) live in the costs family.
"""

from odoo.tools import SQL

from .base import COMPANY, Family, _lt, count, na, ratio, register
from .events import campaign_events_domain, campaign_summary, events_domain


@register
class MarketingFamily(Family):
    area = "marketing"
    codes = ("campaigns", "campaign_orders", "web_visits", "web_visit_minutes")

    def compute(self):
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
        row = self.fetch(
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
                row["minutes"], row["visits"], factor=1.0, note=_lt("no web visit")
            ),
        }

    def drill(self, code, scope, scope_id, part):
        ctx = self.ctx
        if code == "campaign_orders" and part == "numerator":
            return campaign_events_domain(ctx, "!=", False, scope, scope_id)
        if code == "campaigns" and part == "numerator":
            return "utm.campaign", [
                "|",
                (
                    "id",
                    "in",
                    self.env["crm.lead"]
                    .with_context(active_test=False)
                    ._search(
                        [
                            ("company_id", "=", self.company.id),
                            ("create_date", ">=", ctx.start_utc),
                            ("create_date", "<", ctx.end_utc),
                        ]
                    )
                    .subselect("campaign_id"),
                ),
                (
                    "id",
                    "in",
                    self.env["sale.order"]
                    ._search(events_domain(ctx, ctx.date_start, ctx.date_end)[1])
                    .subselect("campaign_id"),
                ),
            ]
        return None
