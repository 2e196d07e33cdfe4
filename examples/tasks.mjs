// The seed's functions, for `call` jobs and `poolrun --call`.
import { threadId } from 'node:worker_threads';

/** executor.map(square, range(1, 11)) */
export function square(n) {
  return n * n;
}

/** The seed's say_hi: prints where it ran, returns nothing. */
export function sayHi(item) {
  console.log(`hi ${item} executed in thread ${threadId} of process ${process.pid}`);
}

/** An async task: resolves after `ms` milliseconds with a summary. */
export async function slowSum(numbers, ms = 200) {
  await new Promise((r) => setTimeout(r, ms));
  return numbers.reduce((a, b) => a + b, 0);
}
