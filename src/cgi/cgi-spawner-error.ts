/**
 * The CGI spawner helper could not start, or could not start a script. Not
 * a CgiError: it carries no status, since the handler answers it by
 * starting the script itself (cgi-handler.ts, cgi-spawner.ts).
 */
import { PorticoError } from '../errors.js';

export class CgiSpawnerError extends PorticoError {
  constructor(message: string) {
    super('PORTICO_ERR_CGI_SPAWNER', message);
  }
}
