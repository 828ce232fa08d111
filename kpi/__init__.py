"""KPI families: plain Python classes that compute KPIs set-wise."""

from . import base
from . import period
from . import events
from . import messages
from . import customers
from . import revenue
from . import sales
from . import marketing
from . import costs
from . import financial
from . import service
from . import perception
from . import adoption
