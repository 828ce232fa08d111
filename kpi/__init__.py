"""Plain-Python pieces shared by the KPI families (``models/crm_kpi_family*``):
periods and calendars, the result type, the shared reads of revenue events
and messages, working hours, cash-flow arithmetic."""

from . import translate
from . import period
from . import base
from . import events
from . import messages
from . import users
from . import cashflow
from . import working_hours
