# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""What the project commands install when it is missing: Python requirements
(read with ``packaging``), Debian packages, rtlcss; and the check that Odoo
is importable.
"""

import importlib.metadata
import os
import shutil
import subprocess
import sys

try:
    from packaging.requirements import InvalidRequirement, Requirement
except ImportError:  # pip always carries a copy
    from pip._vendor.packaging.requirements import InvalidRequirement, Requirement

from kpictl_common import (
    DEBIAN_EXECUTABLES,
    IS_ROOT,
    ODOO_HINT,
    REQUIREMENTS,
    ROOT,
    Fail,
    first_line,
    info,
    warn,
)


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
    try:
        pypdf2 = importlib.metadata.version("PyPDF2")
    except importlib.metadata.PackageNotFoundError:
        pypdf2 = None
    if pypdf2 and int(pypdf2.split(".")[0]) >= 3 and sys.version_info < (3, 13):
        raise Fail(
            f"PyPDF2 {pypdf2} is installed, with which Odoo 19 fails to load "
            "some demo data; install the version of Odoo's requirements.txt "
            f"({sys.executable} -m pip install 'PyPDF2==2.12.1')",
            2,
        )


def read_requirements(path):
    """Yield the ``Requirement`` of each line of a pip requirements file
    (``-r`` followed; a line whose environment marker does not apply to
    this Python is left out)."""
    for raw in path.read_text().splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement ")):
            yield from read_requirements(path.parent / line.split(None, 1)[1])
            continue
        if line.startswith("-"):
            continue
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            warn(f"{path.name}: cannot read the requirement {line!r}")
            continue
        if requirement.marker is None or requirement.marker.evaluate():
            yield requirement


def missing_requirements(paths):
    """The requirements of ``paths`` not installed, or installed at a version
    their specifier refuses (``~=``, ``==1.*``, ... as pip reads them)."""
    missing = []
    for path in paths:
        for requirement in read_requirements(path):
            try:
                installed = importlib.metadata.version(requirement.name)
            except importlib.metadata.PackageNotFoundError:
                missing.append(str(requirement))
                continue
            if requirement.specifier and not requirement.specifier.contains(
                installed, prereleases=True
            ):
                missing.append(str(requirement))
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


_apt_updated = False


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
