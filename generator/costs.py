# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Generated monthly sales and marketing costs, when the KPI addon has cost entries."""

from datetime import timedelta

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
            for m, ms in enumerate(self.month_starts):
                scale = self.growth[m]
                for team in teams:
                    amount = n_users.get(team.id, 1) * 5200 * rng.uniform(0.95, 1.1)
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
                            "date": ms + timedelta(days=rng.randrange(10)),
                            "company_id": company.id,
                        }
                    )
            for vals in vals_list:
                vals.setdefault("currency_id", company.currency_id.id)
        vals_list = [{k: v for k, v in vals.items() if k in has} for vals in vals_list]
        Cost.create(vals_list)
        self.counts["costs"] = len(vals_list)
