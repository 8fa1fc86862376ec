/**
 * What a mount is, before anything is started, and the settings its pool
 * and its workers get. The types are declared with the settings table
 * (settings.ts), whose scopes say which settings these are.
 */
import { MOUNT_SETTING_KEYS, WORKER_SETTING_KEYS, type PoolSettings, type ServerOptions, type WorkerSettingKey } from './settings.js';

export { MOUNT_SETTING_KEYS, type MountSpec, type PoolSettings } from './settings.js';

/** The settings a WSGI mount may set for its own pool: the table's 'mount' scope. */
export const POOL_SETTING_KEYS = MOUNT_SETTING_KEYS;

/** The server-wide values of the pool settings, which a mount's own then override. */
export function pickPoolSettings(options: ServerOptions): PoolSettings {
  return Object.fromEntries(MOUNT_SETTING_KEYS.map((key) => [key, options[key]])) as PoolSettings;
}

/** The settings the table marks `worker: true`. */
export type WorkerSettings = Pick<ServerOptions, WorkerSettingKey>;

/** The JSON config a worker gets as its argument (python/portico/worker_config.py). */
export type WorkerConfig = WorkerSettings & {
  /** Always true: every worker is one of several processes (wsgi.multiprocess). */
  multiprocess: true;
};

/** The worker's JSON config: the settings the table marks `worker: true`, and nothing else. */
export function workerConfig(settings: WorkerSettings): WorkerConfig {
  const config = Object.fromEntries(WORKER_SETTING_KEYS.map((key) => [key, settings[key]])) as WorkerSettings;
  return { ...config, multiprocess: true };
}
