# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Measure 3: list views of partners and leads with their KPI fields, at 10 and
80 records; measure 8: the Overview's grouped reads of the stored values;
measure 10: the dashboard.
"""

import statistics

from bench_common import MODULE, Timer, say


def bench_user(env):
    login = "kpi.bench.manager@example.com"
    user = (
        env["res.users"].with_context(active_test=False).search([("login", "=", login)])
    )
    if user:
        return user
    groups = [
        env.ref(x, raise_if_not_found=False)
        for x in (
            "base.group_user",
            "sales_team.group_sale_manager",
            f"{MODULE}.group_crm_kpi_manager",
            "helpdesk_mgmt.group_helpdesk_manager",
        )
    ]
    return env["res.users"].create(
        {
            "name": "KPI Bench Manager",
            "login": login,
            "group_ids": [(4, g.id) for g in groups if g],
        }
    )


def manager_values(env, **context):
    """``(user, company, crm.kpi.value)``: the stored values as the
    benchmark's KPI manager reads them in the main company (``context``:
    more keys of the request's context)."""
    user = bench_user(env)
    company = env.ref("base.main_company")
    Value = (
        env["crm.kpi.value"]
        .with_user(user)
        .with_company(company)
        .with_context(allowed_company_ids=[company.id], **context)
    )
    return user, company, Value


def list_spec(model):
    spec = {"display_name": {}}
    for name, field in model._fields.items():
        if not name.startswith("kpi_") or field.type in ("one2many", "many2many"):
            continue
        spec[name] = (
            {"fields": {"display_name": {}}} if field.type == "many2one" else {}
        )
    return spec


def measure_list(env, args, results):
    user = bench_user(env)
    env.flush_all()
    out = {}
    cases = {
        "res.partner": [("customer_rank", ">", 0), ("is_company", "=", True)],
        "crm.lead": [],
    }
    for model_name, domain in cases.items():
        model = env[model_name].with_user(user)
        spec = list_spec(model)
        for limit in (10, 80):
            # as the web client's list view: count_limit = 10000 + 1
            kwargs = {"limit": limit, "count_limit": 10001}
            model.web_search_read(domain, spec, **kwargs)  # warm caches
            runs = []
            for _i in range(args.repeat):
                env.invalidate_all()
                with Timer(env.cr) as t:
                    data = model.web_search_read(domain, spec, **kwargs)
                runs.append((t.seconds, t.queries))
            out[f"{model_name}:{limit}"] = {
                "records": len(data["records"]),
                "fields": len(spec) - 1,
                "seconds": round(statistics.median(r[0] for r in runs), 4),
                "queries": int(statistics.median(r[1] for r in runs)),
                "queries_max": max(r[1] for r in runs),
            }
    results["list"] = out
    say(f"3. list views: {out}")


def measure_dashboard(env, args, results, month):
    """Measure 10: the dashboard's one call (``get_dashboard``) for the last
    full month, as a KPI manager (company scope) and as a salesperson (his
    own scope), on the stored values of the backfill."""
    user = bench_user(env)
    company = env.ref("base.main_company")
    Value = env["crm.kpi.value"]
    stored = Value.search_count(
        [
            ("company_id", "=", company.id),
            ("granularity", "=", "month"),
            ("scope", "=", "company"),
            ("date_start", "=", month),
        ]
    )
    if not stored:
        results["dashboard"] = {
            "note": f"not measured: no stored value for {month} (run measure 2)"
        }
        say(f"10. dashboard: {results['dashboard']['note']}")
        return
    seller = Value.search(
        [
            ("company_id", "=", company.id),
            ("granularity", "=", "month"),
            ("scope", "=", "user"),
            ("date_start", "=", month),
        ],
        limit=1,
    ).user_id
    out = {"month": str(month)}
    cases = {"manager": (user, None)}
    if seller:
        cases["salesperson"] = (seller, f"user:{seller.id}")
    for name, (who, scope_key) in cases.items():
        dashboard = env["crm.kpi.dashboard"].with_user(who).with_company(company)
        kwargs = {"granularity": "month", "date_start": str(month)}
        if scope_key:
            kwargs["scope_key"] = scope_key
        data = dashboard.get_dashboard(**kwargs)  # warm caches
        runs = []
        for _i in range(args.repeat):
            env.invalidate_all()
            with Timer(env.cr) as t:
                data = dashboard.get_dashboard(**kwargs)
            runs.append((t.seconds, t.queries))
        cards = [c for area in data["areas"] for c in area["cards"]]
        out[name] = {
            "scope": data["scope_key"],
            "scopes": len(data["scopes"]),
            "cards": len(cards),
            "with_value": sum(1 for c in cards if c["value"] is not None),
            "seconds": round(statistics.median(r[0] for r in runs), 4),
            "queries": int(statistics.median(r[1] for r in runs)),
        }
    results["dashboard"] = out
    say(f"10. dashboard: {out}")


# measure 8: the Overview's pivot (rows: KPI, columns: month, measure: value)
# on the company scope, then with the sales teams and the salespeople as the
# first row level, as a user unfolds the rows
GROUPED_CASES = {
    "company": ("company", ["kpi_id"]),
    "team": ("team", ["team_id", "kpi_id"]),
    "user": ("user", ["user_id", "kpi_id"]),
}


def pivot_grouping_sets(rows, cols):
    """The grouping sets of the pivot view's first load: every prefix of
    the row group-bys with every prefix of the column ones (``sections`` and
    ``cartesian`` of web's pivot_model.js), deduplicated."""
    sets = []
    for i in range(len(rows) + 1):
        for j in range(len(cols) + 1):
            groupby = list(dict.fromkeys(rows[:i] + cols[:j]))
            if sorted(groupby) not in [sorted(s) for s in sets]:
                sets.append(groupby)
    return sets


def measure_grouped(env, args, results):
    """Measure 8: the grouped read of the stored values that the Overview's
    pivot makes (``formatted_read_grouping_sets``), as a KPI manager."""
    user = bench_user(env)
    __, __, Value = manager_values(env, lang="en_US", tz=user.tz or "UTC")
    cols = ["date_start:month"]
    out = {}
    for name, (scope, rows) in GROUPED_CASES.items():
        # the search view's filters: Monthly, and the scope
        domain = [("granularity", "=", "month"), ("scope", "=", scope)]
        sets = pivot_grouping_sets(rows, cols)
        aggregates = ["value:sum", "__count"]
        Value.formatted_read_grouping_sets(domain, sets, aggregates)  # warm-up
        runs = []
        for _i in range(args.repeat):
            env.invalidate_all()
            with Timer(env.cr) as t:
                groups = Value.formatted_read_grouping_sets(domain, sets, aggregates)
            runs.append((t.seconds, t.queries))
        # the grouped SQL read alone, without the web client's formatting
        # (each cell's domain and labels)
        order = ", ".join(dict.fromkeys(spec for gb in sets for spec in gb))
        reads = []
        for _i in range(args.repeat):
            env.invalidate_all()
            with Timer(env.cr) as t:
                Value._read_grouping_sets(domain, sets, aggregates, order=order)
            reads.append(t.seconds)
        cells = groups[sets.index(rows + cols)]
        out[name] = {
            "rows": rows,
            "grouping_sets": len(sets),
            "values": sum(g["__count"] for g in groups[0]),
            "periods": len(groups[sets.index(cols)]),
            "kpis": len({g["kpi_id"][0] for g in cells if g["kpi_id"]}),
            "cells": len(cells),
            "seconds": round(statistics.median(r[0] for r in runs), 4),
            "queries": int(statistics.median(r[1] for r in runs)),
            "read_seconds": round(statistics.median(reads), 4),
        }
    results["grouped"] = out
    say(f"8. grouped reads: {out}")
