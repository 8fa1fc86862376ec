import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { formatOptionsTable } from '../src/config/help-text.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('carries the option table generated from the settings (node scripts/readme-options.mjs)', () => {
    const table = readme.slice(readme.indexOf('<!-- options:start -->\n') + '<!-- options:start -->\n'.length, readme.indexOf('<!-- options:end -->'));
    assert.equal(table, formatOptionsTable());
  });

  it('has the two quick-start commands, and .ci/run runs the same test command', () => {
    assert.match(readme, /^npm install && npm start\b/m);
    assert.match(readme, /^npm test\b/m);
    assert.match(readFileSync(new URL('../../.ci/run', import.meta.url), 'utf8'), /^npm test$/m);
  });
});
