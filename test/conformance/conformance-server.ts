/** Starts portico on the conformance echo app, with its request log in a temp dir. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { startPortico, type Portico } from '../helpers/portico.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { CONFORMANCE_APPS } from './corpus.js';

export interface EchoServer {
  portico: Portico;
  /** Every request the app has seen, as [method, RAW_URI]. */
  seen(): Array<[string, string]>;
  /**
   * Waits (bounded) until the log holds more than `count` lines. A refusal
   * can reach the client before the app, which already has the head, logs
   * it; without this, that late line is blamed on the next case.
   */
  settle(count: number, timeoutMs?: number): Promise<void>;
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
  const seen = (): Array<[string, string]> =>
    existsSync(log)
      ? readFileSync(log, 'utf8')
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => JSON.parse(line) as [string, string])
      : [];
  return {
    portico,
    seen,
    settle: async (count, timeoutMs = 1_000) => {
      const deadline = Date.now() + timeoutMs;
      while (seen().length <= count && Date.now() < deadline) await delay(10);
    },
    stop: async () => {
      await portico.stop();
      temp.remove();
    },
  };
}
