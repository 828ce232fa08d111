from odoo import api, fields, models

AREAS = [
    ("customers", "Customers"),
    ("revenue", "Revenue and profit"),
    ("sales", "Sales"),
    ("marketing", "Marketing"),
    ("service", "Customer service"),
    ("perception", "Customer perception"),
    ("adoption", "CRM adoption"),
    ("financial", "CRM investment"),
]
GROUPINGS = [
    ("sum", "Sum"),
    ("ratio", "Ratio of sums"),
    ("last", "Last period"),
    ("none", "Not combined"),
]
UNITS = [
    ("count", "Count"),
    ("percent", "Percent"),
    ("currency", "Currency"),
    ("hours", "Hours"),
    ("days", "Days"),
    ("months", "Months"),
    ("ratio", "Ratio"),
]


class CrmKpiDefinition(models.Model):
    _name = "crm.kpi.definition"
    _description = "CRM KPI"
    _order = "sequence, id"

    code = fields.Char(required=True, readonly=True)
    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    area = fields.Selection(AREAS, required=True)
    unit = fields.Selection(UNITS, required=True)
    direction = fields.Selection(
        [("up", "Higher is better"), ("down", "Lower is better")],
        required=True,
        default="up",
    )
    grouping = fields.Selection(
        GROUPINGS,
        required=True,
        default="sum",
        help="How values of several periods or scopes combine in grouped views "
        "(pivot, graph): Sum: counts and amounts are added up. Ratio of sums: "
        "the summed numerators over the summed denominators, times the factor "
        "(never an average of rates). Last period: a stock figure, the value of "
        "the last period of the group (its scopes added up). Not combined: "
        "shown empty, as no combination would be right (CLV, growth rates, "
        "IRR).",
    )
    factor = fields.Float(
        required=True,
        default=1.0,
        help="A rate's value is its numerator divided by its denominator, times "
        "this factor (100 for percentages, 1 for averages).",
    )
    description = fields.Text(translate=True, help="The formula, in words.")
    active = fields.Boolean(default=True)
    headline = fields.Boolean(help="Shown with a trend chart in the success report.")

    _code_unique = models.Constraint("UNIQUE(code)", "A KPI code must be unique.")
    _factor_positive = models.Constraint(
        "CHECK(factor > 0)", "A KPI's factor must be positive."
    )

    @api.depends("name", "code")
    def _compute_display_name(self):
        for kpi in self:
            kpi.display_name = kpi.name or kpi.code
