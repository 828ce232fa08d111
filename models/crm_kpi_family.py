"""The KPI families: one abstract model per family, found in the registry.

A family is an AbstractModel ``crm.kpi.family.<name>`` inheriting
``crm.kpi.family``.  It computes all its KPIs for one period and one company,
for every scope at once, in a handful of grouped queries, and lists the
records behind each value (drill-down).  Because families are models of the
registry, a family exists only in the databases where the addon that defines
it is installed; another addon adds a KPI to a family with ``_inherit``
(extending :meth:`_kpi_codes`, :meth:`_kpi_compute` and :meth:`_kpi_drill`
with ``super()``) or adds a family model of its own.
"""

import logging

from odoo import api, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..kpi.base import COMPANY, heavy_query_settings, na
from ..kpi.events import revenue_events_total
from ..kpi.translate import _lt
from .crm_kpi_drillable import ids_domain

_logger = logging.getLogger(__name__)

FAMILY_PREFIX = "crm.kpi.family."


class CrmKpiFamily(models.AbstractModel):
    _name = "crm.kpi.family"
    _description = "CRM KPI family"

    # the catalogue area of the family's KPIs (informative)
    _kpi_area = None
    # technical names of the modules the family needs; when one is not
    # installed, the family is not run and its KPIs say why (n/a)
    _kpi_requires = ()
    # how heavy the family's reads are, relatively: the connections reading
    # a period at the same time take the heaviest families first, so that
    # none is left alone with a long one at the end
    # (crm.kpi.snapshot._kpi_compute_and_store)
    _kpi_read_weight = 1

    # ------------------------------------------------------------------
    # The period being computed
    # ------------------------------------------------------------------
    def _kpi_bind(self, ctx):
        """This family for the period context ``ctx`` (``kpi.base.PeriodContext``):
        its environment (superuser: families read every record of the
        company) with the context in ``self.env.context``."""
        return self.with_env(ctx.env).with_context(crm_kpi_period=ctx)

    @property
    def ctx(self):
        ctx = self.env.context.get("crm_kpi_period")
        if ctx is None:
            raise UserError(
                self.env._("A KPI family is used outside of a period computation.")
            )
        return ctx

    @property
    def company(self):
        return self.ctx.company

    # ------------------------------------------------------------------
    # What a family implements
    # ------------------------------------------------------------------
    def _kpi_codes(self):
        """The codes of the KPIs this family computes (each one a record of
        the catalogue ``crm.kpi.definition``)."""
        return ()

    def _kpi_compute(self):
        """Return ``{(scope, scope_id): {code: Result}}`` for the period."""
        return {}

    def _kpi_drill(self, code, scope, scope_id, part):
        """Return ``(model, domain)`` of the records behind the numerator
        (``part='numerator'``) or the denominator of ``code``, or None when
        the value has no list of records."""
        return None

    def _kpi_recount_rules(self):
        """``{code: (numerator rule, denominator rule)}``: how the records
        of a drill-down give back the stored number.  A rule is ``"count"``
        (the number of records), ``"amount"`` / ``"margin"`` (the summed
        untaxed amounts / margins of revenue events, in the company
        currency), the name of a field of the records to sum, or None when
        the number is not a count or a sum of the records (averages of
        hours, differences)."""
        return {}

    def _kpi_recount(self, code, part, model, domain):
        """The number that the drill-down records ``(model, domain)`` give
        for ``part`` of ``code``, or None when it has no recount rule."""
        num_rule, den_rule = self._kpi_recount_rules().get(code, (None, None))
        rule = num_rule if part == "numerator" else den_rule
        if not rule:
            return None
        heavy_query_settings(self.ctx)
        records = self.env[model].with_context(active_test=False)
        if rule == "count":
            return float(records.search_count(domain))
        if rule in ("amount", "margin"):
            return revenue_events_total(self.env, model, records._search(domain), rule)
        [(total,)] = records._read_group(domain, aggregates=[f"{rule}:sum"])
        return float(total or 0.0)

    # ------------------------------------------------------------------
    # Modules
    # ------------------------------------------------------------------
    def _kpi_missing_modules(self):
        """The modules of :attr:`_kpi_requires` that are not installed."""
        if not self._kpi_requires:
            return []
        installed = set(
            self.env["ir.module.module"]
            .sudo()
            .search(
                [("name", "in", list(self._kpi_requires)), ("state", "=", "installed")]
            )
            .mapped("name")
        )
        return [name for name in self._kpi_requires if name not in installed]

    def _kpi_results(self):
        """:meth:`_kpi_compute`, or the n/a values of every code (company
        scope) when a module the family needs is missing."""
        missing = self._kpi_missing_modules()
        if missing:
            note = _lt("module not installed: %s") % ", ".join(missing)
            return {COMPANY: {code: na(note) for code in self._kpi_codes()}}
        return self._kpi_compute()

    # ------------------------------------------------------------------
    # Discovery
    # ------------------------------------------------------------------
    @api.model
    def _kpi_family_names(self):
        """The family models of this database's registry, by name."""
        return sorted(
            name
            for name in self.env.registry
            if name.startswith(FAMILY_PREFIX) and self.env[name]._abstract
        )

    @api.model
    def _kpi_family_of(self, code):
        """The family model that computes ``code``, or None."""
        for name in self._kpi_family_names():
            if code in self.env[name]._kpi_codes():
                return self.env[name]
        return None

    @api.model
    def _kpi_check_catalogue(self):
        """Raise when a family computes a code the catalogue lacks, when two
        families compute the same code, or when a code of the catalogue has
        no family: the engine refuses to store half-known KPIs."""
        owner = {}
        errors = []
        for name in self._kpi_family_names():
            for code in self.env[name]._kpi_codes():
                if code in owner:
                    errors.append(
                        self.env._(
                            "KPI %(code)s is computed by two families: "
                            "%(a)s and %(b)s.",
                            code=code,
                            a=owner[code],
                            b=name,
                        )
                    )
                owner[code] = name
        catalogue = set(
            self.env["crm.kpi.definition"]
            .sudo()
            .with_context(active_test=False)
            .search([("code", "!=", False)])
            .mapped("code")
        )
        for code in sorted(set(owner) - catalogue):
            errors.append(
                self.env._(
                    "Family %(family)s computes KPI %(code)s, which is not in the "
                    "KPI catalogue: add its crm.kpi.definition record.",
                    family=owner[code],
                    code=code,
                )
            )
        for code in sorted(catalogue - set(owner)):
            errors.append(
                self.env._(
                    "KPI %(code)s of the catalogue is computed by no family: remove "
                    "its crm.kpi.definition record or install the addon that "
                    "computes it.",
                    code=code,
                )
            )
        if errors:
            message = "\n".join(errors)
            _logger.error(
                "CRM KPIs: the KPI catalogue and families disagree:\n%s", message
            )
            raise UserError(message)
        return owner

    # ------------------------------------------------------------------
    # Helpers of the families
    # ------------------------------------------------------------------
    def _fetch(self, query):
        """Rows of the ``SQL`` ``query`` as dicts."""
        assert isinstance(query, SQL)
        cr = self.env.cr
        cr.execute(query)
        return cr.dictfetchall()

    def _kpi_drill_rows(self, model, condition, rows_sql, where=None):
        """The drill-down of a family whose numerator and denominator are
        conditions on the rows of one query (``rows_sql``, selecting ``id``
        and the columns the condition names): ``model`` and the domain of the
        rows meeting ``condition`` and ``where`` (a scope's condition), the
        query itself run by each page of the list; None without a
        condition."""
        if not condition:
            return None
        return model, ids_domain(
            SQL(
                "WITH rows AS (%s) SELECT id FROM rows WHERE (%s) AND %s",
                rows_sql,
                SQL(condition),  # constant expressions of the families only
                where or SQL("TRUE"),
            )
        )

    def _kpi_drill_set(self, model, code, part, rows_sql, where=None):
        """:meth:`_kpi_drill_rows` of a family that declares, in ``_SETS``,
        each KPI's numerator and denominator as conditions on its rows."""
        num, den = self._SETS.get(code, (None, None))
        return self._kpi_drill_rows(
            model, num if part == "numerator" else den, rows_sql, where
        )

    def _kpi_drill_tickets(self, code, scope, scope_id, part, rows_sql=None):
        """:meth:`_kpi_drill_set` of a family whose rows are tickets
        selecting ``team_id`` and ``user_id``, in a helpdesk scope
        (``rows_sql``: those rows, default :meth:`_rows_sql`)."""
        if scope == "helpdesk_team":
            where = SQL("team_id = %s", scope_id)
        elif scope == "agent":
            where = SQL("user_id = %s", scope_id)
        else:
            where = SQL("TRUE")
        return self._kpi_drill_set(
            "helpdesk.ticket", code, part, rows_sql or self._rows_sql(), where
        )

    def _fetch_heavy(self, query):
        """:meth:`_fetch` of a heavy grouped query, with the PostgreSQL
        settings of :func:`~..kpi.base.heavy_query_settings`."""
        heavy_query_settings(self.ctx)
        return self._fetch(query)

    @staticmethod
    def _scope_key(row):
        """Scope key of a row of a ``GROUPING SETS`` query that selects
        ``scope`` ('company', 'team', 'user') and ``scope_id``."""
        return (row["scope"], row["scope_id"])
