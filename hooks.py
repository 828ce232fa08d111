from odoo.tools import SQL

from .models.crm_kpi_snapshot import CORE_INDEXES, OBSOLETE_CORE_INDEXES


def uninstall_hook(env):
    """Drop the indexes the addon put on core tables (mail_message, crm_lead,
    helpdesk_ticket, sale_order, sale_order_line, account_move): its own
    tables and columns go with its models."""
    names = [name for name, _table, _columns in CORE_INDEXES]
    for name in names + list(OBSOLETE_CORE_INDEXES):
        env.cr.execute(SQL("DROP INDEX IF EXISTS %s", SQL.identifier(name)))
