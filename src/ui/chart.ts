/**
 * A horizontal bar chart in plain HTML and CSS: no script, no external library. Its text is page
 * text at the page's font size, so it stays readable at any width (an SVG scaled into a phone's
 * 390 px shrank its labels to about 6 px); on a narrow screen each label sits above its bar.
 */
import { type Html, html } from "./html.ts";

export interface Bar {
  label: string;
  /** 0 to 1. */
  value: number;
  note: string;
  /** Makes the label a link. */
  href?: string;
}

export function barChart(bars: Bar[], options: { label?: string } = {}): Html {
  return html`<div class="bars" role="img" aria-label="${options.label ?? "completion rate per lesson"}">
${bars.map((bar) => {
  const percent = Math.round(Math.max(0, Math.min(1, bar.value)) * 100);
  return html`<div class="bar-row">
<span class="bar-label">${bar.href ? html`<a href="${bar.href}">${bar.label}</a>` : bar.label}</span>
<span class="bar-track"><span class="bar-fill" style="width: ${percent}%"></span></span>
<span class="bar-value">${percent}% <span class="muted">${bar.note}</span></span>
</div>`;
})}</div>`;
}
