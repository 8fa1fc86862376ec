/**
 * Gives a worker its response window back (WINDOW) once the client's socket
 * has taken the bytes (docs/protocol.md "Flow control"). Returns are summed
 * to the end of the current read, so that a response whose end arrived in
 * the same read costs no WINDOW frame at all.
 */
export class ResponseWindow {
  readonly #give: (bytes: number) => void;
  #taken = 0;
  #scheduled = false;

  /** `give` sends the WINDOW, and may decide the stream needs none any more. */
  constructor(give: (bytes: number) => void) {
    this.#give = give;
  }

  /** The client took `bytes` of the response. */
  taken(bytes: number): void {
    this.#taken += bytes;
    if (this.#scheduled) return;
    this.#scheduled = true;
    process.nextTick(this.#flush);
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    const bytes = this.#taken;
    this.#taken = 0;
    if (bytes > 0) this.#give(bytes);
  };
}
