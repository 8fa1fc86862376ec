// The front's ceiling: Node's http module and nothing else, sending the
// bytes the Python apps send.
//
//   bare-node.mjs HOST PORT            hello world (hello.py's 13 bytes)
//   bare-node.mjs HOST PORT big        big.py's 100 KiB, built once at start
//   bare-node.mjs HOST PORT echo       the request body back, as echo.py does
//   bare-node.mjs HOST PORT file PATH  that file's bytes, read once at start
//                                      (the static workload): what any Node
//                                      static server costs at the least, with
//                                      no file system work at all
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [host, port, mode = 'hello', file] = process.argv.slice(2);

function fixed(body, type) {
  const head = { 'Content-Type': type, 'Content-Length': body.length };
  return (req, res) => {
    res.writeHead(200, head);
    res.end(body);
  };
}

function bigBody() {
  const body = Buffer.alloc(256 * 400);
  for (let i = 0; i < body.length; i++) body[i] = i % 256;
  return body;
}

function echo(req, res) {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length });
    res.end(body);
  });
}

const HANDLERS = {
  hello: () => fixed(Buffer.from('Hello, world!'), 'text/plain'),
  big: () => fixed(bigBody(), 'application/octet-stream'),
  echo: () => echo,
  file: () => fixed(readFileSync(file), 'application/octet-stream'),
};

if (!HANDLERS[mode]) throw new Error(`bare-node.mjs: unknown mode ${mode}`);
createServer(HANDLERS[mode]()).listen(Number(port), host);
