"""How stored values combine when a view groups them: the grouping each KPI
declares in the catalogue, checked for every KPI code on two hand-made
months (the spec's *Grouping* rule).

Per grouping, January and February hold:

* *sum*: 2 (numerator 3, denominator 1: net new customers = 3 new - 1
  lost) and 1 (1 new, 0 lost): grouped 3 - never the ratio of the
  numerators and denominators;
* *ratio*: 2 of 4 and 0 of 2 (NPS 50 and 0 in points: 2 promoters, 0
  detractors of 4 answers; 1 and 1 of 2): grouped 2 / 6 times the KPI's
  factor (NPS 33.33);
* *last*: 5 then 7 (a backlog): grouped 7, the last period's;
* *none*: 10 and 20 (a growth rate): grouped empty.
"""

from datetime import date
from unittest.mock import patch

from odoo.fields import Domain
from odoo.tests import tagged
from odoo.tools import SQL

from ..kpi.base import Result, count, ratio
from .common import KpiCase

# code: (grouping, factor), as the spec's tables declare them
EXPECTED = {
    "new_customers": ("sum", 1),
    "net_new_customers": ("sum", 1),
    "churn_rate": ("ratio", 100),
    "net_customer_loss_rate": ("ratio", 100),
    "retention_rate": ("ratio", 100),
    "customer_base_growth_rate": ("none", 100),
    "renewal_rate": ("ratio", 100),
    "customer_conversion_rate": ("ratio", 100),
    "expansion_revenue_ratio": ("ratio", 1),
    "average_customer_value": ("ratio", 1),
    "revenue_per_purchase": ("ratio", 1),
    "repeat_purchase_rate": ("ratio", 100),
    "product_penetration": ("ratio", 1),
    "clv": ("none", 1),
    "revenue": ("sum", 1),
    "revenue_growth_qoq": ("none", 100),
    "revenue_growth_yoy": ("none", 100),
    "gross_profit": ("sum", 1),
    "profit_growth_qoq": ("none", 100),
    "profit_growth_yoy": ("none", 100),
    "prospects": ("sum", 1),
    "deals_won": ("sum", 1),
    "deals_lost": ("sum", 1),
    "win_rate": ("ratio", 100),
    "win_rate_value": ("ratio", 100),
    "lead_conversion_rate": ("ratio", 100),
    "new_revenue": ("sum", 1),
    "average_deal_size": ("ratio", 1),
    "sales_cycle_days": ("ratio", 1),
    "deal_duration_days": ("ratio", 1),
    "sales_response_hours": ("ratio", 1),
    "unanswered_leads": ("sum", 1),
    "sales_calls": ("sum", 1),
    "sales_calls_leaders_share": ("ratio", 100),
    "outbound_emails": ("sum", 1),
    "inquiries_email": ("sum", 1),
    "inquiries_website": ("sum", 1),
    "campaigns": ("none", 1),
    "campaign_responses": ("sum", 1),
    "campaign_orders": ("sum", 1),
    "campaign_roi": ("ratio", 100),
    "cac": ("ratio", 1),
    "cac_payback_months": ("ratio", 1),
    "web_visits": ("sum", 1),
    "web_visit_minutes": ("ratio", 1),
    "tickets_opened": ("sum", 1),
    "tickets_closed": ("sum", 1),
    "ticket_backlog": ("last", 1),
    "ticket_first_response_hours": ("ratio", 1),
    "ticket_resolution_hours": ("ratio", 1),
    "ticket_first_response_working_hours": ("ratio", 1),
    "ticket_resolution_working_hours": ("ratio", 1),
    "fcr_rate": ("ratio", 100),
    "contacts_per_ticket": ("ratio", 1),
    "handle_time_hours": ("ratio", 1),
    "reopen_rate": ("ratio", 100),
    "sla_compliance_rate": ("ratio", 100),
    "nps": ("ratio", 100),
    "ces": ("ratio", 1),
    "ces_easy_rate": ("ratio", 100),
    "csat": ("ratio", 100),
    "survey_response_rate": ("ratio", 100),
    "crm_users": ("last", 1),
    "crm_active_users": ("none", 1),
    "adoption_rate": ("ratio", 100),
    "actions_per_user": ("ratio", 1),
    "crm_tco": ("last", 1),
    "incremental_gross_profit": ("sum", 1),
    "crm_benefit": ("last", 1),
    "crm_roi": ("last", 100),
    "crm_npv": ("last", 1),
    "crm_irr": ("none", 1),
    "crm_payback_months": ("last", 1),
    "revenue_to_equity": ("last", 1),
}

JAN, FEB = date(2026, 1, 1), date(2026, 2, 1)
DATA = {
    "sum": (Result(2.0, 3.0, 1.0), Result(1.0, 1.0, 0.0)),
    "ratio": (ratio(2, 4), ratio(0, 2)),
    "last": (count(5), count(7)),
    "none": (count(10), count(20)),
}


def grouped(grouping, factor):
    """The grouped value under the spec's rule, worked out by hand."""
    return {"sum": 3.0, "ratio": 2 / 6 * factor, "last": 7.0, "none": None}[grouping]


@tagged("post_install", "-at_install")
class TestGrouping(KpiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.kpis = {
            k.code: k
            for k in cls.env["crm.kpi.definition"]
            .with_context(active_test=False)
            .search([])
        }
        for index, start in enumerate((JAN, FEB)):
            ctx = cls.Snapshot._period_context(cls.company, "month", start)
            results = {
                code: DATA[cls.kpis[code].grouping][index]
                for code in EXPECTED
                if code in cls.kpis
            }
            cls.Snapshot._store(ctx, {("company", None): results})

    def _grouped(self, groupby):
        groups = self.env["crm.kpi.value"].formatted_read_group(
            [("company_id", "=", self.company.id), ("scope", "=", "company")],
            groupby=groupby,
            aggregates=["value:sum", "__count"],
        )
        return groups

    def test_catalogue_declares_every_grouping(self):
        self.assertEqual(
            {code: (k.grouping, k.factor) for code, k in self.kpis.items()},
            {code: (g, float(f)) for code, (g, f) in EXPECTED.items()},
        )

    def test_grouped_over_two_months(self):
        groups = self._grouped(["kpi_id"])
        by_code = {
            self.env["crm.kpi.definition"].browse(g["kpi_id"][0]).code: g
            for g in groups
        }
        self.assertEqual(set(by_code), set(EXPECTED))
        for code, (grouping, factor) in EXPECTED.items():
            with self.subTest(code=code, grouping=grouping):
                got = by_code[code]["value:sum"]
                expected = grouped(grouping, factor)
                if expected is None:
                    self.assertIn(got, (None, False), code)
                else:
                    self.assertAlmostEqual(got, expected, places=6, msg=code)
                    self.assertEqual(by_code[code]["__count"], 2)

    def test_spec_examples(self):
        by_code = {
            self.env["crm.kpi.definition"].browse(g["kpi_id"][0]).code: g["value:sum"]
            for g in self._grouped(["kpi_id"])
        }
        self.assertAlmostEqual(by_code["nps"], 33.33, places=2)
        self.assertAlmostEqual(by_code["net_new_customers"], 3.0)
        self.assertAlmostEqual(by_code["ticket_backlog"], 7.0)
        self.assertIn(by_code["revenue_growth_yoy"], (None, False))

    def test_each_month_shows_its_stored_value(self):
        """Rows by KPI and columns by month: each cell is the stored value."""
        groups = self._grouped(["kpi_id", "date_start:month"])
        cells = {}
        for g in groups:
            code = self.env["crm.kpi.definition"].browse(g["kpi_id"][0]).code
            cells.setdefault(code, []).append(g["value:sum"])
        for code, (grouping, factor) in EXPECTED.items():
            jan, feb = DATA[grouping]
            expected = [
                res.resolved(factor) if res.ratio else res.value for res in (jan, feb)
            ]
            with self.subTest(code=code):
                self.assertEqual(len(cells[code]), 2)
                for got, want in zip(cells[code], expected, strict=True):
                    self.assertAlmostEqual(got or 0.0, want or 0.0, places=6)

    def test_mixed_kpis_stay_empty(self):
        groups = self._grouped(["date_start:month"])
        self.assertEqual(len(groups), 2)
        for g in groups:
            self.assertIn(g["value:sum"], (None, False))

    def test_pivot_cells_select_their_values(self):
        """The Overview pivot's cells (rows: salesperson then KPI, columns:
        month, every grouping set of its first load): each cell's domain is
        the one ``web`` builds, up to its nesting, and selects exactly the
        values the cell counts; labels are ``web``'s."""
        from odoo.addons.web.models.models import Base

        Value = self.env["crm.kpi.value"]
        domain = [("company_id", "=", self.company.id)]
        sets = [
            (),
            ("date_start:month",),
            ("user_id",),
            ("user_id", "date_start:month"),
            ("user_id", "kpi_id"),
            ("user_id", "kpi_id", "date_start:month"),
        ]
        aggregates = ("value:sum", "__count")
        order = "user_id, kpi_id, date_start:month"
        formatted = Value.formatted_read_grouping_sets(
            domain, sets, aggregates, order=order
        )
        raw = Value._read_grouping_sets(domain, sets, aggregates, order=order)
        self.assertEqual(len(formatted[-1]), 2 * len(EXPECTED))
        for groupby, groups, rows in zip(sets, formatted, raw, strict=True):
            web = Base._web_read_group_format(Value, groupby, aggregates, rows)
            self.assertEqual(len(groups), len(web))
            for ours, theirs in zip(groups, web, strict=True):
                with self.subTest(groupby=groupby, group=ours):
                    self.assertEqual(
                        {k: v for k, v in ours.items() if k != "__extra_domain"},
                        {k: v for k, v in theirs.items() if k != "__extra_domain"},
                    )
                    self.assertEqual(
                        Domain(ours["__extra_domain"]),
                        Domain(theirs["__extra_domain"]),
                    )
                    self.assertEqual(
                        Value.search_count(
                            Domain(domain) & Domain(ours["__extra_domain"])
                        ),
                        ours["__count"],
                    )

    def test_grouped_reads_plan_settings(self):
        """The grouped reads of the values (pivot and graph) run without JIT
        nor merge joins and with room to sort in memory, then leave the
        transaction's own settings as they were."""
        Value = self.env["crm.kpi.value"]
        cr = self.env.cr
        domain = [("company_id", "=", self.company.id)]

        def settings():
            cr.execute(
                SQL(
                    "SELECT current_setting('enable_mergejoin'), "
                    "current_setting('jit'), current_setting('work_mem')"
                )
            )
            return cr.fetchone()

        cr.execute(SQL("SET LOCAL work_mem = '5MB'"))
        before = settings()
        self.assertEqual(before[0], "on")
        seen = []
        execute_query = type(self.env).execute_query

        def spy(env, query):
            if "GROUP BY" in query.code:
                seen.append(settings())
            return execute_query(env, query)

        with patch.object(type(self.env), "execute_query", spy):
            Value.formatted_read_grouping_sets(
                domain, [["kpi_id"], []], ["value:sum", "__count"]
            )
            Value.formatted_read_group(domain, ["kpi_id"], ["value:sum"])
        self.assertEqual(seen, [("off", "off", "64MB")] * 2)
        self.assertEqual(settings(), before)
        # a read that fails (here on a field the model does not have)
        # puts them back too
        with self.assertRaises(ValueError):
            Value._read_group([("no_such_field", "=", 1)], ["kpi_id"])
        self.assertEqual(settings(), before)
