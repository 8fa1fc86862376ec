/**
 * The Python interpreters on this machine that portico supports, found
 * rather than listed: python3 and python3.X on PATH, Debian's python3, and
 * every pyenv version (under `pyenv root`, else $PYENV_ROOT, else
 * ~/.pyenv). Each candidate is asked for its own version and executable, so
 * that a pyenv shim that refuses to run counts not at all, and two names for
 * one interpreter count once.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readdirSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { SYSTEM_PYTHON } from './paths.js';

/** The minor versions portico supports: 3.8 (python/portico_worker.py's MINIMUM_PYTHON, issue #20) to 3.13. */
export const SUPPORTED_PYTHONS = ['3.8', '3.9', '3.10', '3.11', '3.12', '3.13'] as const;

export interface PythonInterpreter {
  /** sys.executable: what to pass as --python. */
  path: string;
  /** e.g. '3.12.1' */
  version: string;
  /** e.g. '3.12' */
  minor: string;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string[] {
  return (process.env.PATH ?? '').split(delimiter).filter((dir) => dir !== '').map((dir) => join(dir, name)).filter(isExecutable);
}

function pyenvRoot(): string {
  const asked = spawnSync('pyenv', ['root'], { encoding: 'utf8', timeout: 10_000 });
  if (asked.status === 0 && asked.stdout.trim() !== '') return asked.stdout.trim();
  return process.env.PYENV_ROOT ?? join(homedir(), '.pyenv');
}

function pyenvInterpreters(): string[] {
  const versions = join(pyenvRoot(), 'versions');
  let names: string[];
  try {
    names = readdirSync(versions);
  } catch {
    return [];
  }
  return names.map((name) => join(versions, name, 'bin', 'python3')).filter(isExecutable);
}

function ask(candidate: string): PythonInterpreter | null {
  const answer = spawnSync(candidate, ['-c', 'import sys; print(sys.executable); print("%d.%d.%d" % sys.version_info[:3])'], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  if (answer.status !== 0) return null;
  const [path, version] = answer.stdout.trim().split('\n');
  if (path === undefined || path === '' || version === undefined) return null;
  return { path, version, minor: version.split('.').slice(0, 2).join('.') };
}

let found: PythonInterpreter[] | undefined;

/** Every supported interpreter found, by version, each once. */
export function findPythonInterpreters(): PythonInterpreter[] {
  if (found !== undefined) return found;
  const candidates = [
    ...onPath('python3'),
    SYSTEM_PYTHON,
    ...SUPPORTED_PYTHONS.flatMap((minor) => onPath(`python${minor}`)),
    ...pyenvInterpreters(),
  ];
  const byRealPath = new Map<string, PythonInterpreter>();
  for (const candidate of new Set(candidates)) {
    const interpreter = ask(candidate);
    if (interpreter === null || !(SUPPORTED_PYTHONS as readonly string[]).includes(interpreter.minor)) continue;
    let key: string;
    try {
      key = realpathSync(interpreter.path);
    } catch {
      continue;
    }
    if (!byRealPath.has(key)) byRealPath.set(key, interpreter);
  }
  const byVersion = (a: PythonInterpreter, b: PythonInterpreter): number =>
    a.version.localeCompare(b.version, 'en', { numeric: true }) || a.path.localeCompare(b.path);
  found = [...byRealPath.values()].sort(byVersion);
  return found;
}

/** The supported minor versions with no interpreter here. */
export function missingPythons(interpreters: PythonInterpreter[]): string[] {
  return SUPPORTED_PYTHONS.filter((minor) => !interpreters.some((i) => i.minor === minor));
}

/**
 * What a missing version means: CI's machine image has pyenv interpreters for
 * every supported version, so there a missing one fails; elsewhere it is
 * reported as skipped.
 */
export function missingPythonPolicy(minor: string): { skip: string | false; message: string } {
  const message = `no Python ${minor} found (python${minor} on PATH, pyenv versions): portico supports 3.8 to 3.13, and CI's image has them all`;
  return { skip: process.env.CI ? false : `no Python ${minor} on this machine`, message };
}
