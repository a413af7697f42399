// The world map of the map panels: Natural Earth's 1:110m countries
// (world-atlas, public domain) as GeoJSON, registered with ECharts as
// "world". Loaded on demand: only dashboards with a map panel fetch it.
import { feature } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import countries from 'world-atlas/countries-110m.json';
import { echarts } from './echarts';

let registered = false;

export function registerWorld(): void {
  if (registered) return;
  const topo = countries as unknown as Topology<{ countries: GeometryCollection }>;
  const geo = feature(topo, topo.objects.countries);
  // Antarctica takes a lot of room and holds no users.
  const fc = { ...geo, features: geo.features.filter((f) => (f.properties as { name?: string } | null)?.name !== 'Antarctica') };
  echarts.registerMap('world', fc as unknown as Parameters<typeof echarts.registerMap>[1]);
  registered = true;
}
