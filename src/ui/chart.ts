/** A horizontal bar chart as inline SVG: no script, no external library. */
import { type Html, html } from "./html.ts";

export function barChart(
  bars: { label: string; value: number; note: string }[],
  options: { width?: number } = {},
): Html {
  const width = options.width ?? 640;
  const labelWidth = 200;
  const barHeight = 22;
  const gap = 8;
  const height = bars.length * (barHeight + gap) + gap;
  const scale = width - labelWidth - 110;
  return html`<svg viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="completion rate per lesson">
${bars.map((bar, i) => {
  const y = gap + i * (barHeight + gap);
  const length = Math.max(0, Math.min(1, bar.value)) * scale;
  const label = bar.label.length > 30 ? `${bar.label.slice(0, 29)}…` : bar.label;
  return html`<g>
<text x="0" y="${y + 15}">${label}</text>
<rect x="${labelWidth}" y="${y}" width="${scale}" height="${barHeight}" fill="#eef1f6" rx="3"></rect>
<rect x="${labelWidth}" y="${y}" width="${length.toFixed(1)}" height="${barHeight}" fill="#2f5bd3" rx="3"></rect>
<text x="${labelWidth + scale + 8}" y="${y + 15}">${Math.round(bar.value * 100)}% ${bar.note}</text>
</g>`;
})}</svg>`;
}
