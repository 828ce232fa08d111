"""The messages of the period on leads, read once for the sales family
(calls and emails of the salespeople) and the adoption family (the users'
actions on leads).

Both count messages written in the period by an internal user on a lead of
the company; reading them twice (and looking every message's lead up twice)
was a third of their time.
"""

from odoo.tools import SQL

from .base import shared_rows
from .events import lead_company_condition

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
        """(%(m)s.message_type IN ('comment', 'email', 'email_outgoing', 'notification')
            AND NOT (COALESCE(%(m)s.subtype_id, 0) = ANY(%(creation)s)))""",
        m=m,
        creation=creation_subtype_ids(env),
    )


def lead_messages_sql(ctx):
    """``SELECT`` of the messages of the period of ``ctx`` on the leads of its
    company whose author is an internal user: ``id``, the lead's ``team_id``,
    ``author_id``, ``user_id`` (the author's internal user, the first one
    when a partner has several), ``is_call`` (a completed phone call
    activity), ``is_email`` (a message or email sent, :func:`sent_condition`,
    not an activity) and
    ``is_action`` (:func:`action_condition`)."""
    env = ctx.env
    return SQL(
        """
        WITH period_messages AS MATERIALIZED (
            -- the messages of the period first, through the (model, date)
            -- index: joined from the users instead, the planner read every
            -- message of every internal author
            SELECT m.id, m.res_id, m.author_id, m.mail_activity_type_id,
                   m.message_type, m.subtype_id, m.is_internal
              FROM mail_message m
             WHERE m.model = 'crm.lead'
               AND m.date >= %(a)s AND m.date < %(b)s
        )
        SELECT m.id, l.team_id, m.author_id, iu.user_id,
               COALESCE(t.category = 'phonecall', FALSE) AS is_call,
               (m.mail_activity_type_id IS NULL AND %(sent)s) AS is_email,
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
               WHERE l.id = m.res_id AND %(lead_company)s
              OFFSET 0) l
          LEFT JOIN mail_activity_type t ON t.id = m.mail_activity_type_id
        """,
        sent=sent_condition("m"),
        action=action_condition(env),
        lead_company=lead_company_condition(ctx.company.id),
        a=ctx.start_utc,
        b=ctx.end_utc,
    )


def lead_message_summary(ctx):
    """The messages of :func:`lead_messages_sql` counted per (lead's sales
    team, author, author's user): ``calls``, ``emails``, ``actions``.  One
    query per period computation (:func:`~.base.shared`)."""
    return shared_rows(
        ctx,
        "lead_message_summary",
        lambda: SQL(
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
        ),
    )


# ---------------------------------------------------------------------------
# Messages and emails sent by the company
# ---------------------------------------------------------------------------
# the message types Odoo stores for a message or an email that a person
# wrote: posted in the chatter (comment), sent by Odoo's mail composer
# (email_outgoing) or received by the mail gateway (email, e.g. a
# salesperson's reply from his mailbox); automatic mails (auto_comment),
# assignment notifications (user_notification) and tracking notifications
# (notification) are not written by a person
SENT_TYPES = ("comment", "email", "email_outgoing")


def internal_author(alias="m"):
    """SQL condition: the author of the message ``alias`` is an internal user
    (archived ones included: a past period keeps its responses)."""
    return SQL(
        "EXISTS (SELECT 1 FROM res_users u WHERE u.partner_id = %s.author_id"
        " AND NOT u.share)",
        SQL.identifier(alias),
    )


def sent_condition(alias="m"):
    """SQL condition: the message ``alias`` is a message or email that a
    person sent to the followers: one of :data:`SENT_TYPES`, not an internal
    note (internal subtype or 'employee only' flag)."""
    m = SQL.identifier(alias)
    return SQL(
        """(%(m)s.message_type IN %(types)s
            AND NOT COALESCE(%(m)s.is_internal, FALSE)
            AND EXISTS (SELECT 1 FROM mail_message_subtype st
                         WHERE st.id = %(m)s.subtype_id
                           AND NOT COALESCE(st.internal, FALSE)))""",
        m=m,
        types=SENT_TYPES,
    )


def reply_condition(alias="m"):
    """SQL condition: the message ``alias`` is a reply that a person of the
    company sent to the customer (:func:`sent_condition` by an internal
    user), whichever way it reached Odoo.  Internal notes, automatic mails of
    stage templates and automated rules, assignment and tracking
    notifications and messages of the customer are not replies."""
    return SQL("(%s AND %s)", sent_condition(alias), internal_author(alias))


def response_condition(alias="m"):
    """SQL condition: the message ``alias`` on a lead is a response of the
    company: a completed activity (call, email, meeting...) or a reply
    (:func:`reply_condition`)."""
    return SQL(
        "(%s.mail_activity_type_id IS NOT NULL OR %s)",
        SQL.identifier(alias),
        reply_condition(alias),
    )


def is_reply(message, internal_partner_ids):
    """Python twin of :func:`reply_condition` for freshly created messages.
    ``internal_partner_ids``: partners of internal users."""
    return (
        message.message_type in SENT_TYPES
        and not message.is_internal
        and message.subtype_id
        and not message.subtype_id.internal
        and message.author_id.id in internal_partner_ids
    )
