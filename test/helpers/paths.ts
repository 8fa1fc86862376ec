import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The repository root: compiled helpers run from dist/test/helpers/. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const PORTICO_BIN = join(REPO_ROOT, 'bin', 'portico.js');
export const FIXTURE_APPS = join(REPO_ROOT, 'test', 'fixtures', 'apps');
export const FLASK_APP_DIR = join(REPO_ROOT, 'test', 'fixtures', 'flask_app');
export const DJANGO_FIXTURE_DIR = join(REPO_ROOT, 'test', 'fixtures', 'django');
/** Debian's interpreter, which has python3-flask and python3-django. */
export const SYSTEM_PYTHON = '/usr/bin/python3';
