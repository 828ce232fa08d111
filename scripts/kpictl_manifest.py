"""Packaging check of ``make lint``: the manifest declares every Python
package the addon imports.

A package counts as provided when it is in Python's standard library, is
Odoo itself, or is one of Odoo's own requirements (read from the installed
``odoo`` distribution, or from Odoo's ``requirements.txt`` beside it).
Everything else that the addon's code imports must be listed in
``external_dependencies["python"]`` of ``__manifest__.py``: Odoo refuses to
install the addon when one is missing, and the wheel's metadata requires
them.  The tooling folders (``scripts/``, ``benchmark/``) are not part of
the installed addon; the tests run under Odoo's test framework, whose own
imports (``freezegun``, ``websocket``) are provided with it.
"""

import ast
import importlib.metadata
import importlib.util
import re
import sys
from pathlib import Path

# folders of the repository that are not part of the installed addon
TOOLING = ("scripts", "benchmark", ".local", ".ci", "docs", "build")
# imported by odoo.tests itself: there whenever the tests can run
TEST_FRAMEWORK = ("freezegun", "websocket")
# distribution names whose import name differs and is not in the metadata
KNOWN_IMPORT_NAMES = {
    "python-dateutil": "dateutil",
    "pillow": "PIL",
    "pyopenssl": "OpenSSL",
    "pypdf2": "PyPDF2",
    "python-stdnum": "stdnum",
    "pyusb": "usb",
    "pyserial": "serial",
    "python-ldap": "ldap",
    "markupsafe": "markupsafe",
    "jinja2": "jinja2",
    "libsass": "sass",
}


# Odoo 19.0's own requirements (its setup.py), for an Odoo installed without
# distribution metadata nor requirements.txt (the Debian package)
ODOO_REQUIREMENTS = (
    "asn1crypto babel cbor2 chardet cryptography docutils geoip2 gevent greenlet "
    "idna jinja2 lxml lxml-html-clean libsass markupsafe num2words ofxparse "
    "openpyxl passlib pillow polib psutil psycopg2 pyopenssl pypdf2 pyserial "
    "python-dateutil python-stdnum pytz pyusb qrcode reportlab rjsmin requests "
    "urllib3 vobject werkzeug xlrd xlsxwriter xlwt zeep"
).split()


def _normalise(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(line):
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line)
    return _normalise(match.group(1)) if match else None


def odoo_requirements():
    """Normalised distribution names of Odoo's requirements."""
    names = set()
    try:
        requires = importlib.metadata.requires("odoo") or ()
    except importlib.metadata.PackageNotFoundError:
        requires = ()  # Odoo without distribution metadata
    for req in requires:
        name = _requirement_name(req)
        if name:
            names.add(name)
    # a source install: Odoo's requirements.txt beside its odoo/ package
    spec = importlib.util.find_spec("odoo.release")
    if spec and spec.origin:
        path = Path(spec.origin).resolve().parent.parent / "requirements.txt"
        if path.exists():
            for line in path.read_text().splitlines():
                if line.strip() and not line.lstrip().startswith("#"):
                    name = _requirement_name(line)
                    if name:
                        names.add(name)
    return names or set(ODOO_REQUIREMENTS)


def provided_modules():
    """Top-level import names available without declaring them."""
    provided = set(sys.stdlib_module_names) | {"odoo", "__future__"}
    requirements = odoo_requirements()
    for module, dists in importlib.metadata.packages_distributions().items():
        if any(_normalise(d) in requirements for d in dists):
            provided.add(module)
    provided |= {KNOWN_IMPORT_NAMES.get(r, r.replace("-", "_")) for r in requirements}
    return provided


def imported_modules(root):
    """``{top-level module: first file importing it}`` of the addon's code
    (absolute imports only; the addon's own relative imports are skipped)."""
    root = Path(root)
    found = {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if rel.parts[0] in TOOLING or any(p.startswith(".") for p in rel.parts):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if rel.parts[0] == "tests" and top in TEST_FRAMEWORK:
                    continue
                found.setdefault(top, str(rel))
    return found


def read_manifest(root):
    return ast.literal_eval((Path(root) / "__manifest__.py").read_text())


def check(root, provided=None):
    """The packaging problems of the addon at ``root`` (empty: none)."""
    root = Path(root)
    manifest = read_manifest(root)
    declared = set(manifest.get("external_dependencies", {}).get("python", []))
    provided = provided_modules() if provided is None else provided
    own = {p.name for p in root.iterdir() if p.is_dir()} | {root.name}
    problems = []
    for module, where in sorted(imported_modules(root).items()):
        if module in provided or module in own or module in declared:
            continue
        problems.append(
            f"{where}: imports {module!r}, missing from the manifest's "
            'external_dependencies["python"]'
        )
    return problems


if __name__ == "__main__":
    issues = check(Path(__file__).resolve().parent.parent)
    for line in issues:
        sys.stdout.write(line + "\n")
    sys.exit(1 if issues else 0)
