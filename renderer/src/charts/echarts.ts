// Apache ECharts, tree-shaken: only the charts, components and the SVG renderer the pages use. SVG, because it
// prints sharply in the one-page report. Loaded on its own (see loadCharts in EChart.tsx), after the first paint.
import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendPlainComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';

echarts.use([BarChart, LineChart, GridComponent, LegendPlainComponent, TooltipComponent, SVGRenderer]);

export { echarts };
export type { EChartsCoreOption as ChartOption } from 'echarts/core';
