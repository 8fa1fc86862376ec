// The peers come from Debian packages. Install only what is missing, and run
// apt-get update once, before the first install.
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
  log(`installing ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  // Debian starts apache2 and nginx on install where it can; the bench never
  // uses those system services, only its own instances on loopback ports.
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
  return missing;
}

/** The installed version of a Debian package. */
export function packageVersion(name) {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', name], { encoding: 'utf8' }).trim();
  } catch {
    return 'not installed';
  }
}
