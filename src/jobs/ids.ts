/**
 * Duplicate ids in bounded memory, for inputs of any length. A job without an id is named by its 1-based
 * position, so an explicit id "5" collides with the 5th job when that one has none. Only explicit ids are
 * kept by name; positions cost a byte each.
 */
export class IdRegistry {
  /** explicit id → position */
  private readonly explicit = new Map<string, number>();
  /** 1 where the job at that position has an explicit id */
  private flags = new Uint8Array(1024);

  /** Records the job at `index`; returns the position of an earlier job with the same id. */
  add(index: number, id: string | undefined): number | undefined {
    if (index >= this.flags.length) {
      const bigger = new Uint8Array(Math.max(this.flags.length * 2, index + 1));
      bigger.set(this.flags);
      this.flags = bigger;
    }
    if (id === undefined) {
      return this.explicit.get(String(index + 1));
    }
    this.flags[index] = 1;
    const first = this.explicit.get(id);
    if (first !== undefined) return first;
    this.explicit.set(id, index);
    // "5" names the 5th job when it has no id of its own.
    const n = Number(id);
    if (Number.isInteger(n) && n >= 1 && String(n) === id && n - 1 < index && this.flags[n - 1] === 0) {
      return n - 1;
    }
    return undefined;
  }
}

const isId = (v: unknown): v is string | number =>
  (typeof v === 'string' && v !== '' && !v.includes('\0')) || Number.isInteger(v);

/**
 * The id of a job as written, when it can be compared with the others' even if the job has other problems (every
 * problem of a file is reported at once): the id, undefined for a job named by its position, null when the job is
 * neither a command nor an object or its id is not one the schema takes (that problem is reported by itself).
 */
export function checkableId(raw: unknown): string | undefined | null {
  if (typeof raw === 'string') return undefined; // a command: named by its position
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return null;
  const id = (raw as { id?: unknown }).id;
  if (id === undefined) return undefined;
  return isId(id) ? String(id) : null;
}

/** Whether a job's `after` is one the schema takes, so the ids it names can be checked whatever else is wrong. */
export function checkableAfter(raw: unknown): boolean {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return false;
  const after = (raw as { after?: unknown }).after;
  return Array.isArray(after) ? after.every(isId) : isId(after);
}
