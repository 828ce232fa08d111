from odoo import api, fields, models

NPS_CATEGORIES = [
    ("promoter", "Promoter"),
    ("passive", "Passive"),
    ("detractor", "Detractor"),
]


def nps_category(score):
    if score >= 9:
        return "promoter"
    if score >= 7:
        return "passive"
    return "detractor"


class SurveyUserInput(models.Model):
    _name = "survey.user_input"
    _inherit = ["survey.user_input", "crm.kpi.drillable"]

    kpi_survey_type = fields.Selection(
        related="survey_id.kpi_survey_type", store=True, string="KPI Survey"
    )
    kpi_company_id = fields.Many2one(
        "res.company",
        string="KPI Company",
        readonly=True,
        index=True,
        default=lambda self: self.env.company,
        help="Company whose perception KPIs count this response: the company of "
        "the ticket or order that triggered it, else the company it was sent from.",
    )
    kpi_partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        compute="_compute_kpi_partner_id",
        store=True,
        index="btree_not_null",
        help="The respondent's commercial partner.",
    )
    kpi_ticket_id = fields.Many2one(
        "helpdesk.ticket",
        string="Ticket",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
    )
    kpi_order_id = fields.Many2one(
        "sale.order",
        string="Order",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
    )
    kpi_invited = fields.Boolean(
        "Invitation",
        readonly=True,
        help="Created by an invitation to a KPI survey: counts as a sent "
        "invitation of the response rate.",
    )
    kpi_has_score = fields.Boolean(
        "Scored",
        compute="_compute_kpi_score",
        store=True,
        help="Completed with an answer to the score question.",
    )
    kpi_score = fields.Float("Score", compute="_compute_kpi_score", store=True)
    kpi_valid = fields.Boolean(
        "Valid Score",
        compute="_compute_kpi_score",
        store=True,
        help="The score is a whole number inside the survey's scale. Other "
        "answers are not counted and show as invalid answers.",
    )
    kpi_nps_category = fields.Selection(
        NPS_CATEGORIES, string="NPS Category", compute="_compute_kpi_score", store=True
    )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("kpi_company_id"):
                continue
            if vals.get("kpi_ticket_id"):
                ticket = (
                    self.env["helpdesk.ticket"].sudo().browse(vals["kpi_ticket_id"])
                )
                vals["kpi_company_id"] = ticket.company_id.id
            elif vals.get("kpi_order_id"):
                order = self.env["sale.order"].sudo().browse(vals["kpi_order_id"])
                vals["kpi_company_id"] = order.company_id.id
        return super().create(vals_list)

    @api.depends("partner_id.commercial_partner_id")
    def _compute_kpi_partner_id(self):
        for answer in self:
            answer.kpi_partner_id = answer.partner_id.commercial_partner_id

    @api.depends(
        "state",
        "survey_id.kpi_survey_type",
        "survey_id.kpi_question_id",
        "survey_id.kpi_scale_min",
        "survey_id.kpi_scale_max",
        "user_input_line_ids.skipped",
        "user_input_line_ids.answer_type",
        "user_input_line_ids.value_scale",
        "user_input_line_ids.value_numerical_box",
    )
    def _compute_kpi_score(self):
        for answer in self:
            survey = answer.survey_id
            score = None
            if (
                answer.state == "done"
                and survey.kpi_survey_type
                and survey.kpi_question_id
            ):
                line = answer.user_input_line_ids.filtered(
                    lambda x, q=survey.kpi_question_id: x.question_id == q
                    and not x.skipped
                )[:1]
                if line.answer_type == "scale":
                    score = float(line.value_scale)
                elif line.answer_type == "numerical_box":
                    score = line.value_numerical_box
            valid = (
                score is not None
                and float(score).is_integer()
                and survey.kpi_scale_min <= score <= survey.kpi_scale_max
            )
            answer.kpi_has_score = score is not None
            answer.kpi_score = score or 0.0
            answer.kpi_valid = valid
            answer.kpi_nps_category = (
                nps_category(score)
                if valid and survey.kpi_survey_type == "nps"
                else False
            )
