"""Who is a licensed CRM user: one definition for the adoption KPIs and the
CRM investment's benefit."""

# the lowest access level of sales and of helpdesk: every higher level
# implies it, so "any sales or any helpdesk access level" is membership
# (direct or implied) of one of these
CRM_USER_GROUPS = (
    "sales_team.group_sale_salesman",
    "helpdesk_mgmt.group_helpdesk_user_own",
)


def licensed_crm_users_domain(env, company):
    """Domain of the active internal users of ``company`` with any sales or
    any helpdesk access level."""
    groups = [
        gid
        for xmlid in CRM_USER_GROUPS
        if (
            gid := env["ir.model.data"]._xmlid_to_res_id(
                xmlid, raise_if_not_found=False
            )
        )
    ]
    return [
        ("share", "=", False),
        ("company_ids", "in", company.id),
        ("all_group_ids", "in", groups or [0]),
    ]


def licensed_crm_users(env, company):
    """The licensed CRM users of ``company`` (active users, by id)."""
    return (
        env["res.users"]
        .sudo()
        .with_context(active_test=True)
        .search(
            licensed_crm_users_domain(env, company),
            # by id: the default order (by partner name) joined the users to
            # every partner, 0.15 s on 300,000 partners
            order="id",
        )
    )
