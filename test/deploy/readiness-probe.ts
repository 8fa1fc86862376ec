/**
 * When a host's /readyz first answers 200, seen from the load balancer's
 * namespace, as HAProxy's health check sees it: the moment from which a
 * balancer may count the host back. Run as a program in the `lb` namespace
 * (`node readiness-probe.js URL`), it asks every 20 ms and prints the time
 * of the first 200 (Date.now()); `readyAt` runs it there.
 */
import { once } from 'node:events';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { LabNetwork } from './lab-network.js';

const PROBE = fileURLToPath(import.meta.url);

/** Starts probing `url` from the `lb` namespace; resolves with the time of the first 200. */
export function readyAt(lab: LabNetwork, url: string, timeoutMs = 30_000): Promise<number> {
  const child = lab.spawnIn('lb', [process.execPath, PROBE, url, String(timeoutMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  return once(child, 'exit').then(([code]) => {
    if (code !== 0) throw new Error(`${url} never answered 200: ${out}`);
    return Number(out.trim());
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const url = process.argv[2] as string;
  const deadline = Date.now() + Number(process.argv[3] ?? 30_000);
  for (;;) {
    const status = await fetch(url, { signal: AbortSignal.timeout(1000) }).then((r) => r.status, () => 0);
    if (status === 200) {
      console.log(Date.now());
      process.exit(0);
    }
    if (Date.now() > deadline) {
      console.error(`last status ${status}`);
      process.exit(1);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
