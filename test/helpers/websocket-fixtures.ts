/**
 * Where the WebSocket fixtures are (test/fixtures/websocket) and how to
 * start portico on one under Debian's interpreter, which has Starlette,
 * FastAPI, Django Channels and python3-websockets.
 */
import { join } from 'node:path';
import { REPO_ROOT, SYSTEM_PYTHON } from './paths.js';
import { startPortico, type Portico, type StartOptions } from './portico.js';

export const WS_FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'websocket');

/** The options that serve test/fixtures/websocket under /usr/bin/python3. */
export const WS_ARGS = ['--chdir', WS_FIXTURES, '--python', SYSTEM_PYTHON];

/** Starts portico on `app` from test/fixtures/websocket, one worker unless `args` say otherwise. */
export function startWs(app: string, args: string[] = [], options: Partial<StartOptions> = {}): Promise<Portico> {
  const workers = args.some((a) => a === '-w' || a === '--workers') ? [] : ['-w', '1'];
  return startPortico({ app, args: [...WS_ARGS, ...workers, ...args], ...options });
}
