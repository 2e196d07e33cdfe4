/** Small path and concurrency helpers of the copy kind. */
import { realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';

/** Runs `fn` over `items`, at most `limit` at a time; the first failure stops new starts and is thrown. */
export async function eachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async (): Promise<void> => {
    while (next < items.length && !failure) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure) throw failure.error;
}

export async function realpathOr(path: string): Promise<string> {
  return realpath(path).catch(() => path);
}

/** Where `to` really is: its deepest existing folder resolved (symbolic links and all), the rest appended. */
export async function realDestination(to: string): Promise<string> {
  const rest: string[] = [];
  for (let dir = to; ;) {
    try {
      return join(await realpath(dir), ...rest.reverse());
    } catch {
      const parent = dirname(dir);
      if (parent === dir) return to;
      rest.push(basename(dir));
      dir = parent;
    }
  }
}

export function isWithin(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}
