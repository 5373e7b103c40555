/**
 * Time-series charts drawn by uPlot (a small, well-kept canvas charting library).
 * Each chart is a figure: the canvas, a caption and a text summary for screen
 * readers; it follows its container's width, so it never widens the page.
 */
import uPlot from "uplot";
import { h } from "./dom";

export interface LineSpec {
  label: string;
  color: string;
  values: Array<number | null>;
  dash?: number[];
}

export interface ChartSpec {
  /** Bucket starts, ms. */
  x: number[];
  series: LineSpec[];
  /** Values are shares 0..1, drawn as 0–100 %. */
  percent?: boolean;
  /** What a screen reader hears instead of the canvas. */
  summary: string;
}

const HEIGHT = 180;

/** Whether bucket starts (ms) span more than a day: then the axis names the day too. */
function spansDays(x: number[]): boolean {
  return (x.at(-1) ?? 0) - (x[0] ?? 0) > 86_400_000;
}

/** Room for the y axis: its longest tick label as drawn (so "100%" is never cut), plus tick and gap. */
function fitLabels(u: uPlot, values: string[] | null, axisIdx: number, cycleNum: number): number {
  const axis = u.axes[axisIdx];
  const previous = (axis as { _size?: number } | undefined)?._size;
  if (cycleNum > 1 && previous !== undefined) return previous;
  const longest = (values ?? []).reduce((a, b) => (b.length > a.length ? b : a), "");
  const font = axis?.font;
  u.ctx.font = Array.isArray(font) ? String(font[0]) : typeof font === "string" ? font : "12px system-ui";
  const text = u.ctx.measureText(longest).width / devicePixelRatio;
  return Math.ceil(text + (axis?.ticks?.size ?? 10) + (axis?.gap ?? 5) + 6);
}

/** The newest index where any series has a value; null when none has. */
function latestIndex(u: uPlot): number | null {
  for (let i = (u.data[0]?.length ?? 0) - 1; i >= 0; i--) {
    if (u.data.slice(1).some((values) => values[i] !== null && values[i] !== undefined)) return i;
  }
  return null;
}

function showLatest(u: uPlot): void {
  if (u.cursor.idx === null || u.cursor.idx === undefined) u.setLegend({ idx: latestIndex(u) ?? undefined });
}

function showLatestWhenAway(u: uPlot): void {
  // The cursor left the plot (uPlot just blanked the legend): back to the newest values.
  if (u.cursor.idx === null || u.cursor.idx === undefined) queueMicrotask(() => showLatest(u));
}

export class TimeChart {
  readonly figure: HTMLElement;
  private readonly canvasBox: HTMLDivElement;
  private readonly summary: HTMLParagraphElement;
  private plot: uPlot | undefined;
  private shape = "";

  constructor(caption: string, id: string) {
    this.canvasBox = h("div", { class: "chart-canvas", role: "img" });
    this.summary = h("p", { class: "sr-only", id: `${id}-summary` });
    this.canvasBox.setAttribute("aria-describedby", `${id}-summary`);
    this.canvasBox.setAttribute("aria-label", caption);
    this.figure = h("figure", { class: "chart", id }, h("figcaption", {}, caption), this.canvasBox, this.summary);
    new ResizeObserver(() => this.fit()).observe(this.canvasBox);
  }

  render(spec: ChartSpec): void {
    this.summary.textContent = spec.summary;
    const data: uPlot.AlignedData = [
      spec.x.map((ms) => ms / 1000),
      ...spec.series.map((s) => s.values.map((v) => (v === null ? null : spec.percent === true ? v * 100 : v))),
    ];
    // Same lines as before: new data only (keeps the legend's state); else a new plot.
    const shape = JSON.stringify([spec.percent === true, spec.series.map((s) => s.label), spansDays(spec.x)]);
    if (this.plot !== undefined && shape === this.shape) {
      this.plot.setData(data);
      return;
    }
    this.plot?.destroy();
    this.shape = shape;
    this.plot = new uPlot(this.options(spec), data, this.canvasBox);
  }

  private options(spec: ChartSpec): uPlot.Options {
    const unit = spec.percent === true ? "%" : "";
    // 24-hour times in the browser's zone; the day too when the range spans days.
    const clock: Intl.DateTimeFormatOptions = spansDays(spec.x)
      ? { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" }
      : { hour: "2-digit", minute: "2-digit" };
    const label = (seconds: number): string => new Date(seconds * 1000).toLocaleString("en-GB", clock);
    return {
      width: this.width(),
      height: HEIGHT,
      cursor: { drag: { x: false, y: false } },
      scales: { y: spec.percent === true ? { range: [0, 100] } : { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      axes: [
        { values: (_u, ticks) => ticks.map(label) },
        {
          size: fitLabels,
          values: (_u, ticks) => ticks.map((t) => `${Number.isInteger(t) ? t : t.toFixed(1)}${unit}`),
        },
      ],
      // Away from the plot the legend shows the newest bucket with data (uPlot's default is "–").
      hooks: { ready: [showLatest], setData: [showLatest], setCursor: [showLatestWhenAway] },
      series: [
        { value: (_u, v) => (v === null || v === undefined ? "–" : label(v)) },
        ...spec.series.map((s): uPlot.Series => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          spanGaps: false,
          points: { size: 5 },
          value: (_u, v) => (v === null || v === undefined ? "–" : `${Number(v.toFixed(1))}${unit}`),
          ...(s.dash === undefined ? {} : { dash: s.dash }),
        })),
      ],
    };
  }

  private width(): number {
    return Math.max(200, Math.floor(this.canvasBox.clientWidth || this.figure.clientWidth || 300));
  }

  private fit(): void {
    if (this.plot !== undefined && Math.abs(this.plot.width - this.width()) > 2) {
      this.plot.setSize({ width: this.width(), height: HEIGHT });
    }
  }
}
