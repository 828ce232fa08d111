"""Cohort retention: customers grouped by the period of their first purchase
(their acquisition period), followed period by period.

One row per company (and sales team), granularity (month, quarter), cohort
and period since acquisition, computed with the snapshots of the period
(``crm.kpi.snapshot._compute_company_period``: the same daily action,
backfill and lock) in one grouped query.  Computing period *X* writes the
row of *X* of every cohort acquired in the :data:`COHORT_DEPTH` periods up to
*X*, replacing the previous ones.

* customers: the cohort's size, commercial partners whose first revenue
  event (over the company's whole history) falls in the cohort period;
* active customers: those of the cohort still active at the end of the
  period, with the same activity window W as the customers family (a
  revenue event in ``[end - W, end)``);
* logo retention = active customers / customers × 100;
* revenue: the cohort's revenue events in the period;
* net revenue retention (NRR) = revenue of the period / revenue of the
  cohort's first period × 100, uncapped (expansion counts);
* gross revenue retention (GRR) = sum over the cohort's customers of their
  revenue of the period capped at their own first-period revenue / revenue of
  the first period × 100: at most 100 %, expansion of one customer never
  hides the loss of another.

A sales team's cohort holds the customers whose first revenue event was the
team's; their activity and revenue are counted in the whole company, as a
customer stays or leaves the company.
"""

from odoo import api, fields, models
from odoo.tools import SQL

from ..kpi import period as P
from ..kpi.base import shared_rows
from ..kpi.customers import events_before_sql, firsts_table, refresh_firsts
from ..kpi.events import bound
from .crm_kpi_snapshot import Disagreement

# how many periods back the cohorts of a period go (the period included)
COHORT_DEPTH = {"month": 24, "quarter": 12}
# acquisition periods shown in the heat maps of the report and dashboard
HEAT_MAP_DEPTH = 12
COHORT_GRANULARITIES = [("month", "Month"), ("quarter", "Quarter")]


def _cohort_read(lane):
    """The cohorts' read of the period of ``lane``, on its connection."""
    return lane.env["crm.kpi.cohort"]._cohort_rows(lane)


def pct(num, den):
    return float(num or 0) / float(den) * 100 if den else 0.0


class CrmKpiCohort(models.Model):
    _name = "crm.kpi.cohort"
    _description = "CRM KPI customer cohort"
    _order = "company_id, granularity, scope, team_id, cohort_start, period_index"
    _rec_name = "cohort_label"

    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True
    )
    scope = fields.Selection(
        [("company", "Company"), ("team", "Sales Team")], required=True, readonly=True
    )
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    granularity = fields.Selection(
        COHORT_GRANULARITIES, required=True, readonly=True, index=True
    )
    cohort_start = fields.Date("Acquisition Period Start", required=True, readonly=True)
    cohort_label = fields.Char("Acquisition Period", readonly=True)
    period_index = fields.Integer(
        "Periods Since Acquisition",
        readonly=True,
        aggregator=False,
        help="0: the acquisition period itself.",
    )
    period_start = fields.Date(required=True, readonly=True, index=True)
    period_label = fields.Char("Period", readonly=True)
    customers = fields.Integer(
        "Customers Acquired", readonly=True, help="Size of the cohort."
    )
    active_customers = fields.Integer(
        readonly=True,
        help="Customers of the cohort still active at the end of the period "
        "(a revenue event within the activity window).",
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    revenue = fields.Monetary(
        readonly=True, help="Revenue of the cohort's customers in the period."
    )
    first_revenue = fields.Monetary(
        "First-Period Revenue",
        readonly=True,
        help="Revenue of the cohort's customers in their acquisition period.",
    )
    retained_revenue = fields.Monetary(
        readonly=True,
        help="Revenue of the period, each customer capped at his own "
        "first-period revenue (numerator of the gross revenue retention).",
    )
    logo_retention = fields.Float(
        "Logo Retention (%)",
        readonly=True,
        aggregator="avg",
        help="Active customers / customers acquired × 100.",
    )
    gross_revenue_retention = fields.Float(
        "GRR (%)",
        readonly=True,
        aggregator="avg",
        help="Gross revenue retention: the period's revenue of the cohort, "
        "each customer capped at his own first-period revenue, / the cohort's "
        "first-period revenue × 100. At most 100 %.",
    )
    net_revenue_retention = fields.Float(
        "NRR (%)",
        readonly=True,
        aggregator="avg",
        help="Net revenue retention: the period's revenue of the cohort / its "
        "first-period revenue × 100, uncapped (expansion counts).",
    )
    computed_at = fields.Datetime(readonly=True)

    _cohort_unique = models.UniqueIndex(
        "(company_id, granularity, scope, COALESCE(team_id, 0), cohort_start,"
        " period_start)"
    )

    # -- grouped reads: rates as ratios of sums, never averages -----------
    _RATES = {
        "logo_retention": ("active_customers", "customers"),
        "gross_revenue_retention": ("retained_revenue", "first_revenue"),
        "net_revenue_retention": ("revenue", "first_revenue"),
    }

    def _read_group_select(self, aggregate_spec, query):
        """A group of several rows shows its rates as the ratio of the summed
        numerators and denominators (the retention of all its customers)."""
        fname, __, func = aggregate_spec.partition(":")
        if fname in self._RATES and func in ("avg", "sum"):
            num, den = self._RATES[fname]
            t = self._table
            return SQL(
                "SUM(%s)::float / NULLIF(SUM(%s), 0) * 100",
                SQL.identifier(t, num),
                SQL.identifier(t, den),
            )
        return super()._read_group_select(aggregate_spec, query)

    # -- computation -------------------------------------------------------
    @api.model
    def _cohort_bounds(self, ctx):
        """Starts of the cohort periods (oldest first, the computed period
        last) and the end of the computed period."""
        depth = COHORT_DEPTH[ctx.granularity]
        starts = [
            P.shift_period(ctx.granularity, ctx.date_start, -k, ctx.calendar)
            for k in range(depth - 1, -1, -1)
        ]
        return starts, ctx.date_end

    @api.model
    def _cohort_customers_sql(self, ctx):
        """One row per customer acquired in the cohort periods: its cohort
        (1-based index into the starts), the team of its first event (the
        first by number of its first day), its revenue in its first period
        and in the computed period, and whether it is active at the period's
        end.

        Read from the customers' rows of first purchases alone (their kept
        events and running totals: ``crm.kpi.customer.first``), no document:
        a customer acquired in the cohorts' periods has all his events
        there.  A customer with one row (the usual case) is read from it, the
        others are grouped over their rows."""
        starts, end = self._cohort_bounds(ctx)
        refresh_firsts(self.env)
        bounds = [bound(ctx, day) for day in (*starts, end)]
        first = bound(ctx, starts[0])

        def revenue(moment):
            # a row's revenue before ``moment`` (its running total there)
            return SQL(
                "COALESCE(k.event_revenue[%s], 0)", events_before_sql("k", moment)
            )

        # the customer's cohort, as an SQL expression of his first moment
        def cohort(first_at):
            return SQL("width_bucket(%s, %s::timestamp[])", first_at, bounds[:-1])

        def row_figures(ci):
            # a row's revenue in the cohort ``ci``'s period and in the
            # computed period, and whether it bought in the window of the end
            b = SQL("%s::timestamp[]", bounds)
            return SQL(
                """%(r_next)s - %(r_ci)s AS r0,
                   %(r_end)s - %(r_start)s AS rx,
                   %(n_end)s > %(n_w)s AS active""",
                r_next=revenue(SQL("(%s)[%s + 1]", b, ci)),
                r_ci=revenue(SQL("(%s)[%s]", b, ci)),
                r_end=revenue(bound(ctx, end)),
                r_start=revenue(bound(ctx, ctx.date_start)),
                n_end=events_before_sql("k", bound(ctx, end)),
                n_w=events_before_sql("k", bound(ctx, ctx.window_start(end))),
            )

        rows = SQL(
            """%(firsts)s
             WHERE k.company_id = %(company)s
               AND k.first_at >= %(first)s AND k.first_at < %(end)s""",
            firsts=firsts_table(self.env, "k"),
            company=ctx.company.id,
            first=first,
            end=bound(ctx, end),
        )
        return SQL(
            """
            SELECT k.partner_id, k.team_id, %(ci)s AS ci, %(figures)s
              FROM %(rows)s AND k.partner_rows = 1
            UNION ALL
            SELECT partner_id,
                   (ARRAY_AGG(team_id ORDER BY first_day, first_document_id))[1],
                   MIN(ci), SUM(r0), SUM(rx), BOOL_OR(active)
              FROM (
                SELECT k.partner_id, k.team_id, k.first_day, k.first_document_id,
                       k.ci, %(figures_c)s
                  FROM (
                    SELECT k.*, %(ci_all)s AS ci
                      FROM %(rows)s AND k.partner_rows > 1
                      -- the customer's first purchase of the company is in
                      -- the cohorts' periods: none of his rows is older
                      AND NOT EXISTS (
                          SELECT 1 FROM %(older)s
                           WHERE o.partner_id = k.partner_id
                             AND o.company_id = k.company_id
                             AND o.first_at < %(first)s)
                  ) k
              ) several
             GROUP BY partner_id
            """,
            ci=cohort(SQL("k.first_at")),
            figures=row_figures(cohort(SQL("k.first_at"))),
            figures_c=row_figures(SQL("k.ci")),
            rows=rows,
            older=firsts_table(self.env, "o"),
            first=first,
            ci_all=cohort(SQL("MIN(k.first_at) OVER (PARTITION BY k.partner_id)")),
        )

    @api.model
    def _cohort_rows(self, ctx, read_ctx=None):
        """The customers of every cohort of ``ctx``'s period counted per
        cohort and sales team, read on ``read_ctx``'s connection (default
        ``ctx``) once per period computation: a connection of the period may
        have read them at the same time as the families
        (``crm.kpi.snapshot._kpi_more_reads``)."""
        read_ctx = read_ctx or ctx
        # a window over every revenue event of the company: the families'
        # memory for sorts and hashes, else it spills to temporary files
        return shared_rows(
            read_ctx,
            "cohort_rows",
            lambda: SQL(
                """
                WITH customers AS (%(customers)s)
                SELECT ci, team_id, GROUPING(team_id) = 1 AS is_company,
                       COUNT(*) AS customers,
                       COUNT(*) FILTER (WHERE active) AS active,
                       SUM(rx) AS revenue, SUM(r0) AS first_revenue,
                       SUM(LEAST(GREATEST(rx, 0), GREATEST(r0, 0))) AS retained
                  FROM customers
                 GROUP BY GROUPING SETS ((ci), (ci, team_id))
                """,
                customers=self._cohort_customers_sql(ctx),
            ),
        )

    @api.model
    def _compute_cohorts(self, ctx, read_ctx=None):
        """Compute and store the rows of ``ctx``'s period for every cohort
        of its company (company and sales team scopes), reading the records
        through ``read_ctx`` (its environment may read on a standby: see
        ``crm.kpi.snapshot._kpi_reading``; default ``ctx``)."""
        if ctx.granularity not in COHORT_DEPTH:
            return self.browse()
        starts, __ = self._cohort_bounds(ctx)
        rows = self._cohort_rows(ctx, read_ctx)
        cr = self.env.cr
        company = ctx.company
        cr.execute(
            SQL(
                "DELETE FROM crm_kpi_cohort WHERE company_id = %s AND granularity = %s"
                " AND period_start = %s",
                company.id,
                ctx.granularity,
                ctx.date_start,
            )
        )
        self.invalidate_model()
        label = P.period_label(ctx.granularity, ctx.date_start, ctx.calendar)
        now = fields.Datetime.now()
        vals = []
        depth = len(starts)
        for r in rows:
            if not r["is_company"] and not r["team_id"]:
                continue
            cohort_start = starts[r["ci"] - 1]
            first_revenue = float(r["first_revenue"] or 0)
            vals.append(
                {
                    "company_id": company.id,
                    "scope": "company" if r["is_company"] else "team",
                    "team_id": False if r["is_company"] else r["team_id"],
                    "granularity": ctx.granularity,
                    "cohort_start": cohort_start,
                    "cohort_label": P.period_label(
                        ctx.granularity, cohort_start, ctx.calendar
                    ),
                    "period_index": depth - r["ci"],
                    "period_start": ctx.date_start,
                    "period_label": label,
                    "customers": r["customers"],
                    "active_customers": r["active"],
                    "revenue": float(r["revenue"] or 0),
                    "first_revenue": first_revenue,
                    "retained_revenue": float(r["retained"] or 0),
                    "logo_retention": pct(r["active"], r["customers"]),
                    "gross_revenue_retention": pct(r["retained"], first_revenue),
                    "net_revenue_retention": pct(r["revenue"], first_revenue),
                    "computed_at": now,
                }
            )
        if not vals:
            return self.browse()
        # one INSERT of every row (an ORM create checks each relation)
        columns = list(vals[0])
        uid = self.env.uid
        cr.execute(
            SQL(
                "INSERT INTO crm_kpi_cohort (%s, create_uid, create_date, write_uid,"
                " write_date) VALUES %s RETURNING id",
                SQL(", ").join(SQL.identifier(c) for c in columns),
                SQL(", ").join(
                    SQL(
                        "(%s, %s, %s, %s, %s)",
                        SQL(", ").join(
                            SQL("%s", None if v[c] is False else v[c]) for c in columns
                        ),
                        uid,
                        now,
                        uid,
                        now,
                    )
                    for v in vals
                ),
            )
        )
        return self.browse([row[0] for row in cr.fetchall()])

    # -- heat map (success report, dashboard) ------------------------------
    @api.model
    def _heat_map(self, company, granularity, start, scope, team, depth=HEAT_MAP_DEPTH):
        """Logo retention by acquisition period (rows, the last ``depth``
        periods up to ``start``) and periods since acquisition (columns),
        from the stored rows of the scope (company, or ``team``), as the
        reader may read them; None when there is nothing to show."""
        if scope not in ("company", "team") or granularity not in COHORT_DEPTH:
            return None
        if not self.has_access("read"):
            return None
        calendar = company.kpi_period_calendar or "gregorian"
        first = P.shift_period(granularity, start, 1 - depth, calendar)
        rows = self.search(
            [
                ("company_id", "=", company.id),
                ("granularity", "=", granularity),
                ("scope", "=", scope),
                ("team_id", "=", team.id if scope == "team" else False),
                ("cohort_start", ">=", first),
                ("period_start", "<=", start),
                ("period_index", "<", depth),
            ]
        )
        if not rows:
            return None
        by_cohort = {}
        for row in rows:
            by_cohort.setdefault(row.cohort_start, {})[row.period_index] = row
        lines = []
        for cohort_start in sorted(by_cohort):
            cells = by_cohort[cohort_start]
            latest = cells[max(cells)]
            line = {
                "label": P.period_label(
                    granularity, cohort_start, calendar, translate=self.env._
                ),
                "customers": f"{latest.customers:,d}",
                "cells": [],
            }
            for index in range(depth):
                row = cells.get(index)
                if row is None:
                    line["cells"].append(
                        {"index": index, "text": "", "style": "", "id": False}
                    )
                    continue
                pct_value = row.logo_retention
                alpha = max(0.08, min(pct_value, 100.0) / 100.0)
                line["cells"].append(
                    {
                        "index": index,
                        "id": row.id,
                        "text": f"{pct_value:.0f}",
                        "title": self.env._(
                            "%(active)s of %(customers)s customers active in "
                            "%(period)s; NRR %(nrr)s %%, GRR %(grr)s %%",
                            active=row.active_customers,
                            customers=row.customers,
                            period=row.period_label,
                            nrr=f"{row.net_revenue_retention:.1f}",
                            grr=f"{row.gross_revenue_retention:.1f}",
                        ),
                        "style": f"background-color: rgba(40, 140, 80, {alpha:.2f});"
                        + (" color: #fff;" if alpha > 0.55 else ""),
                    }
                )
            lines.append(line)
        return {"indexes": list(range(depth)), "lines": lines}

    # -- drill-down ----------------------------------------------------------
    def _partner_ids(self, active_only=False):
        self.ensure_one()
        snapshot = self.env["crm.kpi.snapshot"]
        ctx = snapshot._period_context(
            self.company_id, self.granularity, self.period_start
        )
        starts, __ = self._cohort_bounds(ctx)
        ci = starts.index(self.cohort_start) + 1
        conditions = [SQL("ci = %s", ci)]
        if self.scope == "team":
            conditions.append(SQL("team_id = %s", self.team_id.id))
        if active_only:
            conditions.append(SQL("active"))
        self.env.flush_all()
        cr = self.env.cr
        cr.execute(
            SQL(
                "WITH customers AS (%s) SELECT partner_id FROM customers WHERE %s",
                self._cohort_customers_sql(ctx),
                SQL(" AND ").join(conditions),
            )
        )
        return [row[0] for row in cr.fetchall()]

    def _open_partners(self, active_only):
        self.ensure_one()
        ids = self.sudo()._partner_ids(active_only=active_only)
        name = (
            self.env._("Active customers of the %(cohort)s cohort in %(period)s")
            if active_only
            else self.env._("Customers acquired in %(cohort)s")
        ) % {"cohort": self.cohort_label, "period": self.period_label}
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": "res.partner",
            "view_mode": "list,form",
            "domain": [("id", "in", ids)],
            "context": {"create": False, "active_test": False},
        }

    def action_open_customers(self):
        return self._open_partners(active_only=False)

    def action_open_active_customers(self):
        return self._open_partners(active_only=True)

    # -- reconciliation ----------------------------------------------------
    @api.model
    def _reconcile(self, ctx):
        """``[(row or None, field, stored, recounted)]``: the stored rows of
        ``ctx``'s period whose customers or active customers differ from what
        the revenue events give now (a document edited after the
        computation), and the cohorts that now have customers but no row."""
        if ctx.granularity not in COHORT_DEPTH:
            return []
        starts, __ = self._cohort_bounds(ctx)
        self.env.flush_all()
        cr = self.env.cr
        cr.execute(
            SQL(
                """
                WITH customers AS (%s)
                SELECT ci, team_id, GROUPING(team_id) = 1 AS is_company,
                       COUNT(*) AS customers,
                       COUNT(*) FILTER (WHERE active) AS active
                  FROM customers
                 GROUP BY GROUPING SETS ((ci), (ci, team_id))
                """,
                self._cohort_customers_sql(ctx),
            )
        )
        now = {}
        for r in cr.dictfetchall():
            if not r["is_company"] and not r["team_id"]:
                continue
            key = (starts[r["ci"] - 1], None if r["is_company"] else r["team_id"])
            now[key] = (r["customers"], r["active"])
        rows = self.sudo().search(
            [
                ("company_id", "=", ctx.company.id),
                ("granularity", "=", ctx.granularity),
                ("period_start", "=", ctx.date_start),
            ]
        )
        found = []
        for row in rows:
            key = (row.cohort_start, row.team_id.id or None)
            customers, active = now.pop(key, (0, 0))
            if row.customers != customers:
                found.append((row, "customers", row.customers, customers))
            if row.active_customers != active:
                found.append((row, "active_customers", row.active_customers, active))
        for (__, ___), (customers, ___active) in now.items():
            found.append((None, "customers", 0, customers))
        return found


class CrmKpiSnapshot(models.Model):
    _inherit = "crm.kpi.snapshot"

    @api.model
    def reconcile_period(self, granularity, date_start, companies=None, scopes=None):
        """The cohorts of the period are recounted too, with the company
        snapshot: a disagreement's code reads ``cohort <acquisition period>
        [team]: customers`` (or ``active_customers``)."""
        found = super().reconcile_period(
            granularity, date_start, companies=companies, scopes=scopes
        )
        if granularity not in COHORT_DEPTH or (
            scopes is not None and "company" not in scopes
        ):
            return found
        domain = [
            ("granularity", "=", granularity),
            ("date_start", "<=", date_start),
            ("date_end", ">", date_start),
            ("scope", "=", "company"),
        ]
        if companies is not None:
            domain.append(("company_id", "in", companies.ids))
        Cohort = self.env["crm.kpi.cohort"]
        for snapshot in self.sudo().search(domain):
            ctx = self._period_context(
                snapshot.company_id, granularity, snapshot.date_start
            )
            for row, field, stored, recounted in Cohort._reconcile(ctx):
                label = row.cohort_label if row else "?"
                if row and row.team_id:
                    label = f"{label} {row.team_id.display_name}"
                found.append(
                    Disagreement(
                        snapshot,
                        f"cohort {label}: {field}",
                        float(stored),
                        float(recounted),
                        "numerator",
                    )
                )
        return found

    def _kpi_more_reads(self, ctx):
        reads = super()._kpi_more_reads(ctx)
        if ctx.granularity in COHORT_DEPTH:
            reads.append(_cohort_read)
        return reads

    def _kpi_compute_and_store(self, ctx, read_ctx, source):
        snapshots = super()._kpi_compute_and_store(ctx, read_ctx, source)
        if ctx.granularity in COHORT_DEPTH:
            self.env["crm.kpi.cohort"]._compute_cohorts(ctx, read_ctx=read_ctx)
        return snapshots
