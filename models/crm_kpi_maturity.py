"""Maturity stage of the customer management of a company, per period.

Computed from the stored company-scope values of the period (never from the
raw documents), so it always agrees with the scorecard of the report.  Each
stage is reached only when every criterion of it and of all lower stages is
met.
"""

import math

from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.misc import formatLang
from odoo.tools.sql import column_exists

from ..kpi.translate import _lt
from .crm_kpi_snapshot import GRANULARITY

STAGES = [
    ("0", "Not started"),
    ("1", "Awareness"),
    ("2", "Focus"),
    ("3", "Satisfaction"),
    ("4", "Value"),
    ("5", "Loyalty"),
]
SURVEY_CODES = ("nps", "ces", "csat")
CLV_CAC_MIN = 3.0
TOP_SHARE = 0.2


class CrmKpiMaturity(models.Model):
    _name = "crm.kpi.maturity"
    _inherit = ["crm.kpi.period.mixin"]
    _description = "CRM Maturity Stage"
    _order = "date_start desc, granularity, company_id"
    _rec_name = "period_label"

    # KPIs whose targets the stages depend on
    _TARGET_CODES = ("retention_rate", "renewal_rate")

    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True, ondelete="cascade"
    )
    snapshot_id = fields.Many2one(
        "crm.kpi.snapshot",
        string="Company Snapshot",
        required=True,
        readonly=True,
        ondelete="cascade",
        index=True,
    )
    granularity = fields.Selection(GRANULARITY, required=True, readonly=True)
    date_start = fields.Date(required=True, readonly=True)
    date_end = fields.Date(readonly=True)
    period_label = fields.Char(string="Period", readonly=True)
    stage = fields.Selection(STAGES, required=True, readonly=True, default="0")
    level = fields.Integer(readonly=True, aggregator="avg")
    next_stage = fields.Selection(STAGES, compute="_compute_next_stage")
    criterion_ids = fields.One2many(
        "crm.kpi.maturity.criterion", "maturity_id", readonly=True
    )
    next_criterion_ids = fields.One2many(
        "crm.kpi.maturity.criterion",
        compute="_compute_next_stage",
        string="Criteria of the Next Stage",
    )
    computed_at = fields.Datetime(related="snapshot_id.computed_at")

    _period_unique = models.Constraint(
        "UNIQUE(company_id, granularity, date_start)",
        "There is one maturity stage per company and period.",
    )

    @api.depends("level", "criterion_ids")
    def _compute_next_stage(self):
        for rec in self:
            nxt = rec.level + 1
            rec.next_stage = str(nxt) if nxt <= 5 else False
            rec.next_criterion_ids = rec.criterion_ids.filtered(
                lambda c, level=nxt: c.level == level
            )

    # ------------------------------------------------------------------
    @api.model
    def _compute_for_snapshots(self, snapshots):
        """(Re)compute the maturity of the periods of company-scope
        ``snapshots``: one read of their values, one grouped query for the
        trailing twelve months."""
        snapshots = snapshots.sudo().filtered(lambda s: s.scope == "company")
        if not snapshots:
            return self.browse()
        cr = self.env.cr
        self.env["crm.kpi.value"].flush_model()
        cr.execute(
            SQL(
                """SELECT snapshot_id, kpi_code, has_value, value, numerator,
                          denominator, note, status, target_id
                     FROM crm_kpi_value
                    WHERE snapshot_id = ANY(%s)""",
                snapshots.ids,
            )
        )
        values = {}
        for row in cr.dictfetchall():
            values.setdefault(row["snapshot_id"], {})[row["kpi_code"]] = row
        # leads and new customers of the twelve months up to the period end
        cr.execute(
            SQL(
                """SELECT s.id,
                          SUM(v.value) FILTER (WHERE v.kpi_code = 'prospects')
                              AS prospects,
                          SUM(v.value) FILTER (WHERE v.kpi_code = 'new_customers')
                              AS new_customers
                     FROM crm_kpi_snapshot s
                     JOIN crm_kpi_value v
                       ON v.company_id = s.company_id
                      AND v.scope = 'company'
                      AND v.granularity = s.granularity
                      AND v.date_start >= s.date_end - INTERVAL '12 months'
                      AND v.date_start < s.date_end
                      AND v.kpi_code IN ('prospects', 'new_customers')
                      AND v.has_value
                    WHERE s.id = ANY(%s)
                    GROUP BY s.id""",
                snapshots.ids,
            )
        )
        trailing = {row["id"]: row for row in cr.dictfetchall()}
        existing = {
            (m.company_id.id, m.granularity, m.date_start): m
            for m in self.sudo().search(
                [
                    ("company_id", "in", snapshots.company_id.ids),
                    ("date_start", "in", list(set(snapshots.mapped("date_start")))),
                ]
            )
        }
        result = self.browse()
        for snap in snapshots:
            args = (
                snap.company_id,
                values.get(snap.id, {}),
                trailing.get(snap.id) or {},
            )
            criteria = self._evaluate(*args)
            level = 0
            for stage in range(1, 6):
                if all(c["met"] for c in criteria if c["level"] == stage):
                    level = stage
                else:
                    break
            vals = {
                "snapshot_id": snap.id,
                "date_end": snap.date_end,
                "period_label": snap.period_label,
                "stage": str(level),
                "level": level,
                "criterion_ids": [fields.Command.clear()]
                + [fields.Command.create(c) for c in criteria],
            }
            rec = existing.get((snap.company_id.id, snap.granularity, snap.date_start))
            if rec:
                rec.write(vals)
            else:
                vals.update(
                    company_id=snap.company_id.id,
                    granularity=snap.granularity,
                    date_start=snap.date_start,
                )
                rec = self.sudo().create(vals)
            result |= rec
        return result

    def _recompute(self):
        return self._compute_for_snapshots(self.sudo().snapshot_id)

    def _evaluate(self, company, vals, trailing):
        """The criteria of every stage, met or not, with what was found."""

        def get(code):
            return vals.get(code) or {}

        def has(code):
            return bool(get(code).get("has_value"))

        def num(value, digits=0):
            return {"num": value or 0.0, "digits": digits}

        criteria = []

        def add(level, code, name, met, detail):
            """``name`` and ``detail`` in English; ``detail`` is ``(text,
            arguments)``, written in the reader's language on read."""
            text, arguments = detail if isinstance(detail, tuple) else (detail, {})
            criteria.append(
                {
                    "level": level,
                    "code": code,
                    "name_source": name,
                    "met": bool(met),
                    "detail_source": text,
                    "detail_args": arguments,
                }
            )

        # 1 Awareness -------------------------------------------------------
        active_end = get("customer_conversion_rate").get("denominator") or 0.0
        new_12 = trailing.get("new_customers") or 0.0
        customers = max(active_end, new_12)
        add(
            1,
            "customers",
            _lt("Customers with purchases in the last 12 months"),
            customers > 0,
            (_lt("%(n)s customers"), {"n": num(customers)}),
        )
        leads = trailing.get("prospects") or 0.0
        add(
            1,
            "leads",
            _lt("Leads or opportunities created in the last 12 months"),
            leads > 0,
            (_lt("%(n)s leads"), {"n": num(leads)}),
        )

        # 2 Focus -----------------------------------------------------------
        add(
            2,
            "average_customer_value",
            _lt("Revenue per customer computed"),
            has("average_customer_value"),
            self._detail(get("average_customer_value")),
        )
        add(
            2,
            "clv",
            _lt("Customer lifetime value (CLV) computed"),
            has("clv"),
            self._detail(get("clv")),
        )
        buyers = get("average_customer_value").get("denominator") or 0.0
        top = math.floor(buyers * TOP_SHARE)
        add(
            2,
            "top_customers",
            _lt("Top 20 % of customers by revenue identified"),
            top >= 1,
            (
                _lt(
                    "%(top)s top customers of %(buyers)s buying customers "
                    "(at least 5 needed)"
                ),
                {"top": num(top), "buyers": num(buyers)},
            ),
        )

        # 3 Satisfaction ----------------------------------------------------
        minimum = company.kpi_maturity_min_responses or 1
        samples = {
            code: (get(code).get("denominator") or 0.0) if has(code) else 0.0
            for code in SURVEY_CODES
        }
        best = max(samples.values())
        add(
            3,
            "survey_sample",
            _lt("NPS, CES or CSAT measured on enough responses"),
            best >= minimum,
            (
                _lt(
                    "%(n)s responses (NPS %(nps)s, CES %(ces)s, CSAT %(csat)s), "
                    "minimum %(min)s"
                ),
                {
                    "n": num(best),
                    "nps": num(samples["nps"]),
                    "ces": num(samples["ces"]),
                    "csat": num(samples["csat"]),
                    "min": minimum,
                },
            ),
        )

        # 4 Value -----------------------------------------------------------
        cac = get("cac")
        costs = cac.get("numerator") or 0.0
        if not costs and cac.get("has_value"):
            costs = (cac.get("value") or 0.0) * (cac.get("denominator") or 0.0)
        add(
            4,
            "costs",
            _lt("Sales and marketing costs recorded"),
            costs > 0,
            (_lt("%(n)s of costs"), {"n": num(costs, 2)})
            if cac
            else _lt("not computed"),
        )
        add(
            4,
            "cac",
            _lt("Customer acquisition cost (CAC) computed"),
            has("cac"),
            self._detail(cac),
        )
        if has("clv") and has("cac") and cac.get("value"):
            ratio_ = get("clv")["value"] / cac["value"]
            add(
                4,
                "clv_cac",
                _lt("CLV / CAC at least 3"),
                ratio_ >= CLV_CAC_MIN,
                (_lt("CLV / CAC = %(r)s"), {"r": num(ratio_, 2)}),
            )
        else:
            add(
                4,
                "clv_cac",
                _lt("CLV / CAC at least 3"),
                False,
                _lt("needs both CLV and CAC"),
            )

        # 5 Loyalty ---------------------------------------------------------
        for code, name in (
            ("retention_rate", _lt("Retention rate at or above its target")),
            ("renewal_rate", _lt("Renewal rate at or above its target")),
        ):
            row = get(code)
            if not row:
                met, detail = False, _lt("not computed")
            elif not row.get("has_value"):
                met, detail = False, self._detail(row)
            elif not row.get("target_id"):
                met, detail = (
                    False,
                    (_lt("%(v)s %%, no target set"), {"v": num(row["value"], 2)}),
                )
            else:
                target = self.env["crm.kpi.target"].sudo().browse(row["target_id"])
                met = row.get("status") == "on_target"
                detail = (
                    _lt("%(v)s %% for a target of %(t)s %%"),
                    {"v": num(row["value"], 2), "t": num(target.target_value, 2)},
                )
            add(5, code, name, met, detail)
        nps = get("nps")
        add(
            5,
            "nps_positive",
            _lt("NPS above 0"),
            has("nps") and nps["value"] > 0,
            (_lt("NPS %(v)s"), {"v": num(nps["value"], 2)})
            if has("nps")
            else self._detail(nps),
        )
        return criteria

    def _detail(self, row):
        if not row:
            return _lt("not computed")
        if not row.get("has_value"):
            return (
                _lt("n/a: %(why)s"),
                {"why": {"note": row.get("note") or _lt("no value")}},
            )
        return ("%(v)s", {"v": {"num": row.get("value") or 0.0, "digits": 2}})


class CrmKpiMaturityCriterion(models.Model):
    _name = "crm.kpi.maturity.criterion"
    _description = "CRM Maturity Criterion"
    _order = "maturity_id, level, id"

    maturity_id = fields.Many2one(
        "crm.kpi.maturity", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="maturity_id.company_id", store=True)
    level = fields.Integer(string="Stage Level", required=True)
    stage = fields.Selection(STAGES, compute="_compute_stage")
    code = fields.Char(required=True)
    # stored in English with the figures found, shown in the reader's
    # language (like the n/a reasons of the values)
    name_source = fields.Char(required=True)
    detail_source = fields.Char()
    detail_args = fields.Json()
    name = fields.Char(string="Criterion", compute="_compute_texts")
    met = fields.Boolean()
    detail = fields.Char(help="What was found in the period.", compute="_compute_texts")

    def init(self):
        """Criteria stored by an earlier version kept their texts per
        language: their English text becomes their source."""
        res = super().init()
        cr = self.env.cr
        if column_exists(cr, self._table, "name") and column_exists(
            cr, self._table, "detail"
        ):
            cr.execute(
                SQL(
                    """UPDATE %(t)s
                          SET name_source = COALESCE(name->>'en_US', code),
                              detail_source = detail->>'en_US'
                        WHERE name_source IS NULL""",
                    t=SQL.identifier(self._table),
                )
            )
        return res

    @api.depends("name_source", "detail_source", "detail_args")
    @api.depends_context("lang")
    def _compute_texts(self):
        for rec in self:
            rec.name = self.env._(rec.name_source) if rec.name_source else ""
            rec.detail = rec._detail_text()

    def _detail_text(self):
        """The finding in the reader's language: its text translated, its
        numbers with the language's separators, its n/a reasons translated."""
        if not self.detail_source:
            return ""
        text = self.env._(self.detail_source)
        arguments = {}
        for key, arg in (self.detail_args or {}).items():
            if isinstance(arg, dict) and "num" in arg:
                arguments[key] = formatLang(
                    self.env, arg["num"], digits=arg.get("digits", 0)
                )
            elif isinstance(arg, dict) and "note" in arg:
                arguments[key] = self.env["crm.kpi.value"]._translate_note(arg["note"])
            else:
                arguments[key] = arg
        return text % arguments if arguments else text

    @api.depends("level")
    def _compute_stage(self):
        for rec in self:
            rec.stage = str(rec.level)
