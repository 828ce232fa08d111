import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

/**
 * The o-spreadsheet model of the CRM Success dashboard (found in the OWL
 * tree: the workbook with the sheets "dashboard" and "data").
 */
function dashboardModel() {
    const stack = [odoo.__WOWL_DEBUG__.root.__owl__];
    while (stack.length) {
        const node = stack.pop();
        const model = node.component?.env?.model;
        const sheets = model?.getters?.getSheetIds?.() || [];
        if (sheets.includes("dashboard") && sheets.includes("data")) {
            return model;
        }
        stack.push(...Object.values(node.children || {}));
    }
    return null;
}

/** Wait (polling, at most 20 s) until ``check()`` returns a true value. */
async function waitUntil(check, message) {
    const start = Date.now();
    while (!check()) {
        if (Date.now() - start > 20000) {
            throw new Error(message());
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
    }
}

/** The evaluated value of a cell ("Data", "C7") of the dashboard's workbook. */
function cellValue(model, sheetName, ref) {
    const sheetId = sheetName.toLowerCase();
    const col = ref.charCodeAt(0) - 65;
    const row = Number(ref.slice(1)) - 1;
    return model.getters.getEvaluatedCell({ sheetId, col, row }).value;
}

function scorecard(model, title) {
    const sheetId = "dashboard";
    const chartId = model.getters
        .getChartIds(sheetId)
        .find((id) => model.getters.getChartDefinition(id).title?.text === title);
    if (!chartId) {
        throw new Error(`no scorecard ${title}`);
    }
    return model.getters.getChartRuntime(chartId);
}

/**
 * Open the Dashboards app and the CRM Success dashboard; the scorecards
 * show the values of ``scope`` ("Company" for a manager, "Salesperson" for
 * a salesperson who sees only his own values); a value of the table opens
 * its KPI value records.
 */
function crmSuccessDashboardSteps(scope) {
    return [
        stepUtils.showAppsMenuItem(),
        {
            content: "open the Dashboards app",
            trigger: ".o_app[data-menu-xmlid='spreadsheet_dashboard.spreadsheet_dashboard_menu_root']",
            run: "click",
        },
        {
            content: "open the CRM Success dashboard, in the Sales group",
            trigger: ".o_search_panel_section:has(header:contains('Sales')) li.o_search_panel_category_value[data-name='CRM Success']",
            run: "click",
        },
        {
            content: "its scorecards are drawn",
            trigger: ".o_spreadsheet_dashboard_action canvas.o-scorecard[title='Net Promoter Score']",
        },
        {
            content: `the scorecards show the ${scope} values of last month`,
            trigger: ".o_spreadsheet_dashboard_action canvas.o-scorecard[title='Revenue']",
            async run() {
                await waitUntil(dashboardModel, () => "no CRM Success workbook shown");
                const model = dashboardModel();
                const loaded = () =>
                    cellValue(model, "Data", "C7") === scope &&
                    scorecard(model, "Revenue").keyValue !== "" &&
                    !String(scorecard(model, "Revenue").keyValue).includes("Loading");
                await waitUntil(
                    loaded,
                    () =>
                        `scope ${cellValue(model, "Data", "C7")}, revenue ` +
                        `"${scorecard(model, "Revenue").keyValue}"`
                );
                const filters = model.getters.getGlobalFilters().map((f) => f.label);
                if (filters.join() !== "Period,Sales Team,Salesperson") {
                    throw new Error(`unexpected filters ${filters}`);
                }
                const period = cellValue(model, "Data", "B4");
                if (period !== "month") {
                    throw new Error(`the default period is a ${period}, not a month`);
                }
                const months = [];
                for (let row = 16; row <= 27; row++) {
                    months.push(cellValue(model, "Data", `B${row}`));
                }
                if (!months.some((value) => typeof value === "number")) {
                    throw new Error(`no revenue in the 12 months' trend: ${months}`);
                }
            },
        },
        {
            content: "scroll down to the table of values",
            trigger: ".o_spreadsheet_dashboard_action .o-grid",
            run() {
                const grid = document.querySelector(".o_spreadsheet_dashboard_action .o-grid");
                grid.dispatchEvent(new WheelEvent("wheel", { deltaY: 3000, bubbles: true }));
            },
        },
        {
            content: "a value of the period opens its records",
            trigger: ".o_spreadsheet_dashboard_action .o-dashboard-clickable-cell[title='See records']",
            run: "click",
        },
        {
            content: "the KPI values behind it are listed",
            trigger: ".o_list_view .o_data_row",
        },
        {
            content: "no error on the way",
            trigger: "body:not(:has(.o_error_dialog))",
        },
    ];
}

registry.category("web_tour.tours").add("crm_success_kpi_spreadsheet_dashboard_tour", {
    url: "/odoo",
    steps: () => crmSuccessDashboardSteps("Company"),
});

registry.category("web_tour.tours").add("crm_success_kpi_spreadsheet_dashboard_salesman_tour", {
    url: "/odoo",
    steps: () => crmSuccessDashboardSteps("Salesperson"),
});
