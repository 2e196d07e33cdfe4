/**
 * How a shell job's process is started (issue 15). Two spawners with one interface:
 * - native (spawn-native.ts): posix_spawn from a small Node-API addon (native/spawn.c), whose cost does not grow
 *   with poolrun's memory as libuv's fork() does, and which reaps with wait4 for the job's CPU time and memory;
 * - node (spawn-node.ts): Node's child_process, where the addon cannot load (no compiler at install, not Linux).
 * Both give the child a session and process group of its own, /dev/null on stdin, pipes on stdout/stderr, exactly
 * the env given, and report a failed spawn as Node does: an 'error' event (code ENOENT, EACCES...) on the next
 * tick, then 'close' with exit code -errno. POOLRUN_SPAWN=native|node forces one.
 */
import { UsageError } from '../errors.js';
import { loadNative, loadedAddon, nativeHelper, nativeSpawn } from './spawn-native.js';
import { nodeHelper, nodeSpawn } from './spawn-node.js';

export type { Exit, Helper, SpawnOptions, Spawned, Usage } from './spawn-types.js';
import type { Helper, Spawned, SpawnOptions } from './spawn-types.js';

export type Spawner = (file: string, args: string[], options: SpawnOptions) => Spawned;

export type SpawnPath = 'native' | 'node';

let chosen: { path: SpawnPath; spawn: Spawner } | undefined;

/** The spawn path POOLRUN_SPAWN asks for, or the native one when the addon loads. Throws UsageError on a bad value. */
export function spawnPath(): SpawnPath {
  return choose().path;
}

function choose(): { path: SpawnPath; spawn: Spawner } {
  if (chosen) return chosen;
  const want = process.env.POOLRUN_SPAWN;
  if (want !== undefined && want !== '' && want !== 'native' && want !== 'node')
    throw new UsageError(`POOLRUN_SPAWN must be native or node, not ${JSON.stringify(want)}`);
  if (want === 'node') return (chosen = { path: 'node', spawn: nodeSpawn });
  const loaded = loadNative();
  if (loaded === true) return (chosen = { path: 'native', spawn: nativeSpawn });
  if (want === 'native')
    throw new UsageError(`POOLRUN_SPAWN=native, but the spawn addon cannot be loaded: ${loaded}`);
  return (chosen = { path: 'node', spawn: nodeSpawn });
}

/** Starts `file` with `args` as a job's process, on the chosen path. */
export function spawnJob(file: string, args: string[], options: SpawnOptions): Spawned {
  return choose().spawn(file, args, options);
}

/** Starts a helper process of poolrun's own (the watchdog) on the chosen path. Throws when it cannot. */
export function spawnHelper(file: string, args: string[], env: NodeJS.ProcessEnv): Helper {
  const addon = choose().path === 'native' ? loadedAddon() : undefined;
  return addon ? nativeHelper(addon, file, args, env) : nodeHelper(file, args, env);
}

/** A few words for --version / --verbose: which path, and why the node one. */
export function describeSpawnPath(): string {
  let path: SpawnPath;
  try {
    path = spawnPath();
  } catch (e) {
    return `spawn: ${(e as Error).message}`;
  }
  if (path === 'native') return 'spawn: native, posix_spawn addon';
  if (process.env.POOLRUN_SPAWN === 'node') return 'spawn: node, child_process (POOLRUN_SPAWN=node)';
  return `spawn: node, child_process (the addon cannot be loaded: ${String(loadNative())})`;
}
