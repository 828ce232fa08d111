"""The manager's dashboard: what its client action shows, in one call.

Everything comes from stored values, read with the user's own rights: the
scopes offered are those of the snapshots the user may read, the maturity
stage only for users who may read company figures.  Nothing is computed.
"""

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..kpi import period as P
from .crm_kpi_definition import AREAS

SPARK_PERIODS = 12
# how many periods back is "the same period last year"
YEAR_BACK = {"week": -52, "month": -12, "quarter": -4, "year": -1}
SCOPE_COLUMN = {
    "company": None,
    "team": "team_id",
    "user": "user_id",
    "helpdesk_team": "helpdesk_team_id",
    "agent": "user_id",
}
# the scope a user lands on, first that he may see
LANDING = ("company", "user", "team", "agent", "helpdesk_team")


class CrmKpiDashboard(models.AbstractModel):
    _name = "crm.kpi.dashboard"
    _description = "CRM Success Dashboard"

    # ------------------------------------------------------------------
    @api.model
    def get_dashboard(self, granularity="month", date_start=None, scope_key=None):
        """The dashboard of the current company for ``granularity`` and the
        period containing ``date_start`` (default: the last closed month),
        for the scope ``scope_key`` ("company:0", "user:7"...; default: the
        widest scope the user may read)."""
        if granularity not in P.GRANULARITIES:
            raise UserError(
                self.env._(
                    "Unknown period granularity %(value)r: use week, month, "
                    "quarter or year.",
                    value=granularity,
                )
            )
        company = self.env.company
        calendar = company.kpi_period_calendar or "gregorian"
        if date_start:
            start = P.period_start(
                granularity, fields.Date.to_date(date_start), calendar
            )
        else:
            today = fields.Date.context_today(self)
            start = P.shift_period(
                granularity, P.period_start(granularity, today, calendar), -1, calendar
            )
        scopes = self._scopes(company)
        keys = [s["key"] for s in scopes]
        if scope_key not in keys:
            scope_key = next(
                (
                    s["key"]
                    for scope in LANDING
                    for s in scopes
                    if s["scope"] == scope
                    and (scope != "user" or s["id"] == self.env.uid)
                ),
                keys[0] if keys else None,
            )
        shift = lambda n: P.shift_period(granularity, start, n, calendar)  # noqa: E731
        spark = [shift(-i) for i in range(SPARK_PERIODS - 1, -1, -1)]
        previous, year_ago = shift(-1), shift(YEAR_BACK[granularity])
        current = P.period_start(granularity, fields.Date.context_today(self), calendar)
        label = lambda d: P.period_label(  # noqa: E731
            granularity, d, calendar, translate=self.env._
        )
        result = {
            "company": company.name,
            "granularity": granularity,
            "date_start": fields.Date.to_string(start),
            "period_label": label(start),
            "previous_label": label(previous),
            "previous_start": fields.Date.to_string(previous),
            # the current (unfinished) period is the last one offered
            "next_start": fields.Date.to_string(shift(1))
            if shift(1) <= current
            else False,
            "year_ago_label": label(year_ago),
            "spark_labels": [label(d) for d in spark],
            "scopes": scopes,
            "scope_key": scope_key,
            "areas": [],
            "maturity": self._maturity(company, granularity, start),
            "cohorts": None,
            "computed_at": False,
            "empty": False,
        }
        if not scope_key:
            title, text = self.env["crm.kpi.value"]._empty_state()
            result["empty"] = {"title": title, "text": text}
            return result
        scope, _sep, scope_id = scope_key.partition(":")
        result["cohorts"] = self.env["crm.kpi.cohort"]._heat_map(
            company,
            granularity,
            start,
            scope,
            self.env["crm.team"].browse(int(scope_id or 0)),
        )
        values = self._values(company, granularity, scope_key, spark + [year_ago])
        computed = [v["computed_at"] for v in values.values() if v["computed_at"]]
        result["computed_at"] = (
            fields.Datetime.to_string(max(computed)) if computed else False
        )
        # the area names as the catalogue's selection gives them, translated
        areas = dict(
            self.env["crm.kpi.definition"]
            ._fields["area"]
            ._description_selection(self.env)
        )
        kpis = self.env["crm.kpi.definition"].search([("active", "=", True)])
        by_area = {}
        for kpi in kpis:
            by_area.setdefault(kpi.area, []).append(
                self._card(kpi, values, spark, previous, year_ago, company)
            )
        result["areas"] = [
            {"key": key, "name": areas[key], "cards": by_area[key]}
            for key, _name in AREAS
            if key in by_area
        ]
        return result

    # ------------------------------------------------------------------
    def _scopes(self, company):
        """The scopes of the company's snapshots that the user may read."""
        Snapshot = self.env["crm.kpi.snapshot"]
        groups = Snapshot._read_group(
            [("company_id", "=", company.id)],
            ["scope", "team_id", "user_id", "helpdesk_team_id"],
        )
        labels = dict(Snapshot._fields["scope"]._description_selection(self.env))
        order = {s: i for i, s in enumerate(SCOPE_COLUMN)}
        scopes = []
        for scope, team, user, helpdesk_team in groups:
            record = {"team": team, "helpdesk_team": helpdesk_team}.get(scope) or (
                user if scope in ("user", "agent") else None
            )
            scopes.append(
                {
                    "key": f"{scope}:{record.id if record else 0}",
                    "scope": scope,
                    "id": record.id if record else 0,
                    "label": (
                        f"{labels[scope]} · {record.display_name}"
                        if record
                        else f"{labels[scope]} · {company.name}"
                    ),
                }
            )
        return sorted(scopes, key=lambda s: (order[s["scope"]], s["label"]))

    def _values(self, company, granularity, scope_key, starts):
        """``{(kpi id, date_start): value dict}`` of the scope's periods."""
        scope, _sep, scope_id = scope_key.partition(":")
        domain = [
            ("company_id", "=", company.id),
            ("granularity", "=", granularity),
            ("scope", "=", scope),
            ("date_start", "in", starts),
        ]
        if SCOPE_COLUMN.get(scope):
            domain.append((SCOPE_COLUMN[scope], "=", int(scope_id)))
        rows = self.env["crm.kpi.value"].search_read(
            domain,
            [
                "kpi_id",
                "date_start",
                "value",
                "has_value",
                "note_label",
                "numerator",
                "denominator",
                "status",
                "target_value",
                "target_id",
                "computed_at",
            ],
            load=None,
        )
        return {(r["kpi_id"], r["date_start"]): r for r in rows}

    def _card(self, kpi, values, spark, previous, year_ago, company):
        report = self.env["report.crm_success_kpi.success_report"]
        currency = company.currency_id
        current = values.get((kpi.id, spark[-1]))

        def number(row):
            return row["value"] if row and row["has_value"] else None

        def change(row):
            now, then = number(current), number(row)
            if now is None or then is None:
                return None
            diff = now - then
            good = None
            if diff:
                good = (diff > 0) == (kpi.direction == "up")
            if kpi.unit in ("percent", "ratio"):
                # percentage points, never a ratio of two percentages
                text = self.env._("%(v)s pts", v=f"{diff:.2f}")
            elif then:
                text = self.env._("%(v)s %%", v=f"{diff / abs(then) * 100:.1f}")
            else:
                text = ""
            sign = "+" if diff > 0 else ""
            return {"text": f"{sign}{text}" if text else "", "good": good}

        status_labels = dict(
            self.env["crm.kpi.value"]._fields["status"]._description_selection(self.env)
        )
        value = number(current)
        return {
            "code": kpi.code,
            "kpi_id": kpi.id,
            "name": kpi.name,
            "headline": kpi.headline,
            "unit": kpi.unit,
            "direction": kpi.direction,
            "description": kpi.description or "",
            "value_id": current["id"] if current else False,
            "value": value,
            "display": (
                report._format(value, kpi.unit, currency) if value is not None else ""
            ),
            "na_reason": (
                (current["note_label"] or self.env._("not computed"))
                if value is None and current
                else ("" if current else self.env._("not computed"))
            ),
            "has_numerator": bool(current),
            "vs_previous": change(values.get((kpi.id, previous))),
            "vs_year": change(values.get((kpi.id, year_ago))),
            "target": (
                report._format(current["target_value"], kpi.unit, currency)
                if current and current["target_id"]
                else ""
            ),
            "status": current["status"] if current else False,
            "status_label": status_labels.get(current["status"], "")
            if current and current["status"]
            else "",
            "spark": [number(values.get((kpi.id, d))) for d in spark],
        }

    def _maturity(self, company, granularity, start):
        """The stage reached and the unmet criteria of the next stage, for
        users who may read company figures; None for the others."""
        Maturity = self.env["crm.kpi.maturity"]
        if not Maturity.has_access("read"):
            return None
        maturity = Maturity.search(
            [
                ("company_id", "=", company.id),
                ("granularity", "=", granularity),
                ("date_start", "=", start),
            ],
            limit=1,
        )
        if not maturity:
            return {"found": False}
        stages = dict(Maturity._fields["stage"]._description_selection(self.env))
        nxt = maturity.level + 1
        return {
            "found": True,
            "level": maturity.level,
            "stage": stages.get(maturity.stage, ""),
            "next_level": nxt if nxt <= 5 else False,
            "next_stage": stages.get(str(nxt), ""),
            "unmet": [
                {"name": c.name, "detail": c.detail or ""}
                for c in maturity.criterion_ids
                if c.level == nxt and not c.met
            ],
        }

    # ------------------------------------------------------------------
    @api.model
    def action_open_trend(self, kpi_id, granularity, scope_key):
        """The KPI's values over the periods, for one scope: a line graph
        and the list behind it."""
        kpi = self.env["crm.kpi.definition"].browse(kpi_id)
        scope, _sep, scope_id = scope_key.partition(":")
        domain = [
            ("kpi_id", "=", kpi.id),
            ("company_id", "=", self.env.company.id),
            ("granularity", "=", granularity),
            ("scope", "=", scope),
        ]
        if SCOPE_COLUMN.get(scope):
            domain.append((SCOPE_COLUMN[scope], "=", int(scope_id)))
        interval = {
            "week": "week",
            "month": "month",
            "quarter": "quarter",
            "year": "year",
        }
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("%(kpi)s: trend", kpi=kpi.name),
            "res_model": "crm.kpi.value",
            "views": [(False, "graph"), (False, "list")],
            "domain": domain,
            "context": {
                "graph_mode": "line",
                "graph_measure": "value",
                "graph_groupbys": [f"date_start:{interval[granularity]}"],
                "create": False,
            },
            "target": "current",
        }
