# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Shared pieces of the project commands: paths of the checkout, messages and
the error that stops a command.
"""

import os
import re
import subprocess
import sys
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
