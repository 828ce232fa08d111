from . import crm_kpi_report_wizard
from . import survey_invite
from . import crm_kpi_reconcile
from . import base_partner_merge
