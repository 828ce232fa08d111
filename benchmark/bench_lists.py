# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Measure 3: list views of partners and leads with their KPI fields, at 10 and
80 records.
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
