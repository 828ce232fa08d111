"""Translation template of the addon, as Odoo's exporter builds it.

``odoo i18n export`` walks every addons folder with ``followlinks=True``. A
checkout that holds its own addons folder (the ``.local/addons`` link that
``make`` creates points back at the checkout) would be walked again at every
level of the loop, so the export here skips hidden folders while it walks.
"""

import io
import os
from unittest import mock

import polib

from odoo.tools.translate import trans_export

MODULE = "crm_success_kpi"
LANGUAGES = ("fa", "he")


def _walk_without_hidden(real_walk):
    def walk(top, *args, **kwargs):
        for root, dirs, files in real_walk(top, *args, **kwargs):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            yield root, dirs, files

    return walk


def export_pot(env):
    """Return the current translation template of the addon (bytes)."""
    buffer = io.BytesIO()
    with mock.patch.object(os, "walk", _walk_without_hidden(os.walk)):
        trans_export(False, [MODULE], buffer, "po", env)
    return buffer.getvalue()


def entries(data):
    """{(msgctxt-free) msgid: entry} of a .po/.pot text (bytes or str)."""
    text = data.decode() if isinstance(data, bytes) else data
    return {entry.msgid: entry for entry in polib.pofile(text) if entry.msgid}
