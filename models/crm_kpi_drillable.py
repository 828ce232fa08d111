"""The records behind a stored KPI value, as a domain a list view can page.

A family describes the records behind a numerator or a denominator either as
an ordinary domain or, for sets that only a query can tell (the customers
lost in the period, the deals won, the tickets handled), as the ids that a
``SELECT`` returns.  Sending those ids to the browser would cost a megabyte
for a hundred thousand customers; the drill-down action sends instead
``[("crm_kpi_drill_of", "=", "<value id>:<part>")]``, and the models that
such lists show inherit this mixin, whose search method turns that
reference back into the family's query, run inside each page's ``SELECT``
(in a list's request, once for the page and its count).
"""

import json

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools import SQL

from ..kpi.base import heavy_query_settings

DRILL_FIELD = "crm_kpi_drill_of"
PARTS = ("numerator", "denominator")


# context key of a list request whose page and count share the values of
# the drill-down queries (see CrmKpiDrillable.web_search_read)
DRILL_ONCE = "crm_kpi_drill_once"


class DrillValues:
    """The values each drill-down query selected, kept for one list request
    (in its context, under :data:`DRILL_ONCE`), as an array literal."""

    __slots__ = ("values",)

    def __init__(self):
        self.values = {}

    def get(self, model, query):
        key = (query.code, repr(query.params))
        if key not in self.values:
            rows = model.env.execute_query(SQL("SELECT ARRAY(%s)::text", query))
            self.values[key] = rows[0][0]
        return self.values[key]


def ids_domain(query, column="id"):
    """The domain of the records whose ``column`` (of the model's table) is
    one of the values the ``SQL`` ``query`` selects (one column), for a
    family's drill-down.

    The query's values are gathered once into an array, which the record
    table then reads by its index: ``column = ANY(ARRAY(query))``.  The
    plain ``column IN (query)`` lets PostgreSQL, for a list's page (``ORDER
    BY ... LIMIT 80``), walk the table in the list's order and compare each
    record with every value of the query: 48 s for the page of the 3,214
    customers lost in a month of a million orders.  In a list request
    (:data:`DRILL_ONCE` in the context), the query runs once and its values
    serve both the page and its count."""
    assert isinstance(query, SQL)

    def to_sql(model, alias, _query):
        once = model.env.context.get(DRILL_ONCE)
        if isinstance(once, DrillValues):
            # one array literal: PostgreSQL reads it in one call, where an
            # ARRAY[...] of 150,000 parameters cost it 0.3 s to parse
            values = SQL("%s::int4[]", once.get(model, query))
        else:
            values = SQL("ARRAY(%s)", query)
        return SQL("%s = ANY(%s)", SQL.identifier(alias, column), values)

    return Domain.custom(to_sql=to_sql)


def holds_sql(domain):
    """Whether ``domain`` (a list or a Domain) has a condition on a query,
    which cannot be sent to the browser as it is."""
    try:
        json.dumps(list(Domain(domain)))
    except TypeError:
        return True
    return False


def drill_reference(value, part):
    """The domain sent to the browser for ``part`` of the stored ``value``."""
    return [(DRILL_FIELD, "=", f"{value.id}:{part}")]


class CrmKpiDrillable(models.AbstractModel):
    _name = "crm.kpi.drillable"
    _description = "Records listed by a KPI drill-down"

    crm_kpi_drill_of = fields.Char(
        string="Behind KPI Value",
        compute="_compute_crm_kpi_drill_of",
        search="_search_crm_kpi_drill_of",
        help="Technical: selects the records behind the numerator or the "
        "denominator of a stored KPI value ('<value id>:<part>').",
    )

    @api.model
    @api.readonly
    def web_search_read(
        self, domain, specification, offset=0, limit=None, order=None, count_limit=None
    ):
        """A drill-down list's page and its count select the records behind
        the KPI value once: the family's query runs once for the request, not
        once in the page's ``SELECT`` and again in its count."""
        if any(
            condition.field_expr == DRILL_FIELD
            for condition in Domain(domain).iter_conditions()
        ):
            self = self.with_context(**{DRILL_ONCE: DrillValues()})
        return super().web_search_read(
            domain,
            specification,
            offset=offset,
            limit=limit,
            order=order,
            count_limit=count_limit,
        )

    def _compute_crm_kpi_drill_of(self):
        self.crm_kpi_drill_of = False

    @api.model
    def _search_crm_kpi_drill_of(self, operator, value):
        if operator not in ("in", "="):
            return NotImplemented
        references = [value] if isinstance(value, str) else list(value)
        domains = [self._crm_kpi_drill_domain(ref) for ref in references]
        return Domain.OR(domains) if domains else Domain.FALSE

    @api.model
    def _crm_kpi_drill_domain(self, reference):
        """The domain of the records behind a drill reference
        ``'<value id>:<part>'``, read with the user's rights on the value."""
        value_id, _sep, part = str(reference or "").partition(":")
        if not value_id.isdigit() or part not in PARTS:
            raise UserError(
                self.env._(
                    "%(reference)s is not a KPI drill-down.", reference=reference
                )
            )
        value = self.env["crm.kpi.value"].browse(int(value_id)).exists()
        if not value:
            raise UserError(
                self.env._(
                    "The KPI value behind this list no longer exists; open the "
                    "list again from the KPI."
                )
            )
        value.check_access("read")
        target = value.snapshot_id._kpi_drill_target(value.kpi_code, part)
        if not target or target[1] != self._name:
            raise UserError(
                self.env._(
                    "%(kpi)s has no list of %(model)s behind its %(part)s.",
                    kpi=value.kpi_id.name,
                    model=self._description,
                    part=value._part_label(part),
                )
            )
        family, _model, domain = target
        # the query runs inside each page's SELECT: with the memory of the
        # families' heavy queries, for the rest of the request's transaction
        heavy_query_settings(family.ctx)
        return Domain(domain)
