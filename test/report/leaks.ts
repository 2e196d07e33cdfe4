/** Where a secret shows up in what a run printed or wrote: shared by the secret tests of test/report/. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CliResult } from '../helpers.js';

export interface Place {
  name: string;
  text: string;
}

/** Every file under `dir`, but the inputs the test wrote (they hold the secrets on purpose). */
export function writtenFiles(dir: string, inputs: Set<string>): Place[] {
  const out: Place[] = [];
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const file = join(dir, name);
    if (inputs.has(file) || !statSync(file).isFile()) continue;
    out.push({ name, text: readFileSync(file, 'latin1') });
  }
  return out;
}

/** Each place that holds one of `secrets` (`key` picks what of a secret to look for), with its context. */
export function leaks(secrets: string[], places: Place[], key: (s: string) => string = (s) => s): string[] {
  const found: string[] = [];
  for (const s of secrets)
    for (const p of places) {
      const at = p.text.indexOf(key(s));
      if (at >= 0) found.push(`${p.name}: …${JSON.stringify(p.text.slice(Math.max(0, at - 60), at + 30))}…`);
    }
  return found;
}

/** A run's stdout and stderr as places. */
export const outputs = (name: string, r: CliResult): Place[] => [
  { name: `${name} stdout`, text: r.stdout },
  { name: `${name} stderr`, text: r.stderr },
];
