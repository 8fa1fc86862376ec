/** The settings table's entries (settings.ts) for the control listener: /metrics, /status, /healthz, /readyz. */
import { parseBind } from '../parse-bind.js';
import { setting } from '../setting.js';

export const CONTROL_SETTINGS = {
  /** Addresses of the control listener (src/http/control-listener.ts); none by default. Never a --bind address. */
  controlBind: setting({
    flags: ['--control-bind'], metavar: 'ADDRESS', multiple: true, parse: (raw, flag): string => parseBind(raw, flag).text,
    section: 'Listening', scope: 'server',
    defaultValue: (): string[] => [], defaultText: 'none',
    help: 'Address of the control listener: /metrics (Prometheus), /status, /status.json, /healthz and /readyz, never a public one and never behind --proxy-protocol. HOST:PORT, [IPv6]:PORT or unix:PATH. Repeatable.',
  }),
};
