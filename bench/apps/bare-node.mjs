// The front's ceiling: Node's http module answering hello world, nothing else.
import { createServer } from 'node:http';

const [host, port] = process.argv.slice(2);
const body = Buffer.from('Hello, world!');

createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
  res.end(body);
}).listen(Number(port), host);
