from odoo import models


class SurveyInvite(models.TransientModel):
    _inherit = "survey.invite"

    def _get_answers_values(self):
        """Invitations to a KPI survey count as sent invitations of the
        survey response rate."""
        values = super()._get_answers_values()
        if self.survey_id.kpi_survey_type:
            values["kpi_invited"] = True
        return values
