# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Measure 7: opening the drill-down lists of stored values at full size.

For the company scope of a month, as a KPI manager: the server time of the
drill-down action (``action_open_numerator`` / ``_denominator``, which
recounts the records to tell whether they changed since the computation)
plus the list's first page (``web_search_read`` of 80 records with the
web client's count limit), and the size of the action the browser receives.
"""

import json
import statistics

from bench_common import Timer, say
from bench_lists import manager_values

# (label, KPI code, part)
DRILL_CASES = (
    ("lost customers (churn numerator)", "churn_rate", "numerator"),
    ("customers active at start (churn denominator)", "churn_rate", "denominator"),
    ("customers retained (retention numerator)", "retention_rate", "numerator"),
    ("new customers", "new_customers", "numerator"),
    ("deals won", "deals_won", "numerator"),
    ("tickets handled (closed)", "tickets_closed", "numerator"),
)


def measure_drill(env, args, results, month):
    user, company, Value = manager_values(env)
    base = [
        ("company_id", "=", company.id),
        ("granularity", "=", "month"),
        ("scope", "=", "company"),
        ("date_start", "=", month),
    ]
    out = {"month": str(month)}
    for label, code, part in DRILL_CASES:
        value = Value.search(base + [("kpi_code", "=", code)], limit=1)
        if not value:
            out[code + ":" + part] = {"label": label, "note": "no stored value"}
            continue
        opener = getattr(value, f"action_open_{part}")
        opener()  # warm caches
        runs = []
        for _i in range(args.repeat):
            env.invalidate_all()
            with Timer(env.cr) as action_t:
                action = opener()
            records = (
                env[action["res_model"]]
                .with_user(user)
                .with_context(action["context"], allowed_company_ids=[company.id])
            )
            with Timer(env.cr) as page_t:
                page = records.web_search_read(
                    action["domain"],
                    {"display_name": {}},
                    limit=80,
                    count_limit=10001,
                )
            runs.append(
                (
                    action_t.seconds,
                    page_t.seconds,
                    action_t.queries + page_t.queries,
                )
            )
        stored = value[part]
        out[code + ":" + part] = {
            "label": label,
            "model": action["res_model"],
            "stored": stored,
            "length": page["length"],
            "action_bytes": len(json.dumps(action, default=str)),
            "domain_bytes": len(json.dumps(action["domain"], default=str)),
            "action_seconds": round(statistics.median(r[0] for r in runs), 4),
            "page_seconds": round(statistics.median(r[1] for r in runs), 4),
            "seconds": round(statistics.median(r[0] + r[1] for r in runs), 4),
            "queries": int(statistics.median(r[2] for r in runs)),
        }
    results["drill"] = out
    say(f"7. drill-downs: {out}")
