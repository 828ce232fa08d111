# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The results table of the benchmark (benchmark/RESULTS.md) from its figures."""

import contextlib
import os
import platform
from pathlib import Path

from bench_common import HISTORY_YEARS, ROOT, TARGETS, say


def machine(pg):
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    import odoo.release  # noqa: PLC0415

    with contextlib.closing(pg.connect()) as conn, conn.cursor() as cr:
        cr.execute("SHOW server_version")
        pg_version = cr.fetchone()[0]
        settings = {}
        for name in ("shared_buffers", "work_mem", "max_parallel_workers_per_gather"):
            cr.execute("SELECT current_setting(%s)", (name,))
            settings[name] = cr.fetchone()[0]
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "os": platform.platform(terse=True),
        "python": platform.python_version(),
        "postgresql": pg_version,
        "postgresql_settings": settings,
        "odoo": odoo.release.version,
    }


def verdict(ok):
    return "✅ met" if ok else "❌ missed"


def engine_queries(run):
    """The queries of a computation of measure 1 or 6, and on how many
    connections when more than one read the period."""
    text = f"{run['engine_queries']} queries"
    connections = run.get("engine_connections") or 1
    return f"{text} on {connections} connections" if connections > 1 else text


def fmt_s(seconds):
    return f"{seconds:.3f} s" if seconds < 10 else f"{seconds:.1f} s"


def fmt_bytes(size):
    if size < 1024:
        return f"{size} bytes"
    if size < 2**20:
        return f"{size / 1024:.1f} KiB"
    if size < 2**30:
        return f"{size / 2**20:.1f} MiB"
    return f"{size / 2**30:.1f} GiB"


def tenth_row(h):
    """Measure 1 on the 3 years of flat history of measure 6 (a tenth)."""
    history = h.get(f"h{HISTORY_YEARS[0]}")
    if not history:
        return []
    ratio = history["ratio"]
    check = "same counts" if not history["mismatches"] else "**COUNTS DIFFER**"
    return [
        (
            f"1. measure 1 at one tenth of the size: `compute_period('month', "
            f"{history['month']})` on {history['years']} years of flat history "
            f"({history['sizes']['customers']:,} customers, "
            f"{history['sizes']['orders']:,} orders; {history['scopes']} "
            f"snapshots) vs the same SQL aggregate ({check})",
            f"{fmt_s(history['engine_seconds'])} ({engine_queries(history)})",
            fmt_s(history["sql_seconds"]),
            f"{ratio}× (target ≤ {TARGETS['compute_tenth']}×)",
            verdict(
                ratio is not None
                and ratio <= TARGETS["compute_tenth"]
                and not history["mismatches"]
            ),
        )
    ]


def history_rows(h):
    """Measure 6: the month on 9 years of history against 3 years."""
    short, long_ = (h.get(f"h{y}") for y in HISTORY_YEARS)
    if not (short and long_):
        return []
    ratio = h["ratio"]
    same = not short["mismatches"] and not long_["mismatches"]
    return [
        (
            f"6. `compute_period('month')` of the last full month on "
            f"{long_['years']} years of flat history vs {short['years']} years "
            f"(a tenth of the monthly volume: {long_['orders_in_month']:,} "
            f"orders in the month on {long_['years']} years, "
            f"{short['orders_in_month']:,} on {short['years']}; "
            f"{long_['sizes']['orders']:,} vs {short['sizes']['orders']:,} "
            "orders in all)"
            + ("" if same else " (**COUNTS DIFFER** from the SQL aggregate)"),
            f"{long_['years']} years: {fmt_s(long_['engine_seconds'])} "
            f"(SQL aggregate {fmt_s(long_['sql_seconds'])})",
            f"{short['years']} years: {fmt_s(short['engine_seconds'])} "
            f"(SQL aggregate {fmt_s(short['sql_seconds'])})",
            f"{ratio}× (target ≤ {TARGETS['history_ratio']}×; SQL {h['sql_ratio']}×)",
            verdict(ratio is not None and ratio <= TARGETS["history_ratio"] and same),
        )
    ]


def memory_rows(mem):
    """Measure 11: peak memory and temporary files of the month and the
    backfill, each in a fresh process."""
    rows = []
    for what, label in (
        ("month", "measure 1's month"),
        ("backfill", "measure 2's backfill"),
    ):
        m = mem.get(what)
        if not m:
            continue
        target = f"< {TARGETS['memory_mb']} MB" + (
            ", no temporary file" if what == "month" else ""
        )
        if "note" in m:
            rows.append(
                (f"11. memory of {label}", "not measured", "", target, m["note"])
            )
            continue
        ok = m["peak_mb"] < TARGETS["memory_mb"]
        if what == "month":
            ok = ok and m["temp_bytes"] <= TARGETS["month_temp_bytes"]
        rows.append(
            (
                f"11. peak memory and PostgreSQL temporary files of {label} "
                + (f"of {m['periods']} months " if m.get("periods") else "")
                + f"(in a fresh process, {fmt_s(m['seconds'])})",
                f"peak {m['peak_mb']:.0f} MB ({m['growth_mb']:+.0f} MB over the "
                f"loaded registry's {m['rss_before_mb']:.0f} MB)",
                f"temporary files: {m['temp_files']} ({fmt_bytes(m['temp_bytes'])})",
                target,
                verdict(ok),
            )
        )
    return rows


def grouped_rows(g):
    """Measure 8: the Overview pivot's grouped reads."""
    rows = []
    for name, label in (
        ("company", "company scope"),
        ("team", "sales teams"),
        ("user", "salespeople"),
    ):
        r = g.get(name)
        if not r:
            continue
        rows.append(
            (
                f"8. Overview pivot of the stored values, {label} (rows "
                f"{' > '.join(r['rows'])}, columns month: {r['kpis']} KPIs × "
                f"{r['periods']} months, {r['cells']} cells of {r['values']:,} "
                f"values; `formatted_read_grouping_sets`, {r['grouping_sets']} "
                "grouping sets, KPI manager)",
                f"{fmt_s(r['seconds'])} ({r['queries']} queries)",
                f"of which the grouped SQL read (`_read_grouping_sets`) "
                f"{fmt_s(r['read_seconds'])}, the rest the cells' formatting"
                if r.get("read_seconds") is not None
                else "",
                f"< {TARGETS['grouped_seconds']} s",
                verdict(r["seconds"] < TARGETS["grouped_seconds"]),
            )
        )
    return rows


def drill_rows(d):
    """Measure 7: opening the drill-down lists of a month."""
    rows = []
    for key, r in d.items():
        if key == "month":
            continue
        if "note" in r:
            rows.append(
                (f"7. drill-down: {r['label']}", "not measured", "", "", r["note"])
            )
            continue
        ok = (
            r["seconds"] < TARGETS["drill_seconds"]
            and r["action_bytes"] < TARGETS["drill_bytes"]
        )
        rows.append(
            (
                f"7. drill-down of {d['month'][:7]}: {r['label']} "
                f"({r['length']:,} {r['model']} records; action, then the "
                "list's first page of 80, KPI manager)",
                f"{fmt_s(r['seconds'])} ({r['queries']} queries); action "
                f"{fmt_bytes(r['action_bytes'])}",
                f"action (with its recount) {fmt_s(r['action_seconds'])}, "
                f"first page {fmt_s(r['page_seconds'])}; domain "
                f"{fmt_bytes(r['domain_bytes'])}",
                f"< {TARGETS['drill_seconds']} s, < "
                f"{fmt_bytes(TARGETS['drill_bytes'])}",
                verdict(ok),
            )
        )
    return rows


def replica_rows(r):
    """Measure 9: the month read on a standby against the primary only."""
    if "skipped" in r:
        return [("9. month read on a standby", "not measured", "", "", r["skipped"])]
    rep, pri = r["replica"], r["primary"]
    share = rep["primary_rows"] / rep["standby_rows"] if rep["standby_rows"] else None
    same = (
        "values identical"
        if not r["mismatches"]
        else (f"**{r['mismatches']} VALUES DIFFER**")
    )
    source = ", ".join(rep["sources"])
    return [
        (
            f"9. `compute_period('month', {r['month']})` with a streaming standby "
            f"as read replica vs the primary only ({r['values']} values; read "
            f"from: {source}; standby replayed up to {rep['replay_at']}, "
            f"lag {rep['lag']:.0f} s)",
            f"{fmt_s(rep['seconds'])}; rows read: primary "
            f"{rep['primary_rows']:,}, standby {rep['standby_rows']:,} (cold "
            f"{fmt_s(r['cold']['replica'])})",
            f"{fmt_s(pri['seconds'])}; rows read: primary {pri['primary_rows']:,}"
            f" (cold {fmt_s(r['cold']['primary'])})",
            f"{same}; primary's share "
            + (f"{share:.1%}" if share is not None else "?")
            + " of the standby's reads (target < 10 %); time "
            f"{rep['seconds'] / pri['seconds']:.2f}× the primary's",
            verdict(not r["mismatches"] and share is not None and share < 0.1),
        )
    ]


def table_rows(res):  # noqa: C901
    rows = []
    c = res.get("compute")
    if c:
        ok = c["ratio"] is not None and c["ratio"] <= TARGETS["compute"]
        check = "same counts" if not c["mismatches"] else "**COUNTS DIFFER**"
        rows.append(
            (
                f"1. `compute_period('month', {c['month']})`, all scopes "
                f"({c['scopes']} snapshots, {c['values']} values) vs one SQL "
                f"aggregate of S, E, N, L, revenue, won, lost ({check})",
                f"{fmt_s(c['engine_seconds'])} ({engine_queries(c)})",
                fmt_s(c["sql_seconds"]),
                f"{c['ratio']}× (target ≤ {TARGETS['compute']}×)",
                verdict(ok and not c["mismatches"]),
            )
        )
    h = res.get("history")
    if h:
        rows += tenth_row(h)
    b = res.get("backfill")
    if b:
        rows.append(
            (
                f"2. monthly backfill of {b['periods']} months vs {b['periods']} × "
                "one month",
                fmt_s(b["seconds"]),
                f"{fmt_s(b['reference_seconds'])} ({b['periods']} × "
                f"{fmt_s(b['single_month_seconds'])})",
                f"{b['ratio']}× (target ≤ {TARGETS['backfill']}×)",
                verdict(b["ratio"] <= TARGETS["backfill"] and not b["failed"]),
            )
        )
    lst = res.get("list")
    if lst:
        for model in ("res.partner", "crm.lead"):
            r10, r80 = lst.get(f"{model}:10"), lst.get(f"{model}:80")
            if not (r10 and r80):
                continue
            ok = (
                r10["queries"] == r80["queries"]
                and r80["queries"] < TARGETS["list_queries"]
                and r80["seconds"] < TARGETS["list_seconds"]
            )
            rows.append(
                (
                    f"3. list view of `{model}` with its {r80['fields']} KPI "
                    f"fields (`web_search_read`, {r80['records']} records)",
                    f"80: {fmt_s(r80['seconds'])}, {r80['queries']} queries",
                    f"10: {fmt_s(r10['seconds'])}, {r10['queries']} queries",
                    "same queries at 10 and 80, < 40, < 0.3 s",
                    verdict(ok),
                )
            )
    w = res.get("writes")
    if w:
        rows.append(
            (
                f"4. create + update {w['count']} leads, orders (confirm), tickets "
                "(close), one by one",
                f"{fmt_s(w['with_seconds'])} with the addon",
                f"{fmt_s(w['without_seconds'])} without",
                f"{w['extra'] * 100:+.1f} % (target ≤ {TARGETS['write_extra']:.0%})",
                verdict(w["extra"] <= TARGETS["write_extra"]),
            )
        )
    r = res.get("report")
    if r:
        if "note" in r:
            rows.append(
                (
                    "5. PDF report of one company and month",
                    "not measured",
                    "",
                    "< 5 s",
                    r["note"],
                )
            )
        else:
            rows.append(
                (
                    f"5. PDF report of one company and month ({r['snapshot']}, "
                    f"{r['pdf_bytes'] // 1024} KiB)",
                    f"{fmt_s(r['seconds'])} ({r['queries']} queries)",
                    "",
                    "< 5 s",
                    verdict(r["seconds"] < TARGETS["report_seconds"]),
                )
            )
    if h:
        rows += history_rows(h)
    if res.get("drill"):
        rows += drill_rows(res["drill"])
    if res.get("grouped"):
        rows += grouped_rows(res["grouped"])
    if res.get("replica"):
        rows += replica_rows(res["replica"])
    d = res.get("dashboard")
    if d:
        if "note" in d:
            rows.append(
                (
                    "10. dashboard (`get_dashboard`)",
                    "not measured",
                    "",
                    "< 0.3 s",
                    d["note"],
                )
            )
        else:
            for who in ("manager", "salesperson"):
                r = d.get(who)
                if not r:
                    continue
                rows.append(
                    (
                        f"10. dashboard of {d['month'][:7]} for a {who} "
                        f"(`get_dashboard`, {r['cards']} cards, {r['with_value']} "
                        f"with a value, {r['scopes']} scopes offered)",
                        f"{fmt_s(r['seconds'])} ({r['queries']} queries)",
                        "",
                        "< 0.3 s, stored values only",
                        verdict(r["seconds"] < TARGETS["dashboard_seconds"]),
                    )
                )
    if res.get("memory"):
        rows += memory_rows(res["memory"])
    return rows


def write_results(path, res):
    command = res["command"]
    notes_file = ROOT / "benchmark" / "NOTES.md"
    if notes_file.exists():
        res = dict(res, notes=notes_file.read_text(encoding="utf-8"))
    m = res["machine"]
    sizes = res["sizes"]
    lines = [
        "# Benchmark results",
        "",
        "Regenerated by the benchmark command (see the README, section",
        "*Benchmark*); do not edit by hand.",
        "",
        f"- **Date**: {res['date']} (whole run {res['total_seconds'] / 60:.0f} min)",
        f"- **Command**: `{command}`",
        f"- **Machine**: {m['cpus']} CPUs ({m['cpu']}), {m['memory']} RAM, "
        f"{m['os']}, Python {m['python']}",
        f"- **PostgreSQL** {m['postgresql']} ("
        + ", ".join(f"{k} {v}" for k, v in m["postgresql_settings"].items())
        + f"), **Odoo** {m['odoo']}",
        "- **Data** (history generator, seed "
        f"{res['seed']}, ending {res.get('end_date', '?')}"
        + (", flat growth" if res.get("growth") == "flat" else "")
        + "): "
        + ", ".join(f"{v:,} {k}" for k, v in sizes.items()),
    ]
    h = res.get("history") or {}
    if all(f"h{y}" in h for y in HISTORY_YEARS):
        lines.append(
            "- **Measure 6 data** (flat growth, a tenth of the monthly volume): "
            + "; ".join(
                f"`{h[f'h{y}']['db']}` "
                + ", ".join(f"{v:,} {k}" for k, v in h[f"h{y}"]["sizes"].items())
                for y in HISTORY_YEARS
            )
        )
    big = res.get("big_db") or {}
    counts = big.get("counts") or {}
    if counts:
        keys = (
            "customers", "sale_orders", "sale_order_lines", "leads", "tickets",
            "survey_answers", "messages", "activities_done",
        )  # fmt: skip
        made = ", ".join(f"{counts[k]:,} {k}" for k in keys if k in counts)
        lines.append(f"- **Rows written**: {made}")
    if not big.get("reused") and big.get("generate_seconds") is not None:
        timings = counts.get("timings") or {}
        lines.append(
            f"- **Build time**: install {big['install_seconds']:.0f} s, generation "
            f"{big['generate_seconds']:.0f} s ("
            + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items())
            + ")"
            + (
                f", VACUUM (ANALYZE) {big['vacuum_seconds']:.0f} s"
                if big.get("vacuum_seconds") is not None
                else ""
            )
        )
    for rerun in res.get("reruns") or ():
        lines.append(
            f"- **Measure {', '.join(map(str, rerun['measures']))} rerun** on "
            f"{rerun['date']} with `{rerun['command']}`"
        )
    lines += [
        "",
        "| Measure | crm_success_kpi | Reference | Ratio / target | Verdict |",
        "|---|---|---|---|---|",
    ]
    for row in table_rows(res):
        lines.append("| " + " | ".join(str(x).replace("|", "\\|") for x in row) + " |")
    c = res.get("compute")
    if c:
        fam = sorted(c["families"].items(), key=lambda kv: -kv[1])
        lines += [
            "",
            "Time of each family in the monthly computation (s"
            + (
                f"; they run at the same time on {c['engine_connections'] - 1} "
                "connections, and wait for the figures they share"
                if (c.get("engine_connections") or 1) > 2
                else ""
            )
            + "): "
            + ", ".join(f"{k} {v:.3f}" for k, v in fam)
            + f"; cold first run {fmt_s(c['engine_seconds_cold'])} "
            f"(SQL cold {fmt_s(c['sql_seconds_cold'])}).",
        ]
        if c.get("cohort_seconds") is not None:
            lines.append(
                f"\nCohorts of the month (in the engine's time): "
                f"{c['cohort_rows']} rows (company and sales teams, "
                f"{fmt_s(c['cohort_seconds'])}"
                + (
                    " to store them; they are read with the families"
                    if (c.get("engine_connections") or 1) > 2
                    else ""
                )
                + ")."
            )
        if c["mismatches"]:
            lines.append(f"\n**Counts differ**: {c['mismatches']}")
    w = res.get("writes")
    if w:
        lines += [
            "",
            "Write detail (s, without → with the addon): "
            + ", ".join(
                f"{k} {d['without']} → {d['with']} ({d['extra'] * 100:+.0f} %)"
                for k, d in w["detail"].items()
            )
            + ".",
        ]
    notes = res.get("notes")
    if notes:
        lines += ["", "## Notes", "", notes.strip()]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    say(f"results written to {path}")
