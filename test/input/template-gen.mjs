/**
 * A differential check of the `--each` template reader against real /bin/sh (dash), shared by
 * test/input/template-sh.test.ts (in the suite) and bench/fuzz-template.mjs (more cases, by hand).
 *
 * Templates come from a small grammar of sh constructs (quotes, `${…}`, `$(…)` with `case` inside, `$((…))`,
 * backquotes, here-documents, comments, line continuations, `$'…'`), nested at random, with `{}` placed by the
 * grammar and also inserted at random characters, and some characters dropped (unclosed constructs). For every
 * template poolrun accepts, sh runs it once with a benign argument (`Zq0Z`) and once per hostile argument. Each
 * argument must arrive as one literal word: the hostile run prints exactly what the benign run printed with
 * `Zq0Z` replaced by the argument's bytes. No payload may run: payloads create files in a marker folder, which
 * must stay empty. Runs are batched: one `/bin/sh` per batch runs each case as `(eval "$c")` in a subshell (the
 * same parser as `sh -c`, without an exec per case).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const BENIGN = 'Zq0Z';

/** A small seeded PRNG (mulberry32), so a failure can be replayed from its seed. */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(next() * n);
  const pick = (xs) => xs[int(xs.length)];
  return { next, int, pick, chance: (p) => next() < p };
}

/** Arguments a hostile folder could hand poolrun. `M` is replaced with the marker folder. */
export function hostileArgs(mark) {
  const t = (n) => `touch ${mark}/p${n}`;
  const text = [
    `$(${t(1)})`,
    `\`${t(2)}\``,
    `'`,
    `"`,
    `;${t(3)}`,
    `\\`,
    `a\nb`,
    `\n${t(4)}\n`,
    `x\n${t(5)} #`,
    `}`,
    `$((1))`,
    `*`,
    `~`,
    `~root`,
    `-rf`,
    `--x=y`,
    `{}`,
    `if`,
    `esac`,
    `fi`,
    `2`,
    `x=1`,
    `#`,
    `# x`,
    `$HOME`,
    '${x:-$(' + t(6) + ')}',
    `a b`,
    `\\\n`,
    `'$(${t(7)})'`,
    `"$(${t(8)})"`,
    `'"\`${t(9)}\`"'`,
    `EOF`,
    `)`,
    `(`,
    `&`,
    `|${t(10)}`,
    `>x`,
    `<<EOF`,
    `\tt`,
    `%s%n`,
    `é`,
  ].map((s) => Buffer.from(s));
  return [
    ...text,
    Buffer.from([0xff, 0xfe]),
    Buffer.concat([Buffer.from(`$(${t(11)})`), Buffer.from([0xc3])]),
    Buffer.from([0x27, 0x80, 0x27]),
  ];
}

/** Text that is printed, never run: probes call `p`, which prints each argument as `<arg>`. */
function word(r) {
  return r.pick(['{}', '{}', 'x{}', '{}y', 'a{}b', 'q=={}', '-{}', '/{}', "'s'{}", '{}"d"', 'lit', '{}{}']);
}

function words(r) {
  const n = 1 + r.int(3);
  return Array.from({ length: n }, () => word(r)).join(' ');
}

const TAGS = ['EOF', 'END', 'X'];

/** A list of commands; `d` bounds the nesting. */
export function list(r, d = 0) {
  const n = 1 + r.int(d > 1 ? 1 : 3);
  const cmds = [];
  for (let k = 0; k < n; k++) cmds.push(command(r, d));
  return cmds.reduce((acc, c, k) => (k === 0 ? c : acc + r.pick([';', '\n', ' && ', ' || ', ';\n']) + c), '');
}

function command(r, d) {
  const leaf = d >= 3;
  const pick = r.int(leaf ? 6 : 25);
  switch (pick) {
    case 0:
    case 1:
      return `p ${words(r)}`;
    case 2:
      return `v=${word(r)}; p "$v"`;
    case 3:
      return `p ${word(r)} # note ${r.pick(['{}', '"', "'", '`', '$(', ''])} ${word(r)}`;
    case 4:
      return `p a\\\n${word(r)} \\\n${word(r)}`;
    case 5:
      return `p ${r.pick([`'in {} sq'`, `"in \\" \\$ {} dq"`, `$'x {} y'`, `"$u{}"`, `\\{}`])} ${word(r)}`;
    case 6:
      return `p "$(${list(r, d + 1)})" ${word(r)}`;
    case 7:
      return `p "\`${r.pick(['p {}', 'printf "%s" \\"q\\"', 'printf %s \\`printf in\\`', "printf '%s' '`'"])}\`" ${word(r)}`;
    case 8:
      return `p ${r.pick(['"${u:-\'a\' "b c" {}}"', "${u:-'a }' {}}", '${#HOME}', '"${#HOME}"', '${HOME#/}', '${u:-"}"}'])} ${word(r)}`;
    case 9:
      return `p $((1 + ${r.pick(['2', '(3) * 2', '{#}', '{}'])})) ${word(r)}`;
    case 10: {
      const tag = r.pick(TAGS);
      const op = r.pick(['<<', '<<-', '<<', "<<'", '<<"']);
      const q = op.endsWith("'") ? "'" : op.endsWith('"') ? '"' : '';
      const body = r.pick([
        'line {}',
        'plain',
        '$(printf sub)',
        '\tindented',
        '"quoted {}"',
        `$(p ${word(r)})`,
      ]);
      return `cat ${op}${tag}${q}\n${body}\n${op === '<<-' ? '\t' : ''}${tag}\np ${word(r)}`;
    }
    case 11:
      return `cat <<A; cat <<B\none {}\nA\ntwo\nB\np ${word(r)}`;
    case 12:
      return `p "$(case ${word(r)} in x) p in-x;; (y|z) p yz;; *) ${list(r, d + 1)};; esac)"`;
    case 13:
      return `case ${word(r)} in ${r.pick(['x', '*{}*', '{}', "'{}'", 'esac'])}) ${list(r, d + 1)};; *) p other;; esac`;
    case 14:
      return `( ${list(r, d + 1)} )`;
    case 15:
      return `{ ${list(r, d + 1)}; }`;
    case 16:
      return `${command(r, d + 1)} | cat`;
    case 17:
      return `if true; then ${list(r, d + 1)}; else p no; fi`;
    case 18:
      return `for f in ${words(r)}; do p "$f"; done`;
    case 19:
      return `p ${word(r)} 1>&1 ${word(r)}`;
    case 20:
      return `p "$(p ${r.pick(['ok', '{}'])})" ${word(r)}`;
    case 21:
      return `p \`printf %s ok\` ${word(r)}`;
    case 22:
      return `p $HOME${word(r)} ~${word(r)} $1${word(r)}`;
    case 23:
      return r.pick([
        `export E=${word(r)}; p "$E"`,
        `eval 'p ok' ${word(r)}`,
        `p "\${u:-$(p ${word(r)})}"`,
        `p $(( $(printf 1) + 1 )) ${word(r)}`,
        `read -r E <<EOF\nline\nEOF\np "$E" ${word(r)}`,
      ]);
    default:
      return `p ${r.pick(['{#}', '{%}', '"{#}"', "'{%}'"])} ${word(r)}`;
  }
}

const NOISE = [
  '{}',
  '{}',
  "'",
  '"',
  '`',
  '\\`',
  '$(',
  ')',
  '(',
  '${',
  '}',
  '$((',
  '))',
  '#',
  '\n',
  '\\',
  '\\\n',
  '<<EOF',
  '<<-EOF',
  "<<'EOF'",
  'EOF',
  '\tEOF',
  ' ',
  ' ',
  ' ',
  ';',
  ';;',
  'case ',
  ' in ',
  'esac',
  'x)',
  '|',
  '&',
  '=',
  '~',
  '$u',
  '$',
  "$'",
  'p ',
  'p ',
  'a',
  'eval ',
  '>',
  '2>&',
  '{#}',
  '{%}',
  '{.}',
  'for ',
  'do ',
  'done',
];

/** A template of sh's special characters and words in random order: most are refused, some are not. */
export function noise(r) {
  const n = 2 + r.int(14);
  let t = 'p ';
  for (let k = 0; k < n; k++) t += r.pick(NOISE);
  return t;
}

/** A template: a list from the grammar, then sometimes a `{}` inserted or a character dropped at random. */
export function template(r) {
  let t = list(r);
  const cuts = r.int(3);
  for (let k = 0; k < cuts; k++) {
    const at = r.int(t.length + 1);
    if (r.chance(0.7)) t = t.slice(0, at) + '{}' + t.slice(at);
    else t = t.slice(0, at) + t.slice(at + 1);
  }
  return t;
}

/** Splits `buf` on `sep`. */
function split(buf, sep) {
  const out = [];
  let from = 0;
  for (;;) {
    const at = buf.indexOf(sep, from);
    if (at === -1) break;
    out.push(buf.subarray(from, at));
    from = at + sep.length;
  }
  out.push(buf.subarray(from));
  return out;
}

/** Equal as sorted lines (jobs started with & may print in any order). */
function sameLines(a, b) {
  const lines = (buf) => buf.toString('latin1').split('\n').sort();
  const x = lines(a);
  const y = lines(b);
  return x.length === y.length && x.every((l, k) => l === y[k]);
}

const single = (s) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Runs `cases` ({ cmd: string }) in one /bin/sh, each in a subshell, in `dir`; returns per case its stdout and
 * whether a marker appeared in `mark` while it ran.
 */
export function runBatch(cases, dir, mark) {
  const sep = `@@${Math.random().toString(36).slice(2)}@@`;
  const lines = [
    // One write per call, so lines of jobs started with & do not mix; lines are compared in sorted order.
    'p() { __o=; for a; do __o="$__o<$a>"; done; printf "%s\\n" "$__o"; }',
    'unset u v',
    `cd ${single(dir)}`,
  ];
  for (const [k, c] of cases.entries()) {
    // Each case in a folder of its own: files one case writes must not be read by the next.
    mkdirSync(join(dir, `c${k}`));
    lines.push(
      // A job started with & may outlive a subshell that stops at an error: | cat waits until it is done too.
      `__c=${single(c.cmd)}; printf '\\n${sep}\\n'; (cd c${k} && eval "$__c"; wait) </dev/null 2>/dev/null` +
        (c.cmd.includes('&') ? ' | cat;' : ';') +
        ` for __f in ${single(mark)}/*; do [ -e "$__f" ] && { printf '\\n${sep}PWNED\\n'; rm -f ${single(mark)}/*; }; break; done`,
    );
  }
  lines.push(`printf '\\n${sep}\\n'`);
  const res = spawnSync('/bin/sh', ['-s'], {
    input: lines.join('\n') + '\n',
    maxBuffer: 1 << 28,
    timeout: 120_000,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/root', POOLRUN_WORKER: '1', LC_ALL: 'C' },
  });
  if (res.error) throw res.error;
  const parts = split(res.stdout, Buffer.from(`\n${sep}\n`)).slice(1);
  return cases.map((_, k) => {
    let out = parts[k] ?? Buffer.alloc(0);
    const at = out.indexOf(Buffer.from(`${sep}PWNED`));
    const pwned = at !== -1;
    if (pwned) out = out.subarray(0, Math.max(0, at - 1));
    return { out, pwned };
  });
}

/**
 * Generates `n` templates from `seed`, compiles each with `compile` (throws on refusal) and runs every accepted
 * one with `expand(template, argBuffer, seq)`. Returns counts and the problems found.
 */
export function differential({
  seed,
  n,
  compile,
  expand,
  work,
  perTemplate = Infinity,
  noisy = 0.2,
  batch = 400,
}) {
  const r = rng(seed);
  const dir = join(work, 'cwd');
  const mark = join(work, 'mark');
  mkdirSync(dir, { recursive: true });
  mkdirSync(mark, { recursive: true });
  const args = hostileArgs(mark);
  const problems = [];
  let accepted = 0;
  let refused = 0;
  let crashed = 0;
  let runs = 0;
  const pending = [];
  const flush = () => {
    const cases = [];
    for (const p of pending) {
      cases.push({ cmd: p.benign });
      for (const h of p.hostile) cases.push({ cmd: h.cmd });
    }
    runs += cases.length;
    const res = runBatch(cases, dir, mark);
    let k = 0;
    for (const p of pending) {
      const base = res[k++];
      if (base.pwned)
        problems.push({ template: p.t, arg: BENIGN, cmd: p.benign, what: 'a payload ran (benign)' });
      for (const h of p.hostile) {
        const got = res[k++];
        if (got.pwned) problems.push({ template: p.t, arg: h.arg, cmd: h.cmd, what: 'a payload ran' });
        else if (h.arg.length > 0) {
          const want = Buffer.concat(
            split(base.out, Buffer.from(BENIGN)).flatMap((piece, i) => (i === 0 ? [piece] : [h.arg, piece])),
          );
          if (!sameLines(want, got.out))
            problems.push({
              template: p.t,
              arg: h.arg,
              cmd: h.cmd,
              what: 'the argument did not arrive as one literal word',
              want: want.toString('latin1'),
              got: got.out.toString('latin1'),
            });
        }
      }
    }
    pending.length = 0;
    for (const f of readdirSync(dir)) rmSync(join(dir, f), { recursive: true, force: true });
  };
  for (let k = 0; k < n; k++) {
    const t = r.chance(noisy) ? noise(r) : template(r);
    let compiled;
    try {
      compiled = compile(t);
    } catch (e) {
      if (e && e.name === 'UsageError') refused++;
      else {
        crashed++;
        problems.push({ template: t, what: `compile threw ${String(e)}` });
      }
      continue;
    }
    accepted++;
    pending.push({
      t,
      benign: expand(compiled, Buffer.from(BENIGN), 1),
      hostile: (perTemplate >= args.length
        ? args
        : Array.from({ length: perTemplate }, () => r.pick(args))
      ).map((arg) => ({ arg, cmd: expand(compiled, arg, 1) })),
    });
    if (pending.length * (args.length + 1) >= batch) flush();
  }
  if (pending.length) flush();
  return { accepted, refused, crashed, runs, problems };
}
