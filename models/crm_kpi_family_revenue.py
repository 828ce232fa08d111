"""Revenue and profit family: revenue, gross profit and their growth."""

from odoo import models

from ..kpi.base import _lt, count, na, ratio
from ..kpi.customers import period_summary
from ..kpi.events import comparison_period, events_domain


class CrmKpiFamilyRevenue(models.AbstractModel):
    _name = "crm.kpi.family.revenue"
    _inherit = "crm.kpi.family"
    _description = "CRM KPI family: revenue and profit"
    _kpi_area = "revenue"

    def _kpi_codes(self):
        return (
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
        return comparison_period(self.ctx, kind)

    def _kpi_compute(self):
        qoq, yoy = self._earlier("qoq"), self._earlier("yoy")
        # the sums per scope of the period and of its comparison periods come
        # from the pass over the events shared with the customer family; the
        # scopes are those with events since the earliest of the periods
        rows = [
            dict(r, rev=r["revenue"], gp=r["margin"])
            for r in period_summary(self.ctx).values()
            if r["scope"] == "company" or r["recent"]
        ]
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

    def _kpi_recount_rules(self):
        return {
            "revenue": ("amount", None),
            "gross_profit": ("margin", None),
            "revenue_growth_qoq": (None, "amount"),
            "revenue_growth_yoy": (None, "amount"),
            "profit_growth_qoq": (None, "margin"),
            "profit_growth_yoy": (None, "margin"),
        }

    def _kpi_drill(self, code, scope, scope_id, part):
        ctx = self.ctx
        if part == "denominator" and code.endswith(("_qoq", "_yoy")):
            earlier = self._earlier(code[-3:])
            if not earlier:
                return None
            ctx = earlier
        return events_domain(ctx, ctx.date_start, ctx.date_end, scope, scope_id)
