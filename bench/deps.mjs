// The peers come from Debian packages. Install only what is missing, and run
// apt-get update once, before the first install. A package this release of
// Debian does not have is skipped with a log line: the peers that need it
// are then "not available" in the report, not a failed run.
import { execFileSync, spawnSync } from 'node:child_process';

export const PACKAGES = [
  'gunicorn',
  'uwsgi-core',
  'uwsgi-plugin-python3',
  'python3-waitress',
  'apache2',
  'libapache2-mod-wsgi-py3',
  'nginx',
  'fcgiwrap',
  'wrk',
  'python3-flask',
  'python3-django',
  'curl',
  // ASGI (issue #13): uvicorn as most users install it, uvicorn[standard],
  // is uvicorn on uvloop and httptools; FastAPI for its workload.
  'python3-uvicorn',
  'python3-uvloop',
  'python3-httptools',
  'python3-hypercorn',
  'python3-daphne',
  'python3-fastapi',
  // WebSockets (issue #14): uvicorn's --ws websockets.
  'python3-websockets',
  // HTTP/2 (issue #16): h2load drives the h2 cells, as wrk cannot.
  'nghttp2-client',
];

export function isInstalled(name) {
  const result = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.includes('install ok installed');
}

/** Installs the missing packages; returns their names. */
export function ensurePackages(log) {
  const missing = PACKAGES.filter((name) => !isInstalled(name));
  if (missing.length === 0) return missing;
  if (process.getuid?.() !== 0) {
    throw new Error(`missing Debian packages (run as root to install): ${missing.join(' ')}`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const installable = missing.filter(hasCandidate);
  const absent = missing.filter((name) => !installable.includes(name));
  if (absent.length) log(`not in this system's package lists, skipped: ${absent.join(' ')}`);
  if (installable.length === 0) return [];
  log(`installing ${installable.join(' ')}`);
  // Debian starts apache2 and nginx on install where it can; the bench never
  // uses those system services, only its own instances on loopback ports.
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...installable], { stdio: 'inherit', env });
  return installable;
}

/** Whether apt knows a version of the package it could install. */
function hasCandidate(name) {
  const result = spawnSync('apt-cache', ['policy', name], { encoding: 'utf8' });
  const candidate = /Candidate: (\S+)/.exec(result.stdout ?? '')?.[1];
  return candidate !== undefined && candidate !== '(none)';
}

/** The installed version of a Debian package. */
export function packageVersion(name) {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', name], { encoding: 'utf8' }).trim();
  } catch {
    return 'not installed';
  }
}
