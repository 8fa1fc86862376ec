// The certificate the HTTPS and HTTP/2 cells serve: a self-signed EC P-256
// one for 127.0.0.1 and localhost, made with openssl in the run's scratch
// directory on first use (never committed). Clients (wrk, h2load, the
// probes) do not verify it: the cells measure serving, not trust.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';

/** { cert, key } under `paths.run`, made once per run. */
export function benchCertificate(paths) {
  const cert = join(paths.run, 'bench-tls.crt');
  const key = join(paths.run, 'bench-tls.key');
  if (!existsSync(cert)) {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    // Read by servers that drop to another user (nginx's workers do not, but uWSGI-style setups might).
    chmodSync(key, 0o644);
  }
  return { cert, key };
}
