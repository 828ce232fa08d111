# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Generated monthly sales and marketing costs and the CRM investment, when
the KPI addon has those models."""

from datetime import timedelta

from odoo.tools import SQL

from .common import _logger


class _CostsMixin:
    """Part of the history generator (:class:`.history._Generator`)."""

    # ------------------------------------------------------------ costs
    def _gen_costs(self):
        env = self.env
        if "crm.kpi.cost" not in env:
            _logger.warning("generator: model crm.kpi.cost not found: costs skipped")
            self.counts["costs"] = 0
            self.counts["costs_skipped"] = True
            return
        rng = self.rng("costs")
        Cost = env["crm.kpi.cost"]
        has = Cost._fields
        vals_list = []
        for company in self.companies:
            teams = self.teams[company.id]
            n_users = {}
            for _uid, _p, team in self.sales[company.id]:
                n_users[team] = n_users.get(team, 0) + 1
            today = self.end_dt.date()
            for m, ms in enumerate(self.month_starts):
                scale = self.growth[m]
                # the current month: what is spent so far, nothing dated later
                frac = self.month_frac[m]
                for team in teams:
                    amount = (
                        n_users.get(team.id, 1) * 5200 * rng.uniform(0.95, 1.1) * frac
                    )
                    vals_list.append(
                        {
                            "name": "Sales payroll {} {}".format(
                                team.name, ms.strftime("%Y-%m")
                            ),
                            "category": "sales",
                            "team_id": team.id,
                            "amount": round(amount, 2),
                            "date": ms,
                            "company_id": company.id,
                        }
                    )
                vals_list.append(
                    {
                        "name": "Marketing tools {}".format(ms.strftime("%Y-%m")),
                        "category": "marketing",
                        "amount": round(2500 * scale * rng.uniform(0.8, 1.2), 2),
                        "date": ms,
                        "company_id": company.id,
                    }
                )
                for camp in rng.sample(self.campaigns, min(2, len(self.campaigns))):
                    vals_list.append(
                        {
                            "name": "Campaign spend {}".format(ms.strftime("%Y-%m")),
                            "category": "marketing",
                            "campaign_id": camp,
                            "amount": round(rng.uniform(800, 6000) * scale, 2),
                            "date": min(today, ms + timedelta(days=rng.randrange(10))),
                            "company_id": company.id,
                        }
                    )
            for vals in vals_list:
                vals.setdefault("currency_id", company.currency_id.id)
        vals_list = [{k: v for k, v in vals.items() if k in has} for vals in vals_list]
        Cost.create(vals_list)
        self.counts["costs"] = len(vals_list)
        self._gen_investment()

    # ------------------------------------------------------------ investment
    def _gen_investment(self):
        """A CRM investment per company, gone live 12 months before the
        current month (or in the second month of a shorter history), with
        its implementation, training, license and maintenance costs and the
        benefit assumptions, so that ROI, NPV, IRR and payback have values.

        The costs are in proportion to the company's generated gross profit
        before go-live (the baseline), so that any size of history pays
        back in a plausible number of months.  A company that already has
        an investment record keeps it.
        """
        env = self.env
        if "crm.kpi.investment" not in env:
            self.counts["investments"] = 0
            return
        Investment = env["crm.kpi.investment"].sudo()
        live = max(1, self.months - 13)
        go_live = self.month_starts[live]
        today = self.end_dt.date()
        first, last = self.order_range
        self.cr.execute(
            SQL(
                """
                SELECT company_id, date_trunc('month', date_order)::date,
                       sum(margin / COALESCE(NULLIF(currency_rate, 0), 1)),
                       sum(amount_untaxed / COALESCE(NULLIF(currency_rate, 0), 1))
                  FROM sale_order
                 WHERE id BETWEEN %s AND %s AND date_order < %s
                 GROUP BY 1, 2""",
                first,
                last,
                go_live,
            )
        )
        before = {}
        for company_id, _month, margin, revenue in self.cr.fetchall():
            gp, rev = before.get(company_id, (0.0, 0.0))
            before[company_id] = (gp + float(margin or 0), rev + float(revenue or 0))
        created = 0
        for company in self.companies:
            if Investment.search_count([("company_id", "=", company.id)]):
                continue
            gp, revenue = before.get(company.id, (0.0, 0.0))
            months_before = min(12, live)
            base = max(1000.0, gp / live)  # the baseline's monthly gross profit

            def step(amount):
                return round(amount, -1)

            entries = [
                (go_live - timedelta(days=20), "implementation", 2.5 * base),
                (go_live + timedelta(days=6), "training", 0.2 * base),
            ]
            for m in range(live, self.months):
                month = self.month_starts[m]
                entries.append((month, "license", 0.06 * base))
                if (m - live) % 3 == 0:
                    entries.append(
                        (
                            min(today, month + timedelta(days=14)),
                            "maintenance",
                            0.03 * base,
                        )
                    )
            Investment.create(
                {
                    "company_id": company.id,
                    "go_live_date": go_live,
                    "hours_saved_per_user": 6.0,
                    "hourly_cost": 45.0,
                    "discount_rate": 10.0,
                    "equity": step(12 * max(1000.0, revenue / live)),
                    # a history shorter than the 12 months before go-live
                    # gives the baseline it has
                    "use_manual_baseline": months_before < 12,
                    "baseline_monthly_gross_profit": step(base),
                    "entry_ids": [
                        (
                            0,
                            0,
                            {
                                "name": "{} {}".format(
                                    category.capitalize(), day.strftime("%Y-%m")
                                ),
                                "date": day,
                                "category": category,
                                "amount": step(amount),
                                "currency_id": company.currency_id.id,
                            },
                        )
                        for day, category, amount in entries
                        if day <= today
                    ],
                }
            )
            created += 1
        self.counts["investments"] = created
