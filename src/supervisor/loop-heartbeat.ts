/**
 * The heartbeat of an ASGI worker's event loop. A coroutine that blocks
 * (time.sleep, a synchronous driver) stops every request of its worker, not
 * just its own, and no per-request deadline can tell that from a slow
 * await. So the front pings the loop, which answers from the loop itself;
 * a loop silent for longer than --timeout is stuck, and its worker is
 * replaced (its stacks go to the log first: WorkerProcess.terminateStuck).
 */
import type { WorkerProcess } from './worker-process.js';

/** Pings at most this far apart: a stuck loop is found within --timeout plus this. */
const MAX_INTERVAL_MS = 1_000;

export class LoopHeartbeat {
  readonly #worker: WorkerProcess;
  readonly #timeoutMs: number;
  readonly #timer: NodeJS.Timeout;
  #nonce = 0;
  #answeredAt = Date.now();

  constructor(worker: WorkerProcess, timeoutMs: number) {
    this.#worker = worker;
    this.#timeoutMs = timeoutMs;
    worker.on('pong', (nonce) => {
      if (nonce === this.#nonce) this.#answeredAt = Date.now();
    });
    worker.once('exit', () => this.stop());
    this.#timer = setInterval(() => this.#beat(), Math.min(MAX_INTERVAL_MS, Math.max(50, timeoutMs / 4)));
    // Supervision never keeps the process alive by itself.
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #beat(): void {
    const silentMs = Date.now() - this.#answeredAt;
    if (silentMs > this.#timeoutMs) {
      this.stop();
      this.#worker.terminateStuck(`after its event loop answered nothing for ${(silentMs / 1000).toFixed(1)}s (--timeout ${this.#timeoutMs / 1000}); a coroutine blocks it`);
      return;
    }
    this.#nonce = (this.#nonce + 1) >>> 0;
    this.#worker.ping(this.#nonce);
  }
}
