// The memory a worker should cost: a bare Debian Python process that imports
// the same app and does nothing else.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { processMemory } from './memory.mjs';
import { spawnGroup } from './process-group.mjs';
import { DEBIAN_PYTHON } from './workdir.mjs';

export async function bareInterpreter(app, work) {
  const code = `import sys, signal; sys.path.insert(0, ${JSON.stringify(app.pythonpath)}); ${app.importLine}; print('imported', flush=True); signal.pause()`;
  const argv = [DEBIAN_PYTHON, '-c', code];
  const group = spawnGroup(argv, { cwd: app.pythonpath, logPath: join(work.paths.logs, `bare-${app.name}.log`) });
  try {
    const deadline = Date.now() + 20000;
    while (!group.log().includes('imported')) {
      if (group.exited || Date.now() > deadline) throw new Error(`bare import of ${app.name} failed:\n${group.log()}`);
      await sleep(50);
    }
    await sleep(300);
    return { app: app.name, command: `${DEBIAN_PYTHON} -c "${code}"`, ...processMemory(group.pgid) };
  } finally {
    await group.stop();
  }
}
