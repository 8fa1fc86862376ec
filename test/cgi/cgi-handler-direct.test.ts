/** CgiHandler with scripts started by child_process.spawn: the fallback when the spawner cannot run. */
import { cgiHandlerSuite } from './cgi-handler-suite.js';

cgiHandlerSuite(null);
