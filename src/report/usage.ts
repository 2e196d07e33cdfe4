/**
 * What each job cost (issue 15): `usage` of a result (CPU time and peak memory from wait4, proc/spawn.ts) as the
 * reports show it — the summary's "heaviest" line, the --report tooltip, JUnit properties. A result whose usage
 * is null (node spawn path, calls, copies, downloads) shows nothing.
 */
import type { JobResult, Usage } from '../kinds/types.js';
import { formatDuration } from '../util/duration.js';
import { formatBytes, printable } from '../util/text.js';
import { redactId } from '../util/redact.js';

/** `CPU 1.20s (user 1.10s, system 100ms), peak 160 MiB`; the peak left out when unknown. */
export function formatUsage(u: Usage): string {
  const cpu = `CPU ${formatDuration(u.userMs + u.systemMs)} (user ${formatDuration(u.userMs)}, system ${formatDuration(u.systemMs)})`;
  return u.maxRssKiB === null ? cpu : `${cpu}, peak ${formatBytes(u.maxRssKiB * 1024)}`;
}

/** Keeps the few finished jobs that used the most CPU time (user + system). */
export class Heaviest {
  readonly jobs: Array<{ id: string; cpuMs: number; usage: Usage }> = [];
  constructor(private readonly keep = 3) {}

  add(r: JobResult): void {
    const u = r.usage;
    if (!u) return;
    const cpuMs = u.userMs + u.systemMs;
    const last = this.jobs[this.jobs.length - 1];
    if (this.jobs.length >= this.keep && last && last.cpuMs >= cpuMs) return;
    this.jobs.push({ id: r.id, cpuMs, usage: u });
    this.jobs.sort((a, b) => b.cpuMs - a.cpuMs);
    if (this.jobs.length > this.keep) this.jobs.pop();
  }
}

/** `  heaviest: a CPU 1.20s, peak 160 MiB, b CPU 300ms` — beside "slowest"; undefined when nothing was measured. */
export function heaviestLine(h: Heaviest | undefined): string | undefined {
  if (!h?.jobs.length) return undefined;
  const list = h.jobs.map(({ id, cpuMs, usage }) => {
    const peak = usage.maxRssKiB === null ? '' : ` peak ${formatBytes(usage.maxRssKiB * 1024)}`;
    return `${printable(redactId(id))} CPU ${formatDuration(cpuMs)}${peak}`;
  });
  return `  heaviest: ${list.join(', ')}`;
}

/** The --report tooltip's note, with the job's usage after what it already says. */
export function noteWithUsage(note: string | undefined, r: JobResult): string | undefined {
  if (!r.usage) return note;
  const u = formatUsage(r.usage);
  return note ? `${note}\n${u}` : u;
}

/** A JUnit testcase's <properties> for its usage ('' when none), indented to sit inside the testcase. */
export function usageProperties(r: JobResult, attr: (s: string) => string): string {
  const u = r.usage;
  if (!u) return '';
  const props: Array<[string, number | null]> = [
    ['usage.userMs', u.userMs],
    ['usage.systemMs', u.systemMs],
    ['usage.maxRssKiB', u.maxRssKiB],
  ];
  const lines = props
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `        <property name="${attr(k)}" value="${attr(String(v))}"/>`);
  return `      <properties>\n${lines.join('\n')}\n      </properties>\n`;
}
