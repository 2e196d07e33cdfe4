// The functions the benchmarks call in workers (every pool under test loads this same module).
export function square(n) {
  return n * n;
}

export function noop() {}

export default square;
