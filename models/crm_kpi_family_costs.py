"""Costs family: customer acquisition cost, CAC payback and campaign ROI.

One query per period gathers, for the company and every sales team, the cost
entries, and per campaign the attributed revenue (the order's campaign, else
its opportunity's), orders, responses and costs; the new customers N (first
revenue event ever inside the period) and their gross profit come from the
pass over the revenue events shared with the customer family
(:func:`~.customers.period_summary`).

- ``cac`` = (sales + marketing costs of the period) / N.  Team scope: the
  costs entered for the team / the team's new customers.
- ``cac_payback_months`` = CAC / (gross profit of the new customers in the
  period / N / months of the period) = costs / monthly gross profit of the
  new customers.
- ``campaign_roi`` = (revenue attributed to campaigns − their costs) / their
  costs × 100, over the campaigns with costs in the period: the total is the
  cost-weighted average of the campaigns' own ROIs.  Campaigns without costs
  have no ROI and do not inflate the total.

The per-campaign breakdown is left in ``ctx.extra`` for the campaign ranking
(``crm.kpi.campaign.report``).
"""

from odoo import models
from odoo.fields import Domain
from odoo.tools import SQL

from ..kpi.base import COMPANY, Result, _lt, na, ratio
from ..kpi.customers import new_partners_sql, period_summary
from ..kpi.events import (
    campaign_events_domain,
    campaign_summary,
    events_domain,
    uses_invoices,
)
from .crm_kpi_drillable import ids_domain

MONTHS = {"month": 1, "quarter": 3, "year": 12}


def period_months(ctx):
    """Length of the period in months (weeks: days / average month)."""
    return MONTHS.get(ctx.granularity) or ctx.days * 12.0 / 365.25


def breakdown_key(ctx):
    return ("campaign_breakdown", ctx.company.id, ctx.granularity, ctx.date_start)


class CrmKpiFamilyCosts(models.AbstractModel):
    _name = "crm.kpi.family.costs"
    _inherit = "crm.kpi.family"
    _description = "CRM KPI family: costs"
    _kpi_area = "marketing"
    # heavy reads (the customer pass other families share)
    _kpi_read_weight = 6

    def _kpi_codes(self):
        return ("cac", "cac_payback_months", "campaign_roi")

    def _cost_table(self):
        return "crm.kpi.cost" in self.env

    def _rows(self):
        """The sets of :func:`~.events.campaign_summary` the family reads
        (read once with the marketing family): company and sales teams,
        each in all and per campaign."""
        sets = {
            "company": ("company", False),
            "team": ("team", False),
            "campaign": ("company", True),
            "team_campaign": ("team", True),
        }
        rows = []
        for r in campaign_summary(self.ctx):
            if r["set"] not in sets:
                continue
            scope, by_campaign = sets[r["set"]]
            rows.append(
                dict(
                    r,
                    scope=scope,
                    scope_id=r["team_id"] if scope == "team" else None,
                    by_campaign=by_campaign,
                )
            )
        return rows

    def _kpi_compute(self):
        ctx = self.ctx
        totals = {}
        campaigns = {}  # scope key -> [rows of campaigns with costs]
        breakdown = []
        for r in self._rows():
            key = (r["scope"], r["scope_id"])
            if key[0] == "team" and key[1] is None:
                continue
            if not r["by_campaign"]:
                totals[key] = r
            elif r["campaign_id"] is not None:
                if r["cost_entries"]:
                    campaigns.setdefault(key, []).append(r)
                if key == COMPANY:
                    breakdown.append(r)
        totals.setdefault(COMPANY, None)
        margins_known = not uses_invoices(self.company)
        months = period_months(ctx)
        # the new customers (first revenue event ever in the period) and
        # their gross profit, per scope: from the pass over the events shared
        # with the customer family
        summary = period_summary(ctx)
        results = {}
        for key, t in totals.items():
            res = {}
            new = summary.get(key)
            n = new["n"] if t and new else 0
            cost = float(t["cost"]) if t else 0.0
            if not t or not t["cost_entries"]:
                res["cac"] = na(_lt("no costs recorded in the period"))
                res["cac_payback_months"] = res["cac"]
            else:
                res["cac"] = ratio(cost, n, note=_lt("no new customers in the period"))
                gp_new = float(new["new_margin"]) if new else 0.0
                if not n:
                    res["cac_payback_months"] = res["cac"]
                elif not margins_known:
                    res["cac_payback_months"] = na(
                        _lt("margins are known from sale orders only")
                    )
                elif gp_new <= 0:
                    res["cac_payback_months"] = Result(
                        None,
                        cost,
                        gp_new / months,
                        "the new customers brought no gross profit: the cost is "
                        "never paid back",
                    )
                else:
                    res["cac_payback_months"] = ratio(cost, gp_new / months)
            rows = campaigns.get(key, [])
            if rows:
                revenue = sum(float(c["revenue"]) for c in rows)
                camp_cost = sum(float(c["cost"]) for c in rows)
                res["campaign_roi"] = ratio(revenue - camp_cost, camp_cost)
            else:
                res["campaign_roi"] = na(
                    _lt("no campaign costs recorded in the period")
                )
            results[key] = res
        ctx.extra[breakdown_key(ctx)] = [
            {
                "campaign_id": r["campaign_id"],
                "responses": int(r["responses"]),
                "orders": int(r["orders"]),
                "revenue": float(r["revenue"]),
                "gross_profit": float(r["margin"]) if margins_known else None,
                "cost": float(r["cost"]),
                "has_cost": bool(r["cost_entries"]),
            }
            for r in breakdown
        ]
        return results

    # -- drill-down ----------------------------------------------------------
    def _new_partners_sql(self, scope, scope_id):
        """``SELECT partner_id`` of the customers acquired in the period (in
        the sales team's scope): the denominator of the CAC."""
        return new_partners_sql(self.ctx, scope, scope_id)

    def _cost_domain(self, scope, scope_id):
        ctx = self.ctx
        domain = [
            ("company_id", "=", self.company.id),
            ("date", ">=", ctx.date_start),
            ("date", "<", ctx.date_end),
        ]
        if scope == "team":
            domain.append(("team_id", "=", scope_id))
        return domain

    def _costed_campaign_ids(self, scope, scope_id):
        if not self._cost_table():
            return []
        groups = self.env["crm.kpi.cost"]._read_group(
            self._cost_domain(scope, scope_id) + [("campaign_id", "!=", False)],
            ["campaign_id"],
        )
        return [campaign.id for (campaign,) in groups]

    def _kpi_recount_rules(self):
        return {
            "cac": ("amount_company", "count"),
            "cac_payback_months": ("amount_company", None),
            "campaign_roi": (None, "amount_company"),
        }

    def _kpi_drill(self, code, scope, scope_id, part):
        ctx = self.ctx
        if scope not in ("company", "team"):
            return None
        if code in ("cac", "cac_payback_months") and part == "numerator":
            return "crm.kpi.cost", self._cost_domain(scope, scope_id)
        if code == "cac" and part == "denominator":
            return "res.partner", ids_domain(self._new_partners_sql(scope, scope_id))
        if code == "cac_payback_months" and part == "denominator":
            model, domain = events_domain(
                ctx, ctx.date_start, ctx.date_end, scope, scope_id
            )
            new = self._new_partners_sql(scope, scope_id)
            if model == "account.move":
                customer = ids_domain(new, "commercial_partner_id")
            else:
                contacts = SQL(
                    "SELECT id FROM res_partner"
                    " WHERE commercial_partner_id = ANY(ARRAY(%s))",
                    new,
                )
                customer = ids_domain(contacts, "partner_id")
            return model, Domain(domain) & customer
        if code == "campaign_roi":
            campaign_ids = self._costed_campaign_ids(scope, scope_id)
            if part == "denominator":
                return "crm.kpi.cost", self._cost_domain(scope, scope_id) + [
                    ("campaign_id", "in", campaign_ids)
                ]
            return campaign_events_domain(self.ctx, "in", campaign_ids, scope, scope_id)
        return None
