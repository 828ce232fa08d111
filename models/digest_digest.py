"""The headline KPIs in Odoo's KPI Digest mails.

Each KPI is a switch of the digest (a ``kpi_*`` boolean, as Odoo's own digest
KPIs) and is read from the stored company values, never computed: the
digest's three columns show, for these KPIs, the last closed week, month and
quarter of the company's period calendar (instead of the rolling last 24
hours, 7 and 30 days of Odoo's counters, which no stored period matches),
each against the period before it (a relative change for counts, amounts
and durations; percentage points, in the column's caption, for rates and
scores, as on the dashboard). The values are read as the mail's
recipient, so record rules apply: a user who may not read the company's
values gets the digest without them, as digest does for any KPI he has no
right to.
"""

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import float_round

from ..kpi import period as P

# (digest field suffix, KPI code)
DIGEST_KPIS = (
    ("churn_rate", "churn_rate"),
    ("net_new_customers", "net_new_customers"),
    ("win_rate", "win_rate"),
    ("first_response", "ticket_first_response_hours"),
    ("nps", "nps"),
)
COLUMNS = ("week", "month", "quarter")
PREFIX = "kpi_crm_success_"


class DigestDigest(models.Model):
    _inherit = "digest.digest"

    kpi_crm_success_churn_rate = fields.Boolean("Churn Rate (CRM Success)")
    kpi_crm_success_churn_rate_value = fields.Float(
        "Churn Rate, Last Closed Month (CRM Success)",
        compute="_compute_kpi_crm_success",
    )
    kpi_crm_success_net_new_customers = fields.Boolean(
        "Net New Customers (CRM Success)"
    )
    kpi_crm_success_net_new_customers_value = fields.Float(
        "Net New Customers, Last Closed Month (CRM Success)",
        compute="_compute_kpi_crm_success",
    )
    kpi_crm_success_win_rate = fields.Boolean("Win Rate (CRM Success)")
    kpi_crm_success_win_rate_value = fields.Float(
        "Win Rate, Last Closed Month (CRM Success)", compute="_compute_kpi_crm_success"
    )
    kpi_crm_success_first_response = fields.Boolean(
        "First Response Time, Hours (CRM Success)"
    )
    kpi_crm_success_first_response_value = fields.Float(
        "First Response Time, Hours, Last Closed Month (CRM Success)",
        compute="_compute_kpi_crm_success",
    )
    kpi_crm_success_nps = fields.Boolean("Net Promoter Score (CRM Success)")
    kpi_crm_success_nps_value = fields.Float(
        "Net Promoter Score, Last Closed Month (CRM Success)",
        compute="_compute_kpi_crm_success",
    )

    # -- reading the stored values ----------------------------------------------
    @api.model
    def _kpi_stored_value(self, company, code, granularity, date_start):
        """The stored company value (record) of ``code`` for the period, as
        the current user may read it; empty when not computed or not
        readable. Raises AccessError when the user may not read KPI values
        at all."""
        Value = self.env["crm.kpi.value"].with_company(company)
        if not Value.has_access("read"):
            raise AccessError(self.env._("No access to the stored KPI values."))
        domain = [
            ("company_id", "=", company.id),
            ("scope", "=", "company"),
            ("granularity", "=", granularity),
            ("date_start", "=", date_start),
            ("kpi_code", "=", code),
        ]
        value = Value.search(domain, limit=1)
        if not value and Value.sudo().search_count(domain, limit=1):
            # stored, but not for this reader (his own scope only)
            raise AccessError(self.env._("No access to the company's KPI values."))
        return value

    @api.model
    def _kpi_last_closed(self, company, granularity, today):
        calendar = company.kpi_period_calendar or "gregorian"
        current = P.period_start(granularity, today, calendar)
        return P.shift_period(granularity, current, -1, calendar)

    def _compute_kpi_crm_success(self):
        """The value of the last closed month (what a digest field holds
        when read outside the mail)."""
        company = self.env.company
        today = fields.Date.context_today(self)
        month = self._kpi_last_closed(company, "month", today)
        for suffix, code in DIGEST_KPIS:
            name = f"{PREFIX}{suffix}_value"
            value = self._kpi_stored_value(company, code, "month", month)
            for digest in self:
                digest[name] = value.value if value and value.has_value else 0.0

    def _compute_kpis(self, company, user):
        kpis = super()._compute_kpis(company, user)
        ours = {f"{PREFIX}{suffix}": code for suffix, code in DIGEST_KPIS}
        mine = [k for k in kpis if k["kpi_name"] in ours]
        if not mine:
            return kpis
        today = fields.Date.context_today(self.with_user(user))
        reader = self.with_user(user).with_company(company)
        dropped = set()
        for kpi in mine:
            code = ours[kpi["kpi_name"]]
            try:
                kpi.update(reader._kpi_digest_columns(company, code, today))
            except AccessError:
                dropped.add(kpi["kpi_name"])
                continue
            kpi["kpi_action"] = "crm_success_kpi.crm_kpi_dashboard_action"
        return [k for k in kpis if k["kpi_name"] not in dropped]

    def _kpi_digest_columns(self, company, code, today):
        """``kpi_col1..3`` of one KPI: the last closed week, month and
        quarter, with the change against the period before."""
        calendar = company.kpi_period_calendar or "gregorian"
        columns = {}
        for index, granularity in enumerate(COLUMNS, start=1):
            start = self._kpi_last_closed(company, granularity, today)
            previous = P.shift_period(granularity, start, -1, calendar)
            value = self._kpi_stored_value(company, code, granularity, start)
            before = self._kpi_stored_value(company, code, granularity, previous)
            label = (
                value.period_name
                if value
                else P.period_label(granularity, start, calendar, translate=self.env._)
            )
            column = {"col_subtitle": label}
            if value and value.has_value:
                column["value"] = value.display_value
                if not (before and before.has_value):
                    pass
                elif value.unit in ("percent", "ratio"):
                    # percentage points, never a ratio of two percentages
                    # (the digest's change badge is a relative change in %)
                    diff = value.value - before.value
                    points = self.env._("%(v)s pts", v=f"{diff:.2f}")
                    sign = "+" if diff > 0 else ""
                    column["col_subtitle"] = f"{label} · {sign}{points}"
                elif before.value:
                    column["margin"] = float_round(
                        (value.value - before.value) / abs(before.value) * 100.0,
                        precision_digits=2,
                    )
            else:
                column["value"] = self.env._("n/a")
            columns[f"kpi_col{index}"] = column
        return columns
