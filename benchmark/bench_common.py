# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Shared pieces of the benchmark: sizes and targets, the databases it builds
(generated history, write-overhead pair), Odoo environments and a timer.
"""

import contextlib
import json
import logging
import os
import shlex
import sys
import threading
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# the project commands' modules (PostgreSQL, Odoo, dependencies)
sys.path.insert(0, str(ROOT / "scripts"))

from kpictl_common import LOG_DIR, MODULE, Fail  # noqa: E402
from kpictl_odoo import (  # noqa: E402
    clone_db,
    ensure_deps_template,
    install_module,
)
from kpictl_odoo import odoo_options as project_odoo_options  # noqa: E402
from kpictl_postgres import db_exists, drop_db, get_param, module_state  # noqa: E402

GENERATOR = f"odoo.addons.{MODULE}.generator.history"


REPORT_XMLID = f"{MODULE}.action_report_crm_kpi_success"


FULL = {
    "customers": 200000,
    "leads": 1000000,
    "orders": 1000000,
    "tickets": 300000,
    "surveys": 100000,
    "months": 36,
}


SMALL_FACTOR = 20


# measure 6: histories of 3 and 9 years, with flat growth, of a tenth of the
# benchmark's monthly volume
HISTORY_YEARS = (3, 9)
HISTORY_FRACTION = 10


MEASURE_KEYS = {
    1: "compute",
    2: "backfill",
    3: "list",
    4: "writes",
    5: "report",
    6: "history",
    7: "drill",
    8: "grouped",
    9: "replica",
    10: "dashboard",
    11: "memory",
}


TARGETS = {
    "compute": 1.5,
    "backfill": 0.5,
    "list_queries": 40,
    "list_seconds": 0.3,
    "write_extra": 0.10,
    "report_seconds": 5.0,
    "dashboard_seconds": 0.3,
    "history_ratio": 1.15,
    "compute_tenth": 2.5,
    "memory_mb": 500,
    "month_temp_bytes": 0,
    "grouped_seconds": 0.3,
    "drill_seconds": 0.5,
    "drill_bytes": 10 * 1024,
}


def say(msg):
    sys.stdout.write(f"[bench] {msg}\n")
    sys.stdout.flush()


def odoo_options(pg):
    """The Odoo options given by ``kpictl bench`` (else built the same way)."""
    given = os.environ.get("CRM_KPI_ODOO_ARGS")
    if given:
        return shlex.split(given)
    return project_odoo_options(pg)


def setup_odoo(pg):
    from odoo.tools import config  # noqa: PLC0415

    options = [o for o in odoo_options(pg) if not o.startswith("--http-interface")]
    config.parse_config(options + ["--log-level=warn"], setup_logging=True)
    logging.getLogger("odoo.addons.crm_success_kpi.generator").setLevel(logging.INFO)


def close_db(name):
    import odoo.sql_db  # noqa: PLC0415
    from odoo.modules.registry import Registry  # noqa: PLC0415

    with contextlib.suppress(Exception):
        Registry.delete(name)
    odoo.sql_db.close_db(name)


@contextlib.contextmanager
def environment(dbname, commit=False):
    from odoo import api  # noqa: PLC0415
    from odoo.api import SUPERUSER_ID  # noqa: PLC0415
    from odoo.modules.registry import Registry  # noqa: PLC0415

    registry = Registry(dbname)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        yield env
        if commit:
            env.flush_all()
            cr.commit()  # pylint: disable=invalid-commit
        else:
            cr.rollback()


def template_db(pg, args):
    if args.template:
        if not db_exists(pg, args.template):
            raise Fail(f"template database {args.template} does not exist")
        return args.template
    return ensure_deps_template(pg)


def generator_params(pg, dbname, seed):
    value = get_param(pg, dbname, f"{MODULE}.generator.seed_{seed}")
    return json.loads(value) if value else None


def same_sizes(stored, sizes, growth="curve"):
    params = (stored or {}).get("params") or {}
    # the generator makes at least one order per customer
    wanted = dict(sizes, orders=max(sizes["orders"], sizes["customers"]))
    # histories generated before the growth option grew along the curve
    return params.get("growth", "curve") == growth and all(
        params.get(k) == v for k, v in wanted.items()
    )


def generate(dbname, sizes, seed, growth="curve"):
    import importlib  # noqa: PLC0415

    started = time.monotonic()
    with environment(dbname, commit=True) as env:
        history = importlib.import_module(GENERATOR)
        counts = history.generate(
            env, customers=sizes["customers"], months=sizes["months"], seed=seed,
            scale=dict(sizes), growth=growth,
        )  # fmt: skip
    say(f"generated {dbname} in {time.monotonic() - started:.0f}s: {counts}")
    return counts, time.monotonic() - started


def vacuum(pg, dbname):
    """``VACUUM (ANALYZE)`` the freshly generated database, as autovacuum
    does over time to a database that grew month by month: measured right
    after the generation instead, the first runs raced autovacuum and read
    pages not yet marked all-visible (index-only scans then visit the
    table).  Returns the seconds it took."""
    started = time.monotonic()
    conn = pg.connect(dbname)
    try:
        conn.autocommit = True
        with conn.cursor() as cr:
            cr.execute("VACUUM (ANALYZE)")
    finally:
        conn.close()
    seconds = time.monotonic() - started
    say(f"vacuumed {dbname} in {seconds:.0f}s")
    return seconds


def ensure_history_db(pg, args, name, sizes, growth="curve"):
    """A database with the addon and a generated history of ``sizes``, kept
    with ``--reuse`` when it holds one of the same sizes, seed and growth.
    Returns what was done (``reused``, build times, ``counts``) and the
    history's ``end_date``."""
    state = module_state(pg, name)
    stored = generator_params(pg, name, args.seed) if state == "installed" else None
    if args.reuse and stored and same_sizes(stored, sizes, growth):
        say(f"reusing {name} (history of seed {args.seed} with the same sizes)")
        # the addon's code may have changed since: schema, data, indexes
        install_module(pg, name, LOG_DIR / f"bench-upgrade-{name}.log", upgrade=True)
        built = {"reused": True, "counts": stored.get("counts")}
        return built, stored["params"]["end_date"]
    if state is not None:
        if args.reuse:
            say(f"{name} exists with other sizes or without history: rebuilt")
        drop_db(pg, name)
    started = time.monotonic()
    clone_db(pg, template_db(pg, args), name)
    install_module(pg, name, LOG_DIR / f"bench-install-{name}.log")
    install = time.monotonic() - started
    counts, seconds = generate(name, sizes, args.seed, growth)
    close_db(name)
    vacuum_seconds = vacuum(pg, name)
    stored = generator_params(pg, name, args.seed)
    built = {
        "reused": False,
        "install_seconds": round(install, 1),
        "generate_seconds": round(seconds, 1),
        "vacuum_seconds": round(vacuum_seconds, 1),
        "counts": counts,
    }
    return built, stored["params"]["end_date"]


def ensure_big_db(pg, args, info):
    """crm_kpi_bench: addon + generated history of the requested size."""
    info["big_db"], info["end_date"] = ensure_history_db(
        pg, args, args.db, args.sizes, args.growth
    )


def history_sizes(sizes, years):
    """Measure 6: ``years`` of history at a tenth of the monthly volume of
    ``sizes`` (so 3 years hold a tenth of the benchmark's 36 months)."""
    months = 12 * years
    out = {
        key: max(1, round(value * months / sizes["months"] / HISTORY_FRACTION))
        for key, value in sizes.items()
        if key != "months"
    }
    out["months"] = months
    return out


def ensure_write_dbs(pg, args, info):
    """Two databases with the same small history, without and with the addon."""
    base, with_kpi = args.base_db, f"{args.base_db}_kpi"
    sizes = {
        "customers": args.base_customers,
        "leads": args.base_customers * 3,
        "orders": args.base_customers * 4,
        "tickets": args.base_customers * 3 // 2,
        "surveys": args.base_customers // 2,
        "months": 12,
    }
    if (
        args.reuse
        and module_state(pg, with_kpi) == "installed"
        and module_state(pg, base) in ("uninstalled", "unknown")
        and same_sizes(generator_params(pg, base, args.seed), sizes)
    ):
        say(f"reusing {base} and {with_kpi}")
        install_module(
            pg, with_kpi, LOG_DIR / f"bench-upgrade-{with_kpi}.log", upgrade=True
        )
        return
    for name in (with_kpi, base):
        drop_db(pg, name)
    clone_db(pg, template_db(pg, args), base)
    generate(base, sizes, args.seed)
    close_db(base)
    clone_db(pg, base, with_kpi)
    install_module(pg, with_kpi, LOG_DIR / f"bench-install-{with_kpi}.log")
    info["write_dbs_sizes"] = sizes


class AllQueries:
    """Count the queries of every connection of this process meanwhile (the
    KPI engine reads a period on several: ``crm.kpi.read.source._kpi_lanes``)
    and the connections that ran them."""

    def __enter__(self):
        from odoo import sql_db  # noqa: PLC0415

        self.queries = 0
        self._cursors = set()
        self._lock = threading.Lock()
        self._cls = sql_db.Cursor
        self._execute = execute = sql_db.Cursor.execute
        counter = self

        def counted(cr, *args, **kwargs):
            with counter._lock:
                counter.queries += 1
                counter._cursors.add(id(cr))
            return execute(cr, *args, **kwargs)

        self._cls.execute = counted
        return self

    def __exit__(self, *exc):
        self._cls.execute = self._execute
        self.connections = len(self._cursors)


class Timer:
    def __init__(self, cr=None):
        self.cr = cr

    def __enter__(self):
        if self.cr is not None:
            self.q0 = self.cr.sql_log_count
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0
        if self.cr is not None:
            self.queries = self.cr.sql_log_count - self.q0


def last_full_month(end_date):
    end = date.fromisoformat(str(end_date))
    first = end.replace(day=1)
    return (
        date(first.year - 1, 12, 1)
        if first.month == 1
        else date(first.year, first.month - 1, 1)
    )


def main_company(env):
    return env.ref("base.main_company")
