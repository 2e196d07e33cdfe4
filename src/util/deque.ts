/** A FIFO with O(1) shift and unshift; Array#shift is O(n) and a run may queue a million jobs. */
export class Deque<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  unshift(item: T): void {
    if (this.head > 0) this.items[--this.head] = item;
    else this.items.unshift(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  /** The item `i` places from the front. */
  at(i: number): T | undefined {
    return this.items[this.head + i];
  }

  /** Puts `item` `i` places from the front (0: unshift): O(i) near the front, however long the deque. */
  insertAt(i: number, item: T): void {
    if (i <= 0) return this.unshift(item);
    if (i * 2 > this.length) {
      this.items.splice(this.head + i, 0, item);
      return;
    }
    // The i items before the place move one step towards the front.
    this.unshift(item);
    for (let k = 0; k < i; k++) this.items[this.head + k] = this.items[this.head + k + 1];
    this.items[this.head + i] = item;
  }

  /** Removes `item` (the first place it is at); false if it is not here. O(n): for short deques. */
  remove(item: T): boolean {
    const i = this.items.indexOf(item, this.head);
    if (i < 0) return false;
    this.items.splice(i, 1);
    return true;
  }

  *drain(): Generator<T> {
    for (let item = this.shift(); item !== undefined; item = this.shift()) yield item;
  }
}
