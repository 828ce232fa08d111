"""The documents whose confirmed rows are revenue events (sale orders,
customer invoices and refunds): their changes mark the customer figures to
recompute (``crm.kpi.customer.stat``), without a query per document or
line; the figures are recomputed once for the whole transaction.

A document model inherits this mixin and says which of its records are
revenue events (``_kpi_event_ids``), under which key its marks are kept, the
fields its revenue event is made of, those whose change may move the event
to another customer, and its customer field."""

from odoo import api, models


class CrmKpiRevenueDocument(models.AbstractModel):
    _name = "crm.kpi.revenue.document"
    _description = "CRM KPI revenue event document"

    # key of the marks in crm.kpi.customer.stat._kpi_mark ("orders", "moves")
    _kpi_mark_key = None
    # the fields the revenue event is made of
    _kpi_event_fields = frozenset()
    # the fields whose change may move the event to another customer
    _kpi_customer_change_fields = frozenset()
    # the field of the document's customer
    _kpi_customer_field = "partner_id"

    def _kpi_event_ids(self):
        """The records of ``self`` that are revenue events."""
        raise NotImplementedError

    def _kpi_mark_documents(self, ids):
        self.env["crm.kpi.customer.stat"]._kpi_mark(**{self._kpi_mark_key: ids})

    def _kpi_involved_customers(self):
        """Ids of the customers whose figures depend on ``self``."""
        Stat = self.env["crm.kpi.customer.stat"]
        involved = Stat._kpi_involved(self, self._kpi_mark_key)
        return involved[self._kpi_customer_field].ids

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        records._kpi_mark_documents(records._kpi_event_ids())
        return records

    def write(self, vals):
        if not self._kpi_event_fields.intersection(vals):
            return super().write(vals)
        # revenue events before the change (a cancelled, reset or moved
        # document leaves its customer's figures)
        before = self._kpi_event_ids()
        old_partners = []
        if self._kpi_customer_change_fields.intersection(vals):
            old_partners = self._kpi_involved_customers()
        result = super().write(vals)
        self.env["crm.kpi.customer.stat"]._kpi_mark(
            partners=old_partners,
            **{self._kpi_mark_key: before + self._kpi_event_ids()},
        )
        return result

    def unlink(self):
        self.env["crm.kpi.customer.stat"]._kpi_mark(
            partners=self._kpi_involved_customers()
        )
        return super().unlink()
