"""Revenue and profit family: revenue, gross profit and their growth."""

from odoo.tools import SQL

from .base import Family, _lt, count, na, ratio, register
from .events import SCOPE_COLUMNS, events_domain, events_sql


@register
class RevenueFamily(Family):
    area = "revenue"
    codes = (
        "revenue",
        "gross_profit",
        "revenue_growth_qoq",
        "revenue_growth_yoy",
        "profit_growth_qoq",
        "profit_growth_yoy",
    )

    def _earlier(self, kind):
        """The context of the comparison period of ``kind`` ('qoq' or 'yoy'),
        or None when not defined for this granularity."""
        ctx = self.ctx
        if kind == "qoq":
            shifts = {
                "week": ("week", -13),
                "month": ("month", -3),
                "quarter": ("quarter", -1),
            }
        else:
            shifts = {
                "week": ("week", -52),
                "month": ("month", -12),
                "quarter": ("quarter", -4),
                "year": ("year", -1),
            }
        if ctx.granularity not in shifts:
            return None
        granularity, n = shifts[ctx.granularity]
        return ctx.shifted(n, granularity)

    def compute(self):
        ctx = self.ctx
        qoq, yoy = self._earlier("qoq"), self._earlier("yoy")
        earliest = min(c.date_start for c in (ctx, qoq, yoy) if c)

        def between(c):
            if not c:
                return SQL("FALSE")
            return SQL("day >= %s AND day < %s", c.date_start, c.date_end)

        rows = self.fetch(
            SQL(
                """
                WITH ev AS (%(events)s)
                SELECT %(scopes)s,
                       COALESCE(SUM(amount) FILTER (WHERE %(cur)s), 0) AS rev,
                       COALESCE(SUM(margin) FILTER (WHERE %(cur)s), 0) AS gp,
                       COALESCE(SUM(amount) FILTER (WHERE %(qoq)s), 0) AS rev_qoq,
                       COALESCE(SUM(margin) FILTER (WHERE %(qoq)s), 0) AS gp_qoq,
                       COALESCE(SUM(amount) FILTER (WHERE %(yoy)s), 0) AS rev_yoy,
                       COALESCE(SUM(margin) FILTER (WHERE %(yoy)s), 0) AS gp_yoy
                  FROM ev
                 GROUP BY GROUPING SETS ((), (team_id), (user_id))
                """,
                events=events_sql(ctx, ctx.date_end, earliest),
                scopes=SCOPE_COLUMNS,
                cur=between(ctx),
                qoq=between(qoq),
                yoy=between(yoy),
            )
        )
        margins_known = self.company.kpi_revenue_source != "invoice"
        no_margin = na(_lt("margins are known from sale orders only"))
        results = {}
        for r in rows:
            if r["scope"] != "company" and r["scope_id"] is None:
                continue
            res = {"revenue": count(r["rev"])}
            res["gross_profit"] = count(r["gp"]) if margins_known else no_margin
            for kind, earlier in (("qoq", qoq), ("yoy", yoy)):
                if not earlier:
                    note = _lt("not defined for yearly periods")
                    res[f"revenue_growth_{kind}"] = na(note)
                    res[f"profit_growth_{kind}"] = na(note)
                    continue
                res[f"revenue_growth_{kind}"] = ratio(
                    r["rev"] - r[f"rev_{kind}"],
                    r[f"rev_{kind}"],
                    note=_lt("no revenue in the comparison period"),
                )
                res[f"profit_growth_{kind}"] = (
                    ratio(
                        r["gp"] - r[f"gp_{kind}"],
                        r[f"gp_{kind}"],
                        note=_lt("no gross profit in the comparison period"),
                    )
                    if margins_known
                    else no_margin
                )
            results[(r["scope"], r["scope_id"])] = res
        return results

    def drill(self, code, scope, scope_id, part):
        ctx = self.ctx
        if part == "denominator" and code.endswith(("_qoq", "_yoy")):
            earlier = self._earlier(code[-3:])
            if not earlier:
                return None
            ctx = earlier
        return events_domain(ctx, ctx.date_start, ctx.date_end, scope, scope_id)
