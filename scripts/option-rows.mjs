// The settings table's command-line options by section, as `--help` and the
// README's table group them (src/config/help-text.ts), for the generators
// that run outside the server: scripts/man-page.mjs, scripts/bash-completion.mjs.
// They read the build (`npm run build` first), as scripts/readme-options.mjs does.
import { readFileSync } from 'node:fs';
import { COMMAND_OPTIONS } from '../dist/src/config/cli-args.js';
import { SECTIONS } from '../dist/src/config/setting.js';
import { SETTINGS } from '../dist/src/config/settings.js';

export const PACKAGE = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

/**
 * @returns {Array<[string, Array<{ option: import('../dist/src/config/setting.js').CliOption, setting: import('../dist/src/config/setting.js').Setting | null }>]>}
 *   every option by section, in table order; --help and --version last, under Other.
 */
export function rowsBySection() {
  const sections = new Map(SECTIONS.map((section) => [section, []]));
  for (const setting of Object.values(SETTINGS)) {
    for (const option of [setting, ...(setting.also ?? [])]) sections.get(setting.section)?.push({ option, setting });
  }
  sections.set('Other', Object.values(COMMAND_OPTIONS).map((option) => ({ option, setting: null })));
  return [...sections].filter(([, rows]) => rows.length > 0);
}

/** Every row, sections flattened. */
export function allRows() {
  return rowsBySection().flatMap(([, rows]) => rows);
}

const SENTINEL = '\u0000not-a-value';

/**
 * The values an option takes, when they are few: from its metavar (0|1|2,
 * BOOL), or from what its parser says when it refuses a value (oneOf's
 * "expected one of a, b, got", workerClass's "portico runs 'a', 'b'").
 * Empty when any value of a kind goes (INT, FILE, ADDRESS...).
 * @returns {string[]}
 */
export function choicesOf(option) {
  const metavar = option.metavar ?? '';
  if (metavar === 'BOOL') return ['true', 'false'];
  if (/^\w+(\|\w+)+$/.test(metavar)) return metavar.split('|');
  if (option.parse === undefined) return [];
  let message = '';
  try {
    option.parse(SENTINEL, option.flags.at(-1) ?? metavar);
    return [];
  } catch (error) {
    message = String(error?.message ?? '');
  }
  const oneOf = /expected one of (.+), got '/.exec(message);
  if (oneOf) return oneOf[1].split(', ');
  const quoted = /runs '(.+)'; got '/.exec(message);
  if (quoted) return quoted[1].split("', '");
  return [];
}
