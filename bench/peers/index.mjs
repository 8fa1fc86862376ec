// Every server kind the benchmark knows, by id.
import { apacheCgid, modWsgi } from './apache.mjs';
import bareNode from './bare-node.mjs';
import { gunicornGthread, gunicornSync } from './gunicorn.mjs';
import { nginxFcgiwrap, nginxStatic } from './nginx.mjs';
import portico from './portico.mjs';
import uwsgi from './uwsgi.mjs';
import waitress from './waitress.mjs';

export const peers = Object.fromEntries(
  [portico, bareNode, uwsgi, gunicornSync, gunicornGthread, modWsgi, waitress, apacheCgid, nginxFcgiwrap, nginxStatic].map(
    (peer) => [peer.id, peer],
  ),
);
