#!/usr/bin/env python3
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Build the "CRM Success" dashboard of Odoo's Dashboards app.

Writes, from the KPI catalogue of ``data/crm_kpi_definition_data.xml``:

- ``data/files/crm_success_dashboard.json``: an o-spreadsheet workbook
  (version 18.5.10, Odoo 19) reading the stored KPI values
  (``crm.kpi.value``) through ODOO pivots;
- ``data/files/crm_success_sample_dashboard.json``: the same layout with
  sample numbers, shown by the Dashboards app while the reader has no KPI
  value yet.

Pure Python (no Odoo needed); ids are derived from names, so running it
again gives the same files.  ``--check`` only says whether the files are up
to date (exit code 1 when not).

How the workbook works
----------------------
Global filters: Period (date, on ``date_start``), Sales Team (``crm.team``
on ``team_id``) and Salesperson (``res.users`` on ``user_id``).

Every pivot holds the values of ONE scope, so that no number adds up values
of several scopes (a company value already counts its teams): pivots 1, 2, 3
are the period's company, team and user-and-agent values (4, 5, 6 the
previous period: offset -1), 7, 8, 9 their monthly values for the trend.
The team pivots follow only the Sales Team filter, the user pivots only the
Salesperson filter, the company pivots neither.

The hidden Data sheet picks the scope shown: the salesperson's when the
Salesperson filter is set, else the team's when the Sales Team filter is
set, else the widest scope the reader may read (the company, else the teams
he leads, else his own values: the record rules decide what each pivot
returns).  The dashboard's cells read that pivot with
``PIVOT.VALUE(Data!$B$8, ...)``, one pivot function per cell, so that
clicking a value opens its records.  Values are read at the granularity of
the period filter (a calendar month, quarter or year, when such a value is
stored), else the period's monthly values combined as the catalogue says
(the model's read_group does it); the trend shows the 12 months ending with
the period.
"""

import argparse
import json
import sys
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "data" / "crm_kpi_definition_data.xml"
OUTPUT = ROOT / "data" / "files" / "crm_success_dashboard.json"
SAMPLE_OUTPUT = ROOT / "data" / "files" / "crm_success_sample_dashboard.json"

VERSION = "18.5.10"
MODEL = "crm.kpi.value"
ACTION = "crm_success_kpi.crm_kpi_value_action"
MENU_DASHBOARD = "crm_success_kpi.menu_crm_success_dashboard"
MENU_OVERVIEW = "crm_success_kpi.menu_crm_success_overview"
# stable ids: uuid5 of a name in this namespace
NAMESPACE = uuid.UUID("6f7a3c52-2f0e-4d8b-9a51-3c1e0b9d7a10")

# the catalogue's areas, in the order of models/crm_kpi_definition.py, with
# the background of their scorecards
AREA_COLORS = {
    "customers": "#EFF6FF",
    "revenue": "#FFF7ED",
    "sales": "#F0FDF4",
    "marketing": "#FDF4FF",
    "service": "#F0F9FF",
    "perception": "#FEFCE8",
    "adoption": "#F5F3FF",
    "financial": "#F8FAFC",
}
AREAS = tuple(AREA_COLORS)
GREEN, RED = "#00A04A", "#DC6965"
# number formats by unit: rates are stored times their factor (25.0 is 25 %)
UNIT_FORMATS = {
    "count": "#,##0",
    "currency": "#,##0.00",
    "percent": '#,##0.00" %"',
    "hours": '#,##0.00" h"',
    "days": '#,##0.00" days"',
    "months": '#,##0.00" months"',
    "ratio": "#,##0.00",
}
# rates and scores change in points (never a ratio of two rates), the rest in %
POINT_UNITS = ("percent", "ratio")
POINTS_FORMAT = '+#,##0.00" pts";-#,##0.00" pts";0.00" pts"'
RELATIVE_FORMAT = "+0.0%;-0.0%;0.0%"
DATE_FORMAT = "mm/dd/yyyy"
MONTH_FORMAT = "mmm yyyy"

# the trend charts: (title, KPI code, measure, chart type)
TRENDS = (
    ("Revenue", "revenue", "value", "line"),
    ("New customers", "new_customers", "value", "bar"),
    # the customers lost in the month: the churn rate's numerator
    ("Lost customers", "churn_rate", "numerator", "bar"),
    ("Win rate", "win_rate", "value", "line"),
    ("First response time", "ticket_first_response_hours", "value", "line"),
    ("Net Promoter Score", "nps", "value", "line"),
)
TREND_MONTHS = 12

# pivots: id -> (name, scope domain, matched relation filter, offset)
SCOPES = {
    "company": [["scope", "=", "company"]],
    "team": [["scope", "=", "team"]],
    "user": [["scope", "in", ["user", "agent"]]],
}
SCOPE_FILTER = {"company": None, "team": "team", "user": "user"}
PERIOD_PIVOTS = {"company": 1, "team": 2, "user": 3}
PREVIOUS_OFFSET = 3  # previous period: pivots 4, 5, 6
TREND_OFFSET = 6  # trends: pivots 7, 8, 9

# the hidden Data sheet: settings in rows 2-13, the trend from row 16
DATA_SHEET = "Data"
(
    ROW_PERIOD, ROW_MONTHS, ROW_CALENDAR, ROW_TEAM, ROW_USER, ROW_SCOPE, ROW_PIVOT,
    ROW_PREVIOUS, ROW_TREND_PIVOT, ROW_GRANULARITY, ROW_LAST_MONTH, ROW_CAPTION,
) = range(2, 14)  # fmt: skip
ROW_TREND_HEADER, ROW_TREND_FIRST = 15, 16

# the Dashboard sheet
CARDS_PER_ROW = 4
CARD_WIDTH, CARD_HEIGHT, CARD_STEP = 250, 100, 260
CARD_ROW_SIZE = 112
CHARTS_PER_ROW = 2
CHART_WIDTH, CHART_HEIGHT, CHART_STEP = 510, 300, 520
CHART_ROW_SIZE = 320
COLUMN_SIZES = (280, 170, 170, 170, 250)

# sample numbers (current, previous) of the sample dashboard
SAMPLE_VALUES = {
    "new_customers": (42, 37), "churn_rate": (2.1, 2.6),
    "retention_rate": (97.9, 97.4), "renewal_rate": (81.5, 79.0),
    "clv": (5830.0, 5610.0), "revenue": (128450.0, 119300.0),
    "revenue_growth_yoy": (12.4, 9.8), "gross_profit": (51380.0, 47720.0),
    "deals_won": (37, 33), "win_rate": (31.6, 29.2),
    "sales_cycle_days": (24.5, 26.1), "campaign_roi": (142.0, 128.0),
    "cac": (310.0, 335.0), "tickets_closed": (264, 251),
    "ticket_first_response_hours": (3.4, 3.9),
    "ticket_resolution_hours": (19.8, 21.2), "fcr_rate": (68.2, 66.9),
    "nps": (41.0, 38.0), "csat": (88.5, 87.1),
    "adoption_rate": (86.0, 84.0), "crm_roi": (154.0, 149.0),
}  # fmt: skip
SAMPLE_TRENDS = {
    "revenue": [
        98200, 101500, 99800, 104300, 108900, 107200,
        111800, 115400, 113900, 117600, 119300, 128450,
    ],
    "new_customers": [28, 31, 27, 33, 35, 30, 36, 38, 34, 39, 37, 42],
    "churn_rate": [9, 8, 10, 7, 8, 9, 6, 7, 8, 6, 7, 5],
    "win_rate": [
        26.1, 27.4, 25.9, 28.3, 27.8, 29.0, 28.6, 30.1, 29.5, 30.4, 29.2, 31.6,
    ],
    "ticket_first_response_hours": [
        5.2, 4.9, 5.0, 4.6, 4.4, 4.5, 4.1, 4.0, 3.8, 3.9, 3.9, 3.4,
    ],
    "nps": [31, 33, 32, 35, 34, 36, 37, 36, 39, 38, 38, 41],
}  # fmt: skip


def uid(name):
    return str(uuid.uuid5(NAMESPACE, name))


FILTER_IDS = {
    "period": uid("filter:period"),
    "team": uid("filter:team"),
    "user": uid("filter:user"),
}


# ----------------------------------------------------------------------
# Catalogue
# ----------------------------------------------------------------------
def read_catalogue(path=CATALOGUE):
    """The KPI definitions of the addon's data file, as dicts."""
    kpis = []
    for record in ET.parse(path).getroot().iter("record"):
        if record.get("model") != "crm.kpi.definition":
            continue
        values = {}
        for field in record.iter("field"):
            values[field.get("name")] = field.get("eval") or (field.text or "")
        kpis.append(
            {
                "xmlid": record.get("id"),
                "code": values["code"],
                "name": values["name"],
                "sequence": int(values.get("sequence") or 10),
                "area": values["area"],
                "unit": values["unit"],
                "direction": values.get("direction") or "up",
                "headline": values.get("headline") == "True",
            }
        )
    return kpis


def headline_kpis(kpis):
    """The headline KPIs, by area (the catalogue's order) then sequence, as
    the addon's own dashboard shows them."""
    return sorted(
        (k for k in kpis if k["headline"]),
        key=lambda k: (AREAS.index(k["area"]), k["sequence"]),
    )


# ----------------------------------------------------------------------
# Cells
# ----------------------------------------------------------------------
def col_name(index):
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def xc(col, row):
    """``xc(1, 3)`` is "B3" (0-based column, 1-based row)."""
    return f"{col_name(col)}{row}"


def data_ref(col, row):
    return f"{DATA_SHEET}!${col_name(col)}${row}"


def t(text):
    """A translated label (the term is read from the module's translations)."""
    return '_t("{}")'.format(text.replace('"', '\\"'))


def pivot_value(pivot, measure, *args):
    """``PIVOT.VALUE(pivot, "measure", group, value, ...)``: ``pivot`` and
    the values are formula fragments (a reference or a quoted string)."""
    return "PIVOT.VALUE({})".format(", ".join([pivot, f'"{measure}"', *args]))


def quote(text):
    return f'"{text}"'


class Sheet:
    """Cells, styles, formats and figures of one sheet."""

    def __init__(self, workbook, sheet_id, name, visible=True):
        self.workbook = workbook
        self.id = sheet_id
        self.name = name
        self.visible = visible
        self.cells = {}
        self.styles = {}
        self.formats = {}
        self.borders = {}
        self.rows = {}
        self.cols = {}
        self.figures = []
        self.conditional_formats = []

    def set(self, ref, content, style=None, fmt=None, border=None):
        self.cells[ref] = str(content)
        for kind, value in (("styles", style), ("formats", fmt), ("borders", border)):
            if value:
                getattr(self, kind)[ref] = self.workbook.ref(kind, value)

    def size_rows(self, sizes):
        for row, size in sizes.items():
            self.rows[str(row)] = {"size": size}

    def export(self, col_number, row_number, grid_lines):
        return {
            "id": self.id,
            "name": self.name,
            "colNumber": col_number,
            "rowNumber": row_number,
            "rows": self.rows,
            "cols": self.cols,
            "merges": [],
            "cells": dict(sorted(self.cells.items(), key=lambda kv: _cell_key(kv[0]))),
            "styles": self.styles,
            "formats": self.formats,
            "borders": self.borders,
            "conditionalFormats": self.conditional_formats,
            "dataValidationRules": [],
            "figures": self.figures,
            "tables": [],
            "areGridLinesVisible": grid_lines,
            "isVisible": self.visible,
            "headerGroups": {"ROW": [], "COL": []},
            "comments": {},
        }


def _cell_key(ref):
    letters = "".join(c for c in ref if c.isalpha())
    return (int(ref[len(letters) :]), len(letters), letters)


class Workbook:
    """The workbook's tables of styles, formats and borders."""

    def __init__(self):
        self.tables = {"styles": {}, "formats": {}, "borders": {}}

    def ref(self, kind, value):
        table = self.tables[kind]
        for key, known in table.items():
            if known == value:
                return int(key)
        table[str(len(table) + 1)] = value
        return len(table)


TITLE = {"bold": True, "fontSize": 18, "textColor": "#01666B"}
SUBTITLE = {"fontSize": 11, "textColor": "#434343", "italic": True}
SECTION = {"bold": True, "fontSize": 14, "textColor": "#01666B"}
HEADER = {"bold": True, "fontSize": 11, "textColor": "#434343"}
TEXT = {"textColor": "#434343", "verticalAlign": "middle"}
NUMBER = {"textColor": "#434343", "verticalAlign": "middle", "align": "right"}
UNDERLINE = {"bottom": {"style": "thin", "color": "#CCCCCC"}}


# ----------------------------------------------------------------------
# Data sources and filters
# ----------------------------------------------------------------------
def global_filters():
    return [
        {
            "id": FILTER_IDS["period"],
            "type": "date",
            "label": "Period",
            "defaultValue": "last_month",
        },
        {
            "id": FILTER_IDS["team"],
            "type": "relation",
            "label": "Sales Team",
            "modelName": "crm.team",
            "defaultValueDisplayNames": [],
        },
        {
            "id": FILTER_IDS["user"],
            "type": "relation",
            "label": "Salesperson",
            "modelName": "res.users",
            "domainOfAllowedValues": [["share", "=", False]],
            "defaultValueDisplayNames": [],
        },
    ]


def field_matching(scope, period_offset=None):
    """The filters a pivot of ``scope`` follows: the period (unless a
    trend), and only the relation filter of its own scope."""
    matching = {}
    if period_offset is not None:
        matching[FILTER_IDS["period"]] = {
            "chain": "date_start",
            "type": "date",
            "offset": period_offset,
        }
    relation = SCOPE_FILTER[scope]
    if relation:
        matching[FILTER_IDS[relation]] = {
            "chain": "team_id" if relation == "team" else "user_id",
            "type": "many2one",
        }
    return matching


def _pivot(pivot_id, name, domain, rows, columns, matching):
    return {
        "type": "ODOO",
        "id": str(pivot_id),
        "formulaId": str(pivot_id),
        "name": name,
        "model": MODEL,
        "domain": domain,
        "context": {},
        "actionXmlId": ACTION,
        "measures": [
            {"id": "value", "fieldName": "value"},
            {"id": "numerator", "fieldName": "numerator"},
            {"id": "__count", "fieldName": "__count"},
        ],
        "rows": rows,
        "columns": columns,
        "fieldMatching": matching,
    }


SCOPE_NAMES = {"company": "Company", "team": "Sales Team", "user": "Salesperson"}


def pivots():
    result = {}
    trend_codes = sorted({code for _title, code, _m, _type in TRENDS})
    for scope, period_id in PERIOD_PIVOTS.items():
        label = SCOPE_NAMES[scope]
        period_domain = [["granularity", "in", ["month", "quarter", "year"]]]
        for pivot_id, suffix, offset in (
            (period_id, "period", 0),
            (period_id + PREVIOUS_OFFSET, "previous period", -1),
        ):
            result[str(pivot_id)] = _pivot(
                pivot_id,
                f"{label} · {suffix}",
                period_domain + SCOPES[scope],
                [{"fieldName": "kpi_code"}],
                [{"fieldName": "granularity"}],
                field_matching(scope, offset),
            )
        trend_id = period_id + TREND_OFFSET
        result[str(trend_id)] = _pivot(
            trend_id,
            f"{label} · monthly trend",
            [["granularity", "=", "month"], ["kpi_code", "in", trend_codes]]
            + SCOPES[scope],
            [{"fieldName": "date_start", "granularity": "month"}],
            [{"fieldName": "kpi_code"}],
            field_matching(scope),
        )
    return dict(sorted(result.items(), key=lambda kv: int(kv[0])))


# ----------------------------------------------------------------------
# The Data sheet: which scope, which granularity, the trend's months
# ----------------------------------------------------------------------
def build_data_sheet(workbook, sample):
    sheet = Sheet(workbook, "data", DATA_SHEET, visible=False)
    sheet.cols = {"0": {"size": 240}, "1": {"size": 120}, "2": {"size": 120}}
    for col, text in enumerate(("Setting", "Value", "Label")):
        sheet.set(xc(col, 1), f"={t(text)}", style=HEADER)
    labels = {
        ROW_PERIOD: "Period (from, to)",
        ROW_MONTHS: "Months in the period",
        ROW_CALENDAR: "Calendar period of the filter",
        ROW_TEAM: "Sales Team filter",
        ROW_USER: "Salesperson filter",
        ROW_SCOPE: "Scope shown",
        ROW_PIVOT: "Pivot of the period",
        ROW_PREVIOUS: "Pivot of the previous period",
        ROW_TREND_PIVOT: "Pivot of the trend",
        ROW_GRANULARITY: "Granularity read",
        ROW_LAST_MONTH: "Last month of the trend",
        ROW_CAPTION: "Caption",
    }
    for row, text in labels.items():
        sheet.set(xc(0, row), f"={t(text)}")
    B = lambda row: f"B{row}"  # noqa: E731
    frm, to = f"B{ROW_PERIOD}", f"C{ROW_PERIOD}"
    last_month = "EDATE(DATE(YEAR(TODAY()),MONTH(TODAY()),1),-1)"
    if sample:
        sheet.set(frm, f"={last_month}", fmt=DATE_FORMAT)
        sheet.set(to, f"=EOMONTH({last_month},0)", fmt=DATE_FORMAT)
        sheet.set(B(ROW_SCOPE), "company")
        sheet.set(B(ROW_GRANULARITY), "month")
    else:
        # a matrix: from in B, to in C
        sheet.set(frm, '=ODOO.FILTER.VALUE("Period")', fmt=DATE_FORMAT)
        # no cell at C: the matrix spills there
        sheet.formats[to] = workbook.ref("formats", DATE_FORMAT)
        sheet.set(
            B(ROW_MONTHS),
            f'=IF(OR({frm}="",{to}=""),0,'
            f"(YEAR({to})-YEAR({frm}))*12+MONTH({to})-MONTH({frm})+1)",
        )
        months = B(ROW_MONTHS)
        # a month, quarter or year of the calendar, else months combined
        sheet.set(
            B(ROW_CALENDAR),
            f'=IF({months}=0,"month",IF(DAY({frm})<>1,"month",'
            f'IF(DAY({to}+1)<>1,"month",'
            f'IF(AND({months}=3,MOD(MONTH({frm})-1,3)=0),"quarter",'
            f'IF(AND({months}=12,MONTH({frm})=1),"year","month")))))',
        )
        sheet.set(B(ROW_TEAM), '=ODOO.FILTER.VALUE("Sales Team")')
        sheet.set(B(ROW_USER), '=ODOO.FILTER.VALUE("Salesperson")')

        def read(scope):
            trend = PERIOD_PIVOTS[scope] + TREND_OFFSET
            return f"{pivot_value(str(trend), '__count')}+0>0"

        # the filter's scope, else the widest one the reader may read
        sheet.set(
            B(ROW_SCOPE),
            f'=IF({B(ROW_USER)}<>"","user",IF({B(ROW_TEAM)}<>"","team",'
            f'IF({read("company")},"company",IF({read("team")},"team",'
            f'IF({read("user")},"user","company")))))',
        )
        sheet.set(
            B(ROW_PIVOT),
            f'=IF({B(ROW_SCOPE)}="user",{PERIOD_PIVOTS["user"]},'
            f'IF({B(ROW_SCOPE)}="team",{PERIOD_PIVOTS["team"]},'
            f"{PERIOD_PIVOTS['company']}))",
        )
        sheet.set(B(ROW_PREVIOUS), f"={B(ROW_PIVOT)}+{PREVIOUS_OFFSET}")
        sheet.set(B(ROW_TREND_PIVOT), f"={B(ROW_PIVOT)}+{TREND_OFFSET}")
        # the stored quarter or year when there is one, else the months
        calendar = B(ROW_CALENDAR)
        stored = pivot_value(B(ROW_PIVOT), "__count", '"granularity"', calendar)
        sheet.set(
            B(ROW_GRANULARITY),
            f'=IF({calendar}="month","month",IF({stored}+0>0,{calendar},"month"))',
        )
    scope, granularity = B(ROW_SCOPE), B(ROW_GRANULARITY)
    sheet.set(
        f"C{ROW_SCOPE}",
        f'=IF({scope}="team",{t("Sales Team")},'
        f'IF({scope}="user",{t("Salesperson")},{t("Company")}))',
    )
    sheet.set(
        f"C{ROW_GRANULARITY}",
        f'=IF({granularity}="quarter",{t("Quarterly values")},'
        f'IF({granularity}="year",{t("Yearly values")},{t("Monthly values")}))',
    )
    sheet.set(
        B(ROW_LAST_MONTH),
        f'=IF({to}="",{last_month},DATE(YEAR({to}),MONTH({to}),1))',
        fmt=MONTH_FORMAT,
    )
    sheet.set(
        B(ROW_CAPTION),
        f'={t("Scope")}&": "&C{ROW_SCOPE}&"  ·  "&C{ROW_GRANULARITY}'
        f'&"  ·  "&TEXT({frm},"{DATE_FORMAT}")&" - "&TEXT({to},"{DATE_FORMAT}")',
    )
    # the trend: one row per month, one column per chart
    sheet.set(xc(0, ROW_TREND_HEADER), f"={t('Month')}", style=HEADER)
    for index in range(TREND_MONTHS):
        row = ROW_TREND_FIRST + index
        shift = index - (TREND_MONTHS - 1)
        sheet.set(xc(0, row), f"=EDATE($B${ROW_LAST_MONTH},{shift})", fmt=MONTH_FORMAT)
    units = {k["code"]: k["unit"] for k in read_catalogue()}
    for col, (title, code, measure, _type) in enumerate(TRENDS, start=1):
        sheet.set(xc(col, ROW_TREND_HEADER), f"={t(title)}", style=HEADER)
        unit = "count" if measure == "numerator" else units[code]
        for index in range(TREND_MONTHS):
            row = ROW_TREND_FIRST + index
            if sample:
                content = SAMPLE_TRENDS[code][index]
            else:
                content = "=" + pivot_value(
                    f"$B${ROW_TREND_PIVOT}",
                    measure,
                    '"date_start:month"',
                    f"$A{row}",
                    '"kpi_code"',
                    quote(code),
                )
            sheet.set(xc(col, row), content, fmt=UNIT_FORMATS[unit])
    return sheet


def trend_range(col):
    first, last = ROW_TREND_FIRST, ROW_TREND_FIRST + TREND_MONTHS - 1
    return f"{DATA_SHEET}!{col_name(col)}{first}:{col_name(col)}{last}"


# ----------------------------------------------------------------------
# The Dashboard sheet
# ----------------------------------------------------------------------
def build_dashboard_sheet(workbook, headlines, sample):
    sheet = Sheet(workbook, "dashboard", "Dashboard")
    sheet.cols = {str(i): {"size": size} for i, size in enumerate(COLUMN_SIZES)}
    card_rows = -(-len(headlines) // CARDS_PER_ROW)
    chart_rows = -(-len(TRENDS) // CHARTS_PER_ROW)
    # 0-based rows of the layout
    r_title, r_caption, r_cards_header = 0, 1, 2
    r_cards = 3
    r_trend_header = r_cards + card_rows
    r_charts = r_trend_header + 1
    r_table_header = r_charts + chart_rows
    r_table_columns = r_table_header + 1
    r_table = r_table_columns + 1
    sizes = {r_title: 45, r_caption: 28, r_cards_header: 36}
    sizes.update({r_cards + i: CARD_ROW_SIZE for i in range(card_rows)})
    sizes[r_trend_header] = 36
    sizes.update({r_charts + i: CHART_ROW_SIZE for i in range(chart_rows)})
    sizes[r_table_header] = 36
    sizes[r_table_columns] = 30
    sizes.update({r_table + i: 28 for i in range(len(headlines))})
    sheet.size_rows(sizes)

    sheet.set(
        xc(0, r_title + 1),
        f"[CRM Success](odoo://ir_menu_xml_id/{MENU_DASHBOARD})",
        style=TITLE,
    )
    sheet.set(xc(0, r_caption + 1), f"={data_ref(1, ROW_CAPTION)}", style=SUBTITLE)
    sections = (
        (r_cards_header, "Headline KPIs: the period against the previous one"),
        (r_trend_header, "Trend over 12 months"),
        (r_table_header, "Values of the period (click a value to open its records)"),
    )
    for row, text in sections:
        sheet.set(xc(0, row + 1), f"={t(text)}", style=SECTION, border=UNDERLINE)
        for col in range(1, len(COLUMN_SIZES)):
            sheet.borders[xc(col, row + 1)] = workbook.ref("borders", UNDERLINE)
    columns = ("KPI", "Period", "Previous period", "Change")
    for col, text in enumerate(columns):
        sheet.set(xc(col, r_table_columns + 1), f"={t(text)}", style=HEADER)

    menus = {}
    positive, negative = [], []
    for index, kpi in enumerate(headlines):
        row = r_table + index + 1
        code, unit = kpi["code"], kpi["unit"]
        value, previous = xc(1, row), xc(2, row)
        sheet.set(xc(0, row), f"={t(kpi['name'])}", style=TEXT)
        if sample:
            current_content, previous_content = SAMPLE_VALUES.get(code, (100, 90))
        else:
            args = ('"kpi_code"', quote(code), '"granularity"')
            granularity = data_ref(1, ROW_GRANULARITY)
            current_content = "=" + pivot_value(
                data_ref(1, ROW_PIVOT), "value", *args, granularity
            )
            previous_content = "=" + pivot_value(
                data_ref(1, ROW_PREVIOUS), "value", *args, granularity
            )
        sheet.set(value, current_content, style=NUMBER, fmt=UNIT_FORMATS[unit])
        sheet.set(previous, previous_content, style=NUMBER, fmt=UNIT_FORMATS[unit])
        missing = f'OR({value}="",{previous}="")'
        if unit in POINT_UNITS:
            change, fmt = f'=IF({missing},"",{value}-{previous})', POINTS_FORMAT
        else:
            change = (
                f'=IF(OR({missing},{previous}=0),"",'
                f"({value}-{previous})/ABS({previous}))"
            )
            fmt = RELATIVE_FORMAT
        sheet.set(xc(3, row), change, style=NUMBER, fmt=fmt)
        (positive if kpi["direction"] == "up" else negative).append(xc(3, row))

        # its scorecard
        chart_id = uid(f"scorecard:{code}")
        up, down = (GREEN, RED) if kpi["direction"] == "up" else (RED, GREEN)
        mode = "difference" if unit in POINT_UNITS else "percentage"
        sheet.figures.append(
            {
                "id": chart_id,
                "width": CARD_WIDTH,
                "height": CARD_HEIGHT,
                "tag": "chart",
                "data": {
                    "type": "scorecard",
                    "title": {"text": kpi["name"], "bold": True, "color": "#434343"},
                    "background": AREA_COLORS[kpi["area"]],
                    "keyValue": value,
                    "baseline": previous,
                    "baselineMode": mode,
                    "baselineColorUp": up,
                    "baselineColorDown": down,
                    "baselineDescr": {"text": "vs previous period"},
                    "humanize": False,
                    "chartId": chart_id,
                },
                "col": 0,
                "row": r_cards + index // CARDS_PER_ROW,
                "offset": {"x": (index % CARDS_PER_ROW) * CARD_STEP, "y": 6},
            }
        )
        menus[chart_id] = MENU_DASHBOARD
    # a change is green when it goes the KPI's good way
    for name, cells, pos, neg in (
        ("up", positive, GREEN, RED),
        ("down", negative, RED, GREEN),
    ):
        for operator, color in (("isGreaterThan", pos), ("isLessThan", neg)):
            if cells:
                sheet.conditional_formats.append(
                    {
                        "id": uid(f"cf:{name}:{operator}"),
                        "ranges": cells,
                        "rule": {
                            "type": "CellIsRule",
                            "operator": operator,
                            "values": ["0"],
                            "style": {"textColor": color, "bold": True},
                        },
                    }
                )

    for index, (title, _code, _measure, chart_type) in enumerate(TRENDS):
        chart_id = uid(f"trend:{title}")
        data = {
            "type": chart_type,
            "title": {"text": title, "bold": True, "color": "#434343"},
            "background": "#FFFFFF",
            "dataSetsHaveTitle": False,
            "dataSets": [{"dataRange": trend_range(index + 1), "yAxisId": "y"}],
            "labelRange": trend_range(0),
            "legendPosition": "none",
            "stacked": False,
            "aggregated": False,
            "chartId": chart_id,
        }
        if chart_type == "line":
            data.update(labelsAsText=True, cumulative=False, fillArea=index == 0)
        else:
            data["horizontal"] = False
        sheet.figures.append(
            {
                "id": chart_id,
                "width": CHART_WIDTH,
                "height": CHART_HEIGHT,
                "tag": "chart",
                "data": data,
                "col": 0,
                "row": r_charts + index // CHARTS_PER_ROW,
                "offset": {"x": (index % CHARTS_PER_ROW) * CHART_STEP, "y": 8},
            }
        )
        menus[chart_id] = MENU_OVERVIEW
    return sheet, menus, r_table + len(headlines) + 1


# ----------------------------------------------------------------------
def build(sample=False, catalogue=CATALOGUE):
    """The workbook as a dict (``sample``: the sample dashboard)."""
    headlines = headline_kpis(read_catalogue(catalogue))
    workbook = Workbook()
    dashboard, menus, last_row = build_dashboard_sheet(workbook, headlines, sample)
    data = build_data_sheet(workbook, sample)
    return {
        "version": VERSION,
        "sheets": [
            dashboard.export(len(COLUMN_SIZES), last_row + 1, grid_lines=False),
            data.export(len(TRENDS) + 1, ROW_TREND_FIRST + TREND_MONTHS, True),
        ],
        **workbook.tables,
        "revisionId": "START_REVISION",
        "uniqueFigureIds": True,
        "settings": {
            "locale": {
                "name": "English (US)",
                "code": "en_US",
                "thousandsSeparator": ",",
                "decimalSeparator": ".",
                "dateFormat": "mm/dd/yyyy",
                "timeFormat": "hh:mm:ss",
                "formulaArgSeparator": ",",
                "weekStart": 7,
            }
        },
        "pivots": {} if sample else pivots(),
        "pivotNextId": 1 if sample else 1 + len(pivots()),
        "customTableStyles": {},
        "globalFilters": [] if sample else global_filters(),
        "lists": {},
        "listNextId": 1,
        "chartOdooMenusReferences": menus,
    }


def render(workbook):
    return json.dumps(workbook, indent=2, ensure_ascii=False) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="only check the files are up to date"
    )
    args = parser.parse_args(argv)
    stale = []
    for path, sample in ((OUTPUT, False), (SAMPLE_OUTPUT, True)):
        content = render(build(sample=sample))
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == content:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
    for path in stale:
        verb = "is out of date" if args.check else "written"
        sys.stdout.write(f"{path.relative_to(ROOT)} {verb}\n")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
