/**
 * A UNIX socket path inside a fresh directory of its own, for a helper
 * process (the --preload zygote's workers, the CGI spawner) to meet the
 * front on. mkdtemp(3) makes the directory mode 0700, so that no other user
 * can reach the socket and pose as a worker or ask for a script: connect(2)
 * needs search permission on every directory of the path, whatever the
 * socket file's own mode (which some systems ignore, see unix(7)).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class PrivateSocketDir {
  readonly #directory: string;
  /** Where to listen (or connect); nothing is created there until someone listens. */
  readonly socketPath: string;

  /** `prefix` names the directory in the temporary directory; `socketName` the socket in it. */
  constructor(prefix: string, socketName: string) {
    this.#directory = mkdtempSync(join(tmpdir(), prefix));
    this.socketPath = join(this.#directory, socketName);
  }

  /** Removes the directory and the socket in it; safe to call more than once. */
  remove(): void {
    rmSync(this.#directory, { recursive: true, force: true });
  }
}
