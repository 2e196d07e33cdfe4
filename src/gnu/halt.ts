/**
 * --halt in poolrun's words (never, soon, now) and GNU parallel's: `soon,fail=1`, `now,fail=1`, and the legacy
 * numbers 0 (never), 1 (soon,fail=1), 2 (now,fail=1). GNU's other conditions (fail=N for N > 1, percentages,
 * success=, done=, and the legacy -1/-2) are refused with the nearest poolrun way.
 */
import { UsageError } from '../errors.js';

export type HaltWhen = 'never' | 'soon' | 'now';

const LEGACY: Record<string, HaltWhen> = { '0': 'never', '1': 'soon', '2': 'now' };

export function parseHalt(value: string | undefined): HaltWhen {
  if (value === undefined) return 'never';
  const v = value.trim();
  if (v === 'never' || v === 'soon' || v === 'now') return v;
  if (v in LEGACY) return LEGACY[v]!;
  const m = /^(soon|now),(fail|success|done)=(\d+(?:\.\d+)?)(%?)$/.exec(v);
  if (m && m[2] === 'fail' && m[4] === '' && Number(m[3]) === 1) return m[1] as HaltWhen;
  const when = m?.[1] ?? (/^-?[12]$/.test(v) ? (v.endsWith('1') ? 'soon' : 'now') : undefined);
  let why: string;
  if (m?.[2] === 'fail')
    why =
      'poolrun halts on the first failure only (fail=1); to stop after more failures or a share of them, ' +
      `run without --halt and read the exit status (the number of failed jobs)`;
  else if (m || v === '-1' || v === '-2')
    why =
      'poolrun halts on a failure only (success= and done= are not supported); to stop the run after a time, use --deadline DUR';
  else why = "expected never, soon, now, soon,fail=1, now,fail=1, or GNU parallel's 0, 1 or 2";
  const nearest = when ? ` (nearest: --halt ${when}, which stops on the first failure)` : '';
  throw new UsageError(`--halt: ${JSON.stringify(value)} is not supported: ${why}${nearest}`);
}
