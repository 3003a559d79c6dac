/**
 * The ECharts the statistics screen uses, and no more: bar, line and pie charts with a grid,
 * tooltips and legends, drawn on canvas. Named imports so the build keeps only these; the module
 * is imported on first use (PassChart.vue), never on a first screen.
 */
import { BarChart, LineChart, PieChart } from "echarts/charts";
import { GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import { init, use } from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";

use([BarChart, LineChart, PieChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

export { init };
