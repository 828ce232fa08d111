"""Marketing family: campaigns, attributed orders and web visits.

Cost-based KPIs (CAC, CAC payback, campaign ROI) live in the costs family.
"""

from odoo.tools import SQL

from .base import COMPANY, Family, _lt, count, na, ratio, register
from .events import (
    SCOPE_COLUMNS,
    campaign_events_domain,
    campaign_events_sql,
    events_domain,
)


@register
class MarketingFamily(Family):
    area = "marketing"
    codes = ("campaigns", "campaign_orders", "web_visits", "web_visit_minutes")

    def _costs_sql(self):
        ctx = self.ctx
        if "crm.kpi.cost" not in self.env:
            return SQL(
                "SELECT NULL::int AS campaign_id, NULL::int AS team_id WHERE FALSE"
            )
        return SQL(
            """SELECT campaign_id, team_id FROM crm_kpi_cost
                WHERE company_id = %s AND date >= %s AND date < %s
                  AND campaign_id IS NOT NULL""",
            self.company.id,
            ctx.date_start,
            ctx.date_end,
        )

    def compute(self):
        ctx = self.ctx
        rows = self.fetch_heavy(
            SQL(
                """
                WITH ev AS (%(events)s),
                touches AS (
                    SELECT campaign_id, team_id, user_id, 1 AS is_order
                      FROM ev WHERE campaign_id IS NOT NULL
                    UNION ALL
                    SELECT campaign_id, team_id, user_id, 0
                      FROM crm_lead
                     WHERE company_id = %(company)s AND campaign_id IS NOT NULL
                       AND create_date >= %(a)s AND create_date < %(b)s
                    UNION ALL
                    SELECT campaign_id, team_id, NULL, 0 FROM (%(costs)s) c
                )
                SELECT %(scopes)s,
                       COUNT(DISTINCT campaign_id) AS campaigns,
                       COALESCE(SUM(is_order), 0) AS orders
                  FROM touches
                 GROUP BY GROUPING SETS ((), (team_id), (user_id))
                """,
                events=campaign_events_sql(ctx),
                company=self.company.id,
                scopes=SCOPE_COLUMNS,
                a=ctx.start_utc,
                b=ctx.end_utc,
                costs=self._costs_sql(),
            )
        )
        results = {}
        for r in rows:
            key = (r["scope"], r["scope_id"])
            if key[0] != "company" and key[1] is None:
                continue
            results[key] = {
                "campaigns": count(r["campaigns"]),
                "campaign_orders": count(r["orders"]),
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
