from . import res_company
from . import res_config_settings
from . import crm_kpi_definition
from . import crm_kpi_snapshot
from . import crm_kpi_value
from . import crm_kpi_backfill
from . import res_partner
from . import crm_lead
