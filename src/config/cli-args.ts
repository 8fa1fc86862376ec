/**
 * Command-line parsing, driven by the settings table. Accepts `--opt value`,
 * `--opt=value`, `-o value`, `-ovalue`, and `--` to end the options; every
 * mistake becomes a ConfigError naming the option.
 */
import { ConfigError } from '../errors.js';
import { settingDefaults } from './setting-defaults.js';
import type { CliOption, Env, Setting } from './setting.js';
import { SETTINGS, type ServerOptions, type SettingKey } from './settings.js';

export interface ParsedCommandLine {
  /** Defaults, overridden by what the command line gave (PORTICO_* variables not included). */
  options: ServerOptions;
  /** Only what the command line gave, to lay over a config file. */
  given: Partial<ServerOptions>;
  help: boolean;
  version: boolean;
}

/** Options that are no setting: they make the command do something else than serve. */
export const COMMAND_OPTIONS = {
  version: { flags: ['--version'], help: 'Print the version and exit.' },
  help: { flags: ['-h', '--help'], help: 'Show this help and exit.' },
} as const satisfies Record<string, CliOption>;

type FlagTarget = { key: SettingKey; setting: Setting; option: CliOption } | { command: keyof typeof COMMAND_OPTIONS };

const BY_FLAG = new Map<string, FlagTarget>();
for (const [key, setting] of Object.entries(SETTINGS) as Array<[SettingKey, Setting]>) {
  for (const option of [setting, ...(setting.also ?? [])]) for (const flag of option.flags) BY_FLAG.set(flag, { key, setting, option });
}
for (const [command, option] of Object.entries(COMMAND_OPTIONS)) {
  for (const flag of option.flags) BY_FLAG.set(flag, { command: command as keyof typeof COMMAND_OPTIONS });
}

export function parseCommandLine(argv: readonly string[], env: Env = process.env): ParsedCommandLine {
  // Values by setting key: --mount, --cgi and --static all add to 'mounts', in command-line order.
  const given = new Map<SettingKey, { setting: Setting; values: unknown[] }>();
  const positionals: string[] = [];
  const commands = { help: false, version: false };

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
    const target = BY_FLAG.get(flag);
    if (target === undefined) throw new ConfigError(`unknown option '${flag}'; see 'portico --help'`);
    if ('command' in target || target.option.parse === undefined) {
      if (inline !== undefined) throw new ConfigError(`${flag} takes no value`);
      if ('command' in target) commands[target.command] = true;
      else given.set(target.key, { setting: target.setting, values: [true] });
      continue;
    }
    let raw = inline;
    if (raw === undefined) {
      raw = argv[++i];
      if (raw === undefined) throw new ConfigError(`${flag} needs a value (${target.option.metavar ?? 'VALUE'})`);
    }
    const value = target.option.parse(raw, flag);
    const entry = given.get(target.key) ?? { setting: target.setting, values: [] };
    if (!target.setting.multiple) entry.values.length = 0;
    entry.values.push(value);
    given.set(target.key, entry);
  }

  const explicit: Record<string, unknown> = {};
  for (const [key, { setting, values }] of given) {
    explicit[key] = setting.multiple ? (setting.collect ? setting.collect(values) : values) : values[0];
  }
  if (!commands.help && !commands.version) {
    if (positionals.length > 1) throw new ConfigError(`expected one application, got ${positionals.length}: ${positionals.join(' ')}`);
  }
  if (positionals.length === 1) explicit.app = positionals[0];
  const options = { ...settingDefaults(env), ...explicit } as ServerOptions;
  return { options, given: explicit as Partial<ServerOptions>, ...commands };
}
