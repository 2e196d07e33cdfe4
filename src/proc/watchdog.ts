/**
 * The watchdog: one small helper process per run that kills the jobs' process groups if poolrun dies without
 * doing it itself (SIGKILL, OOM killer, a crash in native code). Shell jobs run in sessions of their own, so
 * nothing else would: the kernel kills no children when their parent dies.
 *
 * It is a /bin/sh loop (a few hundred KiB and a millisecond or two to start, against ~40 ms and 40 MiB for a
 * Node process), started on the first job that spawns a process, in its own session so that the terminal's
 * Ctrl-C, which poolrun handles gracefully, does not end it. poolrun feeds it `+ PGID START` / `- PGID` lines
 * over its stdin (START: the leader's start time, `-` when it was gone already). When stdin reaches end-of-file
 * without a `q` line first, poolrun is gone: the watchdog sends SIGTERM to every group still registered that
 * still holds a process of this run (its leader, the same start time, or a member carrying the run's token: the
 * number of a group whose leader was reaped may be another's group by then, see owner.ts), waits up to
 * --kill-after for them to go, then sends SIGKILL, checking the same way each time.
 *
 * A group not yet registered (poolrun killed between a worker's spawn() and the batch that carries its `+`
 * line, at most BATCH_MS later) or a process that left its group (setsid) would escape that; so the watchdog also looks
 * for processes whose environment carries this run's token (POOLRUN_RUN_ID, inherited by every job and its
 * descendants) and signals them too. Linux only (/proc); elsewhere the registry alone is used. Then it removes
 * poolrun's temp folder (util/temp-root.ts), which poolrun's own exit would have removed.
 */
import { spawnHelper, type Helper } from './spawn.js';
import { tempRootName } from '../util/temp-root.js';

export const RUN_ID_VAR = 'POOLRUN_RUN_ID';

/** A new run token: 16 hex digits. */
export function newToken(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(8))).toString('hex');
}

const SCRIPT = `
trap '' INT HUP TERM
grace_ticks=$1
token=$2
tmproot=$3
groups=' '
while read -r op pg st; do
  [ "$op" = q ] && exit 0
  case $pg in ''|*[!0-9]*) continue ;; esac
  case $op in
    +) groups="$groups$pg:\${st:--} " ;;
    -) case $groups in *" $pg:"*) rest=\${groups#* $pg:}; groups="\${groups%% $pg:*} \${rest#* }" ;; esac ;;
  esac
done
# poolrun is gone: its temp folder (util/temp-root.ts: spilled output, spools) goes too, once the jobs are dead.
[ -n "$tmproot" ] && trap 'rm -rf -- "$tmproot"' EXIT
# The fields of /proc/PID/stat after the command name, which may hold anything (spaces, parentheses, newlines:
# its lines are joined): $3 is the group, \${20} the start time.
stat_of() {
  s=
  [ -e /proc/$1/stat ] || return 0
  { while IFS= read -r l; do s="$s$l "; done; } 2>/dev/null < /proc/$1/stat
  case $s in *") "*) s=\${s##*) } ;; *) s= ;; esac
}
sweep() {
  sig=$1
  found=1
  # Our processes, found by the token: each is signalled, and its group is one of ours.
  ours=' '
  if [ -n "$token" ] && [ -d /proc/self ]; then
    for f in $(grep -lzx "${RUN_ID_VAR}=$token" /proc/[0-9]*/environ 2>/dev/null); do
      p=\${f#/proc/}; p=\${p%/environ}
      [ "$p" != "$$" ] || continue
      stat_of "$p"
      if [ -n "$s" ]; then set -- $s; ours="$ours$3 "; fi
      kill -$sig "$p" 2>/dev/null && found=0
    done
  fi
  # A registered group is signalled only while it holds a process of ours: its leader (the same start time) or
  # a member found above. Its number may be someone else's group by now.
  for e in $groups; do
    pg=\${e%%:*} st=\${e#*:}
    mine=
    case $ours in *" $pg "*) mine=1 ;; esac
    if [ -z "$mine" ] && [ "$st" != - ]; then
      stat_of "$pg"
      if [ -n "$s" ]; then set -- $s; [ "$3" = "$pg" ] && [ "\${20}" = "$st" ] && mine=1; fi
    fi
    if [ -z "$mine" ] && [ ! -d /proc/self ]; then mine=1; fi
    [ -n "$mine" ] && kill -$sig -$pg 2>/dev/null && found=0
  done
  return $found
}
sweep TERM || exit 0
while [ "$grace_ticks" -gt 0 ]; do
  sleep 0.1
  sweep 0 || exit 0
  grace_ticks=$((grace_ticks - 1))
done
sweep KILL
`;

export interface WatchdogOptions {
  /** Grace between the watchdog's SIGTERM and SIGKILL. */
  killAfterMs: number;
  /** The run's token, present as POOLRUN_RUN_ID in every job's environment (see pool/prestart.ts runToken()). */
  token?: string;
}

/**
 * How long a new group waits before it is written to the helper. A job that ends within it (most of a run of
 * tiny jobs) is never written at all: a `+` and `-` pair costs two writes here and, since dash reads a pipe one
 * byte at a time, about sixteen reads in the helper — 5–8 % of a run of 1000 `true` jobs. A job in its first
 * moments is still found through the run token should poolrun die. A group the helper knows of is taken off
 * at once: a number it still held could be the kernel's for another process group by the time it sweeps.
 */
const BATCH_MS = 20;

export class Watchdog {
  private child: Helper | undefined;
  private failed = false;
  private closed = false;
  /** Groups not yet written to the helper, with their leader's start time (see owner.ts). */
  private unwritten = new Map<number, string | undefined>();
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(opts: WatchdogOptions) {
    this.opts = { ...opts };
  }

  private readonly opts: WatchdogOptions;

  /** The run's token, when it was given one. */
  get token(): string | undefined {
    return this.opts.token;
  }

  /** Takes `token` as the run's if it has none yet and has not started (a library's or a queue worker's run). */
  useToken(token: string): void {
    if (this.opts.token === undefined && !this.child) this.opts.token = token;
  }

  /** Starts the helper if it has not started (nothing registered yet: it sweeps the run's token). */
  arm(): void {
    if (!this.closed && !this.failed && !this.child) this.start();
  }

  /** `leader`: the start time of the group's leader (/proc/PID/stat field 22), undefined when it is gone. */
  add(pgid: number, leader?: string): void {
    if (this.closed || this.failed) return;
    if (!this.child) this.start();
    this.unwritten.set(pgid, leader);
    if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => this.flush(), BATCH_MS);
      this.flushTimer.unref();
    }
  }

  remove(pgid: number): void {
    if (this.unwritten.delete(pgid)) return;
    this.write(`- ${pgid}\n`);
  }

  /** Everything has been cleaned up: the helper exits without killing anything. */
  close(): void {
    if (this.closed) return;
    clearTimeout(this.flushTimer);
    this.unwritten.clear();
    this.write('q\n');
    this.child?.stdin.end();
    this.child?.reapWhenGone();
    this.closed = true;
  }

  private flush(): void {
    this.flushTimer = undefined;
    let lines = '';
    for (const [pgid, leader] of this.unwritten) lines += `+ ${pgid} ${leader ?? '-'}\n`;
    this.unwritten.clear();
    if (lines) this.write(lines);
  }

  private write(lines: string): void {
    if (this.closed || this.failed || !this.child) return;
    // A small write to a pipe with room in it completes at once (libuv writes before queueing), so lines
    // written just before poolrun dies have reached the helper.
    this.child.stdin.write(lines);
  }

  private start(): void {
    const env = { ...process.env };
    delete env[RUN_ID_VAR]; // the helper must not find itself, nor be found by an enclosing run's watchdog
    const ticks = String(Math.ceil(this.opts.killAfterMs / 100));
    try {
      // posix_spawn where the addon is loaded (no fork of poolrun: proc/spawn.ts), else child_process.
      const child = spawnHelper(
        '/bin/sh',
        ['-c', SCRIPT, 'poolrun-watchdog', ticks, this.opts.token ?? '', tempRootName()],
        env,
      );
      child.onError(() => {
        this.failed = true;
      });
      // The helper dying (killed by someone) must not take poolrun down with EPIPE.
      child.stdin.on('error', () => {
        this.failed = true;
        // It is gone (EPIPE): reaped now, not left a zombie for as long as this process lives.
        child.reapWhenGone();
      });
      this.child = child;
    } catch {
      this.failed = true;
    }
  }
}
