"""Browser tests: the KPI screens used for real in Chromium.

The tours run on Odoo's demo data plus a small generated history.  The
screenshots test saves pictures of the main screens (and the first page of
the PDF report) in the folder named by ``CRM_KPI_SCREENSHOTS`` (default: the
checkout's git-ignored ``.local/screenshots``); ``make screenshots`` points
it at ``docs/screenshots`` for the README."""

import base64
import os
import shutil
import subprocess
import tempfile
from unittest.mock import patch

from dateutil.relativedelta import relativedelta

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import ChromeBrowser

from ..generator.history import demo_targets, generate
from .test_i18n import load_languages

ADDON_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

WAIT_JS = """
const waitFor = (selector, timeout = 30000) => new Promise((resolve, reject) => {
    const start = Date.now();
    const timer = setInterval(() => {
        const node = document.querySelector(selector);
        if (node) { clearInterval(timer); resolve(node); }
        else if (Date.now() - start > timeout) {
            clearInterval(timer); reject(new Error("not found: " + selector));
        }
    }, 200);
});
const settle = () => new Promise((resolve) => setTimeout(resolve, 1500));
"""


def screenshot_dir():
    path = os.environ.get("CRM_KPI_SCREENSHOTS") or os.path.join(
        ADDON_ROOT, ".local", "screenshots"
    )
    os.makedirs(path, exist_ok=True)
    return path


@tagged("post_install", "-at_install")
class TestKpiTours(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        today = fields.Date.today()
        company = env.ref("base.main_company")
        generate(env, customers=120, months=13, seed=7, companies=company)
        cls.salesman = new_test_user(
            env,
            login="kpi_tour_salesman",
            groups="sales_team.group_sale_salesman",
            company_id=company.id,
            company_ids=[Command.set(company.ids)],
        )
        orders = env["sale.order"].search(
            [("company_id", "=", company.id), ("state", "=", "sale")],
            order="date_order desc",
            limit=5,
        )
        orders.write({"user_id": cls.salesman.id})
        Snapshot = env["crm.kpi.snapshot"]
        month = today.replace(day=1)
        for i in range(12, -1, -1):
            Snapshot.compute_period("month", month - relativedelta(months=i), company)
        for i in range(4, -1, -1):
            Snapshot.compute_period(
                "quarter", month - relativedelta(months=3 * i), company
            )
        # the demo's targets, so that the dashboard shows target statuses
        demo_targets(env, company)
        cls.customer = (
            env["sale.order"]
            .search([("company_id", "=", company.id)], limit=1)
            .partner_id
        ).commercial_partner_id
        # build the web client's bundles before the first tour: built by the
        # tour's first request instead, they held the test cursor past the
        # 20 s other requests wait for it when the machine was busy
        qweb = env["ir.qweb"]
        qweb._get_asset_bundle("web.assets_web").js()
        qweb._get_asset_bundle("web.assets_web").css()
        qweb._get_asset_bundle("web.assets_web", js=False, rtl=True).css()

    def _ensure_browser(self):
        if not (shutil.which("chromium") or shutil.which("google-chrome")):
            self.fail("Chromium is needed for the browser tests and was not found")

    def test_manager_tour(self):
        self._ensure_browser()
        self.start_tour("/odoo", "crm_success_kpi_manager_tour", login="admin")

    def test_dashboard_tour(self):
        self._ensure_browser()
        self.start_tour("/odoo", "crm_success_kpi_dashboard_tour", login="admin")

    def test_dashboard_salesman_tour(self):
        self._ensure_browser()
        self.start_tour(
            "/odoo/action-crm_success_kpi.crm_kpi_dashboard_action",
            "crm_success_kpi_dashboard_salesman_tour",
            login="kpi_tour_salesman",
        )

    def test_spreadsheet_dashboard_tour(self):
        """The CRM Success dashboard of the Dashboards app: the company's
        scorecards, the trend, and a value that opens its records."""
        self._ensure_browser()
        self.start_tour(
            "/odoo", "crm_success_kpi_spreadsheet_dashboard_tour", login="admin"
        )

    def test_spreadsheet_dashboard_salesman_tour(self):
        """A salesperson opens the same dashboard on his own values: orders
        of last month are his, and the month is computed again."""
        self._ensure_browser()
        company = self.env.ref("base.main_company")
        month = fields.Date.today().replace(day=1) - relativedelta(months=1)
        orders = self.env["sale.order"].search(
            [
                ("company_id", "=", company.id),
                ("state", "=", "sale"),
                ("date_order", ">=", month),
                ("date_order", "<", month + relativedelta(months=1)),
            ],
            limit=3,
        )
        self.assertTrue(orders, "the generated history has orders last month")
        orders.write({"user_id": self.salesman.id})
        self.env["crm.kpi.snapshot"].compute_period("month", month, company)
        self.start_tour(
            "/odoo",
            "crm_success_kpi_spreadsheet_dashboard_salesman_tour",
            login="kpi_tour_salesman",
        )

    def test_ticket_tour(self):
        self._ensure_browser()
        self.start_tour(
            "/odoo/action-helpdesk_mgmt.helpdesk_ticket_action",
            "crm_success_kpi_ticket_tour",
            login="admin",
        )

    def test_salesman_tour(self):
        self._ensure_browser()
        self.start_tour(
            "/odoo/action-crm_success_kpi.crm_kpi_value_action",
            "crm_success_kpi_salesman_tour",
            login="kpi_tour_salesman",
        )

    def test_drill_down_tour(self):
        """A ticket opened after the month was computed: the drill-down list
        of the tickets opened says so, and its button computes the month
        again."""
        self._ensure_browser()
        company = self.env.ref("base.main_company")
        month = fields.Date.today().replace(day=1)
        value = self.env["crm.kpi.value"].search(
            [
                ("company_id", "=", company.id),
                ("scope", "=", "company"),
                ("granularity", "=", "month"),
                ("date_start", "=", month),
                ("kpi_code", "=", "tickets_opened"),
            ]
        )
        self.assertEqual(len(value), 1)
        self.env["helpdesk.ticket"].with_company(company).create(
            {
                "name": "KPI ticket after the computation",
                "description": "<p>Opened after the month was computed</p>",
                "company_id": company.id,
            }
        )
        url = f"/odoo/crm.kpi.value/{value.id}"
        self._capture(
            url,
            ".o_crm_kpi_drill_banner",
            "drill_down_changed.png",
            before="(await waitFor(\"button[name='action_open_numerator']\")).click();",
        )
        self.start_tour(url, "crm_success_kpi_drill_tour", login="admin")
        self.assertEqual(
            value.numerator,
            self.env["helpdesk.ticket"].search_count(
                value.action_open_numerator()["domain"]
            ),
        )

    def _capture(self, url, ready_selector, name, before=""):
        """Open ``url``, wait for ``ready_selector`` (after running the JS
        ``before``), and save a PNG screenshot as ``name``."""
        shots = {}
        original = ChromeBrowser._wait_code_ok

        def wait_then_capture(browser, *args, **kwargs):
            original(browser, *args, **kwargs)
            shot = browser._websocket_request(
                "Page.captureScreenshot", params={"format": "png"}, timeout=30
            )
            shots["png"] = base64.b64decode(shot["data"])

        code = (
            WAIT_JS + f"(async () => {{ {before} await waitFor({ready_selector!r});"
            " await settle(); console.log('test successful'); })()"
            ".catch((e) => console.error(e.message));"
        )
        with patch.object(ChromeBrowser, "_wait_code_ok", wait_then_capture):
            self.browser_js(
                url, code, ready="odoo.__WOWL_DEBUG__ || true", login="admin"
            )
        self.assertTrue(shots.get("png"), f"no screenshot of {name}")
        with open(os.path.join(screenshot_dir(), name), "wb") as f:
            f.write(shots["png"])

    def test_screenshots(self):
        self._ensure_browser()
        dashboard = "/odoo/action-crm_success_kpi.crm_kpi_dashboard_action"
        self._capture(dashboard, ".o_crm_kpi_card .o_crm_kpi_spark", "dashboard.png")
        action = "/odoo/action-crm_success_kpi.crm_kpi_value_action_overview"
        self._capture(action, ".o_graph_renderer canvas", "overview_graph.png")
        self._capture(
            action + "?view_type=pivot", ".o_pivot table tbody tr", "overview_pivot.png"
        )
        self._capture(
            f"/odoo/action-crm_success_kpi.crm_kpi_customers_action/{self.customer.id}",
            ".o_field_widget[name='kpi_lifetime_revenue']",
            "customer_kpi_tab.png",
            before="(await waitFor(\".o_notebook a.nav-link[name='crm_kpi']\"))"
            ".click();",
        )
        self._capture(
            "/odoo/action-crm_success_kpi.crm_kpi_customers_action",
            ".o_list_view .o_data_row",
            "customers_list.png",
        )
        self._capture(
            "/odoo/action-crm_success_kpi.crm_kpi_cohort_action",
            ".o_pivot table tbody tr",
            "cohorts.png",
        )
        sheet = self.env.ref("crm_success_kpi.spreadsheet_dashboard_crm_success")
        self._capture(
            f"/odoo/dashboards?dashboard_id={sheet.id}",
            ".o_spreadsheet_dashboard_action canvas.o-scorecard[title='Revenue']",
            "spreadsheet_dashboard.png",
            before="await settle(); await settle();",
        )
        self._pdf_first_page()
        # the same page for a Persian reader: right to left, in Persian
        load_languages(self.env)
        self._pdf_first_page(lang="fa_IR", name="report_page1_fa.png")
        admin = self.env.ref("base.user_admin")
        admin.lang = "fa_IR"
        try:
            self._capture(
                dashboard, ".o_crm_kpi_card .o_crm_kpi_spark", "dashboard_fa.png"
            )
        finally:
            admin.lang = "en_US"

    def _pdf_first_page(self, lang=None, name="report_page1.png"):
        if not shutil.which("pdftoppm"):
            self.fail("pdftoppm (poppler-utils) is needed to picture the PDF report")
        snapshot = self.env["crm.kpi.snapshot"].search(
            [
                ("company_id", "=", self.env.ref("base.main_company").id),
                ("scope", "=", "company"),
                ("granularity", "=", "month"),
            ],
            order="date_start desc",
            limit=1,
            offset=1,
        )
        report = self.env.ref("crm_success_kpi.action_report_crm_kpi_success")
        pdf, kind = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True, lang=lang or "en_US")
            ._render_qweb_pdf(report.report_name, snapshot.ids)
        )
        self.assertEqual(kind, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF"))
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "report.pdf")
            with open(path, "wb") as f:
                f.write(pdf)
            subprocess.run(
                [
                    "pdftoppm",
                    "-png",
                    "-r",
                    "80",
                    "-f",
                    "1",
                    "-l",
                    "1",
                    path,
                    os.path.join(tmp, "page"),
                ],
                check=True,
            )
            page = next(n for n in os.listdir(tmp) if n.startswith("page"))
            shutil.copy(
                os.path.join(tmp, page),
                os.path.join(screenshot_dir(), name),
            )
