#!/usr/bin/env node
import { main } from '../dist/src/cli.js';

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (error) => {
    process.stderr.write(`portico: internal error: ${error && error.stack ? error.stack : error}\n`);
    process.exit(1);
  },
);
