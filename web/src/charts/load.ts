// loadECharts imports the chart library once, on first use.
type Mod = typeof import('./echarts');
let mod: Promise<Mod> | null = null;

export function loadECharts(): Promise<Mod> {
  if (!mod) mod = import('./echarts');
  return mod;
}

/** themeColors reads the chart colours from the page's CSS variables. */
export function themeColors() {
  const cs = getComputedStyle(document.documentElement);
  const v = (n: string, d: string) => cs.getPropertyValue(n).trim() || d;
  return {
    text: v('--text-2', '#555'),
    grid: v('--border', '#ddd'),
    bar: v('--accent', '#c2410c'),
    bg: v('--bg-1', '#fff'),
    danger: v('--danger', '#b42318'),
    palette: [1, 2, 3, 4, 5, 6, 7, 8].map((i) => v(`--chart-${i}`, '#888')),
  };
}

let world: Promise<void> | null = null;

/** loadWorld loads and registers the world map (a chunk of its own). */
export function loadWorld(): Promise<void> {
  if (!world) world = import('./worldmap').then((m) => m.registerWorld());
  return world;
}
