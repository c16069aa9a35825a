/** Small uPlot line charts that follow their container's width (phone to desktop). */
import uPlot from 'uplot';

export interface SeriesSpec {
  label: string;
  stroke: string;
  /** Fill the band between this series and the next one (a forecast interval). */
  fill?: string;
  dash?: number[];
  scale?: string;
}

export interface ChartSpec {
  title: string;
  series: SeriesSpec[];
  /** Value formatters per scale (`y` by default). */
  format: Record<string, (v: number) => string>;
  height?: number;
  /** Bands between series indices (1-based, as uPlot counts): the forecast's lower and upper bounds. */
  bands?: { series: [number, number]; fill: string }[];
}

export class LineChart {
  private plot: uPlot | null = null;
  private data: uPlot.AlignedData;
  private readonly observer: ResizeObserver;

  constructor(
    private readonly container: HTMLElement,
    private readonly spec: ChartSpec,
  ) {
    this.data = [[], ...spec.series.map(() => [] as number[])];
    this.observer = new ResizeObserver(() => this.resize());
    this.observer.observe(container);
  }

  /** Replaces the data: x in seconds since the epoch, one array per series (null: a gap). */
  set(xs: number[], ys: (number | null)[][]): void {
    this.data = [xs, ...ys] as uPlot.AlignedData;
    if (!this.plot) this.create();
    else this.plot.setData(this.data);
    // One sample alone would stretch the time axis over years: show the minute before it instead.
    const only = xs.length === 1 ? xs[0] : undefined;
    if (only !== undefined) this.plot?.setScale('x', { min: only - 60, max: only + 5 });
  }

  private width(): number {
    return Math.max(200, Math.floor(this.container.clientWidth));
  }

  private create(): void {
    const scales = [...new Set(this.spec.series.map((s) => s.scale ?? 'y'))];
    const axes: uPlot.Axis[] = [
      { stroke: '#3d444d', grid: { stroke: '#e6e8eb' }, ticks: { stroke: '#d0d7de' } },
      ...scales.map((scale, i) => ({
        scale,
        side: i === 0 ? 3 : 1,
        stroke: '#3d444d',
        grid: { show: i === 0, stroke: '#e6e8eb' },
        size: 72,
        values: (_u: uPlot, ticks: number[]) => ticks.map((t) => (this.spec.format[scale] ?? String)(t)),
      })),
    ];
    const options: uPlot.Options = {
      title: undefined,
      width: this.width(),
      height: this.spec.height ?? 180,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: true },
        ...Object.fromEntries(scales.map((s) => [s, { auto: true }])),
      },
      series: [
        {},
        ...this.spec.series.map((s) => ({
          label: s.label,
          stroke: s.stroke,
          width: 2,
          dash: s.dash,
          scale: s.scale ?? 'y',
          spanGaps: false,
          value: (_u: uPlot, v: number | null) => (v === null ? '—' : (this.spec.format[s.scale ?? 'y'] ?? String)(v)),
        })),
      ],
      bands: this.spec.bands?.map((b) => ({ series: b.series, fill: b.fill })),
      axes,
    };
    this.plot = new uPlot(options, this.data, this.container);
    const canvas = this.container.querySelector('canvas');
    canvas?.setAttribute('role', 'img');
    canvas?.setAttribute('aria-label', this.spec.title);
  }

  private resize(): void {
    if (this.plot) this.plot.setSize({ width: this.width(), height: this.spec.height ?? 180 });
  }
}
