from odoo import models


class BasePartnerMergeAutomaticWizard(models.TransientModel):
    _inherit = "base.partner.merge.automatic.wizard"

    def _merge(self, partner_ids, dst_partner=None, extra_checks=True):
        """The merge moves the documents of the merged partners to the
        destination in SQL: the customer figures of every commercial entity
        involved (the merged partners', the destination's) are recomputed."""
        partners = self.env["res.partner"].browse(partner_ids).exists()
        involved = set(partners.ids) | set(partners.commercial_partner_id.ids)
        if dst_partner:
            involved |= {dst_partner.id, dst_partner.commercial_partner_id.id}
        result = super()._merge(partner_ids, dst_partner, extra_checks=extra_checks)
        self.env["crm.kpi.customer.stat"]._kpi_mark(partners=involved)
        return result
