from odoo import api, fields, models
from odoo.exceptions import ValidationError


class HelpdeskTicketTeam(models.Model):
    _inherit = "helpdesk.ticket.team"

    kpi_resource_calendar_id = fields.Many2one(
        "resource.calendar",
        string="Working Hours",
        check_company=True,
        help="Calendar of the team's working hours, used for the working-hours "
        "response and resolution times of its tickets. Empty: the company's.",
    )
    kpi_send_ces_on_close = fields.Boolean(
        string="Send CES Survey on Close",
        help="When a ticket of this team is closed, its customer receives an "
        "invitation to the customer effort (CES) survey, once per ticket.",
    )
    kpi_ces_survey_id = fields.Many2one(
        "survey.survey",
        string="CES Survey",
        domain=[("kpi_survey_type", "=", "ces")],
        default=lambda self: self.env.ref(
            "crm_success_kpi.survey_kpi_ces", raise_if_not_found=False
        ),
        help="The CES survey sent when a ticket closes.",
    )

    @api.constrains("kpi_send_ces_on_close", "kpi_ces_survey_id")
    def _check_kpi_ces_survey(self):
        for team in self:
            if (
                team.kpi_send_ces_on_close
                and team.kpi_ces_survey_id.kpi_survey_type != "ces"
            ):
                raise ValidationError(
                    self.env._(
                        "Team %(team)s sends a CES survey when a ticket closes: "
                        "choose a survey marked as a CES survey.",
                        team=team.display_name,
                    )
                )

    def _kpi_calendar(self, company):
        """The team's working calendar, else the company's."""
        return self[:1].kpi_resource_calendar_id or company.resource_calendar_id
