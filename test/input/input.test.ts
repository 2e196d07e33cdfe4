import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import Ajv2020 from 'ajv/dist/2020.js';
import { BIN, ROOT, poolrun, waitFor, useTempDirs } from '../helpers.js';

const temp = useTempDirs();

describe('input formats', () => {
  it('chosen by extension: .json, .jsonl, .ndjson, .txt', async () => {
    const dir = temp();
    const files: Array<[string, string]> = [
      ['a.json', '{ "defaults": { "timeout": "5s" }, "jobs": ["echo json", { "run": ["echo", "argv"] }] }'],
      ['a.jsonl', '{"run": "echo jsonl"}\n\n"echo bare string"\n'],
      ['a.ndjson', '{"run": "echo ndjson"}\n'],
      ['a.txt', '# a comment\necho txt one\n\n   # indented comment\necho txt two\n'],
    ];
    const want = ['json\nargv\n', 'jsonl\nbare string\n', 'ndjson\n', 'txt one\ntxt two\n'];
    for (const [[name, text], out] of files.map((f, i) => [f, want[i]] as const)) {
      writeFileSync(join(dir, name), text);
      const r = await poolrun(['-q', join(dir, name)]);
      expect(r.code, `${name}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toBe(out);
    }
  });

  it('an unknown extension is sniffed; --format overrides both', async () => {
    const dir = temp();
    writeFileSync(join(dir, 'jobs'), '{"run": "echo sniffed jsonl"}\n');
    writeFileSync(join(dir, 'jobs.list'), 'echo sniffed lines\n');
    writeFileSync(join(dir, 'really-jsonl.txt'), '{"run": "echo forced"}\n');
    expect((await poolrun(['-q', join(dir, 'jobs')])).stdout).toBe('sniffed jsonl\n');
    expect((await poolrun(['-q', join(dir, 'jobs.list')])).stdout).toBe('sniffed lines\n');
    expect((await poolrun(['-q', '--format', 'jsonl', join(dir, 'really-jsonl.txt')])).stdout).toBe(
      'forced\n',
    );
    // As lines, the same file is one shell command: `{"run": …}` is not a program.
    expect((await poolrun(['-q', join(dir, 'really-jsonl.txt')])).code).toBe(1);
  });

  it.each([
    ['[ "echo array" ]', 'array\n'],
    [
      '  \n{"run": "echo first line is an object"}\n{"run": "echo so JSONL"}\n',
      'first line is an object\nso JSONL\n',
    ],
    ['{\n  "jobs": ["echo pretty document"]\n}\n', 'pretty document\n'],
    ['{"jobs": ["echo one-line document"]}\n', 'one-line document\n'],
    ['echo plain\n# comment\necho lines\n', 'plain\nlines\n'],
  ])('stdin %j is sniffed by its first non-blank character', async (input, out) => {
    const r = await poolrun(['-q'], { input });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(out);
  });

  it('relative paths: from a job file, its folder; from stdin, the current folder', async () => {
    const dir = temp();
    mkdirSync(join(dir, 'sub'));
    mkdirSync(join(dir, 'here', 'sub'), { recursive: true });
    writeFileSync(join(dir, 'jobs.jsonl'), '{"run": "pwd", "cwd": "sub"}\n');
    expect((await poolrun(['-q', join(dir, 'jobs.jsonl')], { cwd: join(dir, 'here') })).stdout).toBe(
      `${join(dir, 'sub')}\n`,
    );
    const r = await poolrun(['-q', '-'], { cwd: join(dir, 'here'), input: '{"run": "pwd", "cwd": "sub"}\n' });
    expect(r.stdout).toBe(`${join(dir, 'here', 'sub')}\n`);
  });

  it('an empty job file or stdin is an error (exit 2); a job file with only blanks too', async () => {
    const dir = temp();
    writeFileSync(join(dir, 'empty.jsonl'), '');
    const f = await poolrun([join(dir, 'empty.jsonl')]);
    expect(f.code).toBe(2);
    expect(f.stderr).toBe(`poolrun: ${join(dir, 'empty.jsonl')}:1:1: the job file holds no jobs\n`);
    const s = await poolrun([], { input: '\n\n' });
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/^poolrun: <stdin>:1:1: stdin holds no jobs/);
  });
});

describe('streaming', () => {
  /**
   * 200,000 JSONL lines through a pipe: the first job (a shell job that leaves a file) must have run while
   * the test still holds stdin open with half the lines unsent. The other lines are `call`s of a function
   * returning 1, cheap enough to run them all: stdout then holds one `1` per call.
   */
  it('200,000 JSONL lines on a pipe: the first job starts before stdin is closed', async () => {
    const dir = temp();
    const started = join(dir, 'started');
    writeFileSync(join(dir, 'one.mjs'), 'export function one() { return 1; }\n');
    const call = `${JSON.stringify({ call: { module: './one.mjs', export: 'one' } })}\n`;
    const child = execa(process.execPath, [BIN, '-q', '-w', '2', '-'], {
      cwd: dir,
      stdin: 'pipe',
      reject: false,
      env: { NO_COLOR: '1' },
    });
    child.stdin.write(`{"run": "touch ${started}"}\n`);
    child.stdin.write(call.repeat(99_999));
    const startedWhileOpen = await waitFor(() => existsSync(started), 60_000, 50);
    expect(child.stdin.writableEnded).toBe(false);
    child.stdin.end(call.repeat(100_000));
    const r = await child;
    expect(startedWhileOpen).toBe(true);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(r.stdout).toBe('1\n'.repeat(199_999).trimEnd());
  }, 180_000);

  it('stdin redirected from a regular file is checked whole from where it starts, like the file', async () => {
    const dir = temp();
    const file = join(dir, 'jobs.jsonl');
    writeFileSync(
      file,
      `{"run": "echo skipped by head"}\n{"run": "touch ${dir}/ran"}\n{"run": "x", "oops": 1}\n`,
    );
    // head consumes the first line; poolrun reads on from there.
    const r = await execa(
      'sh',
      ['-c', `{ head -n 1 >/dev/null; "$0" "$1" -; } < "$2"`, process.execPath, BIN, file],
      {
        reject: false,
      },
    );
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^poolrun: <stdin>:2:14: jobs\[1\]\.oops: unknown key "oops"/);
    expect(existsSync(join(dir, 'ran'))).toBe(false);
  });

  it('a named pipe is read as it arrives, like stdin', async () => {
    const dir = temp();
    const fifo = join(dir, 'jobs.jsonl');
    await execa('mkfifo', [fifo]);
    const child = execa(process.execPath, [BIN, '-q', fifo], { reject: false });
    const writer = execa('sh', [
      '-c',
      `{ echo '{"run": "echo from fifo"}'; sleep 1; echo '"echo later"'; } > "${fifo}"`,
    ]);
    const [r] = await Promise.all([child, writer]);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(r.stdout).toBe('from fifo\nlater');
  });
});

describe('the schema', () => {
  const schema = JSON.parse(readFileSync(join(ROOT, 'schema', 'jobs.schema.json'), 'utf8')) as object;
  const ajv = new Ajv2020.default({
    allErrors: true,
    strict: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
  });

  it('is a valid draft 2020-12 schema that accepts the example job file', () => {
    const validate = ajv.compile(schema);
    const example = JSON.parse(readFileSync(join(ROOT, 'jobs.example.json'), 'utf8')) as unknown;
    expect(validate(example), JSON.stringify(validate.errors)).toBe(true);
    expect(validate([])).toBe(false);
  });

  it('ships in the package and is exported for editors', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      files: string[];
      exports: Record<string, string>;
    };
    expect(pkg.files).toContain('schema/');
    expect(pkg.exports['./schema/jobs.schema.json']).toBe('./schema/jobs.schema.json');
  });

  it('the validator compiled into dist is the schema: it agrees with ajv on the corpus and on good files', async () => {
    const { readdirSync } = await import('node:fs');
    const { validateFile } = (await import(join(ROOT, 'dist', 'jobs', 'schema-validator.js'))) as {
      validateFile: (v: unknown) => boolean;
    };
    const validate = ajv.compile(schema);
    const corpus = join(ROOT, 'test', 'fixtures', 'bad-jobs');
    let compared = 0;
    for (const f of readdirSync(corpus).filter((x) => x.endsWith('.json') && !x.startsWith('_'))) {
      let doc: unknown;
      try {
        doc = JSON.parse(readFileSync(join(corpus, f), 'utf8')) as unknown;
      } catch {
        continue;
      }
      expect(validateFile(doc), f).toBe(validate(doc));
      compared++;
    }
    expect(compared).toBeGreaterThan(40);
    const example = JSON.parse(readFileSync(join(ROOT, 'jobs.example.json'), 'utf8')) as unknown;
    expect(validateFile(example)).toBe(true);
  });
});

describe('a job file given as <(command)', () => {
  it("its relative paths resolve against the current folder, as stdin's do, not /dev/fd", async () => {
    const dir = temp();
    mkdirSync(join(dir, 'rel'));
    writeFileSync(join(dir, 'rel', 'src.txt'), 'data\n');
    const jobs =
      '{"id":"p","cwd":"rel","run":"pwd"}\n{"id":"c","copy":{"from":"rel/src.txt","to":"rel/x"}}\n';
    const r = await execa('bash', ['-c', `"$0" "$1" -q <(printf %s "$2")`, process.execPath, BIN, jobs], {
      cwd: dir,
      reject: false,
    });
    expect([r.exitCode, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toBe(join(dir, 'rel')); // execa strips the final newline
    expect(readFileSync(join(dir, 'rel', 'x'), 'utf8')).toBe('data\n');
  });
});
