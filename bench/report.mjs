/**
 * Renders bench/results.json as the Markdown tables of BENCHMARKS.md: `node bench/report.mjs`.
 */
import { readFileSync } from 'node:fs';
import { RESULTS } from './lib.mjs';

const doc = JSON.parse(readFileSync(RESULTS, 'utf8'));
const m = doc.machine;
const out = [
  `Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGB} GB, Linux ${m.kernel}, Node ${m.node}, ${m.gnuParallel ?? 'no GNU parallel'}.`,
  '',
];
const order = ['B1', 'B2', 'B2p', 'B3', 'B4', 'B4s', 'B5', 'B6'];
for (const id of order) {
  const b = doc.benchmarks?.[id];
  if (!b) continue;
  const ops = b.rows.some((r) => r.medianOpsPerSec !== undefined);
  out.push(`### ${id} — ${b.title}`, '');
  out.push(
    `${b.mode} mode, ${b.rows[0]?.runs ?? '?'} runs per side (A B A B …), ${b.at.slice(0, 16).replace('T', ' ')} UTC`,
    '',
  );
  out.push(
    `| tool | ${ops ? 'median ops/s' : 'median wall'} | CPU (user+sys) | peak RSS | ratio to ${b.reference ?? '—'} |`,
  );
  out.push('|---|---:|---:|---:|---:|');
  for (const r of b.rows) {
    const fig =
      ops && r.medianOpsPerSec !== undefined ? r.medianOpsPerSec.toLocaleString('en-US') : ms(r.medianWallMs);
    const ratio = r.ratio === null || r.ratio === undefined ? '—' : `${r.ratio.toFixed(2)}×`;
    out.push(
      `| ${r.tool.replaceAll('|', '\\|')}${r.tool === b.reference ? ' (reference)' : ''} | ${fig} | ${ms(r.medianCpuMs)} | ${r.peakRssMB.toFixed(1)} MB | ${ratio} |`,
    );
  }
  out.push('');
  for (const g of b.goals) {
    const v =
      g.value === null || g.value === undefined
        ? 'not measured'
        : g.unit === '×'
          ? `${g.value.toFixed(2)}×`
          : `${Math.round(g.value)} ${g.unit}`;
    out.push(`- goal ${g.goal}: **${v}** — ${g.met ? 'met' : 'missed'}`);
  }
  for (const n of b.notes ?? []) out.push(`- ${n}`);
  out.push('');
}
process.stdout.write(out.join('\n'));

function ms(x) {
  if (x === undefined || x === null || Number.isNaN(x)) return '—';
  return x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${Math.round(x)} ms`;
}
