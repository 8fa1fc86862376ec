// Every server kind the benchmark knows, by id.
import { apacheCgid, modWsgi } from './apache.mjs';
import bareNode from './bare-node.mjs';
import daphne from './daphne.mjs';
import { gunicornGthread, gunicornSync, gunicornUvicorn } from './gunicorn.mjs';
import hypercorn from './hypercorn.mjs';
import { nginxFcgiwrap, nginxGunicorn, nginxStatic, nginxTlsUwsgi, nginxUwsgi } from './nginx.mjs';
import portico from './portico.mjs';
import { uvicornPure, uvicornStandard } from './uvicorn.mjs';
import uwsgi from './uwsgi.mjs';
import waitress from './waitress.mjs';

export const peers = Object.fromEntries(
  [
    portico, bareNode, uwsgi, gunicornSync, gunicornGthread, modWsgi, waitress, nginxUwsgi, nginxGunicorn,
    apacheCgid, nginxFcgiwrap, nginxStatic, nginxTlsUwsgi,
    uvicornStandard, uvicornPure, hypercorn, daphne, gunicornUvicorn,
  ].map((peer) => [peer.id, peer]),
);
