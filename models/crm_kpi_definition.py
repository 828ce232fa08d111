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
# what managers may change: an upgrade keeps their edits of these fields and
# updates the rest (code, area, unit, grouping, factor: what the engine
# relies on) from the addon's data
MANAGER_FIELDS = ("name", "sequence", "direction", "description", "headline", "active")

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
    edited_fields = fields.Char(
        "Edited by a Manager",
        readonly=True,
        copy=False,
        help="The fields a manager changed (among name, sequence, direction, "
        "description, headline, active): upgrades of the addon keep them and "
        "update the others.  Restore the Addon's Texts clears the list.",
    )

    _code_unique = models.Constraint("UNIQUE(code)", "A KPI code must be unique.")
    _factor_positive = models.Constraint(
        "CHECK(factor > 0)", "A KPI's factor must be positive."
    )

    def write(self, vals):
        if not self.env.context.get("crm_kpi_data_load"):
            edited = set(vals) & set(MANAGER_FIELDS)
            if edited:
                for kpi in self:
                    names = set(filter(None, (kpi.edited_fields or "").split(",")))
                    super(CrmKpiDefinition, kpi).write(
                        {"edited_fields": ",".join(sorted(names | edited))}
                    )
        return super().write(vals)

    def _load_records_write(self, values):
        """An upgrade writes the addon's data: what a manager edited stays."""
        edited = set(filter(None, (self.edited_fields or "").split(",")))
        values = {k: v for k, v in values.items() if k not in edited}
        return super(
            CrmKpiDefinition, self.with_context(crm_kpi_data_load=True)
        )._load_records_write(values)

    def action_restore_addon_texts(self):
        """Forget the managers' edits: the next upgrade of the addon brings
        its own name, sequence, direction, description and headline back."""
        self.with_context(crm_kpi_data_load=True).write({"edited_fields": False})
        return True

    @api.depends("name", "code")
    def _compute_display_name(self):
        for kpi in self:
            kpi.display_name = kpi.name or kpi.code
