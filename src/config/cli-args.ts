/**
 * Command-line parsing, driven by the settings table. Accepts `--opt value`,
 * `--opt=value`, `-o value`, `-ovalue`, and `--` to end the options; every
 * mistake becomes a ConfigError naming the option.
 */
import { ConfigError } from '../errors.js';
import { SETTINGS, defaultOptions, type ServerOptions, type Setting } from './settings.js';

export interface ParsedCommandLine {
  /** Defaults, overridden by what the command line gave. */
  options: ServerOptions;
  /** Only what the command line gave, to lay over a config file. */
  given: Partial<ServerOptions>;
  help: boolean;
  version: boolean;
}

const BY_FLAG = new Map<string, Setting>();
for (const setting of SETTINGS) for (const flag of setting.flags) BY_FLAG.set(flag, setting);

export function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParsedCommandLine {
  // Values by setting key: --mount, --cgi and --static all add to 'mounts', in command-line order.
  const given = new Map<string, { setting: Setting; values: unknown[] }>();
  const positionals: string[] = [];
  let help = false;
  let version = false;

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    let flag = arg;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      if (eq !== -1) [flag, inline] = [arg.slice(0, eq), arg.slice(eq + 1)];
    } else if (arg.length > 2) {
      [flag, inline] = [arg.slice(0, 2), arg.slice(2)];
    }
    const setting = BY_FLAG.get(flag);
    if (setting === undefined) throw new ConfigError(`unknown option '${flag}'; see 'portico --help'`);
    if (setting.parse === undefined) {
      if (inline !== undefined) throw new ConfigError(`${flag} takes no value`);
      if (setting.key === 'help') help = true;
      else if (setting.key === 'version') version = true;
      else given.set(setting.key, { setting, values: [true] });
      continue;
    }
    let raw = inline;
    if (raw === undefined) {
      raw = argv[++i];
      if (raw === undefined) throw new ConfigError(`${flag} needs a value (${setting.metavar ?? 'VALUE'})`);
    }
    const value = setting.parse(raw, flag);
    const entry = given.get(setting.key) ?? { setting, values: [] };
    if (!setting.multiple) entry.values.length = 0;
    entry.values.push(value);
    given.set(setting.key, entry);
  }

  const explicit: Record<string, unknown> = {};
  for (const [key, { setting, values }] of given) {
    explicit[key] = setting.multiple ? (setting.collect ? setting.collect(values) : values) : values[0];
  }
  if (!help && !version) {
    if (positionals.length > 1) throw new ConfigError(`expected one application, got ${positionals.length}: ${positionals.join(' ')}`);
  }
  if (positionals.length === 1) explicit.app = positionals[0];
  const options = { ...defaultOptions(env), ...explicit } as ServerOptions;
  return { options, given: explicit as Partial<ServerOptions>, help, version };
}

/** `--help`, generated from the settings table. */
export function formatHelp(): string {
  const lines = [
    'usage: portico [OPTIONS] APP',
    '       portico dev [OPTIONS] APP    (development: --reload --debug, access log on the terminal, 127.0.0.1:8000)',
    '',
    'APP is module:callable, module (callable `application`), module:factory() or a .py/.wsgi file.',
    '',
    'options:',
  ];
  for (const setting of SETTINGS) {
    const flags = setting.flags.join(', ') + (setting.metavar ? ` ${setting.metavar}` : '');
    lines.push(`  ${flags}`);
    lines.push(`      ${setting.help}${setting.defaultText ? ` [default: ${setting.defaultText}]` : ''}`);
  }
  return lines.join('\n') + '\n';
}

/** The README's option table, generated from the settings table like `--help`. */
export function formatOptionsTable(): string {
  const rows = ['| option | default | meaning |', '|---|---|---|'];
  const cell = (text: string): string => text.replace(/\|/g, '\\|');
  for (const setting of SETTINGS) {
    const flags = setting.flags.map((flag) => `\`${flag}${setting.metavar ? ` ${setting.metavar}` : ''}\``).join(', ');
    rows.push(`| ${flags} | ${cell(setting.defaultText || '—')} | ${cell(setting.help)} |`);
  }
  return rows.join('\n') + '\n';
}
