/** The child_process spawner: what poolrun used before the addon, and uses where it cannot load (proc/spawn.ts). */
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import type { Exit, Helper, Spawned, SpawnOptions } from './spawn-types.js';

class NodeSpawned extends EventEmitter implements Spawned {
  readonly pid: number | undefined;
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly exited: Promise<Exit>;
  readonly usage = null;

  constructor(file: string, args: string[], options: SpawnOptions) {
    super();
    const child = spawn(file, args, { ...options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.pid = child.pid;
    this.stdout = child.stdout;
    this.stderr = child.stderr;
    this.exited = new Promise<Exit>((resolve) => {
      child.on('error', (e) => this.emit('error', e));
      child.on('close', (code, signal) => {
        resolve({ code, signal, usage: null });
        this.emit('close', code, signal);
      });
    });
  }
}

export function nodeSpawn(file: string, args: string[], options: SpawnOptions): Spawned {
  return new NodeSpawned(file, args, options);
}

/** A helper (the watchdog) by child_process: libuv forks poolrun for it, and reaps it. */
export function nodeHelper(file: string, args: string[], env: NodeJS.ProcessEnv): Helper {
  const child = spawn(file, args, { detached: true, stdio: ['pipe', 'ignore', 'ignore'], env });
  child.unref();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  return {
    pid: child.pid,
    stdin: child.stdin,
    onError(fn) {
      child.on('error', fn);
    },
    reapWhenGone() {},
  };
}
