"""Persian and Hebrew: the template is current, the translations complete and
well-formed, and the PDF report reads in both languages."""

import re
import shutil
import unicodedata
import unittest
from collections import Counter

from odoo.tests import HttpCase, TransactionCase, tagged
from odoo.tools.misc import file_open

from ..report.ir_actions_report import embed_arabic_runs
from ..tools import i18n
from .common import D, KpiCase
from .test_report import REPORT, ReportData, pdf_text

PLACEHOLDER = re.compile(r"%(?:\([A-Za-z_][A-Za-z0-9_]*\))?[sdfr%]|\{[A-Za-z_0-9]*\}")
TAG = re.compile(r"</?([A-Za-z][\w.:-]*)")
QWEB_ATTR = re.compile(r"""\bt-[\w-]+="[^"]*"|\bt-[\w-]+='[^']*'""")
LANGS = {"fa": "fa_IR", "he": "he_IL"}


def untranslated(template, po):
    """msgids of ``template`` without a usable translation in ``po``."""
    return [
        msgid
        for msgid in template
        if msgid not in po or not po[msgid].msgstr.strip() or "fuzzy" in po[msgid].flags
    ]


def read(path):
    with file_open(f"{i18n.MODULE}/i18n/{path}", "rb") as f:
        return f.read()


@tagged("post_install", "-at_install")
class TestTranslationFiles(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.template = i18n.entries(read(f"{i18n.MODULE}.pot"))

    def test_template_is_current(self):
        current = i18n.entries(i18n.export_pot(self.env))
        missing = sorted(set(current) - set(self.template))
        stale = sorted(set(self.template) - set(current))
        self.assertFalse(
            missing or stale,
            "i18n/crm_success_kpi.pot is out of date (run 'make pot'): "
            f"new terms {missing[:10]}, terms no longer used {stale[:10]}",
        )

    def test_every_term_translated_in_fa_and_he(self):
        for lang in i18n.LANGUAGES:
            with self.subTest(lang=lang):
                missing = untranslated(self.template, i18n.entries(read(f"{lang}.po")))
                self.assertFalse(
                    missing,
                    f"{len(missing)} terms untranslated in {lang}.po, e.g. "
                    f"{missing[:5]}",
                )

    def test_translations_keep_placeholders_and_markup(self):
        for lang in i18n.LANGUAGES:
            po = i18n.entries(read(f"{lang}.po"))
            for msgid, entry in po.items():
                msgstr = entry.msgstr
                with self.subTest(lang=lang, msgid=msgid[:60]):
                    self.assertEqual(
                        Counter(PLACEHOLDER.findall(msgid)),
                        Counter(PLACEHOLDER.findall(msgstr)),
                        "placeholders differ",
                    )
                    if "<" in msgid:
                        self.assertEqual(
                            Counter(TAG.findall(msgid)),
                            Counter(TAG.findall(msgstr)),
                            "tags differ",
                        )
                        self.assertEqual(
                            Counter(QWEB_ATTR.findall(msgid)),
                            Counter(QWEB_ATTR.findall(msgstr)),
                            "QWeb expressions differ",
                        )

    def test_completeness_check_finds_gaps(self):
        """An emptied, a fuzzy and a removed translation are all reported."""
        po = i18n.entries(read("fa.po"))
        first, second, third = list(self.template)[:3]
        self.assertEqual(untranslated([first, second, third], po), [])
        po[first].msgstr = " "
        po[second].flags.append("fuzzy")
        del po[third]
        self.assertEqual(
            untranslated([first, second, third], po), [first, second, third]
        )


def load_languages(env):
    for code in LANGS.values():
        env["res.lang"]._activate_lang(code)
    env["ir.module.module"]._load_module_terms(
        [i18n.MODULE], list(LANGS.values()), overwrite=True
    )


def readable(text):
    """Text to compare, as pdftotext gives it (logical order, with bidi
    embedding marks): compatibility forms folded (Arabic-script presentation
    forms back to letters), bidi marks, joiners and spaces removed."""
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"[\s\u200b-\u200f\u202a-\u202e\u2066-\u2069]+", "", text)


@tagged("post_install", "-at_install")
class TestArabicRuns(TransactionCase):
    def test_each_arabic_script_run_is_embedded(self):
        doc = (
            "<html><body><p>ارزش طول عمر (CLV) محاسبه\u200cشده: <b>450</b> مهر</p>"
            "<p>שיעור נטישה CRM</p><svg><text>مهر 1405</text></svg>"
            "<style>.a{}</style></body></html>"
        )
        out = embed_arabic_runs(doc)
        span = '<span style="unicode-bidi: embed; direction: rtl;">'
        self.assertIn(
            f"<p>{span}ارزش</span> {span}طول</span> {span}عمر</span> (CLV) "
            f"{span}محاسبه\u200cشده</span>: "
            f"<b>450</b> {span}مهر</span></p>",
            out,
        )
        self.assertIn("<p>שיעור נטישה CRM</p>", out)  # Hebrew is laid out well
        self.assertIn("<text>مهر 1405</text>", out)  # SVG text is left alone
        self.assertIs(embed_arabic_runs("<p>Revenue</p>"), "<p>Revenue</p>")


@tagged("post_install", "-at_install")
class TestTranslatedValues(KpiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        load_languages(cls.env)

    def test_kpi_names_menus_and_reasons_are_translated(self):
        churn = self.env.ref("crm_success_kpi.kpi_churn_rate")
        menu = self.env.ref("crm_success_kpi.menu_crm_success_root")
        for code in LANGS.values():
            with self.subTest(lang=code):
                self.assertNotEqual(churn.with_context(lang=code).name, churn.name)
                self.assertNotEqual(
                    churn.with_context(lang=code).description, churn.description
                )
                self.assertNotEqual(menu.with_context(lang=code).name, menu.name)
        # the engine stores n/a reasons in English, they read translated
        snap = self.compute("month", D(2025, 3, 1)).filtered(
            lambda s: s.scope == "company"
        )
        churn_value = snap.value_ids.filtered(lambda v: v.kpi_code == "churn_rate")
        self.assertFalse(churn_value.has_value)
        self.assertEqual(churn_value.note, "no customers active at start")
        for code in LANGS.values():
            shown = churn_value.with_context(lang=code)
            self.assertTrue(shown.note_label)
            self.assertNotEqual(shown.note_label, churn_value.note)
            self.assertIn(shown.note_label, shown.display_value)

    def test_periods_read_in_the_readers_language(self):
        self.company.kpi_period_calendar = "jalali"
        snaps = self.compute("month", D(2026, 10, 1))
        snap = snaps.filtered(lambda s: s.scope == "company")
        maturity = self.env["crm.kpi.maturity"].search(
            [("company_id", "=", self.company.id), ("date_start", "=", snap.date_start)]
        )
        self.assertEqual(len(maturity), 1)
        for record in (snap, snap.value_ids[0], maturity):
            self.assertEqual(record.period_label, "Mehr 1405")
            self.assertEqual(record.with_context(lang="en_US").period_name, "Mehr 1405")
            self.assertEqual(record.with_context(lang="fa_IR").period_name, "مهر 1405")
            self.assertEqual(record.with_context(lang="he_IL").period_name, "מהר 1405")

    def test_jalali_month_names_in_persian(self):
        Report = self.env["report.crm_success_kpi.success_report"]
        label = Report.with_context(lang="fa_IR")._period_label(
            "month", D(2026, 9, 23), "jalali"
        )
        self.assertEqual(label, "مهر 1405")
        label = Report.with_context(lang="en_US")._period_label(
            "month", D(2026, 9, 23), "jalali"
        )
        self.assertEqual(label, "Mehr 1405")


@tagged("post_install", "-at_install")
class TestLanguageInstalledLater(KpiCase):
    def test_maturity_criteria_follow_a_new_language(self):
        self.make_orders(
            [{"partner": self.make_customers(1), "date": D(2025, 3, 5), "amount": 50.0}]
        )
        snap = self.compute("month", D(2025, 3, 1)).filtered(
            lambda s: s.scope == "company"
        )
        maturity = self.env["crm.kpi.maturity"].search(
            [("company_id", "=", self.company.id), ("date_start", "=", snap.date_start)]
        )
        criterion = maturity.criterion_ids.filtered(lambda c: c.code == "customers")
        self.assertEqual(
            criterion.name, "Customers with purchases in the last 12 months"
        )
        load_languages(self.env)  # after the computation
        criterion = maturity.criterion_ids.filtered(lambda c: c.code == "customers")
        persian = criterion.with_context(lang="fa_IR")
        self.assertNotEqual(persian.name, criterion.name)
        self.assertNotEqual(persian.detail, criterion.detail)
        self.assertIn("1", persian.detail)


@tagged("post_install", "-at_install")
class TestReportPdfTranslated(ReportData, KpiCase, HttpCase):
    """The real PDF in Persian and in Hebrew; Solar Hijri months in Persian."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        load_languages(cls.env)
        cls.build_report_data()

    def pdf(self, lang):
        pdf, kind = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True, lang=lang)
            ._render_qweb_pdf(REPORT, self.snapshot.ids)
        )
        self.assertEqual(kind, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF"), "wkhtmltopdf made no PDF")
        return readable(pdf_text(pdf))

    def translated(self, xmlid, lang, field="name"):
        record = self.env.ref(xmlid)
        text = record.with_context(lang=lang)[field]
        self.assertNotEqual(text, record[field], f"{xmlid} not translated in {lang}")
        return readable(text)

    @unittest.skipUnless(
        shutil.which("wkhtmltopdf") and shutil.which("pdftotext"),
        "wkhtmltopdf and pdftotext are needed",
    )
    def test_pdf_in_persian_and_hebrew(self):
        for lang in LANGS.values():
            with self.subTest(lang=lang):
                text = self.pdf(lang)
                for xmlid in (
                    "crm_success_kpi.kpi_revenue",
                    "crm_success_kpi.kpi_churn_rate",
                    "crm_success_kpi.kpi_retention_rate",
                    "crm_success_kpi.kpi_nps",
                    "crm_success_kpi.kpi_win_rate",
                ):
                    self.assertIn(self.translated(xmlid, lang), text)
                # numbers stay numbers: the March revenue by hand
                self.assertIn("450.00", text)
                # nothing left in English: KPI names, maturity criteria, reasons
                for english in (
                    "Churn rate",
                    "Revenue per customer computed",
                    "no customers active a year ago",
                    "Previous period",
                ):
                    self.assertNotIn(readable(english), text)

    @unittest.skipUnless(
        shutil.which("wkhtmltopdf") and shutil.which("pdftotext"),
        "wkhtmltopdf and pdftotext are needed",
    )
    def test_solar_hijri_month_in_persian_pdf(self):
        self.company.kpi_period_calendar = "jalali"
        snaps = self.Snapshot.compute_period(
            "month", D(2025, 3, 1), companies=self.company
        )
        snap = snaps.filtered(lambda s: s.scope == "company")
        # Esfand 1403 runs from 19 February to 20 March 2025
        self.assertEqual(
            (snap.date_start, snap.date_end), (D(2025, 2, 19), D(2025, 3, 21))
        )
        self.assertEqual(snap.period_label, "Esfand 1403")
        pdf, _kind = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True, lang="fa_IR")
            ._render_qweb_pdf(REPORT, snap.ids)
        )
        text = readable(pdf_text(pdf))
        self.assertIn(readable("اسفند 1403"), text)
        # the comparison period (pdftotext moves the parentheses around 1403)
        self.assertIn(readable("دوره قبل: بهمن"), text)
        # orders of 5 March (250) and 12 March (200): both in Esfand
        self.assertIn("450.00", text)


@tagged("post_install", "-at_install")
class TestPersianScreens(KpiCase, HttpCase):
    """A manager who reads Persian, in a Solar Hijri company, in Chromium."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        load_languages(cls.env)
        cls.company.kpi_period_calendar = "jalali"
        cls.manager.lang = "fa_IR"
        customer = cls.make_customers(1)
        cls.make_orders(
            [{"partner": customer, "date": D(2026, 10, 1), "amount": 500.0}]
        )
        cls.Snapshot.compute_period("month", D(2026, 10, 1), companies=cls.company)

    def test_persian_right_to_left_tour(self):
        self.start_tour("/odoo", "crm_success_kpi_rtl_tour", login=self.manager.login)
