/** Starts portico on the conformance echo app, with its request log in a temp dir. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPortico, type Portico } from '../helpers/portico.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { CONFORMANCE_APPS } from './corpus.js';

export interface EchoServer {
  portico: Portico;
  /** Every request the app has seen, as [method, RAW_URI]. */
  seen(): Array<[string, string]>;
  stop(): Promise<void>;
}

export async function startEchoServer(args: string[] = []): Promise<EchoServer> {
  const temp = makeTempDir('portico-conformance-');
  const log = join(temp.path, 'requests.log');
  const portico = await startPortico({
    app: 'conformance_echo:application',
    // No peer is trusted unless a test says so: loopback is by default.
    args: ['--pythonpath', CONFORMANCE_APPS, '--forwarded-allow-ips=', ...args],
    env: { PORTICO_CONFORMANCE_LOG: log },
  });
  return {
    portico,
    seen: () =>
      existsSync(log)
        ? readFileSync(log, 'utf8')
            .split('\n')
            .filter((line) => line !== '')
            .map((line) => JSON.parse(line) as [string, string])
        : [],
    stop: async () => {
      await portico.stop();
      temp.remove();
    },
  };
}
