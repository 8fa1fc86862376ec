/**
 * The --timeout deadlines of one mount's requests, behind a single timer.
 *
 * Every request of a mount gets the same timeout, so deadlines come in the
 * order requests start: the list is kept in that order by appending, and
 * only its head can be the next to expire. One Node timer is armed for the
 * head; when it fires, the expired entries are taken off the front and the
 * timer is armed again for the new head. A request that ends in time just
 * unlinks itself. The entries are linked through their own fields, so a
 * request costs no Timeout object and no closure: per request, those were
 * about 8% of the front's CPU on hello world.
 *
 *     head ─▶ [started first] ⇄ [...] ⇄ [started last] ◀─ tail
 */
import { performance } from 'node:perf_hooks';

/** What the list holds: fields it owns, and what to call when time is up. */
export interface Deadlined {
  /** The deadline's time on performance.now()'s clock; owned by the list. */
  deadlineAt: number;
  deadlinePrev: Deadlined | null;
  deadlineNext: Deadlined | null;
  /** Whether it is in a list now; owned by the list. */
  deadlineLinked: boolean;
  /** The deadline has passed; the entry is already out of the list. */
  onDeadline(): void;
}

export class DeadlineList {
  readonly #timeoutMs: number;
  #head: Deadlined | null = null;
  #tail: Deadlined | null = null;
  #timer: NodeJS.Timeout | null = null;

  constructor(timeoutSeconds: number) {
    this.#timeoutMs = timeoutSeconds * 1000;
  }

  /** Starts `entry`'s timeout now (again, if it was already running). */
  add(entry: Deadlined): void {
    if (entry.deadlineLinked) this.remove(entry);
    entry.deadlineAt = performance.now() + this.#timeoutMs;
    entry.deadlineLinked = true;
    entry.deadlinePrev = this.#tail;
    entry.deadlineNext = null;
    if (this.#tail === null) this.#head = entry;
    else this.#tail.deadlineNext = entry;
    this.#tail = entry;
    if (this.#timer === null) this.#arm(this.#timeoutMs);
  }

  /** The entry ended in time. The timer is left as it is: it finds nothing to do, or a later head. */
  remove(entry: Deadlined): void {
    if (!entry.deadlineLinked) return;
    const { deadlinePrev: prev, deadlineNext: next } = entry;
    if (prev === null) this.#head = next;
    else prev.deadlineNext = next;
    if (next === null) this.#tail = prev;
    else next.deadlinePrev = prev;
    entry.deadlinePrev = null;
    entry.deadlineNext = null;
    entry.deadlineLinked = false;
  }

  #arm(delayMs: number): void {
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, delayMs));
    // Left armed when its entries end in time, it must not hold the process
    // up for a --timeout after the server has closed (issue #20); while a
    // request runs, its connection and its worker keep the process alive.
    this.#timer.unref();
  }

  #expire(): void {
    this.#timer = null;
    const now = performance.now();
    let head = this.#head;
    while (head !== null && head.deadlineAt <= now) {
      this.remove(head);
      head.onDeadline();
      head = this.#head;
    }
    if (head !== null) this.#arm(head.deadlineAt - now);
  }
}
