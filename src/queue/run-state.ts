/**
 * A run's state in Redis, as producers and workers read and write it. The state key (protocol.ts runKey) says
 * `run`, `cancel` or `kill`; a stop is never undone: a write only ever moves it forward, so a producer's refresh
 * cannot reopen a run that a worker has just halted (--halt: the worker that ran the failing job knows first). A
 * run with a --deadline also has a deadline key that lives until the deadline, by the Redis server's clock (one
 * clock for every host): once it is gone, no job of the run starts.
 */
import type { Redis as RedisClient } from 'ioredis';
import { deadlineKey, runKey, type RunState, type WireJob } from './protocol.js';

/**
 * KEYS[1] the state key; ARGV[1] the state wanted; ARGV[2] ms to live, or '' to keep the key's time to live (and
 * then only a key that exists is written: an expired one means the producer is gone).
 */
const ADVANCE = `
local rank = {run = 0, cancel = 1, kill = 2}
local cur = redis.call('GET', KEYS[1])
local want = ARGV[1]
if cur and rank[cur] and rank[cur] > rank[want] then want = cur end
if ARGV[2] ~= '' then
  redis.call('SET', KEYS[1], want, 'PX', ARGV[2])
elseif cur then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then redis.call('SET', KEYS[1], want, 'PX', ttl) else redis.call('SET', KEYS[1], want) end
end
return want`;

/** Moves a run's state to `state` unless it is further on already; `ttlMs` renews the key (the producer). */
export async function advanceRun(
  client: RedisClient,
  runId: string,
  state: RunState,
  ttlMs?: number,
): Promise<void> {
  await client.eval(ADVANCE, 1, runKey(runId), state, ttlMs === undefined ? '' : String(ttlMs));
}

/**
 * Whether a job of this message may start now: its run's state says `run` (null: the key expired, the producer
 * is gone), or `cancel` when the run's --deadline has passed.
 */
export async function runStateFor(client: RedisClient, wire: WireJob): Promise<RunState | null> {
  if (!wire.deadline) return (await client.get(runKey(wire.runId))) as RunState | null;
  const [state, inTime] = await client.mget(runKey(wire.runId), deadlineKey(wire.runId));
  return state === 'run' && inTime === null ? 'cancel' : (state as RunState | null);
}

/** A new run's keys: its state, `run` (its producer renews it), and with a --deadline, the deadline key. */
export async function openRun(client: RedisClient, runId: string, aliveMs: number, deadlineMs?: number) {
  await client.set(runKey(runId), 'run', 'PX', aliveMs);
  if (deadlineMs !== undefined) await client.set(deadlineKey(runId), '1', 'PX', Math.max(1, deadlineMs));
}

/** The run is over: its keys go (a job of it that still turns up somewhere is skipped). */
export async function closeRun(client: RedisClient, runId: string): Promise<void> {
  await client.del(runKey(runId), deadlineKey(runId));
}
