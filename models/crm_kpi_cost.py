"""Sales and marketing cost entries: what acquiring customers costs.

Entries are typed by hand, imported from CSV/XLSX with Odoo's import, or
synced from posted journal items of analytic accounts
(:meth:`CrmKpiCost.action_sync_analytic`).  Every amount is converted to the company
currency at the rate of the entry's own date and stored, so the KPI families
sum plain numbers.
"""

import logging
from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

COST_CATEGORIES = [("sales", "Sales"), ("marketing", "Marketing")]
COST_SOURCES = [
    ("manual", "Entered by hand"),
    ("import", "Imported"),
    ("analytic", "Analytic accounting"),
]


class CrmKpiMoneyMixin(models.AbstractModel):
    """A dated amount in any currency, converted to the company currency at
    the rate of its date.  Amounts must be positive and the currency must
    have a rate for the date: nothing is converted at a silent 1:1."""

    _name = "crm.kpi.money.mixin"
    _description = "CRM KPI Dated Amount"

    name = fields.Char("Description", required=True)
    date = fields.Date(required=True, index=True, default=fields.Date.context_today)
    company_id = fields.Many2one("res.company", required=True, index=True)
    company_currency_id = fields.Many2one(
        related="company_id.currency_id", string="Company Currency"
    )
    currency_id = fields.Many2one(
        "res.currency",
        required=True,
        default=lambda self: self.env.company.currency_id,
    )
    amount = fields.Monetary(required=True, currency_field="currency_id")
    amount_company = fields.Monetary(
        "Amount (company currency)",
        currency_field="company_currency_id",
        compute="_compute_amount_company",
        store=True,
        help="The amount converted to the company currency at the rate of "
        "the entry's date.",
    )

    @api.depends("amount", "currency_id", "date", "company_id")
    def _compute_amount_company(self):
        for rec in self:
            company = rec.company_id
            if not (company and rec.currency_id and rec.date):
                rec.amount_company = 0.0
                continue
            rec.amount_company = rec.currency_id._convert(
                rec.amount, company.currency_id, company, rec.date
            )

    def _kpi_allows_negative(self):
        """Whether this record may carry a negative amount (a credit note
        mirrored from the ledger)."""
        return False

    @api.constrains("amount")
    def _check_kpi_amount(self):
        for rec in self:
            if rec.amount < 0 and rec._kpi_allows_negative():
                continue
            if rec.amount < 0 or (rec.currency_id or rec.company_currency_id).is_zero(
                rec.amount
            ):
                raise ValidationError(
                    self.env._(
                        "%(what)s %(name)s of %(date)s: the amount must be greater "
                        "than zero (got %(amount)s).",
                        what=self._description,
                        name=rec.name or "",
                        date=rec.date or "",
                        amount=rec.amount,
                    )
                )

    @api.constrains("currency_id", "date", "company_id")
    def _check_kpi_currency_rate(self):
        """Refuse entries in a currency that has no exchange rate on or before
        their date: Odoo would otherwise convert them at 1:1.  The company
        currency needs a rate too when rates were entered for it; without any
        rate it is the reference currency (rate 1)."""
        Rate = self.env["res.currency.rate"].sudo()
        by_root = defaultdict(lambda: self.browse())
        for rec in self:
            if (
                rec.currency_id
                and rec.company_id
                and rec.currency_id != rec.company_id.currency_id
            ):
                by_root[rec.company_id.root_id] |= rec
        for root, recs in by_root.items():
            currencies = recs.currency_id | recs.company_id.currency_id
            first = dict(
                Rate._read_group(
                    [
                        ("currency_id", "in", currencies.ids),
                        ("company_id", "in", [False, root.id]),
                    ],
                    ["currency_id"],
                    ["name:min"],
                )
            )
            for rec in recs:
                company_currency = rec.company_id.currency_id
                for currency, required in (
                    (rec.currency_id, True),
                    (company_currency, company_currency in first),
                ):
                    since = first.get(currency)
                    if required and (not since or since > rec.date):
                        raise ValidationError(
                            self.env._(
                                "%(what)s %(name)s: %(currency)s has no exchange rate "
                                "on or before %(date)s, so its amount cannot be "
                                "converted to %(company_currency)s. Add a rate in "
                                "the currency settings or enter the amount in "
                                "%(company_currency)s.",
                                what=self._description,
                                name=rec.name or "",
                                currency=currency.name,
                                date=rec.date,
                                company_currency=company_currency.name,
                            )
                        )


class CrmKpiCost(models.Model):
    _name = "crm.kpi.cost"
    _inherit = ["crm.kpi.money.mixin"]
    _description = "CRM Cost Entry"
    _order = "date desc, id desc"
    _check_company_auto = True

    company_id = fields.Many2one(default=lambda self: self.env.company)
    category = fields.Selection(
        COST_CATEGORIES,
        required=True,
        default="marketing",
        index=True,
        help="Sales and marketing costs both count in the customer acquisition cost.",
    )
    campaign_id = fields.Many2one(
        "utm.campaign",
        index="btree_not_null",
        ondelete="set null",
        help="Costs with a campaign count in that campaign's ROI.",
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        index="btree_not_null",
        ondelete="set null",
        check_company=True,
        help="Costs with a sales team count in that team's CAC too.",
    )
    source = fields.Selection(
        COST_SOURCES, required=True, default="manual", readonly=True
    )
    analytic_line_id = fields.Many2one(
        "account.analytic.line",
        string="Analytic Item",
        readonly=True,
        ondelete="cascade",
        copy=False,
        help="The journal item's analytic line this entry mirrors; the entry "
        "follows it on every sync and goes away with it.",
    )
    analytic_account_id = fields.Many2one(
        "account.analytic.account",
        readonly=True,
        copy=False,
    )

    _analytic_line_unique = models.UniqueIndex(
        "(analytic_line_id) WHERE analytic_line_id IS NOT NULL",
        "A journal item is synced into one cost entry only.",
    )

    def _kpi_allows_negative(self):
        # credit notes of expenses reduce the synced costs
        return bool(self.analytic_line_id)

    @api.model_create_multi
    def create(self, vals_list):
        if self.env.context.get("import_file"):
            for vals in vals_list:
                if vals.get("source", "manual") == "manual":
                    vals["source"] = "import"
        return super().create(vals_list)

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        for vals in vals_list:
            vals["source"] = "manual"
        return vals_list

    # -- costs drawn from accounting --------------------------------------
    # Cost entries drawn from accounting: posted journal items on analytic
    # accounts that the company settings map to sales or marketing.
    #
    # Each analytic line of a posted expense item is mirrored by exactly one cost
    # entry (a unique index on the link), so a re-sync updates entries in place and
    # never counts an item twice.  An entry disappears when its item is no longer
    # posted or no longer on a mapped account.
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
