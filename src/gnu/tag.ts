/**
 * --tag and --tagstring: each line a job prints, on stdout and on stderr, starts with the tag and a TAB, as GNU
 * parallel prints it: a line is tagged when its first byte is printed, so output without a final newline has its
 * last line tagged too, and a job that prints nothing prints no tag.
 */
import { UsageError } from '../errors.js';
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
 * A --tagstring's escapes, as GNU parallel's unquote_printf turns them into bytes before it reads the
 * replacement strings, one substitution after another: `\t` `\n` `\r`, then `\ddd` and `\d` as Perl reads
 * them in a double-quoted string (octal, up to 3 octal digits: `\101` is A, `\0` NUL, `\189` is 0x01 then 89;
 * `\8` is 8). Nothing else is an escape (`\\t` is a backslash and a TAB, `\x41` stays). A code past 0xFF (`\400`)
 * makes Perl print the whole text as UTF-8: so does this.
 */
export function unquoteTag(text: string): Buffer {
  let wide = false;
  const octal = (digits: string): string => {
    const m = /^[0-7]{1,3}/.exec(digits);
    if (!m) return digits; // `\8`, `\9`: the digit itself
    const code = parseInt(m[0], 8);
    if (code > 0xff) wide = true;
    return String.fromCharCode(code) + digits.slice(m[0].length);
  };
  const s = Buffer.from(text)
    .toString('latin1')
    .replace(/\\t/g, '\t')
    .replace(/\\n/g, '\n')
    .replace(/\\r/g, '\r')
    .replace(/\\([0-9]{3})/g, (_, d: string) => octal(d))
    .replace(/\\([0-9])/g, (_, d: string) => octal(d));
  return Buffer.from(s, wide ? 'utf8' : 'latin1');
}

/**
 * A --tagstring with GNU's `{= perl =}` (also one its escapes make) is refused, as in the command: exit 2
 * before anything runs.
 */
export function checkTagstring(text: string): void {
  const perl = /\{=[\s\S]*=\}/;
  const at = text.search(perl);
  if (at !== -1 || perl.test(unquoteTag(text).toString('latin1')))
    throw new UsageError(
      `--tagstring: {= … =}${at === -1 ? ' (made by its \\ escapes)' : ` at column ${at + 1}`} is a Perl ` +
        'expression, which poolrun does not run: tag with {} {.} {/} {//} {/.} {n} {#} {%} instead',
    );
}

/** Each --tagstring's bytes, unquoted once. */
const unquoted = new Map<string, Buffer>();

/**
 * The tag of a job: `--tag` is its arguments joined by spaces; `--tagstring STR` is STR with its escapes
 * (unquoteTag) expanded, unquoted (expand-text.ts; with -N, `context`, as GNU's context replace).
 */
export function tagOf(spec: true | string, job: Job, slot: number | null, context = false): Buffer {
  const { values, names } = valuesOf(job);
  let text = spec === true ? undefined : unquoted.get(spec);
  if (spec !== true && text === undefined) unquoted.set(spec, (text = unquoteTag(spec)));
  // poolrun's label on the output, not the job's output: its secrets are masked (util/redact.ts).
  return redactBytes(
    text === undefined
      ? joinSpaced(values)
      : expandText(text, { values, names, seq: job.index + 1, slot, context }),
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
