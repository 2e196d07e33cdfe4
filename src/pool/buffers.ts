/**
 * A call's return value reaches the main thread as a process worker sends it (Node's advanced serialization keeps a
 * Buffer a Buffer) or as a thread posts it (the structured clone makes it a plain Uint8Array, which JSON writes as
 * `{"0":104,…}`). So that both modes give the same value — a Buffer, `{"type":"Buffer","data":[…]}` in JSON — a
 * thread lists where its value holds Buffers, and the main thread makes those Buffers again.
 */

export type ValuePath = Array<string | number>;

/** Past this many Buffers, the rest are left as they are (a value with millions of them is not walked twice). */
const MAX_PATHS = 10_000;

/** Where `value` holds a Buffer (itself, or in arrays and plain objects, at any depth); [] when nowhere. */
export function bufferPaths(value: unknown): ValuePath[] {
  const out: ValuePath[] = [];
  if (value === null || typeof value !== 'object') return out;
  const seen = new Set<object>();
  const stack: Array<{ v: unknown; at: ValuePath }> = [{ v: value, at: [] }];
  while (stack.length && out.length < MAX_PATHS) {
    const { v, at } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (Buffer.isBuffer(v)) {
      out.push(at);
      continue;
    }
    if (ArrayBuffer.isView(v) || seen.has(v)) continue;
    seen.add(v);
    if (Array.isArray(v)) v.forEach((x, i) => stack.push({ v: x, at: [...at, i] }));
    else if (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null)
      for (const k of Object.keys(v)) stack.push({ v: (v as Record<string, unknown>)[k], at: [...at, k] });
  }
  return out;
}

/** `value` (a clone) with the Uint8Arrays at `paths` made Buffers again (over the same memory). */
export function restoreBuffers(value: unknown, paths: ValuePath[]): unknown {
  const asBuffer = (u: unknown) =>
    u instanceof Uint8Array && !Buffer.isBuffer(u) ? Buffer.from(u.buffer, u.byteOffset, u.byteLength) : u;
  let root = value;
  for (const path of paths) {
    if (path.length === 0) {
      root = asBuffer(root);
      continue;
    }
    let parent: unknown = root;
    for (const k of path.slice(0, -1)) parent = (parent as Record<string | number, unknown> | null)?.[k];
    if (parent === null || typeof parent !== 'object') continue;
    const key = path[path.length - 1]!;
    const container = parent as Record<string | number, unknown>;
    container[key] = asBuffer(container[key]);
  }
  return root;
}

/** An array of numbers, strings and the like: the common case (a call's arguments) costs no walk. */
function isFlat(value: object): boolean {
  return Array.isArray(value) && value.every((x) => x === null || typeof x !== 'object');
}

/**
 * How deep a value a worker and the main thread exchange may nest (a call's arguments, its return value). The
 * clone on each side recurses: a value nested some thousands deep is read on one side and not on the other (a
 * thread's message then never arrived, and its job never ended), so poolrun refuses it on the sending side.
 */
export const MAX_VALUE_DEPTH = 1000;

/** The reason `value` cannot travel, when it nests deeper than MAX_VALUE_DEPTH (a cycle counts once). */
export function tooDeepToSend(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || isFlat(value)) return undefined;
  // Visited in the clone's own order (depth first, children in order): an object met again is written as a
  // reference, so the depth that counts is the one at which the clone first meets it.
  const seen = new Set<object>();
  const stack: Array<[object, number]> = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (seen.has(v)) continue;
    if (depth > MAX_VALUE_DEPTH) return `it is nested deeper than ${MAX_VALUE_DEPTH} levels`;
    seen.add(v);
    const children: unknown[] =
      v instanceof Map ? [...v].flat() : v instanceof Set ? [...v] : Array.isArray(v) ? v : Object.values(v);
    for (let i = children.length - 1; i >= 0; i--) {
      const x = children[i];
      if (x !== null && typeof x === 'object' && !ArrayBuffer.isView(x)) stack.push([x, depth + 1]);
    }
  }
  return undefined;
}

/**
 * A value a worker process sent or was sent, with every typed array and DataView given a buffer of its own. Node's
 * 'advanced' IPC serialization makes them views into the whole message (a Float64Array's `.buffer` held the
 * protocol's bytes), where a thread's clone gives each its own buffer: so both modes give code that reads
 * `.buffer` the same bytes. Arrays, plain objects and Maps' values are walked; the value is changed in place.
 */
export function ownBuffers<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (ArrayBuffer.isView(value)) return own(value) as T;
  if (isFlat(value)) return value;
  const seen = new Set<object>();
  const stack: object[] = [value];
  while (stack.length) {
    const v = stack.pop()!;
    if (seen.has(v)) continue;
    seen.add(v);
    const visit = (x: unknown, put: (y: unknown) => void) => {
      if (x === null || typeof x !== 'object') return;
      if (ArrayBuffer.isView(x)) {
        const y = own(x);
        if (y !== x) put(y);
      } else stack.push(x);
    };
    if (Array.isArray(v)) for (let i = 0; i < v.length; i++) visit(v[i], (y) => (v[i] = y));
    else if (v instanceof Map) for (const [k, x] of v) visit(x, (y) => v.set(k, y));
    else if (v instanceof Set) for (const x of v) visit(x, () => {});
    else {
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) continue;
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o)) visit(o[k], (y) => (o[k] = y));
    }
  }
  return value;
}

/** The view with a buffer of its own (the same view when it has one already). */
function own(view: ArrayBufferView): ArrayBufferView {
  const buf = view.buffer;
  if (view.byteOffset === 0 && view.byteLength === buf.byteLength) return view;
  const copy = (buf as ArrayBuffer).slice(view.byteOffset, view.byteOffset + view.byteLength);
  if (Buffer.isBuffer(view)) return Buffer.from(copy);
  if (view instanceof DataView) return new DataView(copy);
  const Ctor = view.constructor as new (b: ArrayBuffer) => ArrayBufferView;
  return new Ctor(copy);
}
