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
    description = fields.Text(translate=True, help="The formula, in words.")
    active = fields.Boolean(default=True)
    headline = fields.Boolean(help="Shown with a trend chart in the success report.")

    _code_unique = models.Constraint("UNIQUE(code)", "A KPI code must be unique.")

    @api.depends("name", "code")
    def _compute_display_name(self):
        for kpi in self:
            kpi.display_name = kpi.name or kpi.code
