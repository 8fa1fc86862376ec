/** CgiHandler with scripts started by the spawner helper, as a server runs it by default. */
import { SYSTEM_PYTHON } from '../helpers/paths.js';
import { cgiHandlerSuite } from './cgi-handler-suite.js';

cgiHandlerSuite(SYSTEM_PYTHON);
