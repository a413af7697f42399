// The parts of Apache ECharts the app uses, loaded on demand (a separate
// chunk, outside the initial bundle).
import * as echarts from 'echarts/core';
import { BarChart, CustomChart, HeatmapChart, LineChart, PieChart, ScatterChart } from 'echarts/charts';
import { GridComponent, TooltipComponent, LegendComponent, DataZoomComponent, MarkAreaComponent, VisualMapComponent, GeoComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([BarChart, CustomChart, LineChart, PieChart, ScatterChart, HeatmapChart, GridComponent, TooltipComponent, LegendComponent, DataZoomComponent, MarkAreaComponent, VisualMapComponent, GeoComponent, CanvasRenderer]);

export { echarts };
export type ECharts = echarts.ECharts;
