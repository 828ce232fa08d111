"""Financial family: what the CRM cost and what it returned (company scope).

Monthly cash flows run from the go-live month (t = 0) to the period end:

- ``benefit_t`` = gross profit of month t − baseline + hours saved per user
  × licensed CRM users × hourly cost.  The baseline is the average monthly
  gross profit of the 12 months before the go-live month (or the baseline
  entered on the CRM investment).  A month cut by the period end (weekly or
  Solar Hijri periods) counts baseline and time saving pro rata.
- ``cost_t`` = investment entries of month t; entries dated before go-live
  count in month 0.

KPIs: ``crm_tco`` (investment entries up to the period end),
``incremental_gross_profit`` (gross profit of the period − baseline × its
months), ``crm_benefit`` (Σ benefit_t), ``crm_roi`` ((benefit − cost) / cost),
``crm_npv`` (Σ (benefit_t − cost_t) / (1 + r)^t, r the monthly rate of the
annual discount rate), ``crm_irr`` (annual rate making the NPV zero, found by
bracketing and bisection; none when the flows never change sign),
``crm_payback_months`` (costs are paid at the start of their month, benefits
accrue evenly through it) and ``revenue_to_equity`` (revenue of the last 12
months / equity).  The licensed CRM users are today's.
"""

import math

from dateutil.relativedelta import relativedelta

from odoo import models
from odoo.tools import SQL

from ..kpi.base import COMPANY, Result, _lt, count, na, ratio
from ..kpi.cashflow import (
    annual_rate,
    irr,
    month_fraction,
    npv,
    payback_months,
    period_months,
)
from ..kpi.events import bound, events_domain, events_sql, uses_invoices
from ..kpi.users import licensed_crm_users


class CrmKpiFamilyFinancial(models.AbstractModel):
    _name = "crm.kpi.family.financial"
    _inherit = "crm.kpi.family"
    _description = "CRM KPI family: crm investment"
    _kpi_area = "financial"
    # heavy reads (the monthly flows since the baseline year)
    _kpi_read_weight = 6

    def _kpi_codes(self):
        return (
            "crm_tco",
            "incremental_gross_profit",
            "crm_benefit",
            "crm_roi",
            "crm_npv",
            "crm_irr",
            "crm_payback_months",
            "revenue_to_equity",
        )

    def _investment(self):
        if "crm.kpi.investment" not in self.env:
            return None
        return self.env["crm.kpi.investment"].search(
            [("company_id", "=", self.company.id)], limit=1
        )

    def _monthly(self, inv, date_from):
        """Rows per month (since ``date_from``, up to the period end) with
        revenue, gross profit, events and investment costs, plus the gross
        profit of the period and the revenue of the last 12 months."""
        ctx = self.ctx
        # the local month of an event from the bounds of the months (a
        # binary search per event) rather than from its local date (a time
        # zone conversion per event, twice the time of the read)
        months = []
        month = date_from.replace(day=1)
        while month < ctx.date_end:
            months.append(month)
            month += relativedelta(months=1)
        return self._fetch(
            SQL(
                """
                WITH ev AS (%(events)s),
                flows AS (
                    SELECT (%(months)s::date[])[width_bucket(at, %(bounds)s)]
                               AS month,
                           at >= %(start)s AS in_period,
                           at >= %(year)s AS in_year,
                           amount, margin, NULL::numeric AS cost, 1 AS events
                      FROM ev
                    UNION ALL
                    SELECT date_trunc('month', date)::date, FALSE, FALSE,
                           NULL, NULL, amount_company, 0
                      FROM crm_kpi_investment_entry
                     WHERE investment_id = %(inv)s AND date < %(end)s
                )
                SELECT month,
                       COALESCE(SUM(margin), 0) AS gp,
                       COALESCE(SUM(cost), 0) AS cost,
                       COALESCE(SUM(events), 0) AS events,
                       COALESCE(SUM(margin) FILTER (WHERE in_period), 0)
                           AS gp_period,
                       COALESCE(SUM(amount) FILTER (WHERE in_year), 0)
                           AS rev_year
                  FROM flows
                 GROUP BY 1
                 ORDER BY 1
                """,
                # neither the customer nor the campaign of an event counts
                # here: no join with the partners nor with the leads
                events=events_sql(
                    ctx, ctx.date_end, date_from, campaign=False, partner=False
                ),
                months=months,
                bounds=[bound(ctx, m) for m in months],
                inv=inv.id,
                end=ctx.date_end,
                start=bound(ctx, ctx.date_start),
                year=bound(ctx, ctx.date_end - relativedelta(years=1)),
            )
        )

    def _kpi_compute(self):
        ctx = self.ctx
        inv = self._investment()
        if not inv:
            return {
                COMPANY: {
                    code: na(_lt("no CRM investment set up"))
                    for code in self._kpi_codes()
                }
            }
        res = {}
        year_start = ctx.date_end - relativedelta(years=1)
        go_live = inv.go_live_month()
        date_from = year_start
        if go_live:
            date_from = min(date_from, inv.baseline_window()[0])
        rows = self._monthly(inv, date_from)
        tco = sum(float(r["cost"]) for r in rows)
        has_entries = bool(inv.entry_ids.filtered(lambda e: e.date < ctx.date_end))
        res["crm_tco"] = (
            count(tco)
            if has_entries
            else na(_lt("no CRM investment entries up to the period end"))
        )
        rev_year = sum(float(r["rev_year"]) for r in rows)
        if inv.equity > 0:
            res["revenue_to_equity"] = ratio(rev_year, inv.equity)
        else:
            res["revenue_to_equity"] = na(
                _lt("no equity entered on the CRM investment")
            )

        # the KPIs of the cash flows since go-live
        flow_codes = tuple(
            c for c in self._kpi_codes() if c not in ("crm_tco", "revenue_to_equity")
        )
        reason = None
        if not go_live:
            reason = _lt("no go-live date on the CRM investment")
        elif ctx.date_end <= go_live:
            reason = _lt("the period ends before the go-live month")
        elif uses_invoices(self.company):
            reason = _lt("margins are known from sale orders only")
        baseline = None
        if not reason:
            if inv.use_manual_baseline:
                baseline = inv.baseline_monthly_gross_profit
            else:
                b_from, b_to = inv.baseline_window()
                before = [r for r in rows if b_from <= r["month"] < b_to]
                if not sum(r["events"] for r in before):
                    reason = _lt(
                        "no revenue event in the 12 months before go-live: enter "
                        "a baseline on the CRM investment"
                    )
                else:
                    baseline = sum(float(r["gp"]) for r in before) / 12.0
        if reason:
            res.update({code: na(reason) for code in flow_codes})
            return {COMPANY: res}

        gp_period = sum(float(r["gp_period"]) for r in rows)
        res["incremental_gross_profit"] = count(
            gp_period - baseline * period_months(ctx.date_start, ctx.date_end)
        )

        by_month = {r["month"]: r for r in rows}
        saving = (
            inv.hours_saved_per_user
            * len(licensed_crm_users(self.env, self.company))
            * inv.hourly_cost
        )
        benefits, costs = [], []
        month = go_live
        while month < ctx.date_end:
            r = by_month.get(month)
            frac = month_fraction(month, ctx.date_end)
            gp = float(r["gp"]) if r else 0.0
            benefits.append(gp - baseline * frac + saving * frac)
            costs.append(float(r["cost"]) if r else 0.0)
            month += relativedelta(months=1)
        # investment entries before the go-live month count in month 0
        costs[0] += sum(float(r["cost"]) for r in rows if r["month"] < go_live)

        benefit, cost = math.fsum(benefits), math.fsum(costs)
        flows = [b - c for b, c in zip(benefits, costs, strict=False)]
        res["crm_benefit"] = count(benefit)
        res["crm_roi"] = ratio(
            benefit - cost,
            cost,
            note=_lt("no CRM investment entries up to the period end"),
        )
        res["crm_npv"] = count(npv(inv.monthly_discount_rate(), flows))
        monthly_irr, why = irr(flows)
        if monthly_irr is None:
            res["crm_irr"] = na(why)
        else:
            res["crm_irr"] = Result(annual_rate(monthly_irr) * 100.0, None, None)
        payback = payback_months(benefits, costs)
        if payback is not None:
            res["crm_payback_months"] = Result(payback, None, None)
        elif not any(costs):
            res["crm_payback_months"] = na(
                _lt("no CRM investment entries up to the period end")
            )
        else:
            res["crm_payback_months"] = na(_lt("not paid back by the period end"))
        return {COMPANY: res}

    def _kpi_recount_rules(self):
        # the investment's figures are computed from its entries (cash flows
        # discounted, benefits estimated): none is a plain sum of the records
        # listed but the revenue of the year behind revenue to equity
        return {"revenue_to_equity": ("amount", None)}

    def _kpi_drill(self, code, scope, scope_id, part):
        ctx = self.ctx
        if scope != "company":
            return None
        inv = self._investment()
        entries = [
            ("investment_id", "=", inv.id if inv else 0),
            ("date", "<", ctx.date_end),
        ]
        if code in ("crm_tco", "crm_npv", "crm_irr", "crm_payback_months"):
            return "crm.kpi.investment.entry", entries
        if code == "crm_roi" and part == "denominator":
            return "crm.kpi.investment.entry", entries
        if code == "revenue_to_equity" and part == "numerator":
            if not (inv and inv.equity > 0):
                return None
            return events_domain(
                ctx, ctx.date_end - relativedelta(years=1), ctx.date_end
            )
        if code == "incremental_gross_profit" and part == "numerator":
            return events_domain(ctx, ctx.date_start, ctx.date_end)
        if (
            code in ("crm_benefit", "crm_roi")
            and part == "numerator"
            and inv
            and inv.go_live_date
        ):
            return events_domain(ctx, inv.go_live_month(), ctx.date_end)
        return None
