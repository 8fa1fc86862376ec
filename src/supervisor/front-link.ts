/**
 * A front's end of the channel to its --fronts parent (front-set.ts): it
 * takes the options the parent resolved, turns the parent's relayed
 * signals into the arbiter's signal source, and reports each lifecycle
 * step back, so that the parent can tell systemd and /readyz the truth
 * about all fronts at once.
 *
 * Signals sent to a front by anyone else are ignored. systemd's
 * control-group stop, `kill -- -PGID` and a terminal's Ctrl-C signal every
 * process of the tree at once: were a front to act on that SIGTERM and on
 * the parent's relay of it, the second would cut its --shutdown-delay
 * short. So, as the Python workers leave stopping to their front, the
 * fronts leave signals to their parent.
 */
import { EventEmitter } from 'node:events';
import type { ServerOptions } from '../config/settings.js';
import type { ControlReport } from '../observability/control-report.js';
import type { ArbiterEvents, SignalSource } from './arbiter.js';
import { isMessage, RELAYED_SIGNALS, type FromFront, type ToFront } from './front-messages.js';

/** The longest a draining front waits for the others before it closes its idle connections anyway. */
const SOCKETS_CLOSED_WAIT_MS = 2_000;

/** What the link needs of the front's server (server.ts's Server), named here so that supervisor/ does not import the server. */
export interface FrontServer extends EventEmitter<ArbiterEvents> {
  readonly workerPids: number[];
  report(): Promise<ControlReport> | null;
}

export class FrontLink {
  /** The parent's relayed signals, as the arbiter's signal source. */
  readonly signals: SignalSource & EventEmitter = new EventEmitter();

  #server: FrontServer | null = null;
  #closed: (() => void) | null = null;

  /** Starts listening to the parent; from here on the process's own lifecycle signals are ignored. */
  constructor() {
    for (const signal of RELAYED_SIGNALS) process.on(signal, () => {});
    process.on('message', (message: unknown) => {
      if (!isMessage<ToFront>(message, ['signal', 'report', 'socketsClosed'])) return;
      if (message.kind === 'signal') this.signals.emit(message.signal);
      else if (message.kind === 'report') this.#answer(message.id);
      else if (message.kind === 'socketsClosed') this.#closed?.();
    });
  }

  /** The options the parent sends first, and whether to keep metrics for its control listener. */
  options(): Promise<{ options: ServerOptions; metrics: boolean }> {
    return new Promise((resolve) => {
      const take = (message: unknown): void => {
        if (!isMessage<ToFront>(message, ['options']) || message.kind !== 'options') return;
        process.off('message', take);
        resolve({ options: message.options, metrics: message.metrics });
      };
      process.on('message', take);
      // Asked for only now: a message that came while the modules loaded would have had no listener.
      this.#send({ kind: 'waiting' });
    });
  }

  /** Reports the server's lifecycle to the parent, and answers its report requests from the server. */
  follow(server: FrontServer): void {
    this.#server = server;
    server.on('start', (urls) => this.#send({ kind: 'ready', urls, workers: server.workerPids.length }));
    server.on('reload', () => this.#send({ kind: 'reloaded' }));
    server.on('reloadFailed', (error) => this.#send({ kind: 'reloadFailed', message: error.message }));
    server.on('stopping', () => this.#send({ kind: 'stopping' }));
  }

  /**
   * Tells the parent this front has stopped accepting; resolves once every
   * front has, or after SOCKETS_CLOSED_WAIT_MS if the parent does not say.
   */
  readonly socketsClosed = (): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => this.#closed?.(), SOCKETS_CLOSED_WAIT_MS);
      this.#closed = () => {
        clearTimeout(timer);
        this.#closed = null;
        resolve();
      };
      this.#send({ kind: 'closedSockets' });
    });

  #answer(id: number): void {
    const pending = this.#server?.report() ?? null;
    if (pending === null) return this.#send({ kind: 'report', id, report: null });
    pending.then(
      (report) => this.#send({ kind: 'report', id, report }),
      () => this.#send({ kind: 'report', id, report: null }),
    );
  }

  #send(message: FromFront): void {
    // The channel is gone once the parent is: cluster then ends this process itself.
    if (process.connected) process.send?.(message);
  }
}
