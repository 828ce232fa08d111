# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Measure 11: peak memory and PostgreSQL temporary files of measure 1's month
and of measure 2's backfill.

Each computation runs in a fresh Python process (this file run as a script),
so that the peak of one is not hidden by what the benchmark did before
(generating the history, the other measures): the process loads the
registry, notes its resident memory, resets the kernel's high-water mark of
its resident memory (``VmHWM``, reset by writing 5 to
``/proc/self/clear_refs``), then computes while a thread samples the resident
memory every 10 ms. The peak of the computation is the higher of the
high-water mark after it and the highest sample.  (``ru_maxrss`` would not
do: besides being a lifetime peak, on Linux it keeps across ``fork`` and
``exec`` the resident memory of the parent, here the benchmark's process.)
The temporary files are the growth of
``pg_stat_database.temp_files`` / ``temp_bytes`` of the database over the
computation, read once the process's connections are closed and the
statistics flushed (read again until they stop changing).
"""

import argparse
import json
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

from bench_common import (
    close_db,
    environment,
    last_full_month,
    main_company,
    say,
    setup_odoo,
)

PAGE = None


def rss_bytes():
    """Resident memory of this process now."""
    global PAGE  # noqa: PLW0603
    if PAGE is None:
        import os  # noqa: PLC0415

        PAGE = os.sysconf("SC_PAGE_SIZE")
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * PAGE


def hwm_bytes():
    """The kernel's high-water mark of this process's resident memory."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def reset_hwm():
    """Reset the high-water mark to the current resident memory (Linux 4.0
    and later); False when the kernel refuses."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


class Sampler(threading.Thread):
    def __init__(self, interval=0.01):
        super().__init__(daemon=True)
        self.interval = interval
        self.peak = rss_bytes()
        self.done = threading.Event()

    def run(self):
        while not self.done.wait(self.interval):
            self.peak = max(self.peak, rss_bytes())

    def stop(self):
        self.done.set()
        self.join()
        self.peak = max(self.peak, rss_bytes())
        return self.peak


def temp_stats(pg, dbname):
    conn = pg.connect(dbname)
    try:
        conn.autocommit = True
        with conn.cursor() as cr:
            cr.execute("SELECT pg_stat_clear_snapshot()")
            cr.execute(
                """SELECT temp_files, temp_bytes FROM pg_stat_database
                    WHERE datname = current_database()"""
            )
            files, size = cr.fetchone()
    finally:
        conn.close()
    return int(files or 0), int(size or 0)


def settled_temp_stats(pg, dbname, before, wait=1.2, longest=15.0):
    """The statistics once flushed: a backend reports its temporary files
    at the end of its transaction at most once a second, and at the latest
    when it exits; read until two reads a second apart agree."""
    started = time.monotonic()
    last = temp_stats(pg, dbname)
    while time.monotonic() - started < longest:
        time.sleep(wait)
        now = temp_stats(pg, dbname)
        if now == last and (now != before or time.monotonic() - started > 3):
            break
        last = now
    return last


def child(argv):
    """The computation, in this fresh process: prints one JSON line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--what", choices=("month", "backfill"), required=True)
    parser.add_argument("--end-date", required=True)
    parser.add_argument("--months", type=int, default=36)
    args = parser.parse_args(argv)
    from kpictl_odoo import ensure_addons_path  # noqa: PLC0415
    from kpictl_postgres import ensure_postgres  # noqa: PLC0415

    pg = ensure_postgres(quiet=True)
    ensure_addons_path()
    setup_odoo(pg)
    end = date.fromisoformat(args.end_date)
    with environment(args.db, commit=True) as env:
        Snapshot = env["crm.kpi.snapshot"]
        company = main_company(env)
        month = last_full_month(end)
        env.cr.execute("SELECT 1")  # the registry is loaded, the cursor open
        before_temp = temp_stats(pg, args.db)
        loaded_peak = hwm_bytes()
        reset = reset_hwm()
        before_rss = rss_bytes()
        before_hwm = hwm_bytes()
        sampler = Sampler()
        sampler.start()
        t0 = time.perf_counter()
        try:
            if args.what == "month":
                Snapshot.compute_period("month", month, companies=company)
            else:
                Snapshot.backfill(
                    months=args.months - 1, granularities=["month"],
                    companies=company, date_to=end, commit=True,
                )  # fmt: skip
            env.flush_all()
        finally:
            seconds = time.perf_counter() - t0
            sampled = sampler.stop()
    after_hwm = hwm_bytes()
    close_db(args.db)
    after_temp = settled_temp_stats(pg, args.db, before_temp)
    # without the reset the high-water mark may be the loading's
    peak = max(after_hwm, sampled) if reset or after_hwm > before_hwm else sampled
    out = {
        "what": args.what,
        "month": str(month),
        "seconds": round(seconds, 2),
        "rss_before_mb": round(before_rss / 2**20, 1),
        "peak_mb": round(peak / 2**20, 1),
        "growth_mb": round((peak - before_rss) / 2**20, 1),
        "sampled_peak_mb": round(sampled / 2**20, 1),
        "hwm_reset": reset,
        # the process's peak before, while it loaded the registry
        "loading_peak_mb": round(loaded_peak / 2**20, 1),
        "temp_files": after_temp[0] - before_temp[0],
        "temp_bytes": after_temp[1] - before_temp[1],
    }
    sys.stdout.write("RESULT " + json.dumps(out) + "\n")
    return 0


def run_child(db, what, end_date, months):
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--db", db, "--what", what, "--end-date", str(end_date),
        "--months", str(months),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
    return {"note": "failed: " + " / ".join(tail)}


def measure_memory(args, results):
    """Measure 11, on the main database: the month of measure 1 and the
    backfill of measure 2, each in a fresh process."""
    end = results["end_date"]
    months = args.backfill_months or args.sizes["months"]
    out = {}
    for what in ("month", "backfill"):
        out[what] = run_child(args.db, what, end, months)
        if what == "backfill" and "note" not in out[what]:
            out[what]["periods"] = months
        say(f"11. memory of the {what}: {out[what]}")
    results["memory"] = out


if __name__ == "__main__":
    sys.exit(child(sys.argv[1:]))
