from . import crm_kpi_report
from . import ir_actions_report
