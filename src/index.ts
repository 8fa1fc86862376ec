/** Public API: `import { createServer } from 'portico'`. */
export { createServer, Server, type ServerOptions } from './server.js';
export { PorticoError, ConfigError, AppLoadError, WorkerBootError, FrameProtocolError } from './errors.js';
export { ERROR_CODES, type ErrorCode } from './error-codes.js';
