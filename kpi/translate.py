"""The translation marker of the KPI notes (no import: every module of
``kpi/`` may use it)."""


def _lt(source):
    """Mark an n/a reason for the translation template and keep it as is.

    Values store the English reason; ``crm.kpi.value`` shows it in the
    reader's language (the template lists it as a code term of the addon).
    """
    return source
