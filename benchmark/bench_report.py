# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Measure 5: rendering the PDF report of one company and month through the
HTTP server.
"""

import contextlib
import socket
import subprocess
import time

from bench_common import (
    REPORT_XMLID,
    ROOT,
    Timer,
    environment,
    main_company,
    odoo_options,
    say,
)
from bench_lists import bench_user
from kpictl_common import LOG_DIR, Fail
from kpictl_odoo import odoo_command


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def http_server(pg, dbname):
    """wkhtmltopdf fetches the report's CSS from an Odoo server."""
    port = _free_port()
    options = [o for o in odoo_options(pg) if not o.startswith("--http-interface")]
    cmd = odoo_command() + [
        "-d", dbname, f"--db-filter=^{dbname}$", "--http-interface=127.0.0.1",
        f"--http-port={port}", "--max-cron-threads=0", "--workers=0",
        "--log-level=warn", *options,
    ]  # fmt: skip
    log = open(LOG_DIR / f"bench-http-{dbname}.log", "w", encoding="utf-8")  # noqa: SIM115
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if proc.poll() is not None:
                raise Fail("the Odoo server for the report did not start")
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=20)
        if proc.poll() is None:
            proc.kill()
        log.close()


def measure_report(pg, args, results, month):
    note = None
    try:
        with http_server(pg, args.db) as url, environment(args.db) as env:
            report = env.ref(REPORT_XMLID, raise_if_not_found=False)
            if not report:
                results["report"] = {"note": f"no report {REPORT_XMLID}"}
                return
            env["ir.config_parameter"].set_param("report.url", url)
            snapshot = env["crm.kpi.snapshot"].search(
                [
                    ("company_id", "=", main_company(env).id),
                    ("granularity", "=", "month"),
                    ("date_start", "=", month),
                    ("scope", "=", "company"),
                ],
                limit=1,
            )
            if not snapshot:
                snapshot = (
                    env["crm.kpi.snapshot"]
                    .compute_period("month", month, companies=main_company(env))
                    .filtered(lambda s: s.scope == "company")
                )
            Report = env["ir.actions.report"].with_user(bench_user(env))
            runs = []
            size = 0
            for _i in range(max(2, min(args.repeat, 3))):
                env.invalidate_all()
                with Timer(env.cr) as t:
                    pdf, _kind = Report._render_qweb_pdf(REPORT_XMLID, snapshot.ids)
                runs.append((t.seconds, t.queries))
                size = len(pdf)
            results["report"] = {
                "seconds_cold": round(runs[0][0], 2),
                "seconds": round(min(r[0] for r in runs[1:]), 2),
                "queries": runs[-1][1],
                "pdf_bytes": size,
                "snapshot": snapshot.display_name,
            }
    except Exception as exc:  # noqa: BLE001 - reported, not hidden
        note = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:200]}"
        results["report"] = {"note": note}
    say(f"5. report: {results['report']}")
