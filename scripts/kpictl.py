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
import configparser
import contextlib
import glob
import hashlib
import importlib
import importlib.metadata
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

MODULE = "crm_success_kpi"
ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"
ADDONS_DIR = LOCAL / "addons"
DATA_DIR = LOCAL / "data"
LOG_DIR = LOCAL / "logs"
PG_DIR = LOCAL / "postgres"
PG_PORT_FILE = PG_DIR / "port"
PG_FIRST_PORT = 54320
REQUIREMENTS = ROOT / "requirements.txt"
REQUIREMENTS_DEV = ROOT / "requirements-dev.txt"
DEMO_DB = "crm_kpi_demo"
DEMO_PORT = 8069
DEMO_MONTHS = 24
DEMO_CUSTOMERS = 3000
DEMO_SEED = 42
GENERATOR_MODULE = f"odoo.addons.{MODULE}.generator.history"
GENERATOR_FILE = ROOT / "generator" / "history.py"
PARAM_GENERATED = f"{MODULE}.demo_generated"
PARAM_BACKFILLED = f"{MODULE}.demo_backfilled"
PARAM_CODE = f"{MODULE}.demo_code_fingerprint"
# what an upgrade of the module reads: a change of these files needs one
CODE_SUFFIXES = (".py", ".xml", ".csv", ".po", ".pot", ".js")
DEBIAN_EXECUTABLES = {
    "chromium": (
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ),
    "wkhtmltopdf": ("wkhtmltopdf",),
    "poppler-utils": ("pdftotext",),
    "npm": ("npm",),
}
ODOO_HINT = (
    "Odoo 19.0 must be importable by {python}: it is not on PyPI, get it officially "
    "from source (git clone -b 19.0 --depth 1 https://github.com/odoo/odoo && "
    "cd odoo && pip install -e .) or as a package from https://nightly.odoo.com"
)
ODOO_LOG_LEVEL = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (\w+) ")
RUFF = (sys.executable, "-m", "ruff")
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0

_apt_updated = False


# --------------------------------------------------------------------- output


def out(msg=""):
    sys.stdout.write(f"{msg}\n")
    sys.stdout.flush()


def info(msg):
    out(f"[kpictl] {msg}")


def warn(msg):
    sys.stderr.write(f"[kpictl] WARNING: {msg}\n")
    sys.stderr.flush()


class Fail(Exception):
    """A one-line error for the user; ``code`` is the exit code."""

    def __init__(self, msg, code=1):
        super().__init__(msg)
        self.code = code


def first_line(exc):
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# ------------------------------------------------------------ prerequisites


def ensure_odoo():
    """Odoo 19.0 must be importable by this interpreter."""
    hint = ODOO_HINT.format(python=sys.executable)
    try:
        import odoo.release as release  # noqa: PLC0415
    except Exception as exc:  # noqa: BLE001 - any import problem means "missing"
        raise Fail(
            f"{hint} (import odoo.release failed: {first_line(exc)})", 2
        ) from None
    if tuple(release.version_info[:2]) != (19, 0):
        raise Fail(f"{hint} (found Odoo {release.version})", 2)


def _version_key(version):
    key = []
    for part in re.split(r"[.+!-]", version):
        match = re.match(r"\d+", part)
        key.append(int(match.group()) if match else 0)
    while key and key[-1] == 0:
        key.pop()
    return tuple(key)


def _satisfies(installed, spec):
    ops = {
        "==": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
        ">=": lambda a, b: a >= b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        "<": lambda a, b: a < b,
        "~=": lambda a, b: a >= b,
    }
    for clause in filter(None, (c.strip() for c in spec.split(","))):
        match = re.match(r"(==|!=|>=|<=|~=|>|<)\s*([^\s]+)$", clause)
        if not match:
            continue
        op, wanted = match.groups()
        if wanted.endswith(".*"):
            prefix = _version_key(wanted[:-2])
            hit = _version_key(installed)[: len(prefix)] == prefix
            if hit != (op == "=="):
                return False
            continue
        if not ops[op](_version_key(installed), _version_key(wanted)):
            return False
    return True


def read_requirements(path):
    """Yield (name, specifier) of a pip requirements file (``-r`` followed)."""
    for raw in path.read_text().splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement ")):
            yield from read_requirements(path.parent / line.split(None, 1)[1])
            continue
        if line.startswith("-"):
            continue
        line = line.split(";", 1)[0].strip()
        match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$", line)
        if match:
            yield match.group(1), match.group(3).strip()


def missing_requirements(paths):
    missing = []
    for path in paths:
        for name, spec in read_requirements(path):
            try:
                installed = importlib.metadata.version(name)
            except importlib.metadata.PackageNotFoundError:
                missing.append(f"{name}{spec}")
                continue
            if spec and not _satisfies(installed, spec):
                missing.append(f"{name}{spec}")
    return missing


def _pip_install(args):
    cmd = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check"]
    return subprocess.call(cmd + args, stdin=subprocess.DEVNULL)


def ensure_python_deps(paths=(REQUIREMENTS,)):
    """pip-install the requirement files when something listed is missing."""
    missing = missing_requirements(paths)
    if not missing:
        return
    info(f"installing missing Python packages: {' '.join(missing)}")
    try:
        importlib.metadata.version("odoo")
        odoo_dist = True
    except importlib.metadata.PackageNotFoundError:
        odoo_dist = False
    if odoo_dist:
        args = []
        for path in paths:
            args += ["-r", str(path)]
        ok = _pip_install(args) == 0
    else:
        # Odoo is importable but not registered with pip (e.g. a plain source
        # checkout on PYTHONPATH): addon wheels would try to pull "odoo" from PyPI.
        addons = [r for r in missing if r.lower().startswith("odoo-addon")]
        others = [r for r in missing if r not in addons]
        ok = (not others or _pip_install(others) == 0) and (
            not addons or _pip_install(["--no-deps", *addons]) == 0
        )
    still = missing_requirements(paths)
    if not ok or still:
        raise Fail(
            "could not install the Python packages "
            f"{' '.join(still or missing)}; install them with: "
            f"{sys.executable} -m pip install "
            + " ".join(f"-r {p.relative_to(ROOT)}" for p in paths),
            2,
        )


def find_executable(package):
    for name in DEBIAN_EXECUTABLES[package]:
        path = shutil.which(name)
        if path:
            return path
    return None


def ensure_debian(packages):
    """Install missing Debian packages when root; otherwise say what is missing."""
    global _apt_updated
    missing = [p for p in packages if not find_executable(p)]
    if not missing:
        return
    if not IS_ROOT or not shutil.which("apt-get"):
        warn(
            f"missing system packages: {' '.join(missing)} (install them, e.g. "
            f"'sudo apt-get install {' '.join(missing)}'); what needs them will fail"
        )
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if not _apt_updated:
        info("apt-get update")
        subprocess.call(["apt-get", "update"], stdin=subprocess.DEVNULL, env=env)
        _apt_updated = True
    info(f"apt-get install -y {' '.join(missing)}")
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
    if subprocess.call(cmd, stdin=subprocess.DEVNULL, env=env) != 0:
        warn(
            f"apt-get could not install {' '.join(missing)}; what needs them will fail"
        )


def ensure_rtlcss():
    """Odoo lays its web client out right to left (Persian, Hebrew, Arabic)
    only with rtlcss, an npm package (Odoo's documentation: npm install -g
    rtlcss); without it those users get left-to-right screens."""
    if shutil.which("rtlcss"):
        return
    npm = shutil.which("npm")
    if not npm and IS_ROOT and shutil.which("apt-get"):
        ensure_debian(["npm"])
        npm = shutil.which("npm")
    if not npm:
        warn(
            "rtlcss is missing and there is no npm to install it ('npm install -g "
            "rtlcss'): right-to-left screens and their browser test will FAIL"
        )
        return
    info("npm install -g rtlcss (right-to-left web client)")
    if subprocess.call([npm, "install", "-g", "rtlcss"], stdin=subprocess.DEVNULL):
        warn("npm could not install rtlcss: right-to-left screens will FAIL")


# ----------------------------------------------------------------- postgres


class PgTarget:
    """Where the PostgreSQL server is, as psycopg2 parameters and Odoo options."""

    def __init__(self, label, host=None, port=None, user=None, password=None):
        self.label = label
        self.host, self.port, self.user, self.password = host, port, user, password

    def params(self):
        keys = ("host", "port", "user", "password")
        return {k: getattr(self, k) for k in keys if getattr(self, k)}

    def odoo_args(self):
        return [f"--db_{k}={v}" for k, v in self.params().items()]

    def connect(self, dbname="postgres", timeout=3):
        import psycopg2  # noqa: PLC0415

        return psycopg2.connect(dbname=dbname, connect_timeout=timeout, **self.params())

    def export_env(self):
        """Let child processes (psql, createdb, pytest-odoo, benchmark) find it."""
        for key, value in self.params().items():
            os.environ[f"PG{key.upper()}"] = str(value)


def _odoo_rc_target():
    path = os.environ.get("ODOO_RC") or os.path.expanduser("~/.odoorc")
    if not os.path.isfile(path):
        return None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path)
    except configparser.Error:
        return None
    values = {}
    for key in ("host", "port", "user", "password"):
        value = parser.get("options", f"db_{key}", fallback="").strip()
        if value and value.lower() not in ("false", "none"):
            values[key] = value
    return PgTarget(f"Odoo config file {path}", **values) if values else None


def _candidate_targets():
    env_keys = ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD")
    if any(os.environ.get(k) for k in env_keys):
        values = {k[2:].lower(): os.environ.get(k) for k in env_keys}
        yield PgTarget("PGHOST/PGPORT/PGUSER environment", **values)
    rc_target = _odoo_rc_target()
    if rc_target:
        yield rc_target
    if not any(os.environ.get(k) for k in env_keys):
        yield PgTarget("default PostgreSQL server (local socket, port 5432)")


def _answering_target():
    try:
        import psycopg2  # noqa: PLC0415
    except ImportError:
        raise Fail(
            f"psycopg2 is not importable by {sys.executable} (it comes with Odoo's "
            "requirements: pip install psycopg2)",
            2,
        ) from None
    for target in _candidate_targets():
        try:
            conn = target.connect()
        except psycopg2.Error as exc:
            if "connection refused" not in str(
                exc
            ).lower() and "No such file" not in str(exc):
                info(f"{target.label} did not accept us: {first_line(exc)}")
            elif not target.label.startswith("default"):
                info(f"{target.label}: no PostgreSQL server answers there")
            continue
        with contextlib.closing(conn):
            with conn.cursor() as cr:
                cr.execute(
                    "SELECT rolsuper OR rolcreatedb FROM pg_roles "
                    "WHERE rolname = current_user"
                )
                row = cr.fetchone()
        if not (row and row[0]):
            warn(f"the database user of the {target.label} cannot create databases")
        return target
    return None


def _pg_bin_dirs():
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        yield Path(pg_ctl).parent, Path(initdb), Path(pg_ctl)
    candidates = glob.glob("/usr/lib/postgresql/*/bin") + glob.glob("/usr/pgsql-*/bin")

    def version(path):
        match = re.search(r"(\d+(?:\.\d+)?)", path)
        return float(match.group(1)) if match else 0.0

    for bindir in sorted(candidates, key=version, reverse=True):
        bindir = Path(bindir)
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            yield bindir, bindir / "initdb", bindir / "pg_ctl"


def find_pg_binaries():
    found = next(_pg_bin_dirs(), None)
    if found:
        return found
    if IS_ROOT and shutil.which("apt-get"):
        info(
            "no PostgreSQL server answers and no PostgreSQL binaries: "
            "installing postgresql"
        )
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.call(["apt-get", "update"], stdin=subprocess.DEVNULL, env=env)
        subprocess.call(
            ["apt-get", "install", "-y", "postgresql"],
            stdin=subprocess.DEVNULL,
            env=env,
        )
        found = next(_pg_bin_dirs(), None)
        if found:
            return found
    raise Fail(
        "no PostgreSQL server answers and no PostgreSQL binaries (initdb, pg_ctl) were "
        "found: install PostgreSQL (e.g. 'sudo apt-get install postgresql') or set "
        "PGHOST/PGPORT/PGUSER/PGPASSWORD to a server you can use",
        2,
    )


def _pg_os_user():
    """initdb/pg_ctl refuse to run as root: run them as the postgres user then."""
    if not IS_ROOT:
        return None
    import pwd  # noqa: PLC0415

    try:
        pwd.getpwnam("postgres")
    except KeyError:
        info("creating the 'postgres' system user to run the private cluster")
        subprocess.check_call(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/bin/false",
                "postgres",
            ]
        )
    return "postgres"


def _run_pg(cmd, os_user, **kwargs):
    if os_user:
        cmd = ["runuser", "-u", os_user, "--", *cmd]
    kwargs.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run(cmd, check=False, **kwargs)


def _chown_tree(path, os_user):
    import pwd  # noqa: PLC0415

    entry = pwd.getpwnam(os_user)
    os.chown(path, entry.pw_uid, entry.pw_gid)


def _prepare_pg_dir(os_user):
    """Create .local/postgres, writable by the user running the cluster.

    When root and the checkout is not reachable by the postgres user (e.g. a
    clone under /root), the cluster lives in /var/tmp and .local/postgres is a
    symlink to it.
    """
    if PG_DIR.exists():
        return
    LOCAL.mkdir(parents=True, exist_ok=True)
    PG_DIR.mkdir()
    if not os_user:
        return
    _chown_tree(PG_DIR, os_user)
    probe = _run_pg(["test", "-w", str(PG_DIR), "-a", "-x", str(PG_DIR)], os_user)
    if probe.returncode == 0:
        return
    PG_DIR.rmdir()
    digest = hashlib.sha1(str(ROOT).encode()).hexdigest()[:10]
    outside = Path("/var/tmp") / f"{MODULE}-postgres-{digest}"
    outside.mkdir(parents=True, exist_ok=True)
    _chown_tree(outside, os_user)
    PG_DIR.symlink_to(outside)
    info(f"the postgres user cannot reach this checkout: cluster kept in {outside}")


def _pg_path(name):
    """Paths given to the PostgreSQL tools: resolved, as .local/postgres may be a
    symlink to a place the postgres user can reach."""
    return PG_DIR.resolve() / name


def _port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        if sock.connect_ex(("127.0.0.1", port)) == 0:
            return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _running_private_port():
    """Port of our private cluster if its postmaster runs, else None."""
    pidfile = _pg_path("data") / "postmaster.pid"
    try:
        lines = pidfile.read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return None
    return port


def _private_role():
    import getpass  # noqa: PLC0415

    user = getpass.getuser()
    return "odoo" if user == "postgres" else user


def _initdb(initdb, os_user):
    info(f"creating a private PostgreSQL cluster in {PG_DIR.relative_to(ROOT)}")
    cmd = [str(initdb), "-D", str(_pg_path("data")), "-U", "postgres", "--auth=trust"]
    cmd += ["-E", "UTF8", "--no-locale"]
    result = _run_pg(cmd, os_user, capture_output=True, text=True, cwd="/")
    if result.returncode != 0:
        raise Fail(f"initdb failed: {result.stderr.strip().splitlines()[-1:]}", 2)
    sockdir = _pg_path("socket")
    sockdir.mkdir(exist_ok=True)
    if os_user:
        _chown_tree(sockdir, os_user)
    # unix socket paths are limited to ~107 bytes: use TCP only when too long
    socket_dirs = str(sockdir) if len(str(sockdir)) < 90 else ""
    settings = (
        "\n# crm_success_kpi private development cluster\n"
        "listen_addresses = '127.0.0.1'\n"
        f"unix_socket_directories = '{socket_dirs}'\n"
        "synchronous_commit = off\n"
        "max_connections = 200\n"
    )
    with open(_pg_path("data") / "postgresql.conf", "a", encoding="utf-8") as conf:
        conf.write(settings)


def _shared_buffers_mb():
    """A quarter of the memory, from 128 MB to 8 GB: the machine's, or the
    container's limit when lower (cgroup v2 ``memory.max``)."""
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 128
    with contextlib.suppress(OSError, ValueError):
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit.isdigit():
            memory = min(memory, int(limit))
    return max(128, min(8192, memory // 4 // 2**20))


def _start_private(pg_ctl, os_user):
    port = None
    with contextlib.suppress(OSError, ValueError):
        port = int(PG_PORT_FILE.read_text().strip())
    if not port or not _port_free(port):
        port = PG_FIRST_PORT
        while not _port_free(port):
            port += 1
    info(f"starting the private PostgreSQL cluster on 127.0.0.1:{port}")
    cmd = [
        str(pg_ctl),
        "-D",
        str(_pg_path("data")),
        "-l",
        str(_pg_path("server.log")),
        "-w",
        "-t",
        "60",
    ]
    # a quarter of the memory for PostgreSQL's own cache, as its documentation
    # advises for a server (the default, 128 MB, keeps even a demo database
    # in the system's cache only: every block read is a system call)
    options = f"-p {port} -c shared_buffers={_shared_buffers_mb()}MB"
    result = _run_pg(
        [*cmd, "-o", options, "start"], os_user, capture_output=True, text=True, cwd="/"
    )
    if result.returncode != 0:
        # a system that refuses that much shared memory: PostgreSQL's default
        info("PostgreSQL did not start with that cache; trying its default")
        result = _run_pg(
            [*cmd, "-o", f"-p {port}", "start"],
            os_user,
            capture_output=True,
            text=True,
            cwd="/",
        )
    if result.returncode != 0:
        tail = (
            _pg_path("server.log").read_text(errors="replace").strip().splitlines()[-1:]
            if (_pg_path("server.log").exists())
            else []
        )
        raise Fail(f"pg_ctl start failed: {result.stderr.strip()} {' '.join(tail)}", 2)
    PG_PORT_FILE.write_text(f"{port}\n")
    return port


def ensure_private_cluster():
    _bindir, initdb, pg_ctl = find_pg_binaries()
    os_user = _pg_os_user()
    _prepare_pg_dir(os_user)
    if not (_pg_path("data") / "PG_VERSION").exists():
        shutil.rmtree(_pg_path("data"), ignore_errors=True)  # a failed initdb
        _initdb(initdb, os_user)
    port = _running_private_port() or _start_private(pg_ctl, os_user)
    admin = PgTarget(
        "private cluster", host="127.0.0.1", port=str(port), user="postgres"
    )
    role = _private_role()
    for _attempt in range(20):
        try:
            conn = admin.connect()
            break
        except Exception:  # noqa: BLE001 - still starting up
            time.sleep(0.5)
    else:
        raise Fail(f"the private PostgreSQL cluster does not answer on port {port}", 2)
    conn.autocommit = True
    with contextlib.closing(conn), conn.cursor() as cr:
        cr.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
        if not cr.fetchone():
            from psycopg2 import sql  # noqa: PLC0415

            query = sql.SQL("CREATE ROLE {} SUPERUSER LOGIN")
            cr.execute(query.format(sql.Identifier(role)))  # pylint: disable=sql-injection
    return PgTarget(
        f"private cluster on 127.0.0.1:{port}",
        host="127.0.0.1",
        port=str(port),
        user=role,
    )


def ensure_postgres(quiet=False):
    """Find a PostgreSQL server that answers, else start our private one."""
    target = _answering_target()
    if target is None:
        target = ensure_private_cluster()
    if not quiet:
        info(f"PostgreSQL: {target.label}")
    target.export_env()
    return target


def stop_private_cluster():
    port = _running_private_port()
    if not port:
        info("the private PostgreSQL cluster is not running")
        return 0
    found = next(_pg_bin_dirs(), None)
    if not found:
        raise Fail("pg_ctl not found: cannot stop the private cluster", 2)
    cmd = [str(found[2]), "-D", str(_pg_path("data")), "-m", "fast", "-w", "stop"]
    result = _run_pg(cmd, _pg_os_user(), cwd="/")
    if result.returncode == 0:
        info(f"stopped the private PostgreSQL cluster (port {port})")
    return result.returncode


# ---------------------------------------------------------------- databases


def db_exists(pg, dbname):
    with contextlib.closing(pg.connect()) as conn, conn.cursor() as cr:
        cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,))
        return bool(cr.fetchone())


def module_state(pg, dbname):
    """State of our module in the database, None if there is no such database."""
    if not db_exists(pg, dbname):
        return None
    import psycopg2  # noqa: PLC0415

    try:
        with contextlib.closing(pg.connect(dbname)) as conn, conn.cursor() as cr:
            cr.execute("SELECT state FROM ir_module_module WHERE name = %s", (MODULE,))
            row = cr.fetchone()
    except psycopg2.Error:
        return "no-odoo"
    return row[0] if row else "unknown"


def get_param(pg, dbname, key):
    with contextlib.closing(pg.connect(dbname)) as conn, conn.cursor() as cr:
        cr.execute("SELECT value FROM ir_config_parameter WHERE key = %s", (key,))
        row = cr.fetchone()
    return row[0] if row else None


def set_param(pg, dbname, key, value):
    with contextlib.closing(pg.connect(dbname)) as conn, conn.cursor() as cr:
        cr.execute(
            "INSERT INTO ir_config_parameter (key, value) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            (key, value),
        )
        conn.commit()


def code_fingerprint():
    """Digest of the addon's files that a module upgrade reads."""
    digest = hashlib.sha1()
    for rel in _repo_files():
        if rel.endswith(CODE_SUFFIXES) and not rel.startswith(("tests/", "benchmark/")):
            digest.update(rel.encode() + b"\0" + (ROOT / rel).read_bytes() + b"\0")
    return digest.hexdigest()


def table_has_model(pg, dbname, model):
    with contextlib.closing(pg.connect(dbname)) as conn, conn.cursor() as cr:
        cr.execute("SELECT 1 FROM ir_model WHERE model = %s", (model,))
        return bool(cr.fetchone())


def drop_db(pg, dbname):
    with contextlib.closing(pg.connect()) as conn:
        conn.autocommit = True
        with conn.cursor() as cr:
            cr.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (dbname,),
            )
            from psycopg2 import sql  # noqa: PLC0415

            query = sql.SQL("DROP DATABASE IF EXISTS {}")
            cr.execute(query.format(sql.Identifier(dbname)))  # pylint: disable=sql-injection
    shutil.rmtree(DATA_DIR / "filestore" / dbname, ignore_errors=True)


# --------------------------------------------------------------------- odoo


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


def install_module(pg, dbname, logfile, with_demo=True, upgrade=False):
    """``odoo -d DB -i crm_success_kpi --stop-after-init`` (``-u`` with
    ``upgrade``: bring an existing database to the addon's current code),
    checked for real."""
    flag = "-u" if upgrade else "-i"
    args = ["-d", dbname, flag, MODULE, "--stop-after-init", *odoo_options(pg)]
    if with_demo and not upgrade:
        args.append("--with-demo")
    started = time.monotonic()
    verb = "upgrading" if upgrade else "installing"
    rc, errors = run_odoo_logged(args, logfile, f"{verb} {MODULE} in database {dbname}")
    state = module_state(pg, dbname)
    elapsed = time.monotonic() - started
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
    for name, _spec in read_requirements(REQUIREMENTS):
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


# ------------------------------------------------------------------ commands


def prepare(requirements=(REQUIREMENTS,), debian=()):
    ensure_odoo()
    ensure_python_deps(requirements)
    if debian:
        ensure_debian(debian)
    pg = ensure_postgres()
    ensure_addons_path()
    return pg


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


def serve(pg, dbname, port):
    cmd = odoo_command() + [
        "-d", dbname, f"--db-filter=^{re.escape(dbname)}$",
        "--http-port", str(port), *odoo_options(pg),
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
    serve(pg, args.db, args.port)


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
    return mapped if has_path else [*mapped, str(tests_dir)]


def _run_pytest(pg, dbname, extra):
    tests_dir = ADDONS_DIR / MODULE / "tests"
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "kpi_pytest"]
    cmd += [
        f"--odoo-database={dbname}",
        f"--odoo-addons-path={ADDONS_DIR}",
        "--odoo-http",
        f"--odoo-extra=data-dir={DATA_DIR}",
        "--odoo-log-level=warn",
        "--odoo-extra=http-interface=127.0.0.1",
        f"--rootdir={ADDONS_DIR / MODULE}",
    ]
    cmd += [f"--odoo-extra={arg[2:]}" for arg in pg.odoo_args()]
    cmd += _map_pytest_args(extra, tests_dir)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT / "scripts"), env.get("PYTHONPATH")])
    )
    chromium = find_executable("chromium")
    if chromium:
        env["ODOO_BROWSER_BIN"] = chromium
    info(f"$ {shlex.join(cmd)}")
    return subprocess.call(cmd, env=env, cwd=ROOT, stdin=subprocess.DEVNULL)


def cmd_test(args):
    pg = prepare(debian=["chromium", "wkhtmltopdf", "poppler-utils"])
    ensure_rtlcss()
    if not find_executable("chromium"):
        warn("chromium not found: browser (HttpCase tour) tests will FAIL")
    dbname = args.db or f"crm_kpi_test_{os.getpid()}"
    if db_exists(pg, dbname):
        raise Fail(f"database {dbname} already exists: pick another --db")
    started = time.monotonic()
    use_template = not args.no_template and os.environ.get("CI", "").lower() not in (
        "true",
        "1",
    )
    try:
        if use_template:
            clone_db(pg, ensure_deps_template(pg), dbname)
        install_module(pg, dbname, LOG_DIR / f"test-install-{dbname}.log")
        rc = _run_pytest(pg, dbname, args.pytest_args)
    finally:
        if args.keep_db:
            info(f"keeping database {dbname} (--keep-db)")
        else:
            drop_db(pg, dbname)
            info(f"dropped database {dbname}")
    if rc == 5:
        out("[kpictl] FAILED: pytest collected no tests (exit code 5)")
        rc = 1
    verdict = "passed" if rc == 0 else f"FAILED (exit code {rc})"
    info(f"tests {verdict} in {time.monotonic() - started:.0f}s")
    return rc


def _repo_files():
    """Files of the checkout (tracked or not ignored), without .local."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=ROOT, capture_output=True, check=True,
        ).stdout.decode().split("\0")  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        listed = []
        for dirpath, dirnames, filenames in os.walk(ROOT):
            dirnames[:] = [d for d in dirnames if d not in (".git", ".local")]
            rel = Path(dirpath).relative_to(ROOT)
            listed += [str(rel / name) for name in filenames]
    return sorted(
        {
            f
            for f in listed
            if f and not f.startswith(".local/") and (ROOT / f).is_file()
        }
    )


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
    failed = False
    for name, rc, count in results:
        failed = failed or rc != 0
        info(f"{name}: {'ok' if rc == 0 else 'FAILED'} ({count} findings)")
    return 1 if failed else 0


def cmd_bench(args):
    pg = prepare()
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


def cmd_pg_stop(_args):
    return stop_private_cluster()


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
