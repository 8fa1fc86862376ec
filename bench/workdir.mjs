// Everything the servers serve lives in one scratch directory, readable by
// www-data (Apache's and nginx's workers), so all of them serve the very
// same files: the apps, the CGI scripts, the static file, the Django project.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = fileURLToPath(new URL('.', import.meta.url));
const repoDir = fileURLToPath(new URL('..', import.meta.url));
export const DEBIAN_PYTHON = '/usr/bin/python3';

const DJANGO_VIEW = `
from django.http import JsonResponse
from django.urls import path


def index(request):
    return JsonResponse({"message": "Hello, world!", "items": [1, 2, 3]})


urlpatterns = [path("", index)]
`;

function createDjangoProject(dir) {
  mkdirSync(dir);
  execFileSync(DEBIAN_PYTHON, ['-m', 'django', 'startproject', 'benchsite', dir]);
  const settingsPath = join(dir, 'benchsite', 'settings.py');
  let settings = readFileSync(settingsPath, 'utf8');
  settings = settings.replace(/^DEBUG = True$/m, 'DEBUG = False').replace(/^ALLOWED_HOSTS = \[\]$/m, "ALLOWED_HOSTS = ['127.0.0.1', 'localhost']");
  if (!settings.includes('DEBUG = False')) throw new Error('could not turn DEBUG off in the generated settings');
  writeFileSync(settingsPath, settings);
  writeFileSync(join(dir, 'benchsite', 'urls.py'), DJANGO_VIEW);
}

/**
 * A private copy of the built server (bin, dist/src, python), so that a
 * rebuild of the working tree during a long run cannot change or break the
 * portico being measured halfway through.
 */
function snapshotPortico(dir) {
  mkdirSync(dir);
  for (const part of ['bin', 'python', 'package.json']) cpSync(join(repoDir, part), join(dir, part), { recursive: true });
  cpSync(join(repoDir, 'dist', 'src'), join(dir, 'dist', 'src'), { recursive: true });
  symlinkSync(join(repoDir, 'node_modules'), join(dir, 'node_modules'));
  return join(dir, 'bin', 'portico.js');
}

/** The commit the working tree is at, and whether it has changes. */
export function porticoRevision() {
  try {
    const commit = execFileSync('git', ['-C', repoDir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', repoDir, 'status', '--porcelain', '--', 'src', 'python', 'bin'], { encoding: 'utf8' }).trim();
    return dirty ? `${commit} with uncommitted changes` : commit;
  } catch {
    return 'unknown';
  }
}

/** Creates the scratch directory; returns its paths and the app table. */
export function prepareWorkdir() {
  const root = mkdtempSync(join(tmpdir(), 'portico-bench-'));
  const paths = {
    root,
    apps: join(root, 'apps'),
    cgiBin: join(root, 'cgi-bin'),
    static: join(root, 'static'),
    django: join(root, 'django'),
    logs: join(root, 'logs'),
    run: join(root, 'run'),
    // Where servers put the temporary files they buffer through (nginx's
    // request and response bodies): memory where the system has a tmpfs,
    // as the page cache would hold them on a machine whose disk keeps up.
    // Measured on a shared VM, nginx buffering 10 MiB echoes to its disk
    // stalled in iowait, and the cells measured the disk.
    scratch: existsSync('/dev/shm') ? mkdtempSync('/dev/shm/portico-bench-') : join(root, 'scratch'),
  };
  cpSync(join(benchDir, 'apps'), paths.apps, { recursive: true, filter: (src) => !src.includes('__pycache__') });
  cpSync(join(benchDir, 'cgi-bin'), paths.cgiBin, { recursive: true });
  mkdirSync(paths.static);
  writeFileSync(join(paths.static, 'file-10k.bin'), randomBytes(10 * 1024));
  mkdirSync(paths.logs);
  mkdirSync(paths.run);
  mkdirSync(paths.scratch, { recursive: true });
  chmodSync(paths.scratch, 0o777);
  createDjangoProject(paths.django);
  paths.porticoBin = snapshotPortico(join(root, 'portico'));
  execFileSync('chmod', ['-R', 'a+rX', root]);
  chmodSync(paths.run, 0o777);

  const py = (name) => ({ module: `${name}:application`, file: join(paths.apps, `${name}.py`), pythonpath: paths.apps });
  const apps = {
    hello: py('hello'),
    flask: py('flask_app'),
    big: py('big'),
    echo: py('echo'),
    stream: py('stream'),
    asgi_hello: py('asgi_hello'),
    fastapi: py('fastapi_app'),
    asgi_big: py('asgi_big'),
    asgi_sleep: py('asgi_sleep'),
    asgi_ws: py('asgi_ws'),
    django: {
      module: 'benchsite.wsgi:application',
      file: join(paths.django, 'benchsite', 'wsgi.py'),
      pythonpath: paths.django,
      importLine: "import os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'benchsite.settings'); import benchsite.wsgi",
    },
  };
  for (const [name, app] of Object.entries(apps)) {
    app.name = name;
    app.importLine ??= `import ${app.module.split(':')[0]}`;
  }
  const remove = () => {
    rmSync(root, { recursive: true, force: true });
    rmSync(paths.scratch, { recursive: true, force: true });
  };
  return { paths, apps, remove };
}
