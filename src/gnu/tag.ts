/**
 * --tag and --tagstring: each line a job prints, on stdout and on stderr, starts with the tag and a TAB, as GNU
 * parallel prints it: a line is tagged when its first byte is printed, so output without a final newline has its
 * last line tagged too, and a job that prints nothing prints no tag.
 */
import type { Job } from '../kinds/types.js';
import { valuesOf } from '../input/values.js';
import { expandText } from './expand-text.js';
import { redactBytes } from '../util/redact.js';

const TAB = 0x09;
const NL = 0x0a;
const CR = 0x0d;
const SPACE = Buffer.from(' ');

/** Inserts a prefix before the first byte of every line (ended by LF or CR), across pieces of output. */
export class LinePrefixer {
  private atStart = true;
  constructor(private readonly prefix: Buffer) {}

  push(data: Buffer): Buffer {
    if (!data.length) return data;
    const parts: Buffer[] = [];
    let from = 0;
    // A line ends at LF or at CR: GNU parallel tags after a CR too (`a\rb` is `T\ta\rT\tb`). Each is searched
    // again only once passed, so output without CR costs one extra search.
    let lf = -2;
    let cr = -2;
    while (from < data.length) {
      if (this.atStart) parts.push(this.prefix);
      if (lf !== -1 && lf < from) lf = data.indexOf(NL, from);
      if (cr !== -1 && cr < from) cr = data.indexOf(CR, from);
      const nl = lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr);
      const end = nl === -1 ? data.length : nl + 1;
      parts.push(data.subarray(from, end));
      this.atStart = nl !== -1;
      from = end;
    }
    return Buffer.concat(parts);
  }
}

/**
 * The tag of a job: `--tag` is its arguments joined by spaces; `--tagstring STR` is STR expanded, unquoted
 * (expand-text.ts; with -N, `context`, as GNU's context replace).
 */
export function tagOf(spec: true | string, job: Job, slot: number | null, context = false): Buffer {
  const { values, names } = valuesOf(job);
  // poolrun's label on the output, not the job's output: its secrets are masked (util/redact.ts).
  return redactBytes(
    spec === true
      ? joinSpaced(values)
      : expandText(spec, { values, names, seq: job.index + 1, slot, context }),
  );
}

function joinSpaced(parts: Buffer[]): Buffer {
  const out: Buffer[] = [];
  parts.forEach((p, i) => {
    if (i) out.push(SPACE);
    out.push(p);
  });
  return Buffer.concat(out);
}

export function withTab(tag: Buffer): Buffer {
  return Buffer.concat([tag, Buffer.from([TAB])]);
}

/**
 * A `--dry-run` line as GNU parallel prints it with --tag/--tagstring: every line of it tagged (`{%}` is 1: no
 * job has a slot yet). Without a tag, the text as it is.
 */
export function tagDryRun(
  g: { tag?: true | string; context?: boolean } | undefined,
  job: Job,
  text: string,
): string | Buffer {
  if (g?.tag === undefined) return text;
  return new LinePrefixer(withTab(tagOf(g.tag, job, 1, g.context === true))).push(Buffer.from(text));
}
