# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Measure 4: creating and updating leads, orders and tickets one by one, with
and without the addon, each write followed by the pre-commit work of its
request.
"""

import time

from bench_common import environment, say


def _write_fixtures(env):
    user = env.ref("base.user_admin")
    partners = env["res.partner"].search(
        [("customer_rank", ">", 0), ("is_company", "=", True)], order="id", limit=200
    )
    product = env["product.product"].search(
        [("sale_ok", "=", True), ("type", "=", "consu")], order="id", limit=1
    ) or env["product.product"].search([("sale_ok", "=", True)], order="id", limit=1)
    sales_team = env["crm.team"].search([], order="id", limit=1)
    won_stage = env["crm.stage"].search([("is_won", "=", True)], limit=1)
    ht_team = env["helpdesk.ticket.team"].search([], order="id", limit=1)
    closed = env["helpdesk.ticket.stage"].search([("closed", "=", True)], limit=1)
    return (
        user,
        partners.ids,
        product.id,
        sales_team.id,
        won_stage.id,
        ht_team.id,
        (closed.id),
    )


def write_steps(env):
    """(name, create(i), update(record)) of the write measure, as the admin."""
    user, partners, product, team, won, ht_team, closed = _write_fixtures(env)
    uenv = env(user=user.id)
    Lead, Order, Ticket = uenv["crm.lead"], uenv["sale.order"], uenv["helpdesk.ticket"]
    return uenv, (
        (
            "leads",
            lambda i: Lead.create(
                {
                    "name": f"Bench lead {i}",
                    "type": "opportunity",
                    "partner_id": partners[i % len(partners)],
                    "team_id": team,
                    "user_id": user.id,
                    "expected_revenue": 1000 + i,
                }
            ),
            lambda rec: rec.write({"stage_id": won}),
        ),
        (
            "orders",
            lambda i: Order.create(
                {
                    "partner_id": partners[i % len(partners)],
                    "team_id": team,
                    "order_line": [
                        (0, 0, {"product_id": product, "product_uom_qty": 2})
                    ],
                }
            ),
            lambda rec: rec.action_confirm(),
        ),
        (
            "tickets",
            lambda i: Ticket.create(
                {
                    "name": f"Bench ticket {i}",
                    "description": "Benchmark",
                    "partner_id": partners[i % len(partners)],
                    "team_id": ht_team,
                }
            ),
            lambda rec: rec.write({"stage_id": closed}),
        ),
    )


def _one_by_one(uenv, func, items):
    """Call ``func`` on each item, flushing after each and running what a
    request's commit runs first (the pre-commit callbacks: Odoo's tracking,
    the addon's refresh of the customers' revenue figures), without
    committing."""
    out = []
    t0 = time.perf_counter()
    for item in items:
        out.append(func(item))
        uenv.flush_all()
        uenv.cr.precommit.run()
    return out, time.perf_counter() - t0


def measure_writes(args, results):
    """Create then update ``--writes`` leads, orders and tickets one by one in
    the two databases (same rows), step by step alternately so that the noise
    of a shared machine hits both; a warm-up of 50 records first.  Rolled
    back."""
    base, with_kpi = args.base_db, f"{args.base_db}_kpi"
    timings = {base: {}, with_kpi: {}}
    with environment(base) as env_a, environment(with_kpi) as env_b:
        setups = {base: write_steps(env_a), with_kpi: write_steps(env_b)}
        for warmup, count in ((True, 50), (False, args.writes)):
            records = {base: {}, with_kpi: {}}
            for index in range(3):
                for phase in ("create", "update"):
                    for name, (uenv, steps) in setups.items():
                        step, create, update = steps[index]
                        if phase == "create":
                            recs, seconds = _one_by_one(uenv, create, range(count))
                            records[name][step] = recs
                        else:
                            _r, seconds = _one_by_one(uenv, update, records[name][step])
                            uenv.invalidate_all()
                        if not warmup:
                            timings[name][f"{step}_{phase}"] = seconds
    detail = {}
    for key in timings[base]:
        a, b = timings[base][key], timings[with_kpi][key]
        detail[key] = {
            "without": round(a, 2),
            "with": round(b, 2),
            "extra": round(b / a - 1, 3),
        }
    total_a, total_b = sum(timings[base].values()), sum(timings[with_kpi].values())
    results["writes"] = {
        "count": args.writes,
        "without_seconds": round(total_a, 2),
        "with_seconds": round(total_b, 2),
        "extra": round(total_b / total_a - 1, 3),
        "detail": detail,
    }
    say(f"4. writes: {results['writes']}")
