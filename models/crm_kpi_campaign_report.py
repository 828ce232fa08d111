"""Campaign results per period: the ranking of campaigns by ROI, responses
and orders.

The rows are written by the engine together with the snapshots of a period
(from the breakdown the costs family computes anyway), so the ranking reads
stored history and never recomputes.  Recomputing a period replaces its
rows.
"""

from odoo import api, fields, models
from odoo.tools import SQL

from ..kpi import base as kpi_base
from ..kpi import period as P
from ..kpi.events import events_domain
from .crm_kpi_family_costs import breakdown_key
from .crm_kpi_snapshot import GRANULARITY


class CrmKpiCampaignReport(models.Model):
    _name = "crm.kpi.campaign.report"
    _description = "CRM KPI Campaign Results"
    _order = (
        "date_start desc, granularity, has_roi desc, roi desc, orders desc, "
        "responses desc, id"
    )
    _rec_name = "campaign_id"

    granularity = fields.Selection(
        GRANULARITY, required=True, readonly=True, index=True
    )
    date_start = fields.Date(required=True, readonly=True, index=True)
    date_end = fields.Date(required=True, readonly=True, help="Exclusive end.")
    period_label = fields.Char(string="Period", readonly=True)
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True, ondelete="cascade"
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    campaign_id = fields.Many2one(
        "utm.campaign", required=True, readonly=True, index=True, ondelete="cascade"
    )
    responses = fields.Integer(
        readonly=True, help="Leads created in the period with the campaign."
    )
    orders = fields.Integer(
        readonly=True,
        help="Revenue events of the period attributed to the campaign (the "
        "order's campaign, else its opportunity's).",
    )
    revenue = fields.Monetary(readonly=True, currency_field="currency_id")
    gross_profit = fields.Monetary(readonly=True, currency_field="currency_id")
    cost = fields.Monetary(readonly=True, currency_field="currency_id")
    roi = fields.Float(
        "ROI (%)",
        readonly=True,
        aggregator="sum",
        digits=(16, 2),
        help="(Revenue − cost) / cost × 100. Empty for campaigns without costs "
        "in the period. Grouped, the ROI of the campaigns with costs taken "
        "together.",
    )
    has_roi = fields.Boolean("Has ROI", readonly=True)
    computed_at = fields.Datetime(readonly=True)

    _period_campaign_unique = models.Constraint(
        "UNIQUE(granularity, date_start, company_id, campaign_id)",
        "A campaign has one result per period and company.",
    )

    def _read_group_select(self, aggregate_spec, query):
        """Grouped ROI: (Σ revenue − Σ cost) / Σ cost over the campaigns with
        costs, never an average of ROIs."""
        if aggregate_spec == "roi:sum":
            t = self._table

            def costed(column):
                return SQL(
                    "SUM(%s) FILTER (WHERE %s)",
                    SQL.identifier(t, column),
                    SQL.identifier(t, "has_roi"),
                )

            return SQL(
                "(%s - %s) / NULLIF(%s, 0) * 100",
                costed("revenue"),
                costed("cost"),
                costed("cost"),
            )
        return super()._read_group_select(aggregate_spec, query)

    @api.model
    def _kpi_store_period(self, ctx, breakdown):
        """Replace the rows of ``ctx``'s period and company by ``breakdown``."""
        cr = self.env.cr
        now = fields.Datetime.now()
        uid = self.env.uid
        label = P.period_label(ctx.granularity, ctx.date_start, ctx.calendar)
        kept = []
        if breakdown:
            rows = []
            for b in breakdown:
                roi = None
                if b["has_cost"] and b["cost"]:
                    roi = (b["revenue"] - b["cost"]) / b["cost"] * 100.0
                rows.append(
                    {
                        "granularity": ctx.granularity,
                        "date_start": ctx.date_start,
                        "date_end": ctx.date_end,
                        "period_label": label,
                        "company_id": ctx.company.id,
                        "campaign_id": b["campaign_id"],
                        "responses": b["responses"],
                        "orders": b["orders"],
                        "revenue": b["revenue"],
                        "gross_profit": b["gross_profit"],
                        "cost": b["cost"],
                        "roi": roi,
                        "has_roi": roi is not None,
                        "computed_at": now,
                        "create_uid": uid,
                        "create_date": now,
                        "write_uid": uid,
                        "write_date": now,
                    }
                )
            kept = [
                r[0]
                for r in kpi_base.upsert(
                    cr,
                    "crm_kpi_campaign_report",
                    rows,
                    ("granularity", "date_start", "company_id", "campaign_id"),
                )
            ]
        kpi_base.delete_stale(cr, "crm_kpi_campaign_report", ctx, kept)
        self.invalidate_model()

    # ------------------------------------------------------------------
    # Drill-down
    # ------------------------------------------------------------------
    def _context(self):
        self.ensure_one()
        return self.env["crm.kpi.snapshot"]._period_context(
            self.company_id, self.granularity, self.date_start
        )

    def _open(self, name, model, domain):
        return {
            "type": "ir.actions.act_window",
            "name": f"{self.campaign_id.display_name} · {self.period_label} · {name}",
            "res_model": model,
            "views": [(False, "list"), (False, "form")],
            "domain": domain,
            "context": {"active_test": False, "create": False},
            "target": "current",
        }

    def action_open_orders(self):
        ctx = self._context()
        model, domain = events_domain(ctx, ctx.date_start, ctx.date_end)
        if model == "sale.order":
            domain += [
                "|",
                ("campaign_id", "=", self.campaign_id.id),
                "&",
                ("campaign_id", "=", False),
                ("opportunity_id.campaign_id", "=", self.campaign_id.id),
            ]
        else:
            domain.append(("campaign_id", "=", self.campaign_id.id))
        return self._open(self.env._("Orders"), model, domain)

    def action_open_responses(self):
        ctx = self._context()
        return self._open(
            self.env._("Responses"),
            "crm.lead",
            [
                ("company_id", "=", self.company_id.id),
                ("campaign_id", "=", self.campaign_id.id),
                ("create_date", ">=", ctx.start_utc),
                ("create_date", "<", ctx.end_utc),
            ],
        )

    def action_open_costs(self):
        self.ensure_one()
        return self._open(
            self.env._("Costs"),
            "crm.kpi.cost",
            [
                ("company_id", "=", self.company_id.id),
                ("campaign_id", "=", self.campaign_id.id),
                ("date", ">=", self.date_start),
                ("date", "<", self.date_end),
            ],
        )


class CrmKpiSnapshot(models.Model):
    _inherit = "crm.kpi.snapshot"

    def _store(self, ctx, results, source=None):
        snapshots = super()._store(ctx, results, source)
        breakdown = ctx.extra.pop(breakdown_key(ctx), None)
        if breakdown is not None:
            self.env["crm.kpi.campaign.report"]._kpi_store_period(ctx, breakdown)
        return snapshots
