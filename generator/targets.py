# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Demo targets: one per headline KPI and company, set around the stored
value of the last closed month so that the dashboard shows every status.

Run after the KPI snapshots are computed (``demo_targets(env)``); the
generator itself writes no target, since a target is a manager's decision
and the benchmark's data must not depend on one.
"""

import math

from .common import _logger

# the planned status of the n-th headline KPI: most on target, some not
PATTERN = ("on_target", "on_target", "warning", "on_target", "off_target")
ADDITIVE = ("count", "currency")


def _thresholds(value, direction, status, unit="percent"):
    """(target, warning) putting ``value`` in ``status`` for ``direction``,
    rounded to a readable step without crossing the value (whole numbers
    for counts and amounts)."""
    step = max(abs(value) * 0.08, 1.0 if unit in ADDITIVE else 0.5)
    grain = 10 ** math.floor(math.log10(step))

    def down(x):
        return round(math.floor(x / grain) * grain, 6)

    def up(x):
        return round(math.ceil(x / grain) * grain, 6)

    if direction == "down":
        # lower is better: the warning threshold sits above the target
        return {
            "on_target": (up(value + step), up(value + 2 * step)),
            "warning": (down(value - step), up(value + step)),
            "off_target": (down(value - 3 * step), down(value - step)),
        }[status]
    return {
        "on_target": (down(value - step), down(value - 2 * step)),
        "warning": (up(value + step), down(value - step)),
        "off_target": (up(value + 3 * step), up(value + step)),
    }[status]


def demo_targets(env, companies=None):
    """Create the demo targets; returns how many were created.

    Each headline KPI of each company with computed values gets a company
    monthly target unless it already has an active company target, so running
    it again adds nothing.  The planned status cycles through on target,
    warning and off target; a KPI without a value in the last closed month
    gets the target of its last month with a value (or 0), its status says
    "no data" until it has one.
    """
    Value = env["crm.kpi.value"].sudo()
    Target = env["crm.kpi.target"].sudo().with_context(active_test=True)
    kpis = (
        env["crm.kpi.definition"]
        .sudo()
        .search([("headline", "=", True)], order="sequence, id")
    )
    if companies is None:
        companies = env["res.company"].sudo().search([])
    today = env.cr.now().date()
    vals_list = []
    for company in companies:
        monthly = [
            ("company_id", "=", company.id),
            ("scope", "=", "company"),
            ("granularity", "=", "month"),
            ("date_end", "<=", today),
        ]
        last = Value.search(monthly, order="date_start desc", limit=1)
        if not last:
            continue
        existing = set(
            Target.search(
                [
                    ("company_id", "=", company.id),
                    ("team_id", "=", False),
                    ("helpdesk_team_id", "=", False),
                ]
            ).kpi_id.ids
        )
        for n, kpi in enumerate(kpis):
            if kpi.id in existing:
                continue
            value = Value.search(
                [*monthly, ("kpi_id", "=", kpi.id), ("has_value", "=", True)],
                order="date_start desc",
                limit=1,
            )
            number = value.value if value else 0.0
            status = PATTERN[n % len(PATTERN)]
            target, warning = _thresholds(number, kpi.direction, status, kpi.unit)
            if number >= 0 and min(target, warning) < 0:
                # a threshold below zero for a figure that cannot be negative
                target, warning = _thresholds(
                    number, kpi.direction, "on_target", kpi.unit
                )
                target, warning = max(0.0, target), max(0.0, warning)
                if kpi.direction == "up":
                    warning = min(warning, target)
            if kpi.unit == "percent" and 0 <= number <= 100 < max(target, warning):
                # a rate cannot pass 100 %: a target of 100 % still leaves a
                # retention of 98 % in warning; one of 100 % cannot miss, so
                # it gets a target it meets
                if status == "warning" and kpi.direction == "up" and number < 100:
                    target = 100.0
                else:
                    target, warning = _thresholds(
                        number, kpi.direction, "on_target", kpi.unit
                    )
                    target, warning = min(100.0, target), min(100.0, warning)
            vals_list.append(
                {
                    "kpi_id": kpi.id,
                    "company_id": company.id,
                    # monthly, like the values they are set around (a weekly
                    # or yearly figure is not measured against them)
                    "granularity": "month",
                    "direction": kpi.direction,
                    "target_value": target,
                    "warning_value": warning,
                    "note": "Demo target",
                }
            )
    targets = Target.create(vals_list)
    _logger.info("generator: %s demo targets created", len(targets))
    return len(targets)
