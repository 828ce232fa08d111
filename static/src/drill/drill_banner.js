import { deserializeDateTime, formatDateTime } from "@web/core/l10n/dates";
import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { formatFloat } from "@web/views/fields/formatters";
import { ListController } from "@web/views/list/list_controller";

/** Whole numbers (counts) without decimals, amounts with two. */
function formatNumber(value) {
    return formatFloat(value, { digits: [false, Number.isInteger(value) ? 0 : 2] });
}

/**
 * The drill-down list of a stored KPI value whose records changed since it
 * was computed: its context carries the stored number, the count now and the
 * time of computation (``crm_kpi_drill``); the list shows them above the
 * records, with a button to compute the period again.
 */
patch(ListController.prototype, {
    get crmKpiDrill() {
        const drill = this.props.context && this.props.context.crm_kpi_drill;
        if (!drill) {
            return null;
        }
        return {
            message: _t(
                "The records changed after this value was computed: its %(part)s was %(stored)s when computed on %(date)s, the records below give %(now)s now.",
                {
                    part: drill.part,
                    stored: formatNumber(drill.stored),
                    now: formatNumber(drill.now),
                    date: drill.computed_at
                        ? formatDateTime(deserializeDateTime(drill.computed_at))
                        : "",
                }
            ),
        };
    },

    async onCrmKpiRecompute() {
        const drill = this.props.context.crm_kpi_drill;
        const action = await this.orm.call("crm.kpi.value", "action_recompute_period", [
            [drill.value_id],
        ]);
        await this.actionService.doAction(action);
    },
});
