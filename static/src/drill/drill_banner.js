import { deserializeDateTime, formatDateTime } from "@web/core/l10n/dates";
import { patch } from "@web/core/utils/patch";
import { formatFloat } from "@web/views/fields/formatters";
import { ListController } from "@web/views/list/list_controller";

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
            ...drill,
            storedText: formatFloat(drill.stored, { digits: [false, 2] }),
            nowText: formatFloat(drill.now, { digits: [false, 2] }),
            computedText: drill.computed_at
                ? formatDateTime(deserializeDateTime(drill.computed_at))
                : "",
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
