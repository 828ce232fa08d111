# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Deterministic history generator (demo and benchmark data).

Not imported by the addon itself: use
``from odoo.addons.crm_success_kpi.generator.history import generate``.
"""
