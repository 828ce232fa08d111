import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

function openMenu(xmlid, label) {
    return [
        {
            content: `open ${label}`,
            trigger: `.o_main_navbar [data-menu-xmlid='${xmlid}'], .o_main_navbar .dropdown-item[data-menu-xmlid='${xmlid}']`,
            run: "click",
        },
    ];
}

function openSection(sectionXmlid, xmlid, label) {
    return [
        {
            // the section, or the "more" list holding it when the screen
            // is too narrow for every menu
            content: "open the section menu",
            trigger: `.o_main_navbar .o_menu_sections [data-menu-xmlid='${sectionXmlid}'], .o_main_navbar .o_menu_sections_more button`,
            run: "click",
        },
        {
            content: `open ${label}`,
            trigger: `.dropdown-item[data-menu-xmlid='${xmlid}']`,
            run: "click",
        },
    ];
}

function toggleFilter(label) {
    return [
        {
            content: "open the search options",
            trigger: ".o_control_panel .o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            content: `toggle the filter ${label}`,
            trigger: `.o_filter_menu .o_menu_item:contains("${label}")`,
            run: "click",
        },
        {
            content: "close the search options",
            trigger: ".o_control_panel .o_searchview_dropdown_toggler",
            run: "click",
        },
    ];
}

registry.category("web_tour.tours").add("crm_success_kpi_manager_tour", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "open the CRM Success app",
            trigger: ".o_app[data-menu-xmlid='crm_success_kpi.menu_crm_success_root']",
            run: "click",
        },
        {
            content: "the app opens on the dashboard",
            trigger: ".o_crm_kpi_dashboard .o_crm_kpi_card",
        },
        ...openMenu("crm_success_kpi.menu_crm_success_overview", "the Overview"),
        {
            content: "the Overview opens on the KPI trend graph",
            trigger: ".o_action:has(.o_graph_renderer) .o_breadcrumb:contains('Overview')",
        },
        {
            content: "on the company's figures",
            trigger: ".o_searchview_facet:contains('Company')",
        },
        {
            content: "switch to the pivot",
            trigger: "button.o_switch_view.o_pivot",
            run: "click",
        },
        {
            content: "the pivot shows the revenue per month",
            trigger: ".o_pivot table .o_pivot_header_cell_closed, .o_pivot table .o_pivot_header_cell_opened",
        },
        ...toggleFilter("Monthly"),
        ...toggleFilter("Quarterly"),
        {
            content: "quarterly values are shown",
            trigger: ".o_searchview_facet:contains('Quarterly')",
        },
        {
            content: "back to the graph",
            trigger: "button.o_switch_view.o_graph",
            run: "click",
        },
        {
            trigger: ".o_graph_renderer canvas",
        },
        {
            content: "list the values to drill down",
            trigger: "button.o_switch_view.o_list",
            run: "click",
        },
        {
            content: "drill down from a revenue value to its sale orders",
            trigger: ".o_data_row:first button[name='action_open_numerator']",
            run: "click",
        },
        {
            content: "the orders behind the value are listed",
            trigger: ".o_breadcrumb:contains('numerator') ",
        },
        {
            trigger: ".o_list_renderer .o_data_row",
        },
        ...openSection(
            "crm_success_kpi.menu_crm_success_customers",
            "crm_success_kpi.menu_crm_success_customers",
            "Customers"
        ).slice(0, 1),
        {
            content: "the customer list is shown",
            trigger: ".o_breadcrumb .active:contains('Customers')",
        },
        {
            content: "open a customer",
            trigger: ".o_list_renderer .o_data_row:first .o_data_cell[name='complete_name'], .o_list_renderer .o_data_row:first .o_data_cell:not(.o_list_record_selector)",
            run: "click",
        },
        {
            content: "the customer's form is open",
            trigger: ".o_form_view .o_field_widget[name='vat'], .o_form_view .o_notebook",
        },
        {
            content: "open the customer's KPI tab",
            trigger: ".o_notebook a.nav-link:contains('KPIs')",
            run: "click",
        },
        {
            content: "the customer's KPIs are shown",
            trigger: ".o_field_widget[name='kpi_customer_status']",
        },
        {
            trigger: ".o_field_widget[name='kpi_lifetime_revenue']",
        },
        ...openSection(
            "crm_success_kpi.menu_crm_success_leads",
            "crm_success_kpi.menu_crm_success_leads",
            "Leads"
        ).slice(0, 1),
        {
            content: "the lead list is shown",
            trigger: ".o_breadcrumb .active:contains('Leads')",
        },
        {
            content: "open a lead",
            trigger: ".o_list_renderer .o_data_row:first .o_data_cell:not(.o_list_record_selector)",
            run: "click",
        },
        {
            content: "the lead's form is open",
            trigger: ".o_form_view .o_notebook",
        },
        {
            content: "open the lead's KPI tab",
            trigger: ".o_notebook a.nav-link:contains('KPIs')",
            run: "click",
        },
        {
            content: "the lead's KPI fields are shown",
            trigger: ".o_field_widget[name='kpi_call_count']",
        },
        ...openSection(
            "crm_success_kpi.menu_crm_success_config",
            "crm_success_kpi.menu_crm_success_targets",
            "Targets"
        ),
        {
            content: "the targets are listed",
            trigger: ".o_breadcrumb:contains('Targets')",
        },
        ...openSection(
            "crm_success_kpi.menu_crm_success_report",
            "crm_success_kpi.menu_crm_success_report",
            "Success Report"
        ).slice(0, 1),
        {
            content: "the report wizard opens",
            trigger: ".modal .o_form_view, .o_form_view",
        },
        {
            content: "print the success report",
            trigger: "button[name='action_print']",
            run: "click",
        },
        {
            content: "the report was printed without error",
            trigger: "body:not(:has(.o_error_dialog))",
        },
    ],
});

registry.category("web_tour.tours").add("crm_success_kpi_ticket_tour", {
    url: "/odoo/action-helpdesk_mgmt.helpdesk_ticket_action",
    steps: () => [
        {
            content: "list the tickets",
            trigger: "button.o_switch_view.o_list",
            run: "click",
        },
        {
            content: "the ticket list is shown",
            trigger: "button.o_switch_view.o_list.active",
        },
        {
            content: "open a ticket",
            trigger: ".o_list_renderer .o_data_row:first .o_data_cell:not(.o_list_record_selector)",
            run: "click",
        },
        {
            content: "the ticket's form is open",
            trigger: ".o_form_view .o_notebook",
        },
        {
            content: "open the ticket's KPI tab",
            trigger: ".o_notebook a.nav-link:contains('KPIs')",
            run: "click",
        },
        {
            content: "the ticket's KPI fields are shown",
            trigger: ".o_field_widget[name='kpi_reply_count']",
        },
    ],
});

registry.category("web_tour.tours").add("crm_success_kpi_salesman_tour", {
    url: "/odoo/action-crm_success_kpi.crm_kpi_value_action",
    steps: () => [
        {
            content: "the KPI values are listed",
            trigger: ".o_list_renderer",
        },
        {
            content: "his own salesperson values are listed",
            trigger: ".o_list_renderer .o_data_row td[name='scope']:contains('Salesperson')",
        },
        {
            content: "and nothing of another scope",
            trigger:
                ".o_list_renderer:not(:has(td[name='scope']:contains('Company'))):not(:has(td[name='scope']:contains('Sales Team')))",
        },
        {
            content: "no configuration menu for a salesperson",
            trigger:
                ".o_main_navbar:not(:has([data-menu-xmlid='crm_success_kpi.menu_crm_success_config']))",
        },
    ],
});

// A Persian-speaking manager: the screens are right to left, in Persian, and
// the periods of a Solar Hijri company carry Jalali labels.
registry.category("web_tour.tours").add("crm_success_kpi_rtl_tour", {
    url: "/odoo/action-crm_success_kpi.crm_kpi_value_action_overview",
    steps: () => [
        {
            content: "the Overview opens with its Persian title",
            trigger: ".o_breadcrumb .active:contains('نمای کلی')",
        },
        {
            content: "the graph is drawn",
            trigger: ".o_graph_renderer canvas",
        },
        {
            content: "the web client is laid out right to left",
            trigger: ".o_action_manager",
            run() {
                const direction = getComputedStyle(document.querySelector(".o_action_manager")).direction;
                if (direction !== "rtl") {
                    throw new Error(`the Persian web client is laid out ${direction}`);
                }
            },
        },
        {
            content: "switch to the list",
            trigger: "button.o_switch_view.o_list",
            run: "click",
        },
        {
            content: "the KPI name is in Persian and the period is a Jalali month",
            trigger: ".o_data_row:has(.o_data_cell[name='kpi_id']:contains('درآمد')) .o_data_cell[name='period_name']:contains('مهر 1405')",
        },
        {
            content: "the value of Mehr 1405 (23 September - 22 October 2026)",
            trigger: ".o_data_row .o_data_cell[name='display_value']:contains('500.00')",
        },
    ],
});

registry.category("web_tour.tours").add("crm_success_kpi_drill_tour", {
    steps: () => [
        {
            content: "open the records behind the stored value",
            trigger: ".o_form_view button[name='action_open_numerator']",
            run: "click",
        },
        {
            content: "the list says its records changed since the computation",
            trigger: ".o_list_view .o_crm_kpi_drill_banner .o_crm_kpi_drill_message:contains('the records below give')",
        },
        {
            content: "the list holds the records counted now",
            trigger: ".o_list_view .o_data_row",
        },
        {
            content: "compute the period again",
            trigger: ".o_crm_kpi_drill_banner .o_crm_kpi_drill_recompute",
            run: "click",
        },
        {
            content: "back on the value, computed again",
            trigger: ".o_form_view .o_field_widget[name='kpi_id']",
        },
        {
            content: "its records agree with it now: no warning",
            trigger: ".o_form_view button[name='action_open_numerator']",
            run: "click",
        },
        {
            content: "the list shows no warning",
            trigger: ".o_list_view:not(:has(.o_crm_kpi_drill_banner)) .o_data_row",
        },
    ],
});

/** The number shown in a text ("$ 7,771,381.40", "47.64 %", "3.57 h"). */
function parseNumber(text) {
    const cleaned = text.replace(/[^0-9.\-]/g, "");
    return Number.parseFloat(cleaned);
}

/** Wait (polling, at most 10 s) until ``check()`` returns a true value. */
async function waitUntil(check, message) {
    const start = Date.now();
    while (!check()) {
        if (Date.now() - start > 10000) {
            throw new Error(message());
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
}

function selectOption(selector, predicate) {
    const select = document.querySelector(selector);
    const option = [...select.options].find((o) => predicate(o.value));
    if (!option) {
        throw new Error(`no option matches in ${selector}`);
    }
    select.value = option.value;
    select.dispatchEvent(new Event("change", { bubbles: true }));
    return option.value;
}

registry.category("web_tour.tours").add("crm_success_kpi_dashboard_tour", {
    url: "/odoo",
    steps: () => {
        const seen = {};
        return [
            stepUtils.showAppsMenuItem(),
            {
                content: "open the CRM Success app",
                trigger: ".o_app[data-menu-xmlid='crm_success_kpi.menu_crm_success_root']",
                run: "click",
            },
            {
                content: "the app lands on the dashboard, with the maturity stage",
                trigger: ".o_crm_kpi_dashboard .o_crm_kpi_maturity .o_crm_kpi_maturity_stage",
            },
            {
                content: "on the company, last closed month",
                trigger: ".o_crm_kpi_dashboard .o_crm_kpi_card[data-code='revenue'] .o_crm_kpi_card_value",
                run() {
                    const scope = document.querySelector(".o_crm_kpi_scope").value;
                    if (scope !== "company:0") {
                        throw new Error(`the dashboard opened on ${scope}, not the company`);
                    }
                    seen.period = document.querySelector(".o_crm_kpi_period").textContent.trim();
                },
            },
            {
                content: "go to the previous period",
                trigger: ".o_crm_kpi_previous",
                run: "click",
            },
            {
                content: "the period changed",
                trigger: ".o_crm_kpi_period",
                async run() {
                    const label = () => document.querySelector(".o_crm_kpi_period").textContent.trim();
                    await waitUntil(
                        () => label() && label() !== seen.period,
                        () => `still on ${label()}`
                    );
                },
            },
            {
                content: "switch to a sales team",
                trigger: ".o_crm_kpi_scope",
                run() {
                    seen.scope = selectOption(".o_crm_kpi_scope", (v) => v.startsWith("team:"));
                },
            },
            {
                content: "the team's cards are shown",
                trigger: ".o_crm_kpi_dashboard:not(:has(.o_crm_kpi_loading)) .o_crm_kpi_card[data-code='revenue']",
                async run() {
                    const scope = () => document.querySelector(".o_crm_kpi_scope").value;
                    await waitUntil(
                        () => scope() === seen.scope && !document.querySelector(".o_crm_kpi_loading"),
                        () => `the scope is ${scope()}, expected ${seen.scope}`
                    );
                },
            },
            {
                content: "back to the company",
                trigger: ".o_crm_kpi_scope",
                async run() {
                    selectOption(".o_crm_kpi_scope", (v) => v === "company:0");
                    await waitUntil(
                        () =>
                            document.querySelector(".o_crm_kpi_scope").value === "company:0" &&
                            !document.querySelector(".o_crm_kpi_loading"),
                        () => "the company scope did not load"
                    );
                },
            },
            {
                content: "read the revenue card",
                trigger: ".o_crm_kpi_dashboard:not(:has(.o_crm_kpi_loading)) .o_crm_kpi_card[data-code='revenue'] .o_crm_kpi_card_value",
                run() {
                    const card = document.querySelector(".o_crm_kpi_card[data-code='revenue']");
                    seen.value = Number.parseFloat(card.dataset.value);
                    seen.shown = parseNumber(card.querySelector(".o_crm_kpi_card_value").textContent);
                    if (!(Math.abs(seen.value - seen.shown) < 0.005)) {
                        throw new Error(`the card shows ${seen.shown} for a value of ${seen.value}`);
                    }
                    card.click();
                },
            },
            {
                content: "the card's detail opens",
                trigger: ".o_crm_kpi_detail .o_crm_kpi_open_value",
                run: "click",
            },
            {
                content: "the stored value equals the card",
                trigger: ".o_form_view .o_field_widget[name='display_value']",
                run() {
                    const stored = parseNumber(
                        document.querySelector(".o_form_view .o_field_widget[name='display_value']").textContent
                    );
                    if (!(Math.abs(stored - seen.shown) < 0.005)) {
                        throw new Error(`stored ${stored}, the card showed ${seen.shown}`);
                    }
                },
            },
            {
                content: "back to the dashboard",
                trigger: ".o_breadcrumb .o_back_button, .o_breadcrumb a:contains('Dashboard')",
                run: "click",
            },
            {
                content: "the dashboard keeps its period",
                trigger: ".o_crm_kpi_dashboard .o_crm_kpi_card[data-code='revenue']",
                run() {
                    const label = document.querySelector(".o_crm_kpi_period").textContent.trim();
                    if (label === seen.period) {
                        throw new Error("the dashboard forgot the period chosen");
                    }
                    document.querySelector(".o_crm_kpi_card[data-code='revenue']").click();
                },
            },
            {
                content: "open the revenue trend",
                trigger: ".o_crm_kpi_detail .o_crm_kpi_open_trend",
                run: "click",
            },
            {
                content: "the trend graph of the KPI",
                trigger: ".o_action:has(.o_graph_renderer canvas) .o_breadcrumb:contains('trend')",
            },
            {
                content: "back to the dashboard",
                trigger: ".o_breadcrumb .o_back_button, .o_breadcrumb a:contains('Dashboard')",
                run: "click",
            },
            {
                content: "open the card again",
                trigger: ".o_crm_kpi_dashboard .o_crm_kpi_card[data-code='revenue']",
                run: "click",
            },
            {
                content: "drill down to the revenue's orders",
                trigger: ".o_crm_kpi_detail .o_crm_kpi_open_numerator",
                run: "click",
            },
            {
                content: "the orders behind the value are listed",
                trigger: ".o_list_view .o_data_row",
            },
            {
                content: "no error on the way",
                trigger: "body:not(:has(.o_error_dialog))",
            },
        ];
    },
});

registry.category("web_tour.tours").add("crm_success_kpi_dashboard_salesman_tour", {
    url: "/odoo/action-crm_success_kpi.crm_kpi_dashboard_action",
    steps: () => [
        {
            content: "the salesman's dashboard",
            trigger: ".o_crm_kpi_dashboard .o_crm_kpi_card",
        },
        {
            content: "only his own scope is offered",
            trigger: ".o_crm_kpi_scope",
            run() {
                const options = [...document.querySelectorAll(".o_crm_kpi_scope option")];
                const values = options.map((o) => o.value);
                if (values.length !== 1 || !values[0].startsWith("user:")) {
                    throw new Error(`scopes offered: ${values.join(", ")}`);
                }
            },
        },
        {
            content: "and no maturity figures",
            trigger: ".o_crm_kpi_dashboard:not(:has(.o_crm_kpi_maturity))",
        },
        {
            content: "his Overview opens on his own scope",
            trigger: ".o_main_navbar [data-menu-xmlid='crm_success_kpi.menu_crm_success_overview']",
            run: "click",
        },
        {
            content: "with his own filter, not the company's",
            trigger: ".o_searchview_facet:contains('My Salesperson Scope')",
        },
        {
            trigger: ".o_graph_renderer canvas",
        },
    ],
});
