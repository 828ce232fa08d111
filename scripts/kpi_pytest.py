# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""pytest plugin loaded by ``kpictl test`` (``-p kpi_pytest``).

Odoo skips browser tests (HttpCase tours) when Chrome/Chromium or
websocket-client is missing, and pytest-odoo skips HttpCase tests without
``--odoo-http``. For this project a browser test that cannot run is a failure,
not a skip.
"""

import re

import pytest

BROWSER_SKIP = re.compile(
    r"chrome|chromium|websocket-client|devtools|--odoo-http is not set", re.IGNORECASE
)


def _skip_reason(report):
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr or "")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = _skip_reason(report)
    if BROWSER_SKIP.search(reason):
        report.outcome = "failed"
        report.longrepr = (
            f"browser test could not run ({reason}); install chromium "
            "(and websocket-client) so that HttpCase tours can run"
        )
