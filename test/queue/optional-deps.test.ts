/**
 * Dependencies that earn their place: bullmq and ioredis are optional (only --queue and `poolrun worker` load
 * them), ajv is a build-time tool, p-limit is gone. Checked on a copy of the package (bin/, dist/, package.json,
 * schema/) whose node_modules holds only symbolic links to some of the shared node_modules' packages, as
 * `npm install --omit=optional` (and no dev dependencies) would leave it: the shared node_modules is never touched.
 */
import { execa } from 'execa';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_TIMEOUT_MS, ROOT, track, useTempDirs, writeJobs, type CliResult } from '../helpers.js';

const INSTALL = 'npm install bullmq@6 ioredis@6';
const NO_TRACE = /internal error|\n\s+at .*\(|Cannot find package/;

interface LockEntry {
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
}
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, LockEntry>;
};
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** The packages `npm ci --omit=dev --omit=optional` installs, as the lock file says: top-level names. */
function requiredRuntimePackages(): string[] {
  return Object.entries(lock.packages)
    .filter(([path]) => path.startsWith('node_modules/') && !path.slice(13).includes('node_modules/'))
    .filter(([, e]) => !e.dev && !e.optional && !e.devOptional)
    .map(([path]) => path.slice(13));
}

const tempDirs = useTempDirs();

/** The package copied into a temp folder, with node_modules holding links to `packages` only. */
function installedCopy(packages: string[]): string {
  const dir = tempDirs();
  // native/: the spawn addon, as an install has it (CI forces POOLRUN_SPAWN=native on one of its two runs).
  for (const part of ['bin', 'dist', 'schema', 'package.json', 'native'])
    cpSync(join(ROOT, part), join(dir, part), { recursive: true });
  const shared = realpathSync(join(ROOT, 'node_modules'));
  for (const name of packages) {
    const at = join(dir, 'node_modules', name);
    mkdirSync(join(at, '..'), { recursive: true });
    symlinkSync(join(shared, name), at, 'dir');
  }
  return dir;
}

async function run(copy: string, args: string[]): Promise<CliResult> {
  const t0 = performance.now();
  const r = await track(
    execa(process.execPath, [join(copy, 'bin', 'poolrun.js'), ...args], {
      cwd: copy,
      reject: false,
      stripFinalNewline: false,
      timeout: CLI_TIMEOUT_MS,
      env: { NO_COLOR: '1' },
    }),
  );
  return {
    code: r.exitCode ?? -1,
    stdout: String(r.stdout),
    stderr: String(r.stderr),
    ms: performance.now() - t0,
  };
}

describe('package.json', () => {
  it('bullmq and ioredis are optional, ajv is a dev dependency, p-limit is gone', () => {
    expect(Object.keys(manifest.optionalDependencies ?? {}).sort()).toEqual(['bullmq', 'ioredis']);
    for (const name of ['bullmq', 'ioredis', 'ajv', 'p-limit'])
      expect(manifest.dependencies[name], name).toBeUndefined();
    expect(manifest.devDependencies.ajv).toBeDefined();
    expect(manifest.devDependencies['p-limit']).toBeUndefined();
    // The lock file agrees: a production install without optional packages has none of them.
    const required = requiredRuntimePackages();
    for (const name of ['bullmq', 'ioredis', 'ajv', 'p-limit']) expect(required, name).not.toContain(name);
    expect(lock.packages['node_modules/p-limit']).toBeUndefined();
  });

  it('nothing in dist/ imports ajv or p-limit, and only queue/connect.js loads bullmq and ioredis', () => {
    const loads = (text: string, name: string): boolean =>
      new RegExp(`(\\bfrom\\s*|\\bimport\\s*\\(?\\s*|\\brequire\\s*\\(\\s*)['"]${name}(/[^'"]*)?['"]`).test(
        text,
      );
    const files: string[] = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(d, e.name));
        else if (/\.c?js$/.test(e.name)) files.push(join(d, e.name));
      }
    };
    walk(join(ROOT, 'dist'));
    expect(files.length).toBeGreaterThan(10);
    const loaders: Record<string, string[]> = { ajv: [], 'p-limit': [], bullmq: [], ioredis: [] };
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      // A chunk of dist/bundle/ (scripts/build-bundle.mjs) holds several modules, each after a `// path` line:
      // what loads a package is the module whose code does (the chunk's own imports come before the first).
      const modules: Array<[string, string]> = [];
      const parts = f.includes('/dist/bundle/') ? text.split(/^\/\/ (dist\/\S+|\.\.\/\S+|\\0\S+)$/m) : [text];
      modules.push([f.slice(ROOT.length), parts[0]!]);
      for (let i = 1; i + 1 < parts.length; i += 2) modules.push([parts[i]!, parts[i + 1]!]);
      for (const [module, code] of modules)
        for (const name of Object.keys(loaders))
          if (loads(code, name) && !loaders[name]!.includes(module)) loaders[name]!.push(module);
    }
    expect(loaders).toEqual({
      ajv: [],
      'p-limit': [],
      bullmq: ['dist/queue/connect.js'],
      ioredis: ['dist/queue/connect.js'],
    });
  });
});

describe('installed without the optional packages (and without ajv)', () => {
  const required = requiredRuntimePackages();

  it('the copy really lacks them', () => {
    const copy = installedCopy(required);
    for (const name of ['bullmq', 'ioredis', 'ajv', 'p-limit'])
      expect(existsSync(join(copy, 'node_modules', name)), name).toBe(false);
    expect(required).toContain('commander');
  });

  it('a local run works, and the job file is still checked against the schema', async () => {
    const copy = installedCopy(required);
    writeJobs(copy, [
      { id: 'a', run: 'echo one' },
      { id: 'b', run: ['echo', 'two'] },
    ]);
    const ok = await run(copy, ['-w', '2', 'jobs.json']);
    expect(ok.stderr).not.toMatch(NO_TRACE);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('one\n');
    expect(ok.stdout).toContain('two\n');

    writeJobs(copy, [{ id: 'a', run: 'echo one', retries: 'many' }], 'bad.json');
    const bad = await run(copy, ['bad.json']);
    expect(bad.code, bad.stderr).toBe(2);
    // The schema's words: the generated validator ran without ajv installed.
    expect(bad.stderr).toContain('jobs[0].retries: expected an integer from 0 to 1000');
    expect(bad.stderr).not.toMatch(NO_TRACE);
  });

  it('--queue exits 2 naming the install command', async () => {
    const copy = installedCopy(required);
    writeJobs(copy, [{ id: 'a', run: 'echo one' }]);
    const r = await run(copy, ['--queue', 'redis://127.0.0.1:1', 'jobs.json']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('--queue needs the optional packages bullmq and ioredis');
    expect(r.stderr).toContain('bullmq is not installed');
    expect(r.stderr).toContain('ioredis is not installed');
    expect(r.stderr).toContain(INSTALL);
    expect(r.stderr).not.toMatch(NO_TRACE);
  });

  it('poolrun worker exits 2 naming the install command', async () => {
    const copy = installedCopy(required);
    const r = await run(copy, ['worker', '--queue', 'redis://127.0.0.1:1']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('poolrun worker needs the optional packages bullmq and ioredis');
    expect(r.stderr).toContain(INSTALL);
    expect(r.stderr).not.toMatch(NO_TRACE);
  });

  it('with ioredis but without bullmq: the same, naming bullmq', async () => {
    // ioredis's own dependencies resolve from the shared folder its link points into.
    const copy = installedCopy([...required, 'ioredis']);
    writeJobs(copy, [{ id: 'a', run: 'echo one' }]);
    for (const args of [
      ['--queue', 'redis://127.0.0.1:1', 'jobs.json'],
      ['worker', '--queue', 'redis://127.0.0.1:1'],
    ]) {
      const r = await run(copy, args);
      expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(2);
      expect(r.stderr).toContain('bullmq is not installed');
      expect(r.stderr).not.toContain('ioredis is not installed');
      expect(r.stderr).toContain(INSTALL);
      expect(r.stderr).not.toMatch(NO_TRACE);
    }
  });
});
