"""Values of the "CRM success criteria" PDF report.

The report reads stored snapshots, values, targets and maturity stages only;
it never recomputes a KPI.  A KPI of the catalogue without a stored value in
the snapshot is shown as "n/a" with the reason "not computed".
"""

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import formatLang

from ..kpi import period as P
from .svg_chart import number_format, trend_svg

TREND_PERIODS = 12
# comparison period: how many periods back is "the same period last year"
YEAR_BACK = {"week": -52, "month": -12, "quarter": -4, "year": -1}
POINT_UNITS = ("percent", "ratio")


class CrmKpiSuccessReport(models.AbstractModel):
    _name = "report.crm_success_kpi.success_report"
    _description = "CRM Success Criteria Report"

    @api.model
    def _get_report_values(self, docids, data=None):
        data = dict(data or {})
        ids = docids or data.get("snapshot_ids") or []
        snapshots = self.env["crm.kpi.snapshot"].browse(ids).exists()
        if not snapshots:
            raise UserError(self.env._("There is no KPI snapshot to print."))
        comparison = data.get("comparison") or "previous"
        if comparison not in ("previous", "year"):
            raise UserError(
                self.env._(
                    "Unknown comparison %(value)r: use 'previous' or 'year'.",
                    value=comparison,
                )
            )
        lang = self.env["res.lang"]._get_data(code=self.env.lang or "en_US")
        rtl = (lang.direction or "ltr") == "rtl"
        return {
            "doc_ids": snapshots.ids,
            "doc_model": "crm.kpi.snapshot",
            "docs": snapshots,
            "pages": [self._page(snap, comparison, rtl) for snap in snapshots],
            "text_dir": "rtl" if rtl else "ltr",
            "start": "right" if rtl else "left",
            "end": "left" if rtl else "right",
        }

    # ------------------------------------------------------------------
    def _labels(self, model, field):
        return dict(self.env[model]._fields[field]._description_selection(self.env))

    def _scope_domain(self, snap):
        return [
            ("company_id", "=", snap.company_id.id),
            ("granularity", "=", snap.granularity),
            ("scope", "=", snap.scope),
            ("team_id", "=", snap.team_id.id),
            ("user_id", "=", snap.user_id.id),
            ("helpdesk_team_id", "=", snap.helpdesk_team_id.id),
        ]

    def _period_label(self, granularity, start, calendar):
        """The period's label in the reader's language (Solar Hijri month
        names are translated; stored labels keep the Latin names)."""
        return P.period_label(granularity, start, calendar, translate=self.env._)

    def _page(self, snap, comparison, rtl):
        company = snap.company_id
        calendar = company.kpi_period_calendar or "gregorian"
        shift = -1 if comparison == "previous" else YEAR_BACK[snap.granularity]
        cmp_start = P.shift_period(snap.granularity, snap.date_start, shift, calendar)
        cmp_label = self._period_label(snap.granularity, cmp_start, calendar)
        Snapshot = self.env["crm.kpi.snapshot"]
        cmp_snap = Snapshot.search(
            self._scope_domain(snap) + [("date_start", "=", cmp_start)], limit=1
        )
        current = {v.kpi_code: v for v in snap.value_ids}
        previous = {v.kpi_code: v for v in cmp_snap.value_ids}

        status_labels = self._labels("crm.kpi.value", "status")
        area_labels = self._labels("crm.kpi.definition", "area")
        kpis = self.env["crm.kpi.definition"].search([("active", "=", True)])
        areas = []
        for area, area_label in area_labels.items():
            rows = [
                self._row(
                    kpi, current.get(kpi.code), previous.get(kpi.code), status_labels
                )
                for kpi in kpis
                if kpi.area == area
            ]
            if rows:
                areas.append({"code": area, "name": area_label, "rows": rows})

        scopes = self._labels("crm.kpi.snapshot", "scope")
        record = snap.team_id or snap.helpdesk_team_id or snap.user_id
        scope_label = (
            self.env._(
                "%(scope)s: %(name)s",
                scope=scopes[snap.scope],
                name=record.display_name,
            )
            if record
            else company.name
        )
        comparison_label = (
            self.env._("Previous period")
            if comparison == "previous"
            else self.env._("Same period last year")
        )
        return {
            "snapshot": snap,
            "company": company,
            "period_label": self._period_label(
                snap.granularity, snap.date_start, calendar
            ),
            "date_start": snap.date_start,
            "date_last": fields.Date.subtract(snap.date_end, days=1),
            "granularity": self._labels("crm.kpi.snapshot", "granularity")[
                snap.granularity
            ],
            "scope_label": scope_label,
            "comparison_label": comparison_label,
            "comparison_period": cmp_label,
            "comparison_found": bool(cmp_snap),
            "maturity": self._maturity(snap),
            "areas": areas,
            "charts": self._charts(snap, kpis.filtered("headline"), rtl),
            "cohorts": self._cohorts(snap),
            "computed_at": snap.computed_at,
        }

    def _cohorts(self, snap):
        """The heat map of logo retention of the report's scope (company or
        sales team), or None (see ``crm.kpi.cohort._heat_map``)."""
        return self.env["crm.kpi.cohort"]._heat_map(
            snap.company_id, snap.granularity, snap.date_start, snap.scope, snap.team_id
        )

    def _format(self, value, unit, currency):
        env = self.env
        if unit == "currency":
            return formatLang(env, value, currency_obj=currency)
        if unit == "count":
            return formatLang(env, value, digits=0)
        if unit == "percent":
            return self.env._("%(v)s %%", v=formatLang(env, value, digits=2))
        suffix = {
            "hours": self.env._("h"),
            "days": self.env._("days"),
            "months": self.env._("months"),
        }.get(unit)
        text = formatLang(env, value, digits=2)
        return f"{text} {suffix}" if suffix else text

    def _row(self, kpi, value, prev, status_labels):
        currency = (value or prev).company_id.currency_id if (value or prev) else None
        currency = currency or self.env.company.currency_id
        row = {
            "code": kpi.code,
            "name": kpi.name,
            "value": self.env._("n/a"),
            "reason": "",
            "previous": self.env._("n/a"),
            "change": "",
            "target": "",
            "status": "",
            "status_label": "",
        }
        if not value:
            row["reason"] = self.env._("not computed")
        elif not value.has_value:
            row["reason"] = value.note_label or self.env._("no value")
        else:
            row["value"] = self._format(value.value, kpi.unit, currency)
        if value and value.status:
            row["status"] = value.status
            row["status_label"] = status_labels.get(value.status, "")
        if value and value.target_id:
            row["target"] = self._format(value.target_value, kpi.unit, currency)
        if prev and prev.has_value:
            row["previous"] = self._format(prev.value, kpi.unit, currency)
            if value and value.has_value:
                row["change"] = self._change(value.value, prev.value, kpi.unit)
        return row

    def _change(self, cur, prev, unit):
        diff = cur - prev
        sign = "+" if diff > 0 else ("−" if diff < 0 else "±")
        if unit in POINT_UNITS:
            return self.env._(
                "%(sign)s%(v)s pts",
                sign=sign,
                v=formatLang(self.env, abs(diff), digits=2),
            )
        if not prev:
            return f"{sign}{formatLang(self.env, abs(diff), digits=2)}"
        return self.env._(
            "%(sign)s%(v)s %%",
            sign=sign,
            v=formatLang(self.env, abs(diff) / abs(prev) * 100, digits=1),
        )

    def _maturity(self, snap):
        """The company's maturity stage, read with the reader's rights: it
        quotes company figures (costs, CAC, NPS...), so a reader who may not
        see company-scope values gets no maturity section at all."""
        Maturity = self.env["crm.kpi.maturity"]
        if not Maturity.has_access("read"):
            return {"found": False, "hidden": True}
        stages = self._labels("crm.kpi.maturity", "stage")
        maturity = Maturity.search(
            [
                ("company_id", "=", snap.company_id.id),
                ("granularity", "=", snap.granularity),
                ("date_start", "=", snap.date_start),
            ],
            limit=1,
        )
        if not maturity:
            return {"found": False, "reason": self.env._("not computed")}
        nxt = maturity.level + 1
        return {
            "found": True,
            "level": maturity.level,
            "stage": stages[maturity.stage],
            "next_level": nxt if nxt <= 5 else False,
            "next_stage": stages.get(str(nxt), ""),
            "criteria": [
                {
                    "name": c.name,
                    "met": c.met,
                    "detail": c.detail or "",
                }
                for c in maturity.criterion_ids
                if c.level == nxt
            ],
        }

    def _charts(self, snap, kpis, rtl):
        """Trend of the last 12 periods of the headline KPIs, one read."""
        calendar = snap.company_id.kpi_period_calendar or "gregorian"
        starts = [
            P.shift_period(snap.granularity, snap.date_start, -i, calendar)
            for i in range(TREND_PERIODS - 1, -1, -1)
        ]
        values = self.env["crm.kpi.value"].search(
            self._scope_domain(snap)
            + [("date_start", "in", starts), ("kpi_id", "in", kpis.ids)]
        )
        by_key = {(v.kpi_id.id, v.date_start): v for v in values}
        labels = [self._period_label(snap.granularity, s, calendar) for s in starts]
        charts = []
        fmt = number_format(self.env)
        for kpi in kpis:
            points = []
            target = None
            for start, label in zip(starts, labels, strict=True):
                v = by_key.get((kpi.id, start))
                points.append((label, v.value if v and v.has_value else None))
                if v and start == snap.date_start and v.target_id:
                    target = v.target_value
            if not any(p[1] is not None for p in points):
                continue
            charts.append(
                {
                    "name": kpi.name,
                    "svg": trend_svg(
                        points, fmt, rtl=rtl, target=target, title=kpi.name
                    ),
                }
            )
        return charts
