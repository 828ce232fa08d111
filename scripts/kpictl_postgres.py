# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""PostgreSQL for the project commands: a server that answers (environment,
Odoo configuration file) or a private cluster of the checkout, and the
database helpers.
"""

import configparser
import contextlib
import glob
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from kpictl_common import (
    CODE_SUFFIXES,
    DATA_DIR,
    IS_ROOT,
    LOCAL,
    MODULE,
    PG_DIR,
    PG_FIRST_PORT,
    PG_PORT_FILE,
    ROOT,
    Fail,
    _repo_files,
    first_line,
    info,
    warn,
)


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


def _postmaster_port(folder):
    """Port of the server of data folder ``folder`` (under .local/postgres)
    if its postmaster runs, else None."""
    pidfile = _pg_path(folder) / "postmaster.pid"
    try:
        lines = pidfile.read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return None
    return port


def running_private_port():
    """Port of our private cluster if its postmaster runs, else None."""
    return _postmaster_port("data")


def running_replica_port():
    """Port of the standby of the private cluster if it runs, else None."""
    return _postmaster_port("replica")


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


def _server_port(port_file, first):
    """The port saved in ``port_file`` when free, else the first free port
    of 127.0.0.1 from ``first``."""
    port = None
    with contextlib.suppress(OSError, ValueError):
        port = int(port_file.read_text().strip())
    if not port or not _port_free(port):
        port = first
        while not _port_free(port):
            port += 1
    return port


def _pg_ctl_start(pg_ctl, os_user, folder, log, timeout, options):
    """``pg_ctl start`` of the server in ``folder`` of .local/postgres, its
    log in ``log``, waiting up to ``timeout`` seconds; the completed
    process."""
    cmd = [
        str(pg_ctl),
        "-D",
        str(_pg_path(folder)),
        "-l",
        str(_pg_path(log)),
        "-w",
        "-t",
        str(timeout),
        "-o",
        options,
        "start",
    ]
    return _run_pg(cmd, os_user, capture_output=True, text=True, cwd="/")


def _start_private(pg_ctl, os_user):
    port = _server_port(PG_PORT_FILE, PG_FIRST_PORT)
    info(f"starting the private PostgreSQL cluster on 127.0.0.1:{port}")
    # a quarter of the memory for PostgreSQL's own cache, as its documentation
    # advises for a server (the default, 128 MB, keeps even a demo database
    # in the system's cache only: every block read is a system call)
    options = f"-p {port} -c shared_buffers={_shared_buffers_mb()}MB"
    result = _pg_ctl_start(pg_ctl, os_user, "data", "server.log", 60, options)
    if result.returncode != 0:
        # a system that refuses that much shared memory: PostgreSQL's default
        info("PostgreSQL did not start with that cache; trying its default")
        result = _pg_ctl_start(pg_ctl, os_user, "data", "server.log", 60, f"-p {port}")
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
    port = running_private_port() or _start_private(pg_ctl, os_user)
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


def _pg_ctl_stop(folder, label, port):
    """``pg_ctl stop`` (fast) of the server of data folder ``folder``."""
    found = next(_pg_bin_dirs(), None)
    if not found:
        raise Fail(f"pg_ctl not found: cannot stop the {label}", 2)
    cmd = [str(found[2]), "-D", str(_pg_path(folder)), "-m", "fast", "-w", "stop"]
    result = _run_pg(cmd, _pg_os_user(), cwd="/")
    if result.returncode == 0:
        info(f"stopped the {label} (port {port})")
    return result.returncode


def stop_private_cluster():
    stop_replica()
    port = running_private_port()
    if not port:
        info("the private PostgreSQL cluster is not running")
        return 0
    return _pg_ctl_stop("data", "private PostgreSQL cluster", port)


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


# ---------------------------------------------------------------------------
# A streaming standby of the private cluster (reads of the KPI engine)
# ---------------------------------------------------------------------------
REPLICA_PORT_FILE = PG_DIR / "replica-port"


def _replica_streaming(primary):
    """Whether a standby streams from ``primary`` (a PgTarget as superuser)."""
    try:
        conn = primary.connect()
    except Exception:  # noqa: BLE001 - not up
        return False
    with contextlib.closing(conn), conn.cursor() as cr:
        cr.execute("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")
        return cr.fetchone()[0] > 0


def _replica_target(port):
    return PgTarget(
        f"standby on 127.0.0.1:{port}",
        host="127.0.0.1",
        port=str(port),
        user=_private_role(),
    )


def _start_replica_server(pg_ctl, os_user, port):
    options = f"-p {port} -c shared_buffers={_shared_buffers_mb()}MB"
    return _pg_ctl_start(pg_ctl, os_user, "replica", "replica.log", 120, options)


def is_private_cluster(pg):
    """Whether ``pg`` (a PgTarget) is the running private cluster."""
    port = running_private_port()
    return bool(port) and pg.host == "127.0.0.1" and str(pg.port) == str(port)


def ensure_replica(pg, fresh=False):
    """Start (creating it with ``pg_basebackup -R`` when missing, broken or
    ``fresh``) a streaming standby of the private cluster ``pg`` on
    127.0.0.1, in .local/postgres/replica; return its PgTarget.  Only for
    the private cluster: a server of yours has its own replication set up."""
    if not is_private_cluster(pg):
        raise Fail(
            "the standby copies the private PostgreSQL cluster, and the "
            f"{pg.label} is another server ('make pg-stop' then 'make replica' "
            "starts the private one when no other server answers)",
            2,
        )
    primary_port = int(pg.port)
    _bindir, _initdb_bin, pg_ctl = find_pg_binaries()
    # the tools of the server's own version (pg_ctl may be a link to them)
    basebackup = Path(pg_ctl).resolve().parent / "pg_basebackup"
    if not basebackup.is_file():
        basebackup = Path(shutil.which("pg_basebackup") or "pg_basebackup")
    os_user = _pg_os_user()
    admin = PgTarget(
        "private cluster", host="127.0.0.1", port=str(primary_port), user="postgres"
    )
    port = running_replica_port()
    if port and not fresh and _replica_streaming(admin):
        return _replica_target(port)
    if port:
        stop_replica()
    data = _pg_path("replica")
    for attempt in ("existing", "new"):
        if attempt == "existing" and (fresh or not (data / "standby.signal").exists()):
            continue
        if attempt == "new":
            shutil.rmtree(data, ignore_errors=True)
            info("copying the private cluster into a standby (pg_basebackup -R)")
            cmd = [str(basebackup), "-h", "127.0.0.1"]
            cmd += ["-p", str(primary_port), "-U", "postgres", "-D", str(data)]
            cmd += ["-R", "-X", "stream", "-c", "fast"]
            result = _run_pg(cmd, os_user, capture_output=True, text=True, cwd="/")
            if result.returncode != 0:
                raise Fail(f"pg_basebackup failed: {result.stderr.strip()}", 2)
        port = _server_port(REPLICA_PORT_FILE, primary_port + 1)
        info(f"starting the standby on 127.0.0.1:{port}")
        result = _start_replica_server(pg_ctl, os_user, port)
        if result.returncode != 0:
            warn(f"the standby did not start: {result.stderr.strip()}")
            continue
        REPLICA_PORT_FILE.write_text(f"{port}\n")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if _replica_streaming(admin):
                return _replica_target(port)
            time.sleep(0.5)
        warn("the standby does not stream from the private cluster: copying it again")
        stop_replica()
    raise Fail("could not start a streaming standby of the private cluster", 2)


def stop_replica():
    port = running_replica_port()
    if not port:
        return 0
    return _pg_ctl_stop("replica", "standby", port)
