// @ts-check
/**
 * The chart specs that run_charts.js makes and chart_view.js views: types only, in a file of
 * their own so that neither of the two imports the other for them.
 */

/**
 * @typedef {import("./line_chart.js").Series} Series
 * @typedef {import("./heatmap.js").HeatmapSpec} HeatmapSpec
 * @typedef {{ id: string, type: "line", title: string, xLabel: string, yLabel: string,
 *   series: Series[], logY?: boolean }} LineSpec
 * @typedef {{ id: string, type: "masks", title: string, panels: HeatmapSpec[] }} MasksSpec
 * @typedef {LineSpec | MasksSpec} ChartSpec
 */

export {};
