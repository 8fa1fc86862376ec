// What the numbers were measured on.
import { execFileSync } from 'node:child_process';
import { cpus, totalmem, release } from 'node:os';
import { readFileSync } from 'node:fs';
import { PACKAGES, packageVersion } from './deps.mjs';

function firstLine(argv) {
  try {
    return execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0].trim();
  } catch (error) {
    // wrk -v prints its version and exits 1.
    return String(error.stdout ?? '').split('\n')[0].trim() || 'unknown';
  }
}

export function describeMachine() {
  const os = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'Linux';
  const cpuList = cpus();
  return {
    cpu: cpuList[0]?.model ?? 'unknown',
    cores: cpuList.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os,
    kernel: release(),
    node: process.version,
    python: firstLine(['/usr/bin/python3', '--version']),
    loadAverage: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    packages: Object.fromEntries(PACKAGES.map((name) => [name, packageVersion(name)])),
    flask: firstLine(['/usr/bin/python3', '-c', 'import flask; print(flask.__version__)']),
    django: firstLine(['/usr/bin/python3', '-c', 'import django; print(django.__version__)']),
    wrk: firstLine(['wrk', '-v']).replace(/ Copyright.*/, ''),
  };
}
