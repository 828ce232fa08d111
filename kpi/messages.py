"""The messages of the period on leads, read once for the sales family
(calls and emails of the salespeople) and the adoption family (the users'
actions on leads).

Both count messages written in the period by an internal user on a lead of
the company; reading them twice (and looking every message's lead up twice)
was a third of their time.
"""

from odoo.tools import SQL

from .base import heavy_query_settings

# subtypes of the messages that only say a record was created: not actions
CREATION_SUBTYPES = ("crm.mt_lead_create", "helpdesk_mgmt.hlp_tck_created")


def creation_subtype_ids(env):
    ids = [
        sid
        for sid in (
            env["ir.model.data"]._xmlid_to_res_id(x, raise_if_not_found=False)
            for x in CREATION_SUBTYPES
        )
        if sid
    ]
    return ids or [0]


def action_condition(env, alias="m"):
    """SQL condition: the message ``alias`` is an action of its author (a
    posted message or note, a logged change of a tracked field, a completed
    activity), not a creation notification."""
    m = SQL.identifier(alias)
    return SQL(
        """(%(m)s.message_type IN ('comment', 'email_outgoing', 'notification')
            AND NOT (COALESCE(%(m)s.subtype_id, 0) = ANY(%(creation)s)))""",
        m=m,
        creation=creation_subtype_ids(env),
    )


def lead_messages_sql(ctx):
    """``SELECT`` of the messages of the period of ``ctx`` on the leads of its
    company whose author is an internal user: ``id``, the lead's ``team_id``,
    ``author_id``, ``user_id`` (the author's internal user, the first one
    when a partner has several), ``is_call`` (a completed phone call
    activity), ``is_email`` (a message or email sent, not an activity) and
    ``is_action`` (:func:`action_condition`)."""
    env = ctx.env
    comment = env["ir.model.data"]._xmlid_to_res_id(
        "mail.mt_comment", raise_if_not_found=False
    )
    return SQL(
        """
        WITH period_messages AS MATERIALIZED (
            -- the messages of the period first, through the (model, date)
            -- index: joined from the users instead, the planner read every
            -- message of every internal author
            SELECT m.id, m.res_id, m.author_id, m.mail_activity_type_id,
                   m.message_type, m.subtype_id
              FROM mail_message m
             WHERE m.model = 'crm.lead'
               AND m.date >= %(a)s AND m.date < %(b)s
        )
        SELECT m.id, l.team_id, m.author_id, iu.user_id,
               COALESCE(t.category = 'phonecall', FALSE) AS is_call,
               (m.mail_activity_type_id IS NULL
                AND m.message_type IN ('comment', 'email_outgoing')
                AND COALESCE(m.subtype_id = %(comment)s, FALSE)) AS is_email,
               %(action)s AS is_action
          FROM period_messages m
          -- the internal user of the author, joined (not a subquery per
          -- message: the planner evaluated it on every message before the
          -- date filter when the caller filters on user_id); the messages of
          -- other authors are not counted
          JOIN (SELECT partner_id, MIN(id) AS user_id
                  FROM res_users WHERE NOT share
                 GROUP BY partner_id) iu ON iu.partner_id = m.author_id
          -- each message's lead looked up through its primary key (the
          -- OFFSET keeps the planner from hashing every lead of the history
          -- for the month's messages: 0.75 s for 1 M leads)
          CROSS JOIN LATERAL (
              SELECT l.team_id FROM crm_lead l
               WHERE l.id = m.res_id AND l.company_id = %(company)s
              OFFSET 0) l
          LEFT JOIN mail_activity_type t ON t.id = m.mail_activity_type_id
        """,
        comment=comment or 0,
        action=action_condition(env),
        company=ctx.company.id,
        a=ctx.start_utc,
        b=ctx.end_utc,
    )


def lead_message_summary(ctx):
    """The messages of :func:`lead_messages_sql` counted per (lead's sales
    team, author, author's user): ``calls``, ``emails``, ``actions``.  One
    query per period context (cached in ``ctx.extra``)."""
    key = ctx.cache_key("lead_message_summary")
    if key not in ctx.extra:
        cr = ctx.env.cr
        heavy_query_settings(ctx)
        cr.execute(
            SQL(
                """
                WITH msgs AS (%s)
                SELECT team_id, author_id, user_id,
                       COUNT(*) FILTER (WHERE is_call) AS calls,
                       COUNT(*) FILTER (WHERE is_email) AS emails,
                       COUNT(*) FILTER (WHERE is_action) AS actions
                  FROM msgs
                 GROUP BY team_id, author_id, user_id
                """,
                lead_messages_sql(ctx),
            )
        )
        ctx.extra[key] = cr.dictfetchall()
    return ctx.extra[key]
