/**
 * `--help` and the README's option table, both generated from the settings
 * table and grouped by its sections (scripts/readme-options.mjs writes the
 * table into README.md; test/readme.test.ts checks it is current).
 */
import { COMMAND_OPTIONS } from './cli-args.js';
import { SECTIONS, type CliOption, type Section, type Setting } from './setting.js';
import { SETTINGS } from './settings.js';

interface Row {
  option: CliOption;
  setting: Setting | null;
}

/** Every command-line option by section, in table order; the command options (--help, --version) last. */
function rowsBySection(): Array<[string, Row[]]> {
  const sections = new Map<string, Row[]>(SECTIONS.map((section: Section) => [section, []]));
  for (const setting of Object.values(SETTINGS) as Setting[]) {
    for (const option of [setting, ...(setting.also ?? [])]) sections.get(setting.section)?.push({ option, setting });
  }
  sections.set('Other', Object.values(COMMAND_OPTIONS).map((option) => ({ option, setting: null })));
  return [...sections].filter(([, rows]) => rows.length > 0);
}

/** `-b, --bind ADDRESS` in `--help`, `` `-b ADDRESS`, `--bind ADDRESS` `` in the README; the positional APP has only its placeholder. */
function spelling(option: CliOption, markdown: boolean): string {
  const metavar = option.metavar ?? '';
  if (option.flags.length === 0) return markdown ? `\`${metavar}\`` : metavar;
  const value = metavar === '' ? '' : ` ${metavar}`;
  return markdown ? option.flags.map((flag) => `\`${flag}${value}\``).join(', ') : `${option.flags.join(', ')}${value}`;
}

/** The environment variable of a setting, as `--help` and the README name it. */
function environment(setting: Setting | null): string {
  return setting?.env === undefined ? '' : `$${setting.env}`;
}

export function formatHelp(): string {
  const lines = [
    'usage: portico [OPTIONS] APP',
    '       portico dev [OPTIONS] APP    (development: --reload --debug, access log on the terminal, 127.0.0.1:8000 unless -b says otherwise)',
    '',
    'Each option can also be set in a config file (its long name without the dashes) and most in a PORTICO_*',
    'environment variable; the command line wins over the file, and the file over the environment.',
  ];
  for (const [section, rows] of rowsBySection()) {
    lines.push('', `${section}:`);
    for (const { option, setting } of rows) {
      const env = option === setting ? environment(setting) : '';
      lines.push(`  ${spelling(option, false)}${env ? `  (${env})` : ''}`);
      const defaultText = setting?.defaultText ?? '';
      lines.push(`      ${option.help}${defaultText ? ` [default: ${defaultText}]` : ''}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** The README's option table, generated like `--help`. */
export function formatOptionsTable(): string {
  const rows = ['| option | environment | default | meaning |', '|---|---|---|---|'];
  const cell = (text: string): string => text.replace(/\|/g, '\\|');
  for (const [section, sectionRows] of rowsBySection()) {
    rows.push(`| **${section}** | | | |`);
    for (const { option, setting } of sectionRows) {
      const flags = spelling(option, true);
      const env = option === setting ? environment(setting) : '';
      const defaultText = setting?.defaultText ?? '';
      rows.push(`| ${flags} | ${env ? `\`${env}\`` : '—'} | ${cell(defaultText || '—')} | ${cell(option.help)} |`);
    }
  }
  return rows.join('\n') + '\n';
}
