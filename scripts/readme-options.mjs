#!/usr/bin/env node
// Rewrites the option table in README.md from the settings table (run after
// `npm run build`). test/readme.test.ts fails when the two drift apart.
import { readFileSync, writeFileSync } from 'node:fs';
import { formatOptionsTable } from '../dist/src/config/help-text.js';

const path = new URL('../README.md', import.meta.url);
const readme = readFileSync(path, 'utf8');
const start = '<!-- options:start -->\n';
const end = '<!-- options:end -->';
const from = readme.indexOf(start);
const to = readme.indexOf(end);
if (from === -1 || to === -1) throw new Error('README.md has no <!-- options:start --> / <!-- options:end --> markers');
writeFileSync(path, readme.slice(0, from + start.length) + formatOptionsTable() + readme.slice(to));
