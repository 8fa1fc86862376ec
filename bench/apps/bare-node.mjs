// The front's ceiling: Node's http module answering from memory, nothing
// else. Hello world by default; with a file argument (the static workload),
// that file's bytes, read once at start, for every request: what any Node
// static server costs at the least, with no file system work at all.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [host, port, file] = process.argv.slice(2);
const body = file === undefined ? Buffer.from('Hello, world!') : readFileSync(file);
const type = file === undefined ? 'text/plain' : 'application/octet-stream';

createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length });
  res.end(body);
}).listen(Number(port), host);
