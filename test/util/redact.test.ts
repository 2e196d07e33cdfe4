import { describe, expect, it } from 'vitest';
import { redactText, redactUrl } from '../../src/util/redact.js';
import { malformedUrls } from './malformed-urls.js';

const SECRETS = ['s3cr3t', 'hunter2', 'tok_ABC', 'p@ss:w:rd'];

describe('redactUrl', () => {
  it.each([
    ['redis://:hunter2@127.0.0.1:6379/0', 'redis://:***@127.0.0.1:6379/0'],
    ['redis://alice:hunter2@h:1/2', 'redis://***:***@h:1/2'],
    ['rediss://h:6379/0?password=hunter2', 'rediss://h:6379/0?password=***'],
    [
      'https://h/f.tgz?X-Amz-Signature=tok_ABC&X-Amz-Date=1',
      'https://h/f.tgz?X-Amz-Signature=***&X-Amz-Date=***',
    ],
    ['https://h/f?tok_ABC', 'https://h/f?***'],
    ['https://u:p@ss:w:rd@h/x', 'https://***:***@h/x'],
    ['https://h/x#access_token=tok_ABC', 'https://h/x#***'],
    ['https://h/a/b.tar.gz', 'https://h/a/b.tar.gz'],
    ['http://h/x;password=s3cr3t', 'http://h/x;password=***'],
    ['redis://:pa ss@h', 'redis://:***@h'],
  ])('%s → %s', (input, shown) => {
    expect(redactUrl(input)).toBe(shown);
  });
});

describe('redactText', () => {
  it('masks every URL in a line and secret assignments outside URLs', () => {
    const line =
      "poolrun --queue 'redis://:hunter2@h:6379' jobs.json; curl https://u:s3cr3t@x/y?t=tok_ABC MYSQL_PWD=p@ss:w:rd --password=hunter2";
    const out = redactText(line);
    for (const s of SECRETS) expect(out).not.toContain(s);
    expect(out).toContain('redis://:***@h:6379');
    expect(out).toContain('https://***:***@x/y?t=***');
    expect(out).toContain('MYSQL_PWD=***');
    expect(out).toContain('--password=***');
  });
  it('masks the user and password of a scheme-relative URL as of one with its scheme (and as an id shows it)', () => {
    const cases: Array<[string, string]> = [
      ['echo //u:S8@h/x', 'echo //***:***@h/x'],
      ["curl '//u:S8@h:80/x?t=1'", "curl '//***:***@h:80/x?t=***'"],
      ['x=//:S8@h', 'x=//:***@h'],
      ['(//u:S8@h)', '(//***:***@h)'],
    ];
    for (const [text, shown] of cases) expect(redactText(text)).toBe(shown);
    expect(redactText('echo //h/x a:b@c')).toBe('echo //h/x ***:***@c');
    expect(redactText('ls //srv/share')).toBe('ls //srv/share');
  });
  it('masks secrets given as option values and HTTP credentials written out', () => {
    const cases: Array<[string, string]> = [
      ['mysql --password hunter2 db', 'mysql --password *** db'],
      ["tool --api-key 'tok_ABC' x", 'tool --api-key *** x'],
      ['curl -u alice:s3cr3t https://h/x', 'curl -u alice:*** https://h/x'],
      ['curl --user=alice:s3cr3t h', 'curl --user=alice:*** h'],
      ["curl -H 'Authorization: Bearer tok_ABCDEFGH' h", "curl -H 'Authorization: ***' h"],
      ['Authorization: Basic YWxpY2U6aHVudGVyMg==', 'Authorization: ***'],
      [
        "curl -H 'X-Api-Token: s3cr3t' -H 'Accept: text/plain' h",
        "curl -H 'X-Api-Token: ***' -H 'Accept: text/plain' h",
      ],
      ['curl -H "Cookie: sid=s3cr3t" h', 'curl -H "Cookie: ***" h'],
      ['wget --header=Bearer tok_ABCDEFGH h', 'wget --header=Bearer *** h'],
    ];
    for (const [input, shown] of cases) expect(redactText(input)).toBe(shown);
  });
  it('leaves text with no secret alone', () => {
    for (const s of [
      'echo hi',
      'gzip -k big.log',
      'sort -k2 file',
      'tar -C /tmp -xf a.tgz',
      'ssh -u x',
      'basic usage',
      '',
    ]) {
      expect(redactText(s)).toBe(s);
    }
  });
  it('generated: no query value, user or password of a generated URL survives', () => {
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed % n);
    const alphabet = "abcXYZ019-_.~!$&'()*+,;=:@/?#%[] ";
    const word = () =>
      Array.from({ length: 6 + rnd(8) }, () => alphabet[rnd(alphabet.length)])
        .join('')
        .replace(/[\s]/g, 'q');
    for (let i = 0; i < 2000; i++) {
      const secret = `Z${rnd(1e9)}Q`;
      const forms = [
        `https://user${secret}:${secret}@h.example/${word().replace(/[?#@]/g, '')}`,
        `https://h.example/p?a=${secret}&b=${word().replace(/[#&\s]/g, '')}`,
        `redis://:${secret}@127.0.0.1:6379/0`,
        `redis://h?password=${secret}`,
        `http://h/x#${secret}`,
      ];
      const url = forms[rnd(forms.length)]!;
      expect(redactUrl(url)).not.toContain(secret);
      expect(redactText(`cmd ${url} tail`)).not.toContain(secret);
    }
  });
});

describe('redactText: secret options one after another, and the command around them', () => {
  it('generated: every value is masked; the separators after them stay (/bin/sh ends the word there)', () => {
    // Fresh-eyes probe: `mysql -psecret2 --token tok3` showed tok3 (`-psecret2` read as an option named with a
    // secret word, whose value was `--token`), and `--token tok3; echo next` lost its `;`.
    const firsts = [
      (v: string) => `mysql -p${v}`,
      (v: string) => `mysql -psecret${v}`,
      (v: string) => `tool -ptoken${v}`,
      (v: string) => `tool --password ${v}`,
      (v: string) => `openssl enc -pass ${v}`,
      (v: string) => `tool --token=${v}`,
    ];
    const seconds = ['--token', '--password', '--pass', '-passin', '--api-key', '--client-secret'];
    const seps = [';', ' && ', ' | ', ' || ', '&', ')', '>out', ' ', ';;'];
    let n = 0;
    for (const [i, first] of firsts.entries())
      for (const second of seconds)
        for (const sep of seps) {
          // In a mysql command `-passin` is `-p` and its password (`assin`), masked as such.
          if (first('').startsWith('mysql') && second.startsWith('-p')) continue;
          const a = `AAA${i}x`;
          const b = `BBB${n++}y`;
          const line = `(${first(a)} ${second} ${b}${sep} echo next)`;
          const out = redactText(line);
          // The value of the second option never shows; the first's neither where it is a secret's value.
          expect(out, line).not.toContain(b);
          if (!first('').startsWith('tool -ptoken')) expect(out, line).not.toContain(a);
          // What follows the value is the command as written.
          expect(out.endsWith(`${second} ***${sep} echo next)`), `${line} -> ${out}`).toBe(true);
        }
  });
});

describe('redactUrl of a value that is no valid URL', () => {
  it.each([
    ['http://u:PW@exa mple.com/?t=Q1', 'http://***:***@exa mple.com/?t=***'],
    ['exa mple.com/?t=Q1', 'exa mple.com/?t=***'],
    ['h/?a=Q1&b=Q2#Q3', 'h/?a=***&b=***#***'],
    ['http ://u:PW@h/?t=Q1', 'http ://***:***@h/?t=***'],
    ['http:/h/?t=Q1', 'http:/h/?t=***'],
    ['u:PW@h', '***:***@h'],
    ['http://h:99999/x?t=Q1', 'http://h:99999/x?t=***'],
  ])('%s → %s', (input, shown) => {
    expect(redactUrl(input)).toBe(shown);
  });

  it('generated: no secret of a malformed URL survives', () => {
    for (const { url, secrets } of malformedUrls(3000)) {
      const shown = redactUrl(url);
      for (const secret of secrets) expect(shown, url).not.toContain(secret);
    }
  });
});

describe('redactText of a located problem', () => {
  it('a path ending in a secret-like name is no header: the message stays', () => {
    for (const line of [
      'jobs.json:1:31: jobs[0].env.TOKEN: cannot contain a NUL character',
      'jobs.json:1:9: jobs[0].download.headers.Cookie: expected a string, got a number (5)',
    ])
      expect(redactText(line)).toBe(line);
    expect(redactText("curl -H 'Cookie: sid=s3cr3t' h")).toBe("curl -H 'Cookie: ***' h");
  });
});
