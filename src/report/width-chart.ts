/**
 * `-w auto` in the --report page: the pool's width over the run, as a step line under the header (drawn here, as
 * plain SVG markup: it needs no script). `t` is ms from the start of the run, `w` the width from then on.
 */
export interface WidthSeries {
  t: number[];
  w: number[];
}

const W = 720;
const H = 64;
const PAD = 4;

export function widthFigure(s: WidthSeries): string {
  const min = Math.min(...s.w);
  const max = Math.max(...s.w);
  return min === max ? `${min} (auto)` : `${min}–${max} (auto)`;
}

export function widthChart(s: WidthSeries, axisMs: number, bound: number): string {
  if (!s.t.length) return '';
  const top = Math.max(1, bound, ...s.w);
  const x = (t: number) => (PAD + (Math.max(0, t) / Math.max(1, axisMs)) * (W - 2 * PAD)).toFixed(1);
  const y = (w: number) => (H - PAD - (w / top) * (H - 2 * PAD)).toFixed(1);
  let d = `M${x(s.t[0]!)} ${y(s.w[0]!)}`;
  for (let i = 1; i < s.t.length; i++) d += `H${x(s.t[i]!)}V${y(s.w[i]!)}`;
  d += `H${x(axisMs)}`;
  const steps = s.t.map((t, i) => `${(t / 1000).toFixed(2)}s: ${s.w[i]}`).join(', ');
  return (
    `<figure class="width-chart" data-figure="width-chart" style="margin:4px 0 6px"><figcaption style="color:#5b6470;font-size:11px">pool width over time (-w auto, ` +
    `1 to ${bound})</figcaption><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" ` +
    `aria-label="pool width: ${steps}"><title>${steps}</title>` +
    `<line x1="${PAD}" y1="${H - PAD}" x2="${W - PAD}" y2="${H - PAD}" stroke="#d8dce1"/>` +
    `<path d="${d}" fill="none" stroke="#3b6fd4" stroke-width="1.5"/></svg></figure>`
  );
}
