import { Component, onWillStart, useState, useSubEnv } from "@odoo/owl";
import { deserializeDateTime, formatDateTime } from "@web/core/l10n/dates";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { useSetupAction } from "@web/search/action_hook";
import { Layout } from "@web/search/layout";
import { getDefaultConfig } from "@web/views/view";

const SPARK_WIDTH = 120;
const SPARK_HEIGHT = 28;

/**
 * The points of a sparkline of ``values`` (null for a period without a
 * value), as SVG polyline segments: a period without value breaks the line.
 */
export function sparkSegments(values, width = SPARK_WIDTH, height = SPARK_HEIGHT) {
    const numbers = values.filter((v) => v !== null && v !== undefined);
    if (!numbers.length) {
        return [];
    }
    const min = Math.min(...numbers);
    const max = Math.max(...numbers);
    const span = max - min || 1;
    const step = values.length > 1 ? width / (values.length - 1) : 0;
    const segments = [];
    let current = [];
    values.forEach((value, index) => {
        if (value === null || value === undefined) {
            if (current.length) {
                segments.push(current);
            }
            current = [];
            return;
        }
        const x = (index * step).toFixed(1);
        const y = (height - 2 - ((value - min) / span) * (height - 4)).toFixed(1);
        current.push(`${x},${y}`);
    });
    if (current.length) {
        segments.push(current);
    }
    return segments.map((points) => ({
        points: points.join(" "),
        // a lone point is drawn as a dot
        dot: points.length === 1 ? points[0].split(",") : null,
    }));
}

/**
 * The manager's dashboard: the headline KPIs of a period and a scope, as
 * cards grouped by area, with the maturity stage above them.  Everything is
 * read from the stored values in one call (``crm.kpi.dashboard``).
 */
export class CrmKpiDashboard extends Component {
    static template = "crm_success_kpi.Dashboard";
    static components = { Layout };
    static props = ["*"];

    setup() {
        useSubEnv({ config: { ...getDefaultConfig(), ...this.env.config } });
        // coming back through the breadcrumbs shows the same period and scope
        useSetupAction({
            getLocalState: () => ({
                granularity: this.state.granularity,
                dateStart: this.state.dateStart,
                scopeKey: this.state.scopeKey,
                showAll: this.state.showAll,
                search: this.state.search,
            }),
        });
        this.orm = useService("orm");
        this.actionService = useService("action");
        this.granularities = [
            ["week", _t("Weekly")],
            ["month", _t("Monthly")],
            ["quarter", _t("Quarterly")],
            ["year", _t("Yearly")],
        ];
        this.state = useState({
            data: null,
            loading: true,
            granularity: "month",
            dateStart: null,
            scopeKey: null,
            selected: null,
            showAll: false,
            search: "",
            ...(this.props.state || {}),
        });
        onWillStart(() => this.load());
    }

    async load() {
        this.state.loading = true;
        const data = await this.orm.call("crm.kpi.dashboard", "get_dashboard", [], {
            granularity: this.state.granularity,
            date_start: this.state.dateStart,
            scope_key: this.state.scopeKey,
        });
        this.state.data = data;
        this.state.dateStart = data.date_start;
        this.state.scopeKey = data.scope_key;
        if (this.state.selected) {
            this.state.selected = this.findCard(this.state.selected.code);
        }
        this.state.loading = false;
    }

    findCard(code) {
        for (const area of this.state.data.areas) {
            const card = area.cards.find((c) => c.code === code);
            if (card) {
                return card;
            }
        }
        return null;
    }

    get areas() {
        const query = this.state.search.trim().toLowerCase();
        const all = this.state.showAll || query;
        return this.state.data.areas
            .map((area) => ({
                ...area,
                cards: area.cards.filter(
                    (card) =>
                        (all || card.headline) &&
                        (!query ||
                            card.name.toLowerCase().includes(query) ||
                            card.code.includes(query))
                ),
            }))
            .filter((area) => area.cards.length);
    }

    get headlineCount() {
        let count = 0;
        for (const area of this.state.data.areas) {
            count += area.cards.filter((c) => c.headline).length;
        }
        return count;
    }

    get computedAt() {
        const value = this.state.data.computed_at;
        return value ? formatDateTime(deserializeDateTime(value)) : "";
    }

    spark(card) {
        return sparkSegments(card.spark);
    }

    changeClass(change) {
        if (!change || change.good === null || change.good === undefined) {
            return "text-muted";
        }
        return change.good ? "text-success" : "text-danger";
    }

    statusClass(card) {
        return (
            {
                on_target: "text-bg-success",
                warning: "text-bg-warning",
                off_target: "text-bg-danger",
            }[card.status] || "text-bg-light"
        );
    }

    async onGranularity(ev) {
        this.state.granularity = ev.target.value;
        this.state.dateStart = null;
        await this.load();
    }

    async onScope(ev) {
        this.state.scopeKey = ev.target.value;
        await this.load();
    }

    async onPrevious() {
        this.state.dateStart = this.state.data.previous_start;
        await this.load();
    }

    async onNext() {
        if (this.state.data.next_start) {
            this.state.dateStart = this.state.data.next_start;
            await this.load();
        }
    }

    onSearch(ev) {
        this.state.search = ev.target.value;
    }

    toggleAll() {
        this.state.showAll = !this.state.showAll;
    }

    onCard(card) {
        this.state.selected = this.state.selected?.code === card.code ? null : card;
    }

    onCardKey(ev, card) {
        if (ev.key === "Enter" || ev.key === " ") {
            ev.preventDefault();
            this.onCard(card);
        }
    }

    closeDetail() {
        this.state.selected = null;
    }

    async openTrend(card) {
        const action = await this.orm.call("crm.kpi.dashboard", "action_open_trend", [
            card.kpi_id,
            this.state.granularity,
            this.state.scopeKey,
        ]);
        await this.actionService.doAction(action);
    }

    async openDrill(card, part) {
        const method = part === "numerator" ? "action_open_numerator" : "action_open_denominator";
        const action = await this.orm.call("crm.kpi.value", method, [[card.value_id]]);
        await this.actionService.doAction(action);
    }

    async openCohort(cell) {
        if (!cell.id) {
            return;
        }
        const action = await this.orm.call("crm.kpi.cohort", "action_open_customers", [
            [cell.id],
        ]);
        await this.actionService.doAction(action);
    }

    async openCohorts() {
        await this.actionService.doAction("crm_success_kpi.crm_kpi_cohort_action");
    }

    async openValue(card) {
        await this.actionService.doAction({
            type: "ir.actions.act_window",
            res_model: "crm.kpi.value",
            res_id: card.value_id,
            views: [[false, "form"]],
            target: "current",
        });
    }
}

registry.category("actions").add("crm_success_kpi.dashboard", CrmKpiDashboard);
