from odoo import api, models


class MailMessage(models.Model):
    _name = "mail.message"
    _inherit = ["mail.message", "crm.kpi.drillable"]

    @api.model_create_multi
    def create(self, vals_list):
        messages = super().create(vals_list)
        on_tickets = messages.filtered(
            lambda m: m.model == "helpdesk.ticket" and m.res_id
        )
        if on_tickets:
            self.env["helpdesk.ticket"]._kpi_register_messages(on_tickets)
        return messages
