"""Cost entries drawn from accounting: posted journal items on analytic
accounts that the company settings map to sales or marketing.

Each analytic line of a posted expense item is mirrored by exactly one cost
entry (a unique index on the link), so a re-sync updates entries in place and
never counts an item twice.  An entry disappears when its item is no longer
posted or no longer on a mapped account.
"""

import logging

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import SQL

_logger = logging.getLogger(__name__)


class ResCompany(models.Model):
    _inherit = "res.company"

    kpi_cost_sales_analytic_ids = fields.Many2many(
        "account.analytic.account",
        "crm_kpi_company_sales_analytic_rel",
        "company_id",
        "account_id",
        string="Sales Cost Analytic Accounts",
        help="Posted expense items on these analytic accounts become sales cost "
        "entries of the customer acquisition cost.",
    )
    kpi_cost_marketing_analytic_ids = fields.Many2many(
        "account.analytic.account",
        "crm_kpi_company_marketing_analytic_rel",
        "company_id",
        "account_id",
        string="Marketing Cost Analytic Accounts",
        help="Posted expense items on these analytic accounts become marketing "
        "cost entries of the customer acquisition cost.",
    )

    @api.constrains("kpi_cost_sales_analytic_ids", "kpi_cost_marketing_analytic_ids")
    def _check_kpi_cost_analytic_mapping(self):
        for company in self:
            both = (
                company.kpi_cost_sales_analytic_ids
                & company.kpi_cost_marketing_analytic_ids
            )
            if both:
                raise ValidationError(
                    self.env._(
                        "The analytic accounts %(accounts)s are mapped to both sales "
                        "and marketing costs of %(company)s: map each account to "
                        "one category only.",
                        accounts=", ".join(both.mapped("display_name")),
                        company=company.name,
                    )
                )


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    kpi_cost_sales_analytic_ids = fields.Many2many(
        related="company_id.kpi_cost_sales_analytic_ids", readonly=False
    )
    kpi_cost_marketing_analytic_ids = fields.Many2many(
        related="company_id.kpi_cost_marketing_analytic_ids", readonly=False
    )

    def action_kpi_sync_analytic_costs(self):
        self.ensure_one()
        return (
            self.env["crm.kpi.cost"]
            .with_company(self.company_id)
            .action_sync_analytic()
        )


class CrmKpiCost(models.Model):
    _inherit = "crm.kpi.cost"

    def action_sync_analytic(self):
        """Button: sync the analytic costs of the user's current companies."""
        if not (
            self.env.is_superuser()
            or self.env.user.has_group("crm_success_kpi.group_crm_kpi_manager")
        ):
            raise AccessError(
                self.env._("Only KPI managers can sync costs from accounting.")
            )
        # journal items need accounting rights the KPI manager may not have:
        # the check above is the gate
        created, updated, removed = self.sudo()._kpi_sync_analytic(self.env.companies)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "title": self.env._("Costs synced from accounting"),
                "message": self.env._(
                    "%(created)s new, %(updated)s updated, %(removed)s removed "
                    "cost entries.",
                    created=created,
                    updated=updated,
                    removed=removed,
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    @api.model
    def _cron_kpi_sync_analytic(self):
        """Daily: sync every company, one commit per company."""
        companies = self.env["res.company"].sudo().search([("active", "=", True)])
        for index, company in enumerate(companies):
            try:
                with self.env.cr.savepoint():
                    self.sudo()._kpi_sync_analytic(company)
            except Exception:
                _logger.exception(
                    "CRM KPIs: syncing analytic costs of %s failed", company.name
                )
            self.env["ir.cron"]._commit_progress(
                1, remaining=len(companies) - index - 1
            )

    @api.model
    def _kpi_sync_analytic(self, companies):
        """Mirror the analytic lines of posted expense items on mapped
        accounts of ``companies`` into cost entries.  Idempotent: returns
        the counts ``(created, updated, removed)``."""
        Line = self.env["account.analytic.line"]
        plan_fnames = Line._get_plan_fnames()
        created = updated = removed = 0
        for company in companies:
            # one sync of a company at a time
            self.env.cr.execute(
                SQL(
                    "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                    company.id,
                    "crm_kpi_cost_sync",
                )
            )
            sales = company.kpi_cost_sales_analytic_ids
            marketing = company.kpi_cost_marketing_analytic_ids
            existing = {
                cost.analytic_line_id.id: cost
                for cost in self.with_context(active_test=False).search(
                    [("company_id", "=", company.id), ("analytic_line_id", "!=", False)]
                )
            }
            lines = Line.browse()
            if sales or marketing:
                lines = Line.search(
                    [
                        ("company_id", "=", company.id),
                        ("move_line_id.parent_state", "=", "posted"),
                        ("general_account_id.internal_group", "=", "expense"),
                        ("auto_account_id", "in", (sales | marketing).ids),
                    ]
                )
            currency = company.currency_id
            to_create = []
            seen = set()
            for line in lines:
                amount = -line.amount  # expenses are negative analytic amounts
                if currency.is_zero(amount):
                    continue
                accounts = [line[f] for f in plan_fnames if line[f]]
                account = next((a for a in accounts if a in sales), None)
                category = "sales"
                if not account:
                    account = next(a for a in accounts if a in marketing)
                    category = "marketing"
                vals = {
                    "name": line.name or line.move_line_id.move_id.name or "/",
                    "date": line.date,
                    "amount": amount,
                    "currency_id": currency.id,
                    "category": category,
                    "analytic_account_id": account.id,
                }
                seen.add(line.id)
                cost = existing.get(line.id)
                if cost:
                    changed = {
                        k: v
                        for k, v in vals.items()
                        if (
                            cost[k].id
                            if isinstance(cost[k], models.BaseModel)
                            else cost[k]
                        )
                        != v
                    }
                    if changed:
                        cost.write(changed)
                        updated += 1
                else:
                    vals.update(
                        company_id=company.id,
                        source="analytic",
                        analytic_line_id=line.id,
                    )
                    to_create.append(vals)
            if to_create:
                self.create(to_create)
                created += len(to_create)
            stale = self.browse(
                [cost.id for line_id, cost in existing.items() if line_id not in seen]
            )
            if stale:
                removed += len(stale)
                stale.unlink()
        return created, updated, removed
