/**
 * How GNU parallel makes jobs from its input sources, on bytes (pure; input/gnu/source.ts reads the sources).
 *
 *   - every combination of the sources, the first one varying slowest (`::: a b ::: 1 2` → a 1, a 2, b 1, b 2);
 *   - a source given with `:::+`/`::::+` is linked to the one before: their values are taken side by side, as many
 *     as the shorter has (GNU parallel 20221122 does so: `::: a b c :::+ 1 2` → a 1, b 2);
 *   - `--link` links every source, and the shorter ones wrap around to the length of the longest
 *     (`--link ::: a b c ::: 1 2` → a 1, b 2, c 1);
 *   - `-N n`/`-n n`: n combinations make one job's arguments (`{1}`…); a short last group has fewer (a missing
 *     `{n}` is empty); `-N 0` runs once per combination with no argument.
 * A value is one argument, or with `--colsep` the columns of its line: a combination is all its sources' values'
 * columns in order, and `{n}` counts across them.
 */

/** One value of a source: its columns (one, without --colsep). */
export type Value = Buffer[];

export interface Sources {
  /** Each source's values, in order. */
  values: readonly (readonly Value[])[];
  /** linked[k]: source k was given with `:::+`/`::::+` (linked to source k-1). */
  linked: readonly boolean[];
  /** --link: every source linked, the shorter ones wrapping around. */
  linkAll: boolean;
}

const EMPTY_VALUE: readonly Value[] = [[Buffer.alloc(0)]];

/**
 * GNU parallel's handling of an empty source among others (20221122, checked against it): without --link it
 * counts as one empty value (`::: a :::` runs `a ''`), unless every source is empty (nothing runs); with --link
 * an empty source means no job.
 */
function withEmpties(s: Sources): Sources {
  if (s.linkAll || s.values.every((v) => v.length === 0)) return s;
  return { ...s, values: s.values.map((v) => (v.length === 0 ? EMPTY_VALUE : v)) };
}

/** The sources' groups: consecutive linked sources make one. */
function groupsOf(s: Sources): number[][] {
  if (s.linkAll) return [s.values.map((_, k) => k)];
  const groups: number[][] = [];
  s.values.forEach((_, k) => {
    if (k > 0 && s.linked[k]) groups.at(-1)!.push(k);
    else groups.push([k]);
  });
  return groups;
}

function groupLength(s: Sources, g: readonly number[]): number {
  const lengths = g.map((k) => s.values[k]!.length);
  if (lengths.some((n) => n === 0)) return 0;
  return s.linkAll ? Math.max(...lengths) : Math.min(...lengths);
}

/** How many combinations there are. */
export function countCombinations(sources: Sources): number {
  const s = withEmpties(sources);
  if (s.values.length === 0) return 0;
  return groupsOf(s).reduce((n, g) => n * groupLength(s, g), 1);
}

/** Every combination, in GNU parallel's order, as its arguments (the columns of its values, flattened). */
export function* combinations(sources: Sources): Generator<Buffer[]> {
  const s = withEmpties(sources);
  const groups = groupsOf(s);
  const lengths = groups.map((g) => groupLength(s, g));
  if (groups.length === 0 || lengths.some((n) => n === 0)) return;
  const at = groups.map(() => 0);
  for (;;) {
    const args: Buffer[] = [];
    groups.forEach((g, gi) => {
      for (const k of g) {
        const vs = s.values[k]!;
        args.push(...vs[at[gi]! % vs.length]!);
      }
    });
    yield args;
    // The last group varies fastest.
    let gi = groups.length - 1;
    while (gi >= 0 && ++at[gi]! === lengths[gi]) at[gi--] = 0;
    if (gi < 0) return;
  }
}

/** How many jobs `count` combinations make with `perJob` of them each (-N/-n; undefined: one each). */
export function countJobs(count: number, perJob: number | undefined): number {
  return perJob === undefined || perJob === 0 ? count : Math.ceil(count / perJob);
}

/**
 * Each argument's place in its combination (1-based: its source, or column with --colsep), as columnsOf() reads it
 * back from a job's arguments made by perJobArgs: GNU parallel names --results' levels by it (`-N2 ::: a b` is
 * `1/a/1/b`) and --header's names stand for it.
 */
const COLUMNS = Symbol('poolrun.columns');

export function columnsOf(args: readonly Buffer[]): readonly number[] | undefined {
  return (args as { [COLUMNS]?: number[] })[COLUMNS];
}

/** `args` with each one's place in its combination (`cols`), for columnsOf(). */
export function withColumns(args: Buffer[], cols: number[]): Buffer[] {
  return Object.defineProperty(args, COLUMNS, { value: cols, enumerable: false });
}

/** Groups combinations into jobs' arguments: -N/-n n of them each (a short last group is shorter). */
export function* perJobArgs(combos: Iterable<Buffer[]>, perJob: number | undefined): Generator<Buffer[]> {
  if (perJob === undefined) {
    yield* combos;
    return;
  }
  if (perJob === 0) {
    for (const _ of combos) yield [];
    return;
  }
  let job: Buffer[] = [];
  let cols: number[] = [];
  let n = 0;
  const made = () => withColumns(job, cols);
  for (const c of combos) {
    job.push(...c);
    for (let k = 1; k <= c.length; k++) cols.push(k);
    if (++n === perJob) {
      yield made();
      job = [];
      cols = [];
      n = 0;
    }
  }
  if (n > 0) yield made();
}

/**
 * A line's columns for `--colsep`: every field, empty ones too (`,d,,` split at `,` is '', d, '', '' as in GNU
 * parallel), each without the blanks around it (space, TAB, CR, LF, FF, VT), as GNU parallel's --colsep trims
 * them (its `--trim lr`, on by default with --colsep; not `trim`: the TAB split --header implies). A line that is not UTF-8 is split byte by byte (each byte
 * one character), so its bytes reach the command unchanged.
 */
export function splitColumns(line: Buffer, re: RegExp, trim = true): Buffer[] {
  const text = line.toString('utf8');
  const utf8 = Buffer.byteLength(text) === line.length && Buffer.from(text).equals(line);
  const encoding = utf8 ? 'utf8' : 'latin1';
  const fields = perlSplit(utf8 ? text : line.toString('latin1'), re);
  return fields.map((f) =>
    Buffer.from(trim ? f.replace(/^[ \t\n\r\f\v]+|[ \t\n\r\f\v]+$/g, '') : f, encoding),
  );
}

/**
 * Perl's `split /re/, $line, -1` (GNU parallel's): a match must end after the start of the field it ends (so a
 * zero-width match at a field's start does not count, there or at the line's start), a capture group's text is a
 * field too, and the text after the last match is the last field, even empty (`split //` of `ab` is a, b, '';
 * JavaScript's split drops that last one).
 */
export function perlSplit(text: string, re: RegExp): string[] {
  const g = new RegExp(re.source, `${re.flags.replace(/[gy]/g, '')}g`);
  const out: string[] = [];
  let s = 0;
  while (s < text.length) {
    g.lastIndex = s;
    let m = g.exec(text);
    if (m && m.index === s && m[0] === '') {
      g.lastIndex = s + (text.codePointAt(s)! > 0xffff ? 2 : 1);
      m = g.exec(text);
    }
    if (!m) break;
    out.push(text.slice(s, m.index), ...m.slice(1).map((c) => c ?? ''));
    s = m.index + m[0].length;
  }
  out.push(text.slice(s));
  return out;
}
