/**
 * The `--each` template reader (src/input/template/), on its own: where a replacement string may stand, which
 * templates are refused and at which line and column, and how values are written into the command.
 */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { compileTemplate, expandTemplate } from '../../src/input/template/index.js';
import { REPLACEMENTS } from '../../src/input/replacements.js';

/** `line L, column C` or `column C`, as the messages say, for index `at` of `t`. */
function where(t: string, at: number): string {
  const before = t.slice(0, at);
  const col = at - (before.lastIndexOf('\n') + 1) + 1;
  return t.includes('\n') ? `line ${before.split('\n').length}, column ${col}` : `column ${col}`;
}

function refusal(t: string): string {
  try {
    compileTemplate(t);
  } catch (e) {
    expect(e, t).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error(`accepted: ${JSON.stringify(t)}`);
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Places where a value would not be one literal word; `R` is where the replacement string goes. */
const NOT_PLAIN = [
  "echo 'R'",
  "echo 'a R b'",
  'echo "R"',
  'echo "x \\" R"',
  "echo $'R'",
  'echo ${x:-R}',
  'echo "${x:-R}"',
  "echo ${x:-'a' R}",
  'echo ${#x}${x#R}',
  'echo "${x:-"R"}"',
  'echo $((1 + R))',
  'echo $(( (R) ))',
  'echo $(( "R" ))',
  'echo $(( 1 + "x R" ))',
  'echo ${x:+"R"}',
  'echo `echo R`',
  'echo "`echo R`"',
  'echo `echo \\`echo R\\``',
  'cat <<EOF\nR\nEOF',
  'cat <<-EOF\n\tR\n\tEOF',
  "cat <<'EOF'\nR\nEOF",
  'cat <<A; cat <<B\nx\nA\nR\nB',
  'cat <<A\nx $(echo R) y\nA',
  'echo x # R',
  'echo x #R',
  '# R\necho hi',
  'echo a \\\n# R',
  'cat <<R\nx\nR',
  'echo 2>&R',
  'for R in a; do echo; done',
  'eval R',
  'eval echo R',
  'trap R EXIT',
  'alias x=R',
  'command eval R',
  'command -p eval R',
  '"eval" R',
  '\\eval R',
  "e''val R",
  'ev"a"l R',
  'exec R',
  'exec eval R',
  'command -p R',
  '"export" R',
  'export R',
  'readonly R=1',
  'f() { local R; }',
  'unset -v R',
  'read -r R </dev/null',
  'R x',
  'R=1 echo',
  'x=1 eR x',
  'command R x',
  'echo "$(R)"',
  'if R; then :; fi',
  'eval "$(printf %s R)"',
  'eval x $(echo R)',
  'export "$(echo R)"',
  'echo ${x:-$(echo R)}',
  'echo $(( $(echo R) + 1 ))',
  'echo `echo $(echo R)`',
  'cat <<EOF\n$(echo R)\nEOF',
  'echo "$(echo \'R\')"',
  'echo ${#HOME} "x\n} R"',
  'echo "$(case x in x) echo \'R\';; esac)"',
  'echo "$(case x in (x|y) echo "R";; esac)"',
  'echo ${x:-$(echo "R")}',
  // A $(…) that makes the command's name: its output would (fresh-eyes probe: `$(echo {})` ran the value).
  '$(echo R)',
  '"$(echo R)" x',
  './$(echo R)',
  '/bin/$(echo R) x',
  'x$(echo R)',
  'command $(echo R)',
  '$(echo $(echo R))',
  '> f $(echo R) x',
  'if $(echo R); then :; fi',
  'true | "$(printf %s R)"',
];

describe('a replacement string is refused wherever it is not a plain word, with its line and column', () => {
  const cases = NOT_PLAIN.flatMap((shape) =>
    REPLACEMENTS.map((r) => [shape.replace('R', r), shape.indexOf('R'), r] as const),
  );
  it.each(cases)('%j', (t, at, r) => {
    expect(refusal(t)).toMatch(new RegExp(`^--each: ${esc(r)} at ${where(t, at)} `));
  });

  it('a $(…) holding a value stays allowed where its output is an argument or a variable', () => {
    const x = (t: string) => expandTemplate(compileTemplate(t), Buffer.from('a b'), 1);
    expect(x('echo $(echo {})')).toBe("echo $(echo 'a b')");
    expect(x('v=$(echo {}) env')).toBe("v=$(echo 'a b') env");
    expect(x('"$(echo x)" {}')).toBe('"$(echo x)" \'a b\'');
    expect(x('> "$(echo {})" echo')).toBe('> "$(echo \'a b\')" echo');
    // Quoted, a $(…) is one word; with a path before it, the name is a file's (a review found these refused).
    expect(x('./"$(basename {} .c)"')).toBe('./"$(basename \'a b\' .c)"');
    expect(x('"./$(basename {}).sh" x')).toBe('"./$(basename \'a b\').sh" x');
  });

  it('the examples from the issue', () => {
    expect(refusal('echo ${#HOME} "x\n} {}"')).toMatch(/\{\} at line 2, column 3 is inside "…" quotes/);
    expect(refusal("echo 'x")).toMatch(/at column 6: this ' is never closed/);
  });
});

/**
 * A redirection before the command, with its file descriptor's number (`2>/dev/null eval …`): the digits are
 * part of the redirection (sh's IO_NUMBER), so the command's name is still to come and is checked as without it.
 */
describe('a redirection with a file descriptor number before the command changes nothing of the above', () => {
  const prefixes = ['2>/dev/null ', '1>&2 ', '2>&- ', '0<&0 ', '3<>/dev/null ', '10>/dev/null ', 'x=1 2>&1 '];
  const shapes = NOT_PLAIN.filter((t) => !/^(for |if |f\(\)|#|R=)/.test(t));
  const cases = shapes.flatMap((shape, k) => {
    const p = prefixes[k % prefixes.length]!;
    return REPLACEMENTS.map((r) => [p + shape.replace('R', r), p.length + shape.indexOf('R'), r] as const);
  });
  it.each(cases)('%j', (t, at, r) => {
    expect(refusal(t)).toMatch(new RegExp(`^--each: ${esc(r)} at ${where(t, at)} `));
  });

  it("GNU parallel's {= perl =} is refused in --each as in the command form (it ran as text)", () => {
    expect(refusal('echo {= 1 =} x')).toMatch(/^--each: \{= … =\} at column 6 is a Perl expression/);
    expect(refusal('echo {=uc=}')).toMatch(/is a Perl expression, which poolrun does not run/);
    expect(refusal('echo a;\n  f {= s/x/y/ =}')).toMatch(/at line 2, column 5 is a Perl expression/);
  });

  it('in a list and after command, too; a word that only ends in digits is a word', () => {
    for (const t of ['echo a; 2>&1 eval {}', 'true && 2>/dev/null trap {} EXIT', '2>&1 command eval {}'])
      expect(refusal(t)).toMatch(/is an argument of eval, trap or alias/);
    expect(refusal('2>&1 {} x')).toMatch(/would be the name of the command to run/);
    const x = (t: string) => expandTemplate(compileTemplate(t), Buffer.from('a b'), 1);
    expect(x('2>/dev/null echo {}')).toBe("2>/dev/null echo 'a b'");
    expect(x('echo a2>f {}')).toBe("echo a2>f 'a b'");
    expect(x('echo {} 2>&1')).toBe("echo 'a b' 2>&1");
  });
});

/** Constructs sh would not read to their end; `^` marks the opener the message must point at. */
const UNCLOSED = [
  "echo ^'x",
  'echo ^"x',
  'echo ^"x \\"',
  'echo ^`x',
  'echo ^`x \\`',
  'echo ^$(x',
  'echo ^$(case x in x) echo;; esac',
  'echo ^$((1 + 2)',
  'echo ^${x',
  'echo ^${x:-y',
  'echo "$(echo ^\'x)"',
  'cat ^<<EOF\nx',
  'cat ^<<EOF\nx\n EOF',
  'cat ^<<-EOF\nx\n  EOF',
  'cat ^<<EOF',
  'echo $(cat ^<<EOF)\nx\nEOF',
];

describe('a template sh would not read to its end is refused at the opener, with or without {}', () => {
  const cases = UNCLOSED.flatMap((shape) =>
    ['', 'a\n', 'x=1; y=2\necho ok\n'].flatMap((before) =>
      ['', ' {}'].map((after) => {
        const t = before + shape.replace('^', '') + after;
        return [t, before.length + shape.indexOf('^')] as const;
      }),
    ),
  );
  it.each(cases)('%j', (t, at) => {
    // With a {} after the opener, the {} inside the unclosed construct may be what is named.
    const slot = t.endsWith(' {}') ? `|\\{\\} at ${where(t, t.length - 2)} ` : '';
    expect(refusal(t)).toMatch(new RegExp(`^--each: ((\\{\\} )?at ${where(t, at)}[: ]${slot})`));
  });

  it('a NUL, an empty command, and nesting too deep for a stack are usage errors', () => {
    expect(refusal('echo \0 {}')).toMatch(/NUL/);
    expect(refusal('  ')).toMatch(/expected a command/);
    for (const open of ['$(', '${x:-', '"$(', '$((', '( ']) {
      const close = { '$(': ')', '${x:-': '}', '"$(': ')"', '$((': '))', '( ': ' )' }[open]!;
      const t = `echo ${open.repeat(20_000)}x${close.repeat(20_000)} {}`;
      if (open === '( ') expect(() => compileTemplate(t)).not.toThrow(RangeError);
      else expect(refusal(t)).toMatch(/nested more than \d+ levels deep/);
    }
  });
});

describe('without a replacement string, the appended argument must land in a plain argument word', () => {
  it.each([
    'echo hi\n',
    'echo hi;',
    'echo a &&',
    'echo a |',
    'X=1',
    '!',
    'echo hi # note',
    'cat <<EOF\nx\nEOF',
    'echo \\',
    'eval',
    'export',
    'trap',
  ])('%j is refused, the end of the command named', (t) => {
    expect(refusal(t)).toMatch(
      new RegExp(`^--each: at ${where(t, t.length)}: the argument, appended after the command`),
    );
  });

  it.each(['gzip', 'env X=1', 'echo a;echo', 'cat <<EOF\nx\nEOF\necho', 'echo "$(date)"'])(
    '%j appends',
    (t) => {
      expect(expandTemplate(compileTemplate(t), Buffer.from('a b'), 1)).toBe(`${t} 'a b'`);
    },
  );
});

describe('values in plain words are accepted, each one quoted word', () => {
  const v = Buffer.from('a b');
  it.each([
    ['echo {}', "echo 'a b'"],
    ['x={}; echo "$x"', 'x=\'a b\'; echo "$x"'],
    ['echo {} >{}.out', "echo 'a b' >'a b'.out"],
    ['echo "$(printf %s {})"', 'echo "$(printf %s \'a b\')"'],
    ['echo $(printf %s {})', "echo $(printf %s 'a b')"],
    ['echo ${#HOME} {}', "echo ${#HOME} 'a b'"],
    ['echo x#{}', "echo x#'a b'"],
    ['cat <<EOF\nhi {\nEOF\necho {}', "cat <<EOF\nhi {\nEOF\necho 'a b'"],
    ['cat <<-EOF\n\thi\n\tEOF\necho {}', "cat <<-EOF\n\thi\n\tEOF\necho 'a b'"],
    ['cat <<A; cat <<B\n1\nA\n2\nB\necho {}', "cat <<A; cat <<B\n1\nA\n2\nB\necho 'a b'"],
    ['echo a \\\n{}', "echo a \\\n'a b'"],
    ['case {} in *) echo {};; esac', "case 'a b' in *) echo 'a b';; esac"],
    ['echo "$(case x in x) echo {};; esac)"', 'echo "$(case x in x) echo \'a b\';; esac)"'],
    ['echo `echo hi` {}', "echo `echo hi` 'a b'"],
    ['echo "${x:-"}"}" {}', 'echo "${x:-"}"}" \'a b\''],
    ['# {note}\necho {}', "# {note}\necho 'a b'"],
    ['echo \\{}', "echo \\{} 'a b'"],
    ['echo', "echo 'a b'"],
    ['export X={} Y=1; read -r Z <{}', "export X='a b' Y=1; read -r Z <'a b'"],
    ['command -v {}', "command -v 'a b'"],
    ['export X="$(basename {})"', 'export X="$(basename \'a b\')"'],
    ['f() { echo "$1"; }; f {}', 'f() { echo "$1"; }; f \'a b\''],
    ['echo "$(f() { echo x; }; f)" {}', 'echo "$(f() { echo x; }; f)" \'a b\''],
  ])('%j', (t, want) => {
    expect(expandTemplate(compileTemplate(t), v, 1)).toBe(want);
  });

  it('a safe value stays bare, unless a bare word would mean more than its text there', () => {
    const x = (t: string, arg = 'ab') => expandTemplate(compileTemplate(t), Buffer.from(arg), 7);
    expect(x('echo {} {.}.bak')).toBe('echo ab ab.bak');
    expect(x('echo $HOME{}')).toBe("echo $HOME'ab'");
    expect(x('echo ~{}')).toBe("echo ~'ab'");
    expect(x('echo {}>f')).toBe("echo 'ab'>f");
    expect(x('echo {#}>f')).toBe("echo '7'>f");
    expect(x('./{} x')).toBe("./'ab' x");
    expect(x('x=1 /bin/{} x')).toBe("x=1 /bin/'ab' x");
    expect(x('case x in {}) ;; esac')).toBe("case x in 'ab') ;; esac");
    // A reserved word as an argument is only a word, also in a for list (GNU parallel leaves it bare); in a case
    // pattern, where sh reads `esac`, it is quoted.
    for (const word of ['if', 'fi', 'esac', 'done', 'do', 'then', 'for', 'in']) {
      expect(x('echo {}', word)).toBe(`echo ${word}`);
      expect(x('for v in {}; do echo $v; done', word)).toBe(`for v in ${word}; do echo $v; done`);
      expect(x('case x in {}) ;; esac', word)).toBe(`case x in '${word}') ;; esac`);
    }
    expect(x('echo {}=z w={}')).toBe('echo ab=z w=ab');
    expect(x('echo {#} {%}')).toBe('echo 7 "$POOLRUN_WORKER"');
  });
});
