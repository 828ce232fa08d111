# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Odoo for the project commands: the addons path, Odoo's command line and
logs, module installs, the cached database of the dependencies.
"""

import contextlib
import hashlib
import importlib.metadata
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

from kpictl_common import (
    ADDONS_DIR,
    DATA_DIR,
    LOG_DIR,
    MODULE,
    ODOO_LOG_LEVEL,
    REQUIREMENTS,
    ROOT,
    Fail,
    info,
)
from kpictl_deps import (
    ensure_debian,
    ensure_odoo,
    ensure_python_deps,
    read_requirements,
)
from kpictl_postgres import db_exists, drop_db, ensure_postgres, module_state


def ensure_addons_path():
    """Odoo needs a folder holding a directory named exactly like the module."""
    ADDONS_DIR.mkdir(parents=True, exist_ok=True)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    link = ADDONS_DIR / MODULE
    if link.is_symlink() and link.resolve() == ROOT:
        return link
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(Path("..") / "..", target_is_directory=True)
    return link


def odoo_command():
    return [sys.executable, "-m", "odoo"]


def odoo_options(pg, http_interface=True):
    options = [f"--addons-path={ADDONS_DIR}", f"--data-dir={DATA_DIR}"]
    if http_interface:
        options.append("--http-interface=127.0.0.1")
    return options + pg.odoo_args()


def _echo_odoo_line(line, state):
    """Show warnings, errors and their tracebacks; keep the rest in the log."""
    match = ODOO_LOG_LEVEL.match(line)
    if match:
        state["show"] = match.group(1) in ("WARNING", "ERROR", "CRITICAL")
        if match.group(1) in ("ERROR", "CRITICAL"):
            state["errors"].append(line.rstrip())
    if state["show"]:
        sys.stdout.write(line)
        sys.stdout.flush()


def run_odoo_logged(args, logfile, label):
    """Run an Odoo command, full log to ``logfile``; return (rc, error lines)."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    info(f"{label} (log: {logfile.relative_to(ROOT)})")
    state = {"show": False, "errors": []}
    cmd = odoo_command() + args
    with open(logfile, "w", encoding="utf-8") as log:
        log.write(f"$ {shlex.join(cmd)}\n")
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            cwd=ROOT,
        )
        try:
            for line in proc.stdout:
                log.write(line)
                _echo_odoo_line(line, state)
        finally:
            rc = proc.wait()
    return rc, state["errors"]


def install_module(pg, dbname, logfile, with_demo=True, upgrade=False, extra=()):
    """``odoo -d DB -i crm_success_kpi --stop-after-init`` (``-u`` with
    ``upgrade``: bring an existing database to the addon's current code),
    checked for real; ``extra``: other modules installed with it."""
    flag = "-u" if upgrade else "-i"
    modules = ",".join([MODULE, *extra])
    args = ["-d", dbname, flag, modules, "--stop-after-init", *odoo_options(pg)]
    if with_demo and not upgrade:
        args.append("--with-demo")
    started = time.monotonic()
    verb = "upgrading" if upgrade else "installing"
    rc, errors = run_odoo_logged(args, logfile, f"{verb} {MODULE} in database {dbname}")
    state = module_state(pg, dbname)
    elapsed = time.monotonic() - started
    if extra and _installed_count(pg, dbname, extra) != len(extra):
        state = f"{state}, not all of {', '.join(extra)} installed"
    if rc != 0 or errors or state != "installed":
        raise Fail(
            f"{verb} {MODULE} in {dbname} failed (exit code {rc}, "
            f"{len(errors)} ERROR log lines, module state {state!r}); "
            f"see {logfile.relative_to(ROOT)}"
        )
    done = "upgraded" if upgrade else "installed"
    info(f"{MODULE} {done} in {dbname} in {elapsed:.0f}s")


def _deps_template_name():
    """Name of the cached database holding our dependencies (with demo data)."""
    import ast  # noqa: PLC0415

    import odoo.release  # noqa: PLC0415

    manifest = ast.literal_eval((ROOT / "__manifest__.py").read_text())
    depends = sorted(manifest.get("depends", ["base"]))
    key = [odoo.release.version, *depends]
    for requirement in read_requirements(REQUIREMENTS):
        name = requirement.name
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            key.append(f"{name}={importlib.metadata.version(name)}")
    digest = hashlib.sha1("|".join(key).encode()).hexdigest()[:10]
    return f"crm_kpi_deps_{digest}", depends


def _installed_count(pg, dbname, modules):
    with contextlib.closing(pg.connect(dbname)) as conn, conn.cursor() as cr:
        cr.execute(
            "SELECT count(*) FROM ir_module_module "
            "WHERE name = ANY(%s) AND state = 'installed'",
            (list(modules),),
        )
        return cr.fetchone()[0]


def _admin_sql(pg, query, *identifiers):
    from psycopg2 import sql  # noqa: PLC0415

    with contextlib.closing(pg.connect()) as conn:
        conn.autocommit = True
        with conn.cursor() as cr:
            statement = sql.SQL(query).format(*map(sql.Identifier, identifiers))
            cr.execute(statement)  # pylint: disable=sql-injection


def ensure_deps_template(pg):
    """Cache the dependencies' install: ``make test`` then only installs ours.

    Keyed on the Odoo version, the manifest's depends and the versions of the
    Python requirements; stale caches are dropped.
    """
    name, depends = _deps_template_name()
    if db_exists(pg, name) and _installed_count(pg, name, depends) == len(depends):
        info(f"using cached dependencies database {name}")
        return name
    with contextlib.closing(pg.connect()) as conn, conn.cursor() as cr:
        cr.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'crm_kpi_deps_%'"
        )
        for (old,) in cr.fetchall():
            drop_db(pg, old)
    building = f"{name}_build{os.getpid()}"
    args = ["-d", building, "-i", ",".join(depends), "--stop-after-init"]
    args += ["--with-demo", *odoo_options(pg)]
    logfile = LOG_DIR / f"deps-install-{name}.log"
    try:
        rc, errors = run_odoo_logged(
            args, logfile, f"installing the dependencies once (cached as {name})"
        )
        if rc or errors or _installed_count(pg, building, depends) != len(depends):
            raise Fail(
                f"installing the dependencies {', '.join(depends)} failed; "
                f"see {logfile.relative_to(ROOT)}"
            )
        _admin_sql(pg, "ALTER DATABASE {} RENAME TO {}", building, name)
        store = DATA_DIR / "filestore"
        if (store / building).exists():
            (store / building).rename(store / name)
    finally:
        drop_db(pg, building)
    return name


def clone_db(pg, template, dbname):
    _admin_sql(pg, "CREATE DATABASE {} TEMPLATE {}", dbname, template)
    source = DATA_DIR / "filestore" / template
    target = DATA_DIR / "filestore" / dbname
    # the database is new: a folder of that name is left from a database
    # dropped outside these commands (or on another server)
    shutil.rmtree(target, ignore_errors=True)
    if source.exists():
        shutil.copytree(source, target)


@contextlib.contextmanager
def odoo_environment(pg, dbname):
    """An Odoo environment (superuser) on ``dbname``; commits when leaving."""
    from odoo.tools import config  # noqa: PLC0415

    config.parse_config(["-d", dbname, *odoo_options(pg)], setup_logging=True)
    from odoo import api  # noqa: PLC0415
    from odoo.api import SUPERUSER_ID  # noqa: PLC0415
    from odoo.modules.registry import Registry  # noqa: PLC0415

    registry = Registry(dbname)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        yield env
        env.flush_all()
        cr.commit()  # pylint: disable=invalid-commit


def require_installed(pg, dbname):
    state = module_state(pg, dbname)
    if state != "installed":
        raise Fail(
            f"{MODULE} is not installed in database {dbname!r} (state: {state}); "
            "create it with 'make demo' or pass --db",
        )


def prepare(requirements=(REQUIREMENTS,), debian=()):
    ensure_odoo()
    ensure_python_deps(requirements)
    if debian:
        ensure_debian(debian)
    pg = ensure_postgres()
    ensure_addons_path()
    return pg
