"""Packaging: the manifest declares what the addon imports, and the wheel
built the OCA way carries the addon's name and dependencies."""

import importlib.util
import re
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from odoo.tests import BaseCase, tagged

ADDON_ROOT = Path(__file__).resolve().parent.parent


def _manifest_checker():
    spec = importlib.util.spec_from_file_location(
        "kpictl_manifest", ADDON_ROOT / "scripts" / "kpictl_manifest.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@tagged("post_install", "-at_install")
class TestPackaging(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.checker = _manifest_checker()

    def make_addon(self, manifest, files):
        root = Path(tempfile.mkdtemp(prefix="kpi_pkg_")) / "crm_success_kpi"
        self.addCleanup(shutil.rmtree, root.parent)
        root.mkdir()
        (root / "__manifest__.py").write_text(repr(manifest))
        for name, text in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return root

    def test_addon_declares_what_it_imports(self):
        self.assertEqual(self.checker.check(ADDON_ROOT), [])
        manifest = self.checker.read_manifest(ADDON_ROOT)
        self.assertIn("jdatetime", manifest["external_dependencies"]["python"])
        # the Solar Hijri calendar's library is what the addon imports
        self.assertIn("jdatetime", self.checker.imported_modules(ADDON_ROOT))

    def test_missing_package_is_reported(self):
        provided = set(sys.stdlib_module_names) | {"odoo", "dateutil"}
        root = self.make_addon(
            {"version": "19.0.1.0.0", "external_dependencies": {"python": []}},
            {
                "models/a.py": "import jdatetime\nfrom dateutil import tz\n"
                "from . import b\nimport odoo.fields\n",
                "kpi/b.py": "from kpi_missing_pkg.sub import thing\nimport json\n",
                "tests/test_x.py": "from freezegun import freeze_time\n",
                # tooling is not part of the installed addon
                "scripts/tool.py": "import tooling_only_pkg\n",
            },
        )
        problems = self.checker.check(root, provided=provided)
        self.assertEqual(len(problems), 2, problems)
        self.assertIn("models/a.py: imports 'jdatetime'", problems[0])
        self.assertIn("kpi/b.py: imports 'kpi_missing_pkg'", problems[1])
        # declared: no problem left
        (root / "__manifest__.py").write_text(
            repr(
                {
                    "version": "19.0.1.0.0",
                    "external_dependencies": {
                        "python": ["jdatetime", "kpi_missing_pkg"]
                    },
                }
            )
        )
        self.assertEqual(self.checker.check(root, provided=provided), [])

    def test_wheel(self):
        """The wheel built the OCA way (``make wheel``: ``pip wheel --no-deps
        .`` in a clone named after the addon) carries the addon's name and
        requires Odoo 19.0, the OCA helpdesk wheel and jdatetime (whool, the
        build backend, comes from PyPI)."""
        if not shutil.which("git") or not (ADDON_ROOT / ".git").exists():
            self.skipTest("the wheel is built from a git checkout")
        spec = importlib.util.spec_from_file_location(
            "kpictl_for_wheel", ADDON_ROOT / "scripts" / "kpictl.py"
        )
        sys.path.insert(0, str(ADDON_ROOT / "scripts"))
        try:
            kpictl = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(kpictl)
        finally:
            sys.path.remove(str(ADDON_ROOT / "scripts"))
        out = Path(tempfile.mkdtemp(prefix="kpi_wheel_"))
        self.addCleanup(shutil.rmtree, out)
        wheel = kpictl.build_wheel(out)
        version = self.checker.read_manifest(ADDON_ROOT)["version"]
        self.assertRegex(
            wheel.name,
            rf"^odoo_addon_crm_success_kpi-{re.escape(version)}(\.\d+)?-py3-none-any"
            r"\.whl$",
        )
        with zipfile.ZipFile(wheel) as whl:
            names = whl.namelist()
            meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
            metadata = whl.read(meta).decode()
        requires = {
            line.split(": ", 1)[1]
            for line in metadata.splitlines()
            if line.startswith("Requires-Dist: ")
        }
        self.assertEqual(
            requires, {"jdatetime", "odoo-addon-helpdesk_mgmt==19.0.*", "odoo==19.0.*"}
        )
        self.assertIn("Name: odoo-addon-crm_success_kpi", metadata)
        self.assertIn("odoo/addons/crm_success_kpi/__manifest__.py", names)
        self.assertIn("odoo/addons/crm_success_kpi/models/crm_kpi_alert.py", names)
        self.assertIn("odoo/addons/crm_success_kpi/i18n/fa.po", names)
        # only the files of the repository: no local data, no git folder
        self.assertFalse([n for n in names if "/.local/" in n or "/.git/" in n])
