/**
 * How long a pool waits before replacing a worker that died on its own: at
 * once for a one-off crash, then, while they keep dying young, a capped
 * exponential delay, so that an application that dies at every start does
 * not spin the machine.
 */

/** Respawn delays for workers that keep dying young: 100 ms doubling up to 10 s. */
const RESPAWN_BASE_MS = 100;
const RESPAWN_MAX_MS = 10_000;
/** A worker that lived this long resets the backoff. */
const HEALTHY_LIFETIME_MS = 5_000;

/** The delay before replacing a worker that died young, the `youngDeaths`th in a row. */
export function respawnDelay(youngDeaths: number): number {
  return youngDeaths <= 1 ? 0 : Math.min(RESPAWN_MAX_MS, RESPAWN_BASE_MS * 2 ** (youngDeaths - 2));
}

export class RespawnBackoff {
  #youngDeaths = 0;

  /** A worker died after `lifetimeMs`: how long to wait before its replacement. */
  delayAfter(lifetimeMs: number): number {
    this.#youngDeaths = lifetimeMs < HEALTHY_LIFETIME_MS ? this.#youngDeaths + 1 : 0;
    return respawnDelay(this.#youngDeaths);
  }
}
