#!/usr/bin/env python3
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Project commands for the ``crm_success_kpi`` Odoo addon.

Usage: ``python3 scripts/kpictl.py <command> [options]`` (the Makefile wraps it).

Commands:
  demo      create (once) and serve a demo database with generated history
  test      install the addon in a throw-away database and run pytest-odoo
  lint      ruff check, ruff format --check and pylint-odoo (OCA mandatory checks)
  generate  generate customer history in an existing database
  backfill  compute the KPI snapshots of the past months in a database
  bench     run benchmark/run.py with the database settings in the environment
  pg-start  make sure a PostgreSQL server answers and print the Odoo db options
  pg-stop   stop the private PostgreSQL cluster of this checkout (if running)

Only the standard library is needed to start; Odoo and psycopg2 are imported
lazily. Everything generated (private PostgreSQL cluster, Odoo data dir,
logs, addons path link) lives in the git-ignored ``.local`` folder.
"""

import argparse
import importlib
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import kpictl_manifest
from kpictl_common import (
    ADDONS_DIR,
    DATA_DIR,
    DEMO_CUSTOMERS,
    DEMO_DB,
    DEMO_MONTHS,
    DEMO_PORT,
    DEMO_SEED,
    GENERATOR_FILE,
    GENERATOR_MODULE,
    LOG_DIR,
    MODULE,
    PARAM_BACKFILLED,
    PARAM_CODE,
    PARAM_GENERATED,
    REQUIREMENTS,
    REQUIREMENTS_DEV,
    ROOT,
    RUFF,
    Fail,
    _repo_files,
    info,
    out,
    warn,
)
from kpictl_deps import (
    ensure_debian,
    ensure_odoo,
    ensure_python_deps,
    ensure_rtlcss,
    find_executable,
)
from kpictl_odoo import (
    _deps_template_name,
    clone_db,
    ensure_addons_path,
    ensure_deps_template,
    install_module,
    odoo_command,
    odoo_environment,
    odoo_options,
    prepare,
    require_installed,
)
from kpictl_postgres import (
    _port_free,
    code_fingerprint,
    db_exists,
    drop_db,
    ensure_postgres,
    ensure_replica,
    get_param,
    is_private_cluster,
    module_state,
    running_replica_port,
    set_param,
    stop_private_cluster,
    stop_replica,
    table_has_model,
)


def cmd_generate(args):
    pg = prepare()
    require_installed(pg, args.db)
    started = time.monotonic()
    with odoo_environment(pg, args.db) as env:
        try:
            history = importlib.import_module(GENERATOR_MODULE)
        except ModuleNotFoundError as exc:
            if exc.name and GENERATOR_MODULE.startswith(exc.name):
                raise Fail(f"no history generator {GENERATOR_MODULE} yet", 3) from None
            raise
        info(
            f"generating {args.months} months of history for {args.customers} "
            f"customers in {args.db} (seed {args.seed})"
        )
        history.generate(
            env, customers=args.customers, months=args.months, seed=args.seed
        )
        if args.mark_demo:
            env["ir.config_parameter"].sudo().set_param(PARAM_GENERATED, "1")
    info(f"history generated and committed in {time.monotonic() - started:.0f}s")
    return 0


def _recompute_last_month(env, model):
    period = importlib.import_module("odoo.addons.crm_success_kpi.kpi.period")
    today = env.cr.now().date()
    for company in env["res.company"].search([]):
        calendar = company.kpi_period_calendar or "gregorian"
        current = period.period_start("month", today, calendar)
        model.compute_period(
            "month", period.shift_period("month", current, -1, calendar), company
        )


def cmd_backfill(args):
    pg = prepare()
    require_installed(pg, args.db)
    started = time.monotonic()
    with odoo_environment(pg, args.db) as env:
        model = env.get("crm.kpi.snapshot")
        if model is None or not hasattr(model, "backfill"):
            raise Fail("crm.kpi.snapshot.backfill() does not exist (yet)", 3)
        info(
            f"computing the KPI snapshots of the last {args.months} months in {args.db}"
        )
        model.backfill(months=args.months)
        if args.mark_demo:
            # the demo's targets sit around the computed values (idempotent)
            history = importlib.import_module(GENERATOR_MODULE)
            if hasattr(history, "demo_targets") and "crm.kpi.target" in env:
                info(f"{history.demo_targets(env)} demo targets created")
                # the last closed month computed again, as the daily action
                # does: its values off target send the KPI managers alerts
                _recompute_last_month(env, model)
            env["ir.config_parameter"].sudo().set_param(PARAM_BACKFILLED, "1")
    info(f"KPI snapshots computed and committed in {time.monotonic() - started:.0f}s")
    return 0


def _kpictl(*args):
    """Run a kpictl sub-command in a fresh interpreter (clean Odoo state)."""
    return subprocess.call(
        [sys.executable, str(Path(__file__).resolve()), *args],
        stdin=subprocess.DEVNULL,
        cwd=ROOT,
    )


def populate_demo(pg, dbname):
    """Generate history then compute snapshots, each once per database."""
    generated_now = False
    if get_param(pg, dbname, PARAM_GENERATED):
        pass
    elif not GENERATOR_FILE.exists():
        warn(f"no history generator yet ({GENERATOR_MODULE}): demo data only")
    else:
        rc = _kpictl(
            "generate", "--db", dbname, "--months", str(DEMO_MONTHS),
            "--customers", str(DEMO_CUSTOMERS), "--seed", str(DEMO_SEED), "--mark-demo",
        )  # fmt: skip
        if rc != 0:
            warn(f"history generation failed (exit code {rc}): continuing without it")
        generated_now = rc == 0
    if get_param(pg, dbname, PARAM_BACKFILLED) and not generated_now:
        return
    if not table_has_model(pg, dbname, "crm.kpi.snapshot"):
        warn("no crm.kpi.snapshot model yet: KPI snapshots not computed")
        return
    rc = _kpictl(
        "backfill", "--db", dbname, "--months", str(DEMO_MONTHS), "--mark-demo"
    )
    if rc != 0:
        warn(f"computing the KPI snapshots failed (exit code {rc}): continuing")


def _announce_when_up(server_pid, port):
    """In a detached grandchild: print the ready line once the port answers."""
    url = f"http://127.0.0.1:{port}/web/login"
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        try:
            os.kill(server_pid, 0)
        except OSError:
            return
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                response.read(1)
        except urllib.error.HTTPError as exc:
            exc.close()  # it answers, even if not with 200
        except OSError:
            time.sleep(0.5)
            continue
        out(
            f"\nCRM Success KPIs demo ready: http://localhost:{port} "
            "(login admin / admin)\n"
        )
        return


def replica_options(replica):
    """Odoo's options sending read-only cursors to the standby ``replica``."""
    return [
        f"--db_replica_host={replica.host}",
        f"--db_replica_port={replica.port}",
    ]


def serve(pg, dbname, port, replica=None):
    cmd = odoo_command() + [
        "-d", dbname, f"--db-filter=^{re.escape(dbname)}$",
        "--http-port", str(port), *odoo_options(pg),
        *(replica_options(replica) if replica else ()),
    ]  # fmt: skip
    info(f"starting Odoo on http://localhost:{port} (Ctrl-C to stop)")
    sys.stdout.flush()
    sys.stderr.flush()
    server_pid = os.getpid()
    child = os.fork()
    if child == 0:  # double fork: the announcer must not become a zombie of Odoo
        if os.fork() == 0:
            try:
                _announce_when_up(server_pid, port)
            finally:
                os._exit(0)
        os._exit(0)
    os.waitpid(child, 0)
    os.chdir(ROOT)
    os.execv(cmd[0], cmd)


def cmd_demo(args):
    ensure_odoo()
    if not _port_free(args.port):
        raise Fail(
            f"port {args.port} is already in use (another Odoo?): stop it or use "
            "--port / make demo PORT=...",
        )
    ensure_python_deps()
    ensure_debian(["wkhtmltopdf"])
    ensure_rtlcss()
    pg = ensure_postgres()
    ensure_addons_path()
    if args.reset and db_exists(pg, args.db):
        info(f"dropping database {args.db} (--reset)")
        drop_db(pg, args.db)
    state = module_state(pg, args.db)
    fingerprint = code_fingerprint()
    if state == "installed":
        info(f"reusing database {args.db} ({MODULE} installed)")
        if get_param(pg, args.db, PARAM_CODE) != fingerprint:
            # the checkout changed since: bring the database to the new code
            install_module(
                pg, args.db, LOG_DIR / f"demo-upgrade-{args.db}.log", upgrade=True
            )
    else:
        if state == "no-odoo":
            raise Fail(f"database {args.db} exists but is not an Odoo database")
        if state is None:
            template, _depends = _deps_template_name()
            if db_exists(pg, template):  # left by ``make test``: saves minutes
                clone_db(pg, template, args.db)
        install_module(pg, args.db, LOG_DIR / f"demo-install-{args.db}.log")
    set_param(pg, args.db, PARAM_CODE, fingerprint)
    populate_demo(pg, args.db)
    replica = None
    if args.replica:
        replica = ensure_replica(pg)
        info(f"Odoo reads the KPI engine's queries on the {replica.label}")
    serve(pg, args.db, args.port, replica)


def _map_pytest_args(extra, tests_dir):
    """Paths inside the checkout are rewritten to go through the addons link."""
    link = ADDONS_DIR / MODULE
    mapped, has_path = [], False
    for arg in extra:
        head, sep, tail = arg.partition("::")
        candidate = Path(head)
        if not arg.startswith("-") and head and (ROOT / candidate).exists():
            absolute = (ROOT / candidate).resolve()
            if absolute == ROOT or ROOT in absolute.parents:
                arg = str(link / absolute.relative_to(ROOT)) + sep + tail
                has_path = True
        mapped.append(arg)
    if has_path:
        return mapped
    # the whole suite: the scale-out tests have a run of their own
    return [
        *mapped,
        f"--ignore={tests_dir / Path(SCALE_OUT_TESTS).name}",
        str(tests_dir),
    ]


def _free_port():
    """A TCP port of the loopback that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run_pytest(pg, dbname, extra, replica=None):
    tests_dir = ADDONS_DIR / MODULE / "tests"
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "kpi_pytest"]
    cmd += [
        f"--odoo-database={dbname}",
        f"--odoo-addons-path={ADDONS_DIR}",
        "--odoo-http",
        f"--odoo-extra=data-dir={DATA_DIR}",
        "--odoo-log-level=warn",
        "--odoo-extra=http-interface=127.0.0.1",
        # a free port: a demo server or another test run may hold 8069
        f"--odoo-extra=http-port={_free_port()}",
        f"--rootdir={ADDONS_DIR / MODULE}",
    ]
    cmd += [f"--odoo-extra={arg[2:]}" for arg in pg.odoo_args()]
    if replica:
        cmd += [f"--odoo-extra={arg[2:]}" for arg in replica_options(replica)]
    cmd += _map_pytest_args(extra, tests_dir)
    env = dict(os.environ)
    if replica:
        # how the standby tests stop and start the standby
        env["CRM_KPI_REPLICA_CTL"] = shlex.join(
            [sys.executable, str(ROOT / "scripts" / "kpictl.py"), "replica"]
        )
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT / "scripts"), env.get("PYTHONPATH")])
    )
    chromium = find_executable("chromium")
    if chromium:
        env["ODOO_BROWSER_BIN"] = chromium
    info(f"$ {shlex.join(cmd)}")
    return subprocess.call(cmd, env=env, cwd=ROOT, stdin=subprocess.DEVNULL)


# optional OCA modules whose data the KPIs read when they are installed, and
# the tests that cover both cases
OPTIONAL_MODULES = ("helpdesk_mgmt_sla", "helpdesk_mgmt_rating")
OPTIONAL_TESTS = "tests/test_optional_modules.py"
# tests that commit on real connections and read on a standby: a database
# of their own, with a streaming standby of the private cluster as replica
SCALE_OUT_TESTS = "tests/test_scale_out.py"


def _scale_out_replica(pg):
    """The standby of the scale-out tests: the private cluster's (started
    when needed), or None when another server answers."""
    if not is_private_cluster(pg):
        warn(
            "a PostgreSQL server of yours answers: no standby is started, the "
            "standby tests are skipped"
        )
        return None
    return ensure_replica(pg)


def _test_run(pg, dbname, extra, pytest_args, use_template, args, replica=False):
    """Install the addon (and ``extra`` modules) in a new database ``dbname``
    and run pytest there (with a standby as Odoo's replica when
    ``replica``); the pytest exit code (collecting nothing fails)."""
    if db_exists(pg, dbname):
        raise Fail(f"database {dbname} already exists: pick another --db")
    try:
        if use_template:
            clone_db(pg, ensure_deps_template(pg), dbname)
        install_module(pg, dbname, LOG_DIR / f"test-install-{dbname}.log", extra=extra)
        standby = _scale_out_replica(pg) if replica else None
        rc = _run_pytest(pg, dbname, pytest_args, replica=standby)
    finally:
        if args.keep_db:
            info(f"keeping database {dbname} (--keep-db)")
        else:
            drop_db(pg, dbname)
            info(f"dropped database {dbname}")
    if rc == 5:
        out("[kpictl] FAILED: pytest collected no tests (exit code 5)")
        rc = 1
    return rc


def cmd_test(args):
    pg = prepare(debian=["chromium", "wkhtmltopdf", "poppler-utils"])
    ensure_rtlcss()
    if not find_executable("chromium"):
        warn("chromium not found: browser (HttpCase tour) tests will FAIL")
    dbname = args.db or f"crm_kpi_test_{os.getpid()}"
    started = time.monotonic()
    use_template = not args.no_template and os.environ.get("CI", "").lower() not in (
        "true",
        "1",
    )
    scale_out = any(Path(SCALE_OUT_TESTS).name in arg for arg in args.pytest_args)
    runs = [
        (
            (OPTIONAL_MODULES if args.with_optional else ()),
            args.pytest_args,
            scale_out,
            "",
        )
    ]
    if not args.pytest_args and not args.with_optional:
        # the whole suite: once without the optional OCA modules, then their
        # tests again in a database where they are installed, then the
        # scale-out tests in a database of their own, with a standby
        runs.append((OPTIONAL_MODULES, [OPTIONAL_TESTS], False, "_optional"))
        runs.append(((), [SCALE_OUT_TESTS], True, "_scale_out"))
    rc = 0
    for extra, pytest_args, replica, suffix in runs:
        name = f"{dbname}{suffix}"
        if extra:
            info(f"run with the optional modules {', '.join(extra)}: {name}")
        if replica:
            info(f"run of the scale-out tests, with a standby: {name}")
        rc = _test_run(pg, name, extra, pytest_args, use_template, args, replica) or rc
    verdict = "passed" if rc == 0 else f"FAILED (exit code {rc})"
    info(f"tests {verdict} in {time.monotonic() - started:.0f}s")
    return rc


def _count_and_show(cmd, pattern, cwd=ROOT):
    info(f"$ {shlex.join(cmd)}")
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    text = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)
    sys.stdout.write(text)
    return result.returncode, len(re.findall(pattern, text, flags=re.MULTILINE))


def cmd_lint(_args):
    ensure_python_deps((REQUIREMENTS, REQUIREMENTS_DEV))
    link = ensure_addons_path()
    python_files = [f for f in _repo_files() if f.endswith(".py")]
    results = []
    rc, count = _count_and_show(
        [*RUFF, "check", "--no-fix", "--output-format=concise", "."], r"^\S+:\d+:\d+: "
    )
    results.append(("ruff check", rc, count))
    rc, count = _count_and_show([*RUFF, "format", "--check", "."], r"^Would reformat")
    results.append(("ruff format --check", rc, count))
    if python_files:
        # through the link so that pylint-odoo sees the module by its real name
        cmd = [
            sys.executable,
            "-m",
            "pylint",
            f"--rcfile={ROOT / '.pylintrc-mandatory'}",
        ]
        cmd += ["--output-format=text", *(str(link / f) for f in python_files)]
        rc, count = _count_and_show(cmd, r"^\S+:\d+: \[")
    else:
        rc, count = 0, 0
    results.append(("pylint-odoo (mandatory)", rc, count))
    # the manifest declares every package the addon imports
    problems = kpictl_manifest.check(ROOT)
    for line in problems:
        out(line)
    results.append(("manifest dependencies", 1 if problems else 0, len(problems)))
    failed = False
    for name, rc, count in results:
        failed = failed or rc != 0
        info(f"{name}: {'ok' if rc == 0 else 'FAILED'} ({count} findings)")
    return 1 if failed else 0


def cmd_bench(args):
    # measure 5 renders the PDF report with wkhtmltopdf
    pg = prepare(debian=["wkhtmltopdf"])
    script = ROOT / "benchmark" / "run.py"
    if not script.exists():
        raise Fail("benchmark/run.py does not exist yet: nothing to benchmark")
    os.environ["CRM_KPI_ODOO_ARGS"] = shlex.join(odoo_options(pg))
    os.environ["CRM_KPI_ADDONS_PATH"] = str(ADDONS_DIR)
    os.environ["CRM_KPI_DATA_DIR"] = str(DATA_DIR)
    return subprocess.call([sys.executable, str(script), *args.bench_args], cwd=ROOT)


def cmd_pot(args):
    """Export i18n/crm_success_kpi.pot from a database with the addon installed."""
    pg = prepare()
    dbname = args.db or f"crm_kpi_pot_{os.getpid()}"
    throwaway = not args.db
    started = time.monotonic()
    try:
        if throwaway:
            clone_db(pg, ensure_deps_template(pg), dbname)
            install_module(pg, dbname, LOG_DIR / f"pot-install-{dbname}.log")
        else:
            require_installed(pg, dbname)
        target = ROOT / "i18n" / f"{MODULE}.pot"
        target.parent.mkdir(exist_ok=True)
        with odoo_environment(pg, dbname) as env:
            i18n = importlib.import_module(f"odoo.addons.{MODULE}.tools.i18n")
            target.write_bytes(i18n.export_pot(env))
        info(f"wrote {target.relative_to(ROOT)} in {time.monotonic() - started:.0f}s")
    finally:
        if throwaway:
            drop_db(pg, dbname)
    return 0


def cmd_pg_start(_args):
    pg = ensure_postgres()
    out(shlex.join(pg.odoo_args()))
    return 0


def cmd_replica(args):
    action = args.action or "start"
    if action == "stop":
        return stop_replica()
    if action == "status":
        port = running_replica_port()
        out(f"standby running on 127.0.0.1:{port}" if port else "standby not running")
        return 0 if port else 1
    pg = ensure_postgres(quiet=True)
    replica = ensure_replica(pg, fresh=args.fresh)
    info(f"{replica.label} streams from the {pg.label}")
    out(shlex.join([*pg.odoo_args(), *replica_options(replica)]))
    return 0


def cmd_pg_stop(_args):
    return stop_private_cluster()


def build_wheel(dist_dir):
    """Build the addon's wheel from a clean clone of the current commit in a
    folder named after the addon (whool names the wheel after the folder);
    return its path."""
    import tempfile

    dist_dir = Path(dist_dir).resolve()
    dist_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kpi_wheel_") as tmp:
        checkout = Path(tmp) / MODULE
        subprocess.run(
            ["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(checkout)],
            check=True,
        )
        before = set(dist_dir.glob("*.whl"))
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--no-deps",
                "-q",
                "-w",
                dist_dir,
                ".",
            ],
            cwd=checkout,
            check=True,
        )
        built = sorted(set(dist_dir.glob(f"odoo_addon_{MODULE}-*.whl")) - before)
    if not built:
        raise Fail("pip wheel built no odoo_addon_crm_success_kpi wheel")
    return built[-1]


def cmd_wheel(args):
    if subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip():
        warn("uncommitted changes are not in the wheel: it is built from HEAD")
    path = build_wheel(args.dist)
    info(f"built {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="kpictl",
        description=__doc__,
        formatter_class=argparse.RawTextHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="create (once) and serve the demo database")
    demo.add_argument("--db", default=DEMO_DB)
    demo.add_argument("--port", type=int, default=DEMO_PORT)
    demo.add_argument("--reset", action="store_true", help="drop and recreate it")
    demo.add_argument(
        "--replica",
        action="store_true",
        help="start a streaming standby of the private cluster and give it "
        "to Odoo as its replica (--db_replica_host/--db_replica_port)",
    )
    demo.set_defaults(func=cmd_demo)

    test = sub.add_parser("test", help="run the tests in a throw-away database")
    test.add_argument("--db", help="database name (default: crm_kpi_test_<pid>)")
    test.add_argument("--keep-db", action="store_true")
    test.add_argument(
        "--no-template",
        action="store_true",
        help="install everything from scratch (default when CI=true) instead of "
        "copying the cached database of the dependencies",
    )
    test.add_argument(
        "--with-optional",
        action="store_true",
        help="also install the optional OCA modules "
        f"({', '.join(OPTIONAL_MODULES)}) in the test database; without it and "
        f"without pytest arguments, {OPTIONAL_TESTS} runs a second time in such "
        "a database",
    )
    test.add_argument("pytest_args", nargs="*", help="after --: passed to pytest")
    test.set_defaults(func=cmd_test)

    lint = sub.add_parser("lint", help="ruff + pylint-odoo")
    lint.set_defaults(func=cmd_lint)

    gen = sub.add_parser("generate", help="generate customer history")
    gen.add_argument("--db", default=DEMO_DB)
    gen.add_argument("--customers", type=int, default=DEMO_CUSTOMERS)
    gen.add_argument("--months", type=int, default=DEMO_MONTHS)
    gen.add_argument("--seed", type=int, default=DEMO_SEED)
    gen.add_argument("--mark-demo", action="store_true", help=argparse.SUPPRESS)
    gen.set_defaults(func=cmd_generate)

    back = sub.add_parser("backfill", help="compute KPI snapshots of past months")
    back.add_argument("--db", default=DEMO_DB)
    back.add_argument("--months", type=int, default=DEMO_MONTHS)
    back.add_argument("--mark-demo", action="store_true", help=argparse.SUPPRESS)
    back.set_defaults(func=cmd_backfill)

    bench = sub.add_parser("bench", help="run benchmark/run.py")
    bench.add_argument("bench_args", nargs="*", help="after --: passed to run.py")
    bench.set_defaults(func=cmd_bench)

    pot = sub.add_parser("pot", help="regenerate i18n/crm_success_kpi.pot")
    pot.add_argument("--db", help="use this database (addon installed, up to date)")
    pot.set_defaults(func=cmd_pot)

    wheel = sub.add_parser("wheel", help="build the addon's wheel (OCA, whool)")
    wheel.add_argument("--dist", default=str(ROOT / "dist"), help="output folder")
    wheel.set_defaults(func=cmd_wheel)

    rep = sub.add_parser(
        "replica", help="a streaming standby of the private cluster on 127.0.0.1"
    )
    rep.add_argument("action", choices=("start", "stop", "status"), nargs="?")
    rep.add_argument(
        "--fresh", action="store_true", help="copy the private cluster again"
    )
    rep.set_defaults(func=cmd_replica)

    sub.add_parser(
        "pg-start", help="ensure PostgreSQL, print Odoo db options"
    ).set_defaults(func=cmd_pg_start)
    sub.add_parser("pg-stop", help="stop the private PostgreSQL cluster").set_defaults(
        func=cmd_pg_stop
    )
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except Fail as exc:
        sys.stderr.write(f"[kpictl] ERROR: {exc}\n")
        return exc.code
    except KeyboardInterrupt:
        sys.stderr.write("[kpictl] interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
