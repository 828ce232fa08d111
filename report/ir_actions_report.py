"""Arabic-script text in the PDF report.

The QtWebKit inside the wkhtmltopdf of Linux distributions (unpatched Qt)
misplaces a run of Arabic-script letters that shares its line box with other
characters (Latin words, digits, punctuation): "ارزش طول عمر مشتری (CLV)"
is drawn over the next column or past the page edge. Giving every run of
Persian/Arabic letters its own right-to-left embedding fixes the layout, so
the report's HTML gets one such span per run before it is rendered.
"""

import re

from lxml import etree, html

from odoo import models

REPORT_NAME = "crm_success_kpi.success_report"
# Arabic-script letters (Arabic, its supplements and presentation forms)
LETTER = "\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff"
# a run: letters, with zero-width (non-)joiners inside it
ARABIC_RUN = re.compile(f"[{LETTER}](?:[{LETTER}\u200c\u200d]*[{LETTER}])?")
RUN_STYLE = "unicode-bidi: embed; direction: rtl;"
SKIPPED = {"script", "style", "head", "title"}


def _spans(text):
    """``(leading text, [span element, ...])``: each span holds one run of
    Arabic-script letters and, as its tail, the text up to the next run."""
    parts = ARABIC_RUN.split(text)
    runs = ARABIC_RUN.findall(text)
    spans = []
    for run, tail in zip(runs, parts[1:], strict=True):
        span = etree.Element("span", style=RUN_STYLE)
        span.text = run
        span.tail = tail or None
        spans.append(span)
    return parts[0] or None, spans


def embed_arabic_runs(document):
    """The HTML ``document`` (str) with every Arabic-script run embedded."""
    if not ARABIC_RUN.search(document):
        return document
    root = html.document_fromstring(document)
    for element in list(root.iter()):
        if not isinstance(element.tag, str) or element.tag in SKIPPED:
            continue
        if any(a.tag in SKIPPED or a.tag == "svg" for a in element.iterancestors()):
            continue
        if element.tag == "svg":
            continue
        if element.text and ARABIC_RUN.search(element.text):
            element.text, spans = _spans(element.text)
            for index, span in enumerate(spans):
                element.insert(index, span)
        parent = element.getparent()
        if (
            parent is not None
            and element.tail
            and ARABIC_RUN.search(element.tail)
            and parent.tag not in SKIPPED
        ):
            element.tail, spans = _spans(element.tail)
            position = parent.index(element) + 1
            for offset, span in enumerate(spans):
                parent.insert(position + offset, span)
    doctype = ""
    if document.lstrip()[:9].lower() == "<!doctype":
        doctype = "<!DOCTYPE html>\n"
    return doctype + html.tostring(root, encoding="unicode", method="html")


class IrActionsReport(models.Model):
    _inherit = "ir.actions.report"

    def _render_qweb_html(self, report_ref, docids, data=None):
        content, kind = super()._render_qweb_html(report_ref, docids, data=data)
        if self._get_report(report_ref).report_name == REPORT_NAME and content:
            text = content.decode() if isinstance(content, bytes) else str(content)
            fixed = embed_arabic_runs(text)
            if fixed is not text:
                content = fixed.encode()
        return content, kind
