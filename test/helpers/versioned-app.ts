/**
 * A copy of the versioned_app.py fixture in a temporary directory, whose
 * VERSION a reload test rewrites, so that each answer shows which code the
 * worker that served it had imported.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURE_APPS } from './paths.js';

export interface VersionedApp {
  /** The APP argument. */
  app: string;
  /** Options to put before it: --chdir to the copy, --pythonpath for fixture_support. */
  args: string[];
  setVersion(version: string): void;
  /** Leaves the file with a syntax error. */
  breakIt(): void;
}

export function versionedApp(dir: string): VersionedApp {
  const file = join(dir, 'versioned_app.py');
  copyFileSync(join(FIXTURE_APPS, 'versioned_app.py'), file);
  const template = readFileSync(file, 'utf8');
  return {
    app: 'versioned_app:application',
    args: ['--chdir', dir, '--pythonpath', FIXTURE_APPS],
    setVersion: (version) => writeFileSync(file, template.replace("VERSION = 'v1'", `VERSION = '${version}'`)),
    breakIt: () => writeFileSync(file, template + '\ndef oops(:\n'),
  };
}

/** `v1 1234` -> 1234 */
export const versionedPid = (body: string): number => Number(body.split(' ')[1]);
