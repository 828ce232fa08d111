import re
import shutil
import subprocess
import tempfile
import unittest

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import HttpCase, new_test_user, tagged

from ..report.svg_chart import number_format, trend_svg
from .common import D, KpiCase

REPORT = "crm_success_kpi.action_report_crm_kpi_success"


def pdf_text(pdf):
    """Text of a PDF through pdftotext, spaces normalised."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        out = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", f.name, "-"],
            check=True,
            capture_output=True,
        ).stdout.decode()
    return re.sub(r"[\s\u00a0\u202f]+", " ", out)


class ReportData:
    """February and March 2025 of one company (orders in team A):

    February: c0 buys 100            -> revenue 100, 1 new customer
    March:    c0 buys 250, c1 buys 200 -> revenue 450, 1 new customer (c1),
              2 buyers -> average customer value 225, revenue per
              purchase 225; S = 1 (c0), E = 2, retention (2-1)/1 = 100 %.
    Revenue change March vs February: (450 - 100) / 100 = +350.0 %.
    Monthly revenue target 500, warning 300 -> March is 'Warning'.
    One lead in March -> maturity stage 1, Awareness."""

    @classmethod
    def build_report_data(cls):
        cls.customers = cls.make_customers(2)
        c0, c1 = cls.customers
        cls.make_orders(
            [
                {"partner": c0, "date": D(2025, 2, 10), "amount": 100.0},
                {"partner": c0, "date": D(2025, 3, 5), "amount": 250.0},
                {"partner": c1, "date": D(2025, 3, 12), "amount": 200.0},
            ]
        )
        cls.make_leads([{"created": D(2025, 3, 2)}])
        kpis = {k.code: k for k in cls.env["crm.kpi.definition"].search([])}
        cls.env["crm.kpi.target"].create(
            {
                "kpi_id": kpis["revenue"].id,
                "company_id": cls.company.id,
                "granularity": "month",
                "target_value": 500.0,
                "warning_value": 300.0,
            }
        )
        for month in (1, 2, 3):
            snaps = cls.Snapshot.compute_period(
                "month", D(2025, month, 1), companies=cls.company
            )
        cls.snapshot = snaps.filtered(lambda s: s.scope == "company")
        cls.team_snapshot = snaps.filtered(
            lambda s: s.scope == "team" and s.team_id == cls.team
        )
        # a KPI whose family did not store anything: "n/a, not computed"
        cls.snapshot.value_ids.filtered(lambda v: v.kpi_code == "nps").unlink()


@tagged("post_install", "-at_install")
class TestReportPdf(ReportData, KpiCase, HttpCase):
    """The real PDF, through wkhtmltopdf and the running test server."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.build_report_data()

    @unittest.skipUnless(
        shutil.which("wkhtmltopdf") and shutil.which("pdftotext"),
        "wkhtmltopdf and pdftotext are needed",
    )
    def test_pdf_has_the_snapshot_values(self):
        values = {v.kpi_code: v for v in self.snapshot.value_ids}
        self.assertEqual(values["revenue"].value, 450.0)
        self.assertEqual(values["revenue"].status, "warning")
        self.assertNotIn("nps", values)
        pdf, kind = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf(REPORT, self.snapshot.ids)
        )
        self.assertEqual(kind, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF"), "wkhtmltopdf made no PDF")
        text = pdf_text(pdf)
        # header: company, period, comparison period
        for expected in (
            "CRM success criteria",
            self.company.name,
            "2025-03",
            "Previous period: 2025-02",
            # maturity
            "Stage 1 of 5: Awareness",
            "To reach stage 2 (Focus)",
            "Top 20 % of customers by revenue identified",
            # scorecard: values by hand, previous, change, target, status
            "$ 450.00",
            "$ 100.00",
            "+350.0 %",
            "$ 500.00",
            "Warning",
            "$ 225.00",
            "100.00 %",
            # n/a and their reasons
            "n/a",
            "not computed",
            "no customers active a year ago",
            # trend charts
            "Trend of the last 12 periods",
        ):
            self.assertIn(expected, text)
        # every stored value of the snapshot is in the PDF, formatted
        Report = self.env["report.crm_success_kpi.success_report"]
        for value in self.snapshot.value_ids:
            if value.has_value:
                shown = Report._format(
                    value.value, value.unit, self.company.currency_id
                )
                shown = re.sub(r"[ \u00a0\u202f]+", " ", shown)
                self.assertIn(shown, text, f"{value.kpi_code} = {shown} missing")
            else:
                self.assertIn(value.note, text, f"{value.kpi_code}: reason missing")


@tagged("post_install", "-at_install")
class TestReport(ReportData, KpiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.build_report_data()
        cls.manager_b = cls.new_manager(f"kpi_manager_b_{cls.__name__.lower()}")

    @classmethod
    def new_manager(cls, login):
        return new_test_user(
            cls.env,
            login=login,
            groups="base.group_user,crm_success_kpi.group_crm_kpi_manager",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    def html(self, docids, data=None, lang=None):
        Report = self.env["ir.actions.report"]
        if lang:
            Report = Report.with_context(lang=lang)
        html, kind = Report._render_qweb_html(REPORT, docids, data=data)
        self.assertEqual(kind, "html")
        return html.decode()

    def test_report_values(self):
        Report = self.env["report.crm_success_kpi.success_report"]
        res = Report._get_report_values(self.snapshot.ids, {})
        page = res["pages"][0]
        self.assertEqual(page["comparison_period"], "2025-02")
        rows = {r["code"]: r for a in page["areas"] for r in a["rows"]}
        self.assertEqual(
            [a["code"] for a in page["areas"]],
            [
                "customers",
                "revenue",
                "sales",
                "marketing",
                "service",
                "perception",
                "adoption",
                "financial",
            ],
        )
        self.assertEqual(rows["revenue"]["status"], "warning")
        self.assertEqual(rows["revenue"]["change"], "+350.0 %")
        self.assertEqual(rows["nps"]["value"], "n/a")
        self.assertEqual(rows["nps"]["reason"], "not computed")
        self.assertEqual(
            rows["churn_rate"]["previous"], "n/a"
        )  # nobody active before Feb
        # new customers 1 in March and in February: no change
        self.assertEqual(rows["new_customers"]["change"], "±0.0 %")
        # same period last year: March 2024 was never computed
        res = Report._get_report_values(self.snapshot.ids, {"comparison": "year"})
        page = res["pages"][0]
        self.assertEqual(page["comparison_period"], "2024-03")
        self.assertFalse(page["comparison_found"])
        rows = {r["code"]: r for a in page["areas"] for r in a["rows"]}
        self.assertEqual(rows["revenue"]["previous"], "n/a")
        self.assertEqual(rows["revenue"]["change"], "")
        # trend: revenue January (0 orders), February 100, March 450
        charts = {c["name"]: c["svg"] for c in page["charts"]}
        self.assertIn("Revenue", charts)
        self.assertIn("<polyline", charts["Revenue"])
        with self.assertRaises(UserError):
            Report._get_report_values([], {"comparison": "previous"})
        with self.assertRaises(UserError):
            Report._get_report_values(self.snapshot.ids, {"comparison": "decade"})

    def test_html_ltr_and_rtl(self):
        html = self.html(self.snapshot.ids)
        self.assertIn('dir="ltr"', html)
        self.assertIn("<svg", html)
        self.assertNotIn("<script", html.split("<main>")[-1])
        self.env["res.lang"]._activate_lang("he_IL")
        html = self.html(self.snapshot.ids, lang="he_IL")
        self.assertIn('dir="rtl"', html)
        # the start of the line is the right in Hebrew
        self.assertIn("text-align: right", html.split("o_crm_kpi_success")[1])
        svg = trend_svg([("a", 1.0), ("b", 2.0)], number_format(self.env), rtl=True)
        # time runs from right to left: first point at the right
        xs = [float(x) for x in re.findall(r'cx="([\d.]+)"', svg)]
        self.assertGreater(xs[0], xs[1])

    def test_chart_numbers_in_the_readers_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        french = number_format(self.env(context=dict(self.env.context, lang="fr_FR")))
        english = number_format(self.env(context=dict(self.env.context, lang="en_US")))
        self.assertEqual(english(2.5), "2.5")
        self.assertEqual(english(12345.0), "12,345")
        self.assertEqual(french(2.5), "2,5")
        self.assertNotIn(",", french(12345.0))
        self.assertEqual(english(None), "")
        svg = trend_svg([("a", 1.5), ("b", 2.5)], french)
        self.assertIn("2,5", svg)

    def test_team_scope_and_wizard(self):
        self.assertTrue(self.team_snapshot)
        # (without a document layout, Odoo first asks to configure one)
        self.company.external_report_layout_id = self.env.ref(
            "web.external_layout_standard"
        )
        wizard = self.env["crm.kpi.report.wizard"].create(
            {
                "company_id": self.company.id,
                "granularity": "month",
                "date": D(2025, 3, 17),
                "scope": "team",
                "team_id": self.team.id,
                "comparison": "year",
            }
        )
        self.assertEqual(wizard.period_label, "2025-03")
        action = wizard.action_print()
        self.assertEqual(action["type"], "ir.actions.report")
        self.assertEqual(action["data"]["snapshot_ids"], self.team_snapshot.ids)
        self.assertEqual(action["data"]["comparison"], "year")
        html = self.html(None, data=action["data"])
        self.assertIn("Sales Team: KPI Team A", html)
        self.assertIn("Same period last year", html)
        # a period never computed
        wizard.date = D(2020, 1, 1)
        with self.assertRaisesRegex(UserError, "No KPIs are computed"):
            wizard.action_print()
        # opened from the Overview on a value: its period and scope
        value = self.team_snapshot.value_ids[:1]
        defaults = (
            self.env["crm.kpi.report.wizard"]
            .with_context(active_model="crm.kpi.value", active_ids=value.ids)
            .default_get(["company_id", "granularity", "date", "scope", "team_id"])
        )
        self.assertEqual(defaults["date"], D(2025, 3, 1))
        self.assertEqual(defaults["scope"], "team")
        self.assertEqual(defaults["team_id"], self.team.id)
        # printed from the snapshot form
        action = self.snapshot.action_print_success_report()
        self.assertEqual(action["report_name"], "crm_success_kpi.success_report")

    def test_scheduled_delivery_once(self):
        # only this company mails in this test
        self.env["res.company"].search(
            [("id", "!=", self.company.id)]
        ).kpi_report_enabled = False
        Log = self.env["crm.kpi.report.log"].with_context(force_report_rendering=True)
        managers = self.manager | self.manager_b
        self.assertEqual(Log._recipients(self.company), managers)
        # 10 April 2025: the month just closed is March 2025
        first = Log._cron_send_reports(today=D(2025, 4, 10), commit=False)
        second = Log._cron_send_reports(today=D(2025, 4, 10), commit=False)
        self.assertEqual(len(first), 2)
        self.assertFalse(second, "the rerun must not mail again")
        mails = self.env["mail.mail"].search(
            [("model", "=", "crm.kpi.snapshot"), ("res_id", "=", self.snapshot.id)]
        )
        for manager in managers:
            mine = mails.filtered(lambda m, p=manager.partner_id: p in m.recipient_ids)
            self.assertEqual(len(mine), 1, f"one mail for {manager.login}")
            self.assertEqual(len(mine.attachment_ids), 1)
            self.assertEqual(mine.attachment_ids.mimetype, "application/pdf")
            self.assertTrue(mine.attachment_ids.raw.startswith(b"%PDF"))
            self.assertIn("2025-03", mine.subject)
        self.assertNotIn(self.salesman.partner_id, mails.recipient_ids)
        logs = self.env["crm.kpi.report.log"].search(
            [("company_id", "=", self.company.id)]
        )
        self.assertEqual(logs.user_id, managers)
        self.assertEqual(set(logs.mapped("date_start")), {D(2025, 3, 1)})
        self.assertEqual(set(logs.mapped("mail_id")), set(mails))
        # a new manager joining later gets the report at the next run, alone
        late = self.new_manager("kpi_manager_late")
        third = Log._cron_send_reports(today=D(2025, 4, 28), commit=False)
        self.assertEqual(third.user_id, late)
