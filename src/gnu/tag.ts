/**
 * --tag and --tagstring: each line a job prints, on stdout and on stderr, starts with the tag and a TAB, as GNU
 * parallel prints it: a line is tagged when its first byte is printed, so output without a final newline has its
 * last line tagged too, and a job that prints nothing prints no tag.
 */
import { applyReplacement } from '../input/replacements.js';
import type { Job } from '../kinds/types.js';
import { valuesOf } from '../input/values.js';

const TAB = 0x09;
const NL = 0x0a;
const SPACE = Buffer.from(' ');

/** Inserts a prefix before the first byte of every line, across as many pieces as the output comes in. */
export class LinePrefixer {
  private atStart = true;
  constructor(private readonly prefix: Buffer) {}

  push(data: Buffer): Buffer {
    if (!data.length) return data;
    const parts: Buffer[] = [];
    let from = 0;
    while (from < data.length) {
      if (this.atStart) parts.push(this.prefix);
      const nl = data.indexOf(NL, from);
      const end = nl === -1 ? data.length : nl + 1;
      parts.push(data.subarray(from, end));
      this.atStart = nl !== -1;
      from = end;
    }
    return Buffer.concat(parts);
  }
}

/** Replacement strings of --tagstring, longest first; `{3.}` and the like are matched by pattern. */
const TOKEN = /\{(\d*)(\/\/|\/\.|\/|\.|#|%|)\}/g;

/** The tag of a job: `--tag` is its arguments joined by spaces; `--tagstring STR` is STR expanded, unquoted. */
export function tagOf(spec: true | string, job: Job, slot: number | null): Buffer {
  const { values } = valuesOf(job);
  const all = (f: (b: Buffer) => Buffer) => joinSpaced(values.map(f));
  if (spec === true) return all((b) => b);
  const parts: Buffer[] = [];
  let last = 0;
  for (const m of spec.matchAll(TOKEN)) {
    const [text, num, op] = m;
    const at = m.index;
    let value: Buffer | undefined;
    if (num === '') {
      if (op === '#') value = Buffer.from(String(job.index + 1));
      else if (op === '%') value = Buffer.from(slot === null ? '' : String(slot));
      else value = all((b) => applyReplacement(kindOf(op!), b));
    } else if (op !== '#' && op !== '%') {
      const n = Number(num);
      const v = n >= 1 ? values[n - 1] : undefined;
      value = v === undefined ? Buffer.alloc(0) : applyReplacement(kindOf(op!), v);
    }
    if (value === undefined) continue;
    parts.push(Buffer.from(spec.slice(last, at)), value);
    last = at + text.length;
  }
  parts.push(Buffer.from(spec.slice(last)));
  return Buffer.concat(parts);
}

function kindOf(op: string): '{}' | '{.}' | '{/}' | '{//}' | '{/.}' {
  return op === '' ? '{}' : (`{${op}}` as '{.}' | '{/}' | '{//}' | '{/.}');
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
