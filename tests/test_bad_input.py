"""Bad input, wherever a user or an import can type it: a clear message,
and nothing half-saved.

Each test names the input and asserts the message the user reads.  Imports
go through ``load()``, the method behind Odoo's import screen: a file with
one bad row saves none of its rows and reports the row's message.
"""

from contextlib import contextmanager

import psycopg2

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import D, KpiCase


@tagged("post_install", "-at_install")
class TestKpiBadInput(KpiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # a currency nobody entered a rate for
        cls.kpx = cls.env["res.currency"].create(
            {"name": "KPX", "symbol": "K", "active": True}
        )
        cls.revenue_kpi = cls.env.ref("crm_success_kpi.kpi_revenue")
        cls.Cost = cls.env["crm.kpi.cost"].with_user(cls.manager)

    @contextmanager
    def fails(self, exception, regex):
        """Like assertRaisesRegex, inside a savepoint rolled back on the
        error, as the request's transaction would be."""
        with self.assertRaises(exception) as cm:
            yield cm
        self.assertRegex(str(cm.exception), regex)

    # -- periods and settings -------------------------------------------------
    def test_backfill_end_before_start(self):
        with self.fails(
            ValidationError, r"^The end of the backfill is before its start\.$"
        ):
            self.env["crm.kpi.backfill"].create(
                {"date_from": D(2026, 7, 1), "date_to": D(2026, 6, 30)}
            )

    def test_backfill_unknown_granularity(self):
        with self.fails(
            ValidationError, r"Unknown granularity day: use week, month, quarter"
        ):
            self.env["crm.kpi.backfill"].create(
                {
                    "date_from": D(2026, 7, 1),
                    "date_to": D(2026, 8, 1),
                    "granularities": "month, day",
                }
            )
        with self.fails(ValidationError, "Unknown granularity ''"):
            self.env["crm.kpi.backfill"].create(
                {
                    "date_from": D(2026, 7, 1),
                    "date_to": D(2026, 8, 1),
                    "granularities": " , ",
                }
            )

    def test_compute_unknown_granularity(self):
        with self.fails(UserError, "Unknown period granularity 'day'"):
            self.Snapshot.compute_period("day", D(2026, 7, 1), companies=self.company)

    def test_activity_window_shorter_than_a_period(self):
        for days in (30, 0, -5):
            with self.fails(
                ValidationError, f"must be at least 31 days.*{days} days is too short"
            ):
                self.company.kpi_activity_window_days = days
        self.company.kpi_activity_window_days = 31  # the longest month: fine

    def test_settings_through_the_settings_screen(self):
        """The settings form writes the company: same message, and the
        company keeps its value."""
        with self.fails(ValidationError, "at least 31 days"):
            self.env["res.config.settings"].with_company(self.company).create(
                {"kpi_activity_window_days": 10}
            ).execute()
        self.company.invalidate_recordset()
        self.assertEqual(self.company.kpi_activity_window_days, 365)

    def test_read_connections(self):
        """From 1 to 8 connections reading a period: out of range, the
        settings say so and keep the setting; a bad stored value reads as the
        default of 2."""
        Settings = self.env["res.config.settings"]
        Snapshot = self.env["crm.kpi.snapshot"]
        for wrong in (0, 9):
            with self.fails(ValidationError, "from 1 to 8"):
                Settings.create({"kpi_read_connections": wrong}).execute()
        self.assertEqual(Snapshot._kpi_read_connections(), 2)
        Settings.create({"kpi_read_connections": 3}).execute()
        self.assertEqual(Snapshot._kpi_read_connections(), 3)
        params = self.env["ir.config_parameter"].sudo()
        params.set_param("crm_success_kpi.read_connections", "many")
        self.assertEqual(Snapshot._kpi_read_connections(), 2)

    def test_nps_interval_and_sample_size(self):
        with self.fails(
            ValidationError, r"NPS invitations of .* must be at least 1 \(got 0\)"
        ):
            self.company.kpi_nps_interval_days = 0
        with self.fails(
            ValidationError, "minimum survey sample of .* at least 1 response, not -1"
        ):
            self.company.kpi_maturity_min_responses = -1

    def test_analytic_account_in_both_categories(self):
        plan = self.env["account.analytic.plan"].create({"name": "KPI plan"})
        account = self.env["account.analytic.account"].create(
            {"name": "Fairs", "plan_id": plan.id, "company_id": self.company.id}
        )
        with self.fails(ValidationError, "mapped to both sales and marketing costs"):
            self.company.write(
                {
                    "kpi_cost_sales_analytic_ids": [Command.set(account.ids)],
                    "kpi_cost_marketing_analytic_ids": [Command.set(account.ids)],
                }
            )

    # -- costs and investments ------------------------------------------------
    def test_negative_or_zero_cost(self):
        for amount in (-5.0, 0.0):
            with self.fails(
                ValidationError,
                rf"CRM Cost Entry Fair of 2026-10-01: the amount must be greater "
                rf"than zero \(got {amount}\)",
            ):
                self.Cost.create(
                    {"name": "Fair", "date": D(2026, 10, 1), "amount": amount}
                )
        cost = self.Cost.create({"name": "Fair", "date": D(2026, 10, 1), "amount": 5.0})
        with self.fails(ValidationError, "greater than zero"):
            cost.amount = -1.0

    def test_cost_in_a_currency_without_rate(self):
        with self.fails(
            ValidationError,
            "KPX has no exchange rate on or before 2026-10-01, so its amount "
            "cannot be converted to USD",
        ):
            self.Cost.create(
                {
                    "name": "Foreign fair",
                    "date": D(2026, 10, 1),
                    "amount": 50.0,
                    "currency_id": self.kpx.id,
                }
            )
        # a rate after the entry's date does not help either
        self.env["res.currency.rate"].create(
            {"currency_id": self.kpx.id, "name": D(2026, 11, 1), "rate": 2.0}
        )
        with self.fails(ValidationError, "no exchange rate on or before"):
            self.Cost.create(
                {
                    "name": "Foreign fair",
                    "date": D(2026, 10, 1),
                    "amount": 50.0,
                    "currency_id": self.kpx.id,
                }
            )
        cost = self.Cost.create(
            {
                "name": "Foreign fair",
                "date": D(2026, 11, 2),
                "amount": 50.0,
                "currency_id": self.kpx.id,
            }
        )
        self.assertAlmostEqual(cost.amount_company, 25.0)

    @mute_logger("odoo.sql_db", "odoo.models")
    def test_cost_import_with_a_bad_row_saves_nothing(self):
        before = self.Cost.search_count([])
        result = self.Cost.load(
            ["name", "date", "amount", "category"],
            [
                ["Ads", "2026-10-01", "100", "marketing"],
                ["Refund", "2026-10-02", "-30", "marketing"],
                ["Fair", "2026-10-03", "80", "sales"],
            ],
        )
        self.assertFalse(result["ids"])
        messages = [m["message"] for m in result["messages"]]
        self.assertTrue(
            any("must be greater than zero (got -30.0)" in m for m in messages),
            messages,
        )
        self.assertEqual(self.Cost.search_count([]), before)
        # the same file without the bad row: imported, marked as imported
        result = self.Cost.load(
            ["name", "date", "amount", "category"],
            [
                ["Ads", "2026-10-01", "100", "marketing"],
                ["Fair", "2026-10-03", "80", "sales"],
            ],
        )
        self.assertEqual(len(result["ids"]), 2, result["messages"])

    @mute_logger("odoo.sql_db", "odoo.models")
    def test_cost_import_unknown_currency_rate(self):
        result = self.Cost.load(
            ["name", "date", "amount", "currency_id"],
            [["Foreign", "2026-10-01", "10", "KPX"]],
        )
        self.assertFalse(result["ids"])
        self.assertIn(
            "KPX has no exchange rate",
            " ".join(m["message"] for m in result["messages"]),
        )

    def test_investment_assumptions(self):
        investment = self.env["crm.kpi.investment"].create(
            {"company_id": self.company.id}
        )
        with self.fails(
            ValidationError, "annual discount rate of .* must be above −100 %"
        ):
            investment.discount_rate = -100.0
        with self.fails(ValidationError, "cannot be negative"):
            investment.hourly_cost = -1.0
        with self.fails(ValidationError, "cannot be negative"):
            investment.hours_saved_per_user = -2.0
        with self.fails(ValidationError, "greater than zero"):
            self.env["crm.kpi.investment.entry"].create(
                {"investment_id": investment.id, "name": "Licence", "amount": -10.0}
            )
        with (
            self.fails(
                psycopg2.errors.UniqueViolation, "crm_kpi_investment_company_unique"
            ),
            mute_logger("odoo.sql_db"),
        ):
            self.env["crm.kpi.investment"].create({"company_id": self.company.id})
        investment.invalidate_recordset()
        self.assertEqual(investment.discount_rate, 10.0, "nothing half-saved")

    # -- targets --------------------------------------------------------------
    @mute_logger("odoo.sql_db", "odoo.models")
    def test_target_without_kpi(self):
        Target = self.env["crm.kpi.target"].with_user(self.manager)
        with self.assertRaises(psycopg2.errors.NotNullViolation):
            Target.create({"target_value": 10.0, "warning_value": 5.0})
        # through the import: a readable message on the row
        result = Target.load(["target_value", "warning_value"], [["10", "5"]])
        self.assertFalse(result["ids"])
        message = " ".join(m["message"] for m in result["messages"])
        self.assertIn("KPI", message)
        self.assertRegex(message, "(?i)missing required")
        # an unknown KPI name
        result = Target.load(
            ["kpi_id", "target_value", "warning_value"], [["No such KPI", "10", "5"]]
        )
        self.assertFalse(result["ids"])
        self.assertIn(
            "No matching record found",
            " ".join(m["message"] for m in result["messages"]),
        )

    def test_target_thresholds(self):
        Target = self.env["crm.kpi.target"].with_user(self.manager)
        with self.fails(
            ValidationError, "Higher is better for .*warning threshold .* at or below"
        ):
            Target.create(
                {
                    "kpi_id": self.revenue_kpi.id,
                    "granularity": "month",
                    "target_value": 100.0,
                    "warning_value": 120.0,
                }
            )
        with self.fails(ValidationError, "Lower is better for .* at or above"):
            Target.create(
                {
                    "kpi_id": self.revenue_kpi.id,
                    "granularity": "month",
                    "direction": "down",
                    "target_value": 100.0,
                    "warning_value": 80.0,
                }
            )
        helpdesk_team = self.env["helpdesk.ticket.team"].create(
            {"name": "KPI Bad Input Desk", "company_id": self.company.id}
        )
        with self.fails(
            ValidationError, "either for a sales team or for a helpdesk team"
        ):
            Target.create(
                {
                    "kpi_id": self.revenue_kpi.id,
                    "team_id": self.team.id,
                    "helpdesk_team_id": helpdesk_team.id,
                    "target_value": 1.0,
                    "warning_value": 1.0,
                }
            )
        vals = {
            "kpi_id": self.revenue_kpi.id,
            "granularity": "month",
            "target_value": 100.0,
            "warning_value": 80.0,
        }
        Target.create(vals)
        with (
            self.fails(psycopg2.errors.UniqueViolation, "one_target"),
            mute_logger("odoo.sql_db"),
        ):
            Target.create(vals)

    # -- surveys --------------------------------------------------------------
    def _nps(self):
        survey = self.env["survey.survey"].create(
            {"title": "KPI bad input NPS", "access_mode": "token"}
        )
        question = self.env["survey.question"].create(
            {
                "survey_id": survey.id,
                "title": "Recommend us?",
                "question_type": "numerical_box",
            }
        )
        return survey, question

    def test_survey_configuration(self):
        survey, question = self._nps()
        with self.fails(
            ValidationError,
            "cannot be a Net Promoter Score .* choose its score question",
        ):
            survey.kpi_survey_type = "nps"
        with self.fails(
            ValidationError, "An NPS survey is answered on a scale from 0 to 10"
        ):
            survey.write(
                {
                    "kpi_survey_type": "nps",
                    "kpi_question_id": question.id,
                    "kpi_scale_min": 1,
                    "kpi_scale_max": 10,
                }
            )
        with self.fails(
            ValidationError, r"from a lower to a higher score \(5 to 1 is not a scale\)"
        ):
            survey.write(
                {
                    "kpi_survey_type": "csat",
                    "kpi_question_id": question.id,
                    "kpi_scale_min": 5,
                    "kpi_scale_max": 1,
                }
            )
        other, other_question = self._nps()
        with self.fails(ValidationError, "must be one of its own questions"):
            survey.write(
                {"kpi_survey_type": "csat", "kpi_question_id": other_question.id}
            )
        survey.invalidate_recordset()
        self.assertFalse(survey.kpi_survey_type, "nothing half-saved")

    def test_survey_answer_out_of_scale(self):
        """A respondent cannot be stopped on the public survey page by our
        rules: an answer outside the scale is kept, flagged invalid, counted
        as an invalid answer of the survey and left out of the KPIs."""
        survey, question = self._nps()
        survey.write({"kpi_survey_type": "nps", "kpi_question_id": question.id})
        partner = self.make_customers(1, "Rater")
        answers = self.env["survey.user_input"].create(
            [
                {
                    "survey_id": survey.id,
                    "partner_id": partner.id,
                    "state": "done",
                    "kpi_company_id": self.company.id,
                    "user_input_line_ids": [
                        Command.create(
                            {
                                "question_id": question.id,
                                "answer_type": "numerical_box",
                                "value_numerical_box": score,
                            }
                        )
                    ],
                }
                for score in (11, -1, 7.5, 9)
            ]
        )
        self.assertEqual(answers.mapped("kpi_valid"), [False, False, False, True])
        self.assertEqual(answers.mapped("kpi_has_score"), [True] * 4)
        self.assertEqual(answers.mapped("kpi_nps_category"), [False] * 3 + ["promoter"])
        self.assertEqual((survey.kpi_response_count, survey.kpi_invalid_count), (1, 3))
        partner.invalidate_recordset()
        self.assertEqual(partner.kpi_nps_score, 9)

    def test_ces_survey_of_a_team(self):
        survey, question = self._nps()
        survey.write({"kpi_survey_type": "nps", "kpi_question_id": question.id})
        with self.fails(ValidationError, "choose a survey marked as a CES"):
            self.env["helpdesk.ticket.team"].create(
                {
                    "name": "KPI Desk",
                    "company_id": self.company.id,
                    "kpi_send_ces_on_close": True,
                    "kpi_ces_survey_id": survey.id,
                }
            )
        with self.fails(ValidationError, "choose a survey marked as an NPS"):
            self.company.write(
                {
                    "kpi_nps_auto_invite": True,
                    "kpi_nps_survey_id": self.env.ref(
                        "crm_success_kpi.survey_kpi_csat"
                    ).id,
                }
            )

    # -- report ---------------------------------------------------------------
    def test_report_wizard(self):
        Wizard = self.env["crm.kpi.report.wizard"].with_user(self.manager)
        with self.fails(ValidationError, "Choose the sales team"):
            Wizard.create({"scope": "team"})
        with self.fails(ValidationError, "Choose the helpdesk team"):
            Wizard.create({"scope": "helpdesk_team"})
        wizard = Wizard.create({"date": D(2016, 1, 15)})
        with self.fails(UserError, "No KPIs are computed for"):
            wizard.action_print()


@tagged("post_install", "-at_install")
class TestCostImportScreen(KpiCase):
    """A cost file through Odoo's import screen (``base_import``), as a
    manager uploads it: header row, then one row per entry."""

    def execute(self, content, dryrun=False):
        Import = self.env["base_import.import"].with_user(self.manager)
        wizard = Import.create(
            {
                "res_model": "crm.kpi.cost",
                "file": content.encode(),
                "file_name": "costs.csv",
                "file_type": "text/csv",
            }
        )
        options = {
            "has_headers": True,
            "quoting": '"',
            "separator": ",",
            "encoding": "utf-8",
            "date_format": "%Y-%m-%d",
            "float_decimal_separator": ".",
            "float_thousand_separator": "",
        }
        fields = ["name", "date", "amount", "category"]
        return wizard.execute_import(fields, fields, options, dryrun=dryrun)

    def errors(self, result):
        """The error messages, each with the data row it names (1 = the
        first row after the header): the screen shows it beside the
        message, from ``rows``, or base_import's own date check says it."""
        found = []
        for message in result["messages"]:
            if message["type"] != "error":
                continue
            rows = message.get("rows")
            row = rows["from"] + 1 if rows else None
            found.append((row, message["message"]))
        return found

    @mute_logger(
        "odoo.sql_db", "odoo.models", "odoo.addons.base_import.models.base_import"
    )
    def test_bad_rows_are_named_and_nothing_is_imported(self):
        """Each bad input as the second row of a three-row file: a message
        naming the row and what is wrong, and no row of the file saved."""
        good = "Ads,2026-10-01,100,marketing\n", "Booth,2026-10-04,50,sales\n"
        cases = [
            # bad date: base_import checks the column before anything
            (
                "Fair,2026-02-31,80,sales\n",
                None,
                ["Column date contains incorrect values", "line 2", "out of range"],
            ),
            (
                "Fair,04/10/2026,80,sales\n",
                None,
                ["Column date contains incorrect values", "line 2"],
            ),
            # negative and zero amounts: the entry and its date are named
            (
                "Refund,2026-10-02,-30,marketing\n",
                2,
                ["Refund of 2026-10-02", "greater than zero (got -30.0)"],
            ),
            ("Free,2026-10-02,0,marketing\n", 2, ["Free of 2026-10-02", "(got 0.0)"]),
            # unknown category
            (
                "Coffee,2026-10-03,12,catering\n",
                2,
                ["catering", "Category"],
            ),
            # not a number
            ("Gift,2026-10-03,twelve,sales\n", None, ["twelve"]),
        ]
        before = self.env["crm.kpi.cost"].search_count([])
        header = "Description,Date,Amount,Category\n"
        for bad, row, expected in cases:
            with self.subTest(row=bad.strip()):
                result = self.execute(header + good[0] + bad + good[1])
                self.assertFalse(result.get("ids"))
                self.assertEqual(self.env["crm.kpi.cost"].search_count([]), before)
                errors = self.errors(result)
                self.assertTrue(errors, result)
                if row:
                    # the row's own message; Odoo also repeats the error of
                    # its first, whole-file attempt on row 1, so every
                    # message names the bad entry itself
                    self.assertIn(row, {r for r, _m in errors}, errors)
                for _row, text in errors:
                    for part in expected:
                        self.assertIn(part, text)
        # the same file, corrected: every row imported, marked as imported
        result = self.execute(header + good[0] + "Fair,2026-02-28,80,sales\n" + good[1])
        self.assertEqual(len(result["ids"]), 3, result["messages"])
        costs = self.env["crm.kpi.cost"].browse(result["ids"])
        self.assertEqual(set(costs.mapped("source")), {"import"})
        self.assertEqual(sum(costs.mapped("amount")), 230.0)
