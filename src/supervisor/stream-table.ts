/**
 * The streams one worker holds, by id, and the ids themselves: handed out
 * in sequence from 1 to 2^32-1 and round again (stream 0 is the channel).
 *
 * Not a Map, for the garbage collector's sake. A Map with steady churn (one
 * entry added and one deleted per request) is rebuilt every few dozen
 * requests, and V8 links each retired table to its successor so that live
 * iterators can follow. Once a retired table has reached the old
 * generation, that chain keeps every later table, and every request they
 * held, alive through each scavenge until the next full collection: on
 * hello world it promoted some 3.7 KB a request to the old generation, and
 * the scavenges cost 5-8 µs a request instead of 1. An object used as a
 * dictionary keeps no such links.
 */
export class StreamTable<T> {
  #byId: Record<number, T> = Object.create(null) as Record<number, T>;
  #size = 0;
  #nextId: number;

  /** `firstId` other than 1 is for tests of the wrap. */
  constructor(firstId = 1) {
    this.#nextId = firstId;
  }

  get size(): number {
    return this.#size;
  }

  /** Files `value` under a fresh id, and returns the id. */
  add(value: T): number {
    const id = this.#nextId;
    this.#nextId = id >= 0xffffffff ? 1 : id + 1;
    this.#byId[id] = value;
    this.#size++;
    return id;
  }

  get(id: number): T | undefined {
    return this.#byId[id];
  }

  /** Another value for an id in the table. */
  replace(id: number, value: T): void {
    if (this.#byId[id] !== undefined) this.#byId[id] = value;
  }

  has(id: number): boolean {
    return this.#byId[id] !== undefined;
  }

  delete(id: number): void {
    if (this.#byId[id] === undefined) return;
    delete this.#byId[id];
    this.#size--;
  }

  /** The ids held, oldest first: in the order they were handed out, across the wrap to 1. */
  ids(): number[] {
    const next = this.#nextId;
    // How long ago an id was handed out, counted in ids; the wrap makes it modular.
    const age = (id: number): number => (next - id + 0x100000000) % 0x100000000;
    return Object.keys(this.#byId)
      .map(Number)
      .sort((a, b) => age(b) - age(a));
  }

  /** Empties the table; returns what it held, oldest first. */
  clear(): T[] {
    const values = this.ids().map((id) => this.#byId[id] as T);
    this.#byId = Object.create(null) as Record<number, T>;
    this.#size = 0;
    return values;
  }
}
