/**
 * Keeps one helper process running (the CGI spawner of a mount): starts it,
 * and when it dies says so and starts another after a pause, for as long
 * as it is wanted. While there is none its users carry on without it (CGI
 * scripts start directly), so nothing waits on the restart.
 *
 *   start() ──ready──▶ current ──ends──▶ none ──HELPER_RESTART_DELAY_MS──▶ start again
 *                                         ▲                                   │
 *                                         └─────────── fails to start ◀───────┘
 *
 * The pause is fixed, unlike the pool's respawnDelay (respawn-backoff.ts),
 * which backs off because requests wait for a worker: here nothing waits,
 * and one attempt a second already bounds a helper that dies at every start.
 */
import type { ErrorLog } from '../observability/error-log.js';

/** After a helper is lost, the next one is started this long after. */
export const HELPER_RESTART_DELAY_MS = 1_000;

export interface Helper {
  /** Asks the helper to end; its end is then reported as for any other. */
  stop(): void;
}

/**
 * Starts one helper: resolves once it is ready, rejects with why it could
 * not be. `onEnd`, with how it ended, is called if it ends after that.
 */
export type HelperStarter<H extends Helper> = (onEnd: (description: string) => void) => Promise<H>;

export interface HelperSupervisorOptions<H extends Helper> {
  /** Who the helper is, for the log: 'CGI spawner'. */
  name: string;
  /** What happens while there is none, for the log: 'starting scripts directly until a new one is ready'. */
  whileDown: string;
  start: HelperStarter<H>;
  log: ErrorLog;
}

export class HelperSupervisor<H extends Helper> {
  readonly #options: HelperSupervisorOptions<H>;
  #current: H | null = null;
  #restart: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: HelperSupervisorOptions<H>) {
    this.#options = options;
  }

  /** Starts the first helper; rejects, with the reason, if it cannot run at all. */
  async start(): Promise<void> {
    this.#current = await this.#startOne();
  }

  /** The running helper; null between a loss and a ready replacement. */
  get current(): H | null {
    return this.#current;
  }

  /** Stops the helper and restarts no other. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#restart);
    this.#current?.stop();
  }

  /**
   * Only the end of the helper in service counts as a loss: one that never
   * got ready has been reported by its start's rejection already, and would
   * otherwise be restarted twice.
   */
  #startOne(): Promise<H> {
    let started: H | null = null;
    const onEnd = (description: string): void => {
      if (started !== null && started === this.#current) this.#lost(description);
    };
    return this.#options.start(onEnd).then((helper) => {
      started = helper;
      return helper;
    });
  }

  #lost(description: string): void {
    this.#current = null;
    if (this.#stopped) return;
    this.#options.log.error(`${this.#options.name} ${description}; ${this.#options.whileDown}`);
    this.#restart = setTimeout(() => {
      this.#startOne().then(
        (helper) => {
          if (this.#stopped) helper.stop();
          else this.#current = helper;
        },
        (error: Error) => this.#lost(error.message),
      );
    }, HELPER_RESTART_DELAY_MS);
    this.#restart.unref();
  }
}
