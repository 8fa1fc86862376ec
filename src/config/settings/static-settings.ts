/** The settings table's entries (settings.ts) for static mounts (src/static/). */
import { DEFAULT_OPEN_FILE_CACHE } from '../../static/open-file-cache.js';
import { setting } from '../setting.js';
import { integer } from '../value-parsers.js';

export const STATIC_SETTINGS = {
  /** Bytes of small files each static mount keeps in memory (its open-file cache); 0 reads every file from disk. */
  staticCacheSize: setting({
    flags: ['--static-cache-size'], metavar: 'BYTES', parse: integer(0),
    section: 'Application', scope: 'server', env: 'PORTICO_STATIC_CACHE_SIZE',
    defaultValue: () => DEFAULT_OPEN_FILE_CACHE.maxBytes, defaultText: '16777216 (16 MiB)',
    help: 'Memory each --static mount may keep files of up to 64 KiB in, to answer them without reading the disk (checked against it once a second). 0 reads every file from disk.',
  }),
};
