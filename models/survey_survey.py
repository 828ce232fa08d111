from odoo import api, fields, models
from odoo.exceptions import ValidationError

KPI_SURVEY_TYPES = [
    ("nps", "Net Promoter Score (NPS)"),
    ("ces", "Customer Effort Score (CES)"),
    ("csat", "Customer Satisfaction (CSAT)"),
]
SCORE_QUESTION_TYPES = ("scale", "numerical_box")
# default scale of each kind of survey
DEFAULT_SCALES = {"nps": (0, 10), "ces": (1, 5), "csat": (1, 5)}


class SurveySurvey(models.Model):
    _inherit = "survey.survey"

    kpi_survey_type = fields.Selection(
        KPI_SURVEY_TYPES,
        string="KPI Survey",
        copy=False,
        help="Completed responses of an NPS, CES or CSAT survey count in the "
        "customer perception KPIs, scored by the score question.",
    )
    kpi_question_id = fields.Many2one(
        "survey.question",
        string="Score Question",
        copy=False,
        domain="[('survey_id', '=', id),"
        " ('question_type', 'in', ('scale', 'numerical_box'))]",
        help="The scale or numerical question that carries the score.",
    )
    kpi_scale_min = fields.Integer(
        "Scale Minimum",
        compute="_compute_kpi_scale",
        store=True,
        readonly=False,
        help="Lowest valid score. Taken from the score question when it is a "
        "scale question.",
    )
    kpi_scale_max = fields.Integer(
        "Scale Maximum",
        compute="_compute_kpi_scale",
        store=True,
        readonly=False,
        help="Highest valid score. Answers outside the scale are not counted.",
    )
    kpi_response_count = fields.Integer(
        "Scored Responses", compute="_compute_kpi_counts"
    )
    kpi_invalid_count = fields.Integer(
        "Invalid Answers",
        compute="_compute_kpi_counts",
        help="Completed responses whose score is outside the survey's scale: "
        "they are not counted in the KPIs.",
    )

    @api.depends(
        "kpi_survey_type",
        "kpi_question_id.question_type",
        "kpi_question_id.scale_min",
        "kpi_question_id.scale_max",
    )
    def _compute_kpi_scale(self):
        for survey in self:
            question = survey.kpi_question_id
            if question.question_type == "scale":
                survey.kpi_scale_min = question.scale_min
                survey.kpi_scale_max = question.scale_max
            elif survey.kpi_survey_type and not (
                survey.kpi_scale_min or survey.kpi_scale_max
            ):
                survey.kpi_scale_min, survey.kpi_scale_max = DEFAULT_SCALES[
                    survey.kpi_survey_type
                ]

    def _compute_kpi_counts(self):
        counts = {
            (survey.id, valid): n
            for survey, valid, n in self.env["survey.user_input"]._read_group(
                [
                    ("survey_id", "in", self.ids),
                    ("state", "=", "done"),
                    ("kpi_has_score", "=", True),
                ],
                ["survey_id", "kpi_valid"],
                ["__count"],
            )
        }
        for survey in self:
            survey.kpi_response_count = counts.get((survey.id, True), 0)
            survey.kpi_invalid_count = counts.get((survey.id, False), 0)

    @api.constrains(
        "kpi_survey_type", "kpi_question_id", "kpi_scale_min", "kpi_scale_max"
    )
    def _check_kpi_survey(self):
        for survey in self:
            if not survey.kpi_survey_type:
                continue
            question = survey.kpi_question_id
            kind = dict(KPI_SURVEY_TYPES)[survey.kpi_survey_type]
            if not question or question.question_type not in SCORE_QUESTION_TYPES:
                raise ValidationError(
                    self.env._(
                        "Survey %(survey)s cannot be a %(kind)s survey: choose its "
                        "score question, a question of type 'Scale' or 'Numerical "
                        "Value' that carries the score.",
                        survey=survey.display_name,
                        kind=kind,
                    )
                )
            if question.survey_id != survey:
                raise ValidationError(
                    self.env._(
                        "The score question of survey %(survey)s must be one of its "
                        "own questions.",
                        survey=survey.display_name,
                    )
                )
            if survey.kpi_scale_min >= survey.kpi_scale_max:
                raise ValidationError(
                    self.env._(
                        "The scale of survey %(survey)s must go from a lower to a "
                        "higher score (%(low)s to %(high)s is not a scale).",
                        survey=survey.display_name,
                        low=survey.kpi_scale_min,
                        high=survey.kpi_scale_max,
                    )
                )
            if survey.kpi_survey_type == "nps" and (
                survey.kpi_scale_min,
                survey.kpi_scale_max,
            ) != (0, 10):
                raise ValidationError(
                    self.env._(
                        "An NPS survey is answered on a scale from 0 to 10; survey "
                        "%(survey)s goes from %(low)s to %(high)s.",
                        survey=survey.display_name,
                        low=survey.kpi_scale_min,
                        high=survey.kpi_scale_max,
                    )
                )

    def action_kpi_view_invalid(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Invalid answers"),
            "res_model": "survey.user_input",
            "views": [(False, "list"), (False, "form")],
            "domain": [
                ("survey_id", "=", self.id),
                ("state", "=", "done"),
                ("kpi_has_score", "=", True),
                ("kpi_valid", "=", False),
            ],
        }
