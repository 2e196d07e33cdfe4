/** A real redis-server on 127.0.0.1 for a test file, and real `poolrun worker` processes serving it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { Redis } from 'ioredis';
import { BIN, pidAlive, tempDir } from './helpers.js';

export interface RedisServer {
  port: number;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Sends PING; true on +PONG, or with `anyReply` on any answer at all (a `-NOAUTH` error: up, and wants a password).
 */
export function ping(port: number, anyReply = false): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.on('error', () => done(false));
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => done(anyReply ? /^[+-]/.test(d.toString()) : d.toString().startsWith('+PONG')));
  });
}

/** The process_id of the redis-server answering on `port` (INFO server), or undefined if none answers. */
export function serverPid(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    const done = (pid: number | undefined) => {
      s.destroy();
      resolve(pid);
    };
    s.setTimeout(1000, () => done(undefined));
    s.on('error', () => done(undefined));
    s.on('connect', () => s.write('INFO server\r\n'));
    s.on('data', (d) => {
      got += d.toString();
      const m = /process_id:(\d+)/.exec(got);
      if (m) done(Number(m[1]));
    });
  });
}

/**
 * A redis-server of this test file's own. poolrun takes TCP URLs only (redis://host:port), so the port is one
 * found free and handed over: another program may take it in between. The server then cannot bind and exits, or
 * someone else answers on the port: then another port is tried; the server is ours when INFO names its pid.
 */
export async function startRedis(): Promise<RedisServer> {
  const tried: string[] = [];
  for (let attempt = 0; attempt < 10; attempt++) {
    const port = await freePort();
    const child = spawn(
      'redis-server',
      ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    const pid = child.pid!;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const gone = () => child.exitCode !== null || child.signalCode !== null;
    const stop = async () => {
      if (!gone()) process.kill(pid, 'SIGKILL');
      await exited;
    };
    const end = Date.now() + 20_000;
    let answered: number | undefined;
    while (!gone() && Date.now() < end) {
      answered = await serverPid(port);
      if (answered !== undefined) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    if (answered === pid) return { port, url: `redis://127.0.0.1:${port}/0`, pid, stop };
    tried.push(`${port}: ${gone() ? 'the server exited' : `answered by pid ${answered ?? 'none'}`}`);
    await stop();
  }
  throw new Error(`redis-server did not start on a port of its own (${tried.join('; ')})`);
}

export interface WorkerProcess {
  pid: number;
  child: ChildProcess;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Ends it by pid (SIGKILL), if it still runs. */
  stop(): Promise<void>;
}

/** Starts `poolrun worker --queue URL ...args` and resolves once it says it is serving. */
export async function startWorker(url: string, args: string[] = []): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [BIN, 'worker', '--queue', url, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const end = Date.now() + 20_000;
  while (!err.includes('serving queue')) {
    if (child.exitCode !== null || Date.now() > end) throw new Error(`the worker did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    pid: child.pid!,
    child,
    stderr: () => err,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * A queue test file's fixture: one redis-server for the file (stopped after it, and checked gone by pid), and after
 * each test what it registered undone (workers, folders; last first) and the queue emptied.
 */
export function useQueue(prefix: string) {
  let server: RedisServer | undefined;
  let cleanups: Array<() => void | Promise<void>> = [];
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    if (!server) return;
    await server.stop();
    expect(pidAlive(server.pid)).toBe(false);
  });
  afterEach(async () => {
    for (const c of cleanups.reverse()) await c();
    cleanups = [];
    const r = new Redis(server!.url);
    await r.flushall();
    r.disconnect();
  });
  const onCleanup = (fn: () => void | Promise<void>): void => {
    cleanups.push(fn);
  };
  /** A temp folder, removed after the test. */
  const temp = (): string => {
    const t = tempDir(prefix);
    onCleanup(t.cleanup);
    return t.dir;
  };
  /** `poolrun worker` on the file's server (or `url`), killed by pid after the test. */
  const worker = async (args: string[], url = server!.url): Promise<WorkerProcess> => {
    const w = await startWorker(url, args);
    onCleanup(() => w.stop());
    return w;
  };
  return {
    /** The file's redis-server (set once beforeAll has run). */
    get redis(): RedisServer {
      return server!;
    },
    onCleanup,
    temp,
    worker,
  };
}
