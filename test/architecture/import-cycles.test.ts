/**
 * No import cycle in src/ or python/portico/ (issue #12): between files,
 * and between src/'s folders, which are the layers of the front (a folder
 * that imports another may not be imported back by it, even for a type).
 * The gateways (wsgi, cgi, static) share what they have in common through
 * src/http/, never by importing each other.
 *
 * Sources are read, not the compiled output: type-only imports are
 * dependencies too (import-graph.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../helpers/paths.js';
import {
  findCycles,
  formatCycle,
  groupGraph,
  pythonGraph,
  pythonImports,
  topFolder,
  typeScriptGraph,
  typeScriptSpecifiers,
  type ImportGraph,
} from './import-graph.js';

const GATEWAYS = ['src/wsgi', 'src/cgi', 'src/static'];

function edgeCount(graph: ImportGraph): number {
  let count = 0;
  for (const targets of graph.values()) count += targets.length;
  return count;
}

function assertNoCycles(graph: ImportGraph, what: string, via?: Map<string, string>): void {
  const cycles = findCycles(graph).map((cycle) => formatCycle(cycle, via));
  assert.ok(cycles.length === 0, `${cycles.length} import cycle(s) ${what}:\n  ${cycles.join('\n  ')}`);
}

describe('import cycles', () => {
  const front = typeScriptGraph(REPO_ROOT, 'src');
  const runtime = pythonGraph(REPO_ROOT, 'python/portico');

  it('reads the imports it checks (a parser that found none would pass anything)', () => {
    assert.ok(edgeCount(front) > 100, `only ${edgeCount(front)} imports found in src/`);
    assert.ok(front.get('src/server.ts')?.some((file) => file.startsWith('src/config/')), 'src/server.ts imports src/config/');
    assert.ok(edgeCount(runtime) > 10, `only ${edgeCount(runtime)} imports found in python/portico/`);
    assert.ok(runtime.get('python/portico/worker.py')?.includes('python/portico/errors.py'), 'worker.py imports errors.py');
  });

  it('none between the files of src/', () => {
    assertNoCycles(front, 'between files of src/');
  });

  it("none between src/'s folders", () => {
    const via = new Map<string, string>();
    assertNoCycles(groupGraph(front, topFolder, via), "between src/'s folders (under each, an import that makes the step)", via);
  });

  it('none between the gateways: wsgi, cgi and static import nothing of each other', () => {
    const crossings: string[] = [];
    for (const [file, targets] of front) {
      const from = topFolder(file);
      if (!GATEWAYS.includes(from)) continue;
      for (const target of targets) {
        const to = topFolder(target);
        if (to !== from && GATEWAYS.includes(to)) crossings.push(`${file} -> ${target}`);
      }
    }
    assert.deepEqual(crossings, []);
  });

  it('none between the modules of python/portico/, imports inside functions included', () => {
    assertNoCycles(runtime, 'between modules of python/portico/');
  });
});

describe('import graph readers', () => {
  it('find a cycle, and the shortest way round it', () => {
    const graph: ImportGraph = new Map([
      ['a', ['b']],
      ['b', ['c', 'd']],
      ['c', ['a']],
      ['d', []],
      ['e', ['e']],
    ]);
    assert.deepEqual(findCycles(graph), [['a', 'b', 'c', 'a']]);
    assert.deepEqual(findCycles(new Map([['a', ['b']], ['b', []]])), []);
    // Every node on a cycle gets its shortest one: both ways out of 'a' show.
    const tangle: ImportGraph = new Map([
      ['a', ['b', 'c']],
      ['b', ['a']],
      ['c', ['d']],
      ['d', ['a']],
    ]);
    assert.deepEqual(findCycles(tangle), [
      ['a', 'b', 'a'],
      ['a', 'c', 'd', 'a'],
    ]);
  });

  it('group files by folder', () => {
    const graph: ImportGraph = new Map([
      ['src/x/one.ts', ['src/y/two.ts']],
      ['src/y/two.ts', ['src/y/three.ts']],
      ['src/y/three.ts', ['src/x/four.ts']],
      ['src/x/four.ts', []],
    ]);
    assert.deepEqual(findCycles(graph), []);
    const via = new Map<string, string>();
    const [cycle] = findCycles(groupGraph(graph, topFolder, via));
    assert.deepEqual(cycle, ['src/x', 'src/y', 'src/x']);
    assert.equal(formatCycle(cycle ?? [], via), 'src/x -> src/y -> src/x\n      src/x/one.ts -> src/y/two.ts\n      src/y/three.ts -> src/x/four.ts');
  });

  it('read every form of TypeScript import, type-only ones included', () => {
    const text = [
      "import { a } from './a.js';",
      "import type { B } from './b.js';",
      "export { c } from './c.js';",
      "export * from './d.js';",
      "import './e.js';",
      "const f = await import('./f.js');",
      "let g: import('./g.js').G;",
      "import h = require('./h.js');",
      "import { readFileSync } from 'node:fs';",
      "// import { no } from './comment.js';",
      "const text = \"import { no } from './string.js'\";",
    ].join('\n');
    assert.deepEqual(typeScriptSpecifiers('x.ts', text).sort(), ['./a.js', './b.js', './c.js', './d.js', './e.js', './f.js', './g.js', './h.js', 'node:fs']);
  });

  it('read every form of Python import, deferred and multi-line ones included', () => {
    const text = [
      'from __future__ import annotations',
      'import os, portico.codec',
      'from .errors import FrameError',
      'from . import channel, stream as s',
      'from .codec import (',
      '    READY,',
      '    SPAWN,',
      ')',
      'def later():',
      '    from .debug_page import render  # deferred',
      '"""',
      'from .docstring import nothing',
      '"""',
      '# from .comment import nothing',
    ].join('\n');
    const modules = pythonImports('portico.worker', false, text).map(({ module, names }) => `${module}:${names.join(',')}`);
    assert.deepEqual(modules.sort(), [
      '__future__:annotations',
      'os:',
      'portico.codec:',
      'portico.codec:READY,SPAWN',
      'portico.debug_page:render',
      'portico.errors:FrameError',
      'portico:channel,stream',
    ]);
  });
});
