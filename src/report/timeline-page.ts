/**
 * The HTML of a --report page: one self-contained file (inline CSS and script, no network). The header is HTML
 * written here, escaped; the timeline is drawn by the page's script from a JSON block — a few SVG paths per lane
 * (one per status), not one element per job, so 10,000 jobs draw in a blink, and tooltips come from hit-testing
 * the data. Job ids and stderr are untrusted text: the JSON block cannot end its <script>, the script puts text in
 * the page only through textContent, and the Content-Security-Policy runs no script but this one (by hash) and
 * loads nothing.
 */
import { widthChart, widthFigure, type WidthSeries } from './width-chart.js';
import { createHash } from 'node:crypto';
import type { Summary } from './types.js';
import { TIMELINE_SCRIPT } from './timeline-script.js';
import { formatDuration } from '../util/duration.js';
import { wellFormedJson } from '../util/json.js';

/** What the page's script draws from. Attempts are columns (one array per field): compact, quick to parse. */
export interface TimelineData {
  v: 1;
  wallMs: number;
  /** The time axis: the wall time, or the end of the last attempt if that is later. */
  axisMs: number;
  statuses: string[];
  /** Lane labels, top to bottom, and the worker slot of each. */
  lanes: string[];
  laneWorkers: number[];
  jobs: { id: string[]; index: number[] };
  a: {
    /** Position in `jobs`. */
    job: number[];
    /** Position in `lanes`. */
    lane: number[];
    /** ms from the start of the run. */
    start: number[];
    dur: number[];
    /** Position in `statuses`. */
    st: number[];
    /** Attempt number, 1-based. */
    n: number[];
    exit: Array<number | null>;
    sig: Array<string | null>;
    /** Position in `texts`: why the attempt ended, when its exit status does not say (-1: nothing to say). */
    note: number[];
    /** Position in `texts` of its stderr tail; -1 none, -2 not kept (the report's stderr budget was spent). */
    tail: number[];
  };
  texts: string[];
  /** -w auto: the pool's width from each time on (ms from the start). */
  width?: WidthSeries;
}

export interface TimelineHeader {
  command: string;
  summary: string;
  source: string;
  mode: string;
  workers: number;
  startedAt: number;
  wallMs: number;
  busyMs: number;
  utilisation: number;
  summaryCounts: Summary;
  notStarted: number;
  tailsDropped: number;
}

/** Bar colours. Light enough for dark label text; distinct in hue and lightness. */
export const STATUS_COLORS: Record<string, string> = {
  succeeded: '#5cb87a',
  failed: '#e0574c',
  'timed-out': '#f0a83a',
  cancelled: '#a3a9b1',
  retried: '#c4a3e0',
};

const LEGEND: Record<string, string> = {
  succeeded: 'succeeded',
  failed: 'failed',
  'timed-out': 'timed out',
  cancelled: 'cancelled (killed)',
  retried: 'attempt retried',
};

export function htmlEscape(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** JSON that can sit in a <script> element: no `<`, `>` or `&` (so no `</script>`), no line separators. */
export function scriptJson(value: unknown): string {
  return wellFormedJson(JSON.stringify(value)).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export function timelinePage(data: TimelineData, h: TimelineHeader): string {
  const hash = createHash('sha256').update(TIMELINE_SCRIPT).digest('base64');
  const csp = `default-src 'none'; script-src 'sha256-${hash}'; style-src 'unsafe-inline'`;
  const counts = new Map<number, number>();
  for (const s of data.a.st) counts.set(s, (counts.get(s) ?? 0) + 1);
  const legend = data.statuses
    .map(
      (s, i) =>
        `<li data-status="${s}"><span class="sw st-${s}"></span>${LEGEND[s] ?? s} <b>${counts.get(i) ?? 0}</b></li>`,
    )
    .join('');
  const c = h.summaryCounts;
  const figure = (name: string, label: string, value: string, title?: string) =>
    `<div><dt>${label}</dt><dd data-figure="${name}"${title ? ` title="${htmlEscape(title)}"` : ''}>${htmlEscape(value)}</dd></div>`;
  const figures = [
    figure('jobs', 'jobs', String(c.total)),
    figure('mode', 'mode', h.mode),
    figure('workers', 'workers', String(h.workers)),
    ...(data.width?.t.length ? [figure('width', 'width', widthFigure(data.width))] : []),
    figure('wall', 'wall time', formatDuration(h.wallMs)),
    figure(
      'utilisation',
      'utilisation',
      `${(h.utilisation * 100).toFixed(1)}%`,
      `busy ${formatDuration(h.busyMs)} of ${h.workers} × ${formatDuration(h.wallMs)}`,
    ),
    figure('busy', 'busy time', formatDuration(h.busyMs)),
    figure(
      'started',
      'started',
      new Date(h.startedAt)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, ' UTC'),
    ),
    figure('source', 'input', h.source),
  ].join('');
  const notes: string[] = [];
  if (h.notStarted) notes.push(`${h.notStarted} job(s) never started: they have no bar.`);
  if (h.tailsDropped)
    notes.push(`The stderr of ${h.tailsDropped} attempt(s) is not shown: the report keeps a bounded amount.`);
  const title = `poolrun: ${h.source}: ${h.summary}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="poolrun">
<title>${htmlEscape(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>poolrun <span>run report</span></h1>
<pre class="cmd" data-figure="command">${htmlEscape(h.command)}</pre>
<p class="summary" data-figure="summary">${htmlEscape(h.summary)}</p>
<dl class="figures">${figures}</dl>
<ul class="legend">${legend}</ul>
${data.width ? widthChart(data.width, data.axisMs, h.workers) : ''}
${notes.map((n) => `<p class="note">${htmlEscape(n)}</p>`).join('\n')}
</header>
<main>
<div class="toolbar"><button type="button" id="zoom-out" title="zoom out (-)">−</button><button type="button" id="zoom-fit" title="whole run (0)">fit</button><button type="button" id="zoom-in" title="zoom in (+)">+</button><span class="hint">one lane per worker; hover a bar for its job</span></div>
<div class="timeline"><div id="lane-labels"></div><div id="scroller"><svg id="chart" role="img" aria-label="timeline of job attempts per worker"></svg></div></div>
<div id="tip" role="tooltip" hidden></div>
<noscript><p class="note">The timeline needs JavaScript; the figures above do not.</p></noscript>
</main>
<script type="application/json" id="poolrun-data">${scriptJson(data)}</script>
<script>${TIMELINE_SCRIPT}</script>
</body>
</html>
`;
}

const STYLE = `
:root { color-scheme: light; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2129; }
body { margin: 0; padding: 16px 20px 24px; background: #fafbfc; }
h1 { font-size: 18px; margin: 0 0 8px; } h1 span { font-weight: 400; color: #5b6470; }
.cmd { margin: 0 0 6px; padding: 6px 8px; background: #eef0f3; border-radius: 4px; white-space: pre-wrap;
  word-break: break-all; font: 12px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; }
.summary { margin: 0 0 8px; font-weight: 600; }
.figures { display: flex; flex-wrap: wrap; gap: 4px 22px; margin: 0 0 8px; }
.figures div { display: flex; flex-direction: column; } .figures dt { color: #5b6470; font-size: 11px; }
.figures dd { margin: 0; font-weight: 600; font-variant-numeric: tabular-nums; }
.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 4px 16px; padding: 0; margin: 0 0 6px; }
.legend li { display: flex; align-items: center; gap: 5px; } .legend b { font-weight: 600; }
.sw { display: inline-block; width: 14px; height: 10px; border-radius: 2px; }
.note { margin: 2px 0; color: #5b6470; }
.toolbar { display: flex; align-items: center; gap: 4px; margin: 10px 0 4px; }
.toolbar button { min-width: 32px; padding: 2px 8px; border: 1px solid #c5cad1; background: #fff; border-radius: 4px;
  font: inherit; cursor: pointer; } .toolbar .hint { margin-left: 10px; color: #5b6470; }
.timeline { display: flex; border: 1px solid #d8dce1; background: #fff; border-radius: 4px; }
#lane-labels { flex: none; border-right: 1px solid #d8dce1; font-size: 12px; }
#lane-labels div { height: 22px; line-height: 22px; padding: 0 8px; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; max-width: 240px; } #lane-labels div:nth-child(even) { background: #f3f5f7; }
#lane-labels .u { color: #5b6470; font-variant-numeric: tabular-nums; margin-left: 6px; }
#scroller { flex: 1; overflow-x: auto; overflow-y: hidden; min-width: 0; }
#chart { display: block; }
#chart .lane { fill: #fff; } #chart .lane.shade { fill: #f3f5f7; }
#chart .grid { stroke: #e3e6ea; stroke-width: 1; } #chart .tick { fill: #5b6470; font-size: 11px; }
#chart .hl { fill: none; stroke: #1d2129; stroke-width: 1.5; pointer-events: none; }
#chart .label { fill: #1d2129; font: 11px system-ui, -apple-system, "Segoe UI", sans-serif; pointer-events: none; }
${Object.entries(STATUS_COLORS)
  .map(([s, c]) => `.st-${s} { fill: ${c}; background: ${c}; }`)
  .join('\n')}
#tip { position: fixed; z-index: 10; max-width: 560px; padding: 8px 10px; background: #fff; border: 1px solid #c5cad1;
  border-radius: 4px; box-shadow: 0 2px 10px rgba(0,0,0,.15); pointer-events: none; font-size: 12px; }
#tip strong { display: block; word-break: break-all; } #tip .muted { color: #5b6470; }
#tip pre { margin: 6px 0 0; padding: 6px; background: #f3f5f7; max-height: 220px; overflow: hidden;
  white-space: pre-wrap; word-break: break-all; font: 11px/1.35 ui-monospace, "DejaVu Sans Mono", monospace; }
`;
