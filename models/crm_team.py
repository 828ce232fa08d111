from odoo import fields, models


class CrmTeam(models.Model):
    _inherit = "crm.team"

    kpi_resource_calendar_id = fields.Many2one(
        "resource.calendar",
        string="Working Hours",
        check_company=True,
        help="Calendar of the team's working hours, used for the working-hours "
        "response times of its leads. Empty: the company's.",
    )
