import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  FrameType,
  HEADER_SIZE,
  MAX_CHUNK,
  MAX_PAYLOAD,
  REQUEST_WINDOW,
  RESPONSE_WINDOW,
  RequestFlag,
  Capability,
  CancelFlag,
  ReadyFlag,
  PROTOCOL_VERSION,
  decodeCount,
  decodeError,
  decodeFile,
  decodeReady,
  decodeRequest,
  decodeResponseHead,
  encodeCount,
  encodeError,
  encodeFile,
  encodeFrame,
  encodeReady,
  encodeRequest,
  encodeResponseHead,
  encodeWorkerExit,
  decodeWorkerExit,
  decodeTrailers,
  decodeEarlyHints,
  encodeTrailers,
  encodeEarlyHints,
  type FrameTypeCode,
} from '../../src/ipc/frame-codec.js';
import { FrameDecoder } from '../../src/ipc/frame-decoder.js';
import { decodeRequestHead, encodeRequestHead, type Address, type RequestHead } from '../../src/ipc/request-head.js';
import {
  decodeWebSocketAccept,
  decodeWebSocketClose,
  decodeWebSocketMessage,
  encodeWebSocketAccept,
  encodeWebSocketClose,
  encodeWebSocketMessage,
} from '../../src/ipc/websocket-payloads.js';
import { FrameProtocolError } from '../../src/errors.js';

interface Frame {
  type: FrameTypeCode;
  flags: number;
  stream: number;
  payload: Buffer;
}

interface GoldenFrame {
  name: string;
  hex: string;
  type: keyof typeof FrameType;
  flags: number;
  stream: number;
  message: Record<string, unknown>;
}

const GOLDEN: GoldenFrame[] = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/golden-frames.json', import.meta.url), 'utf8'),
) as GoldenFrame[];

/** The golden file's head: snake_case as in Python, addresses as [host, port] lists. */
interface GoldenHead {
  method: string;
  scheme: 'http' | 'https';
  http_version: '1.0' | '1.1' | '2';
  path: string;
  raw_path: string;
  query_string: string;
  root_path: string;
  headers: Array<[string, string]>;
  client: [string, number] | null;
  server: [string, number | null];
  tls: GoldenTls | null;
}

/** The ASGI TLS extension's own keys. */
interface GoldenTls {
  tls_version: number | null;
  cipher_suite: number | null;
  server_cert: string | null;
  client_cert_chain: string[];
  client_cert_name: string | null;
}

function headFromGolden(head: GoldenHead): RequestHead {
  return {
    method: head.method,
    scheme: head.scheme,
    httpVersion: head.http_version,
    path: head.path,
    rawPath: head.raw_path,
    queryString: head.query_string,
    rootPath: head.root_path,
    headers: head.headers.flat(),
    client: head.client,
    server: head.server,
    tls:
      head.tls === null
        ? null
        : {
            tlsVersion: head.tls.tls_version,
            cipherSuite: head.tls.cipher_suite,
            serverCert: head.tls.server_cert,
            clientCertChain: head.tls.client_cert_chain,
            clientCertName: head.tls.client_cert_name,
          },
  };
}

function headToGolden(head: RequestHead): GoldenHead {
  const headers: Array<[string, string]> = [];
  for (let i = 0; i < head.headers.length; i += 2) headers.push([head.headers[i] as string, head.headers[i + 1] as string]);
  const address = (value: Address | null): [string, number | null] | null => (value === null ? null : [value[0], value[1]]);
  return {
    method: head.method,
    scheme: head.scheme,
    http_version: head.httpVersion,
    path: head.path,
    raw_path: head.rawPath,
    query_string: head.queryString,
    root_path: head.rootPath,
    headers,
    client: address(head.client) as [string, number] | null,
    server: address(head.server) as [string, number | null],
    tls:
      head.tls === null
        ? null
        : {
            tls_version: head.tls.tlsVersion,
            cipher_suite: head.tls.cipherSuite,
            server_cert: head.tls.serverCert,
            client_cert_chain: [...head.tls.clientCertChain],
            client_cert_name: head.tls.clientCertName,
          },
  };
}

function flatToPairs(flat: string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i] as string, flat[i + 1] as string]);
  return pairs;
}

function encodeGolden(golden: GoldenFrame): Buffer {
  const type = FrameType[golden.type] as FrameTypeCode;
  const m = golden.message;
  switch (golden.type) {
    case 'REQUEST':
      // The flags come from the parts: a golden SHARED_ENVIRON frame has a shared list, a HAS_HEAD one a head.
      return encodeRequest(
        golden.stream,
        golden.flags & ~(RequestFlag.SHARED_ENVIRON | RequestFlag.HAS_HEAD),
        { shared: (m.shared ?? []) as Array<[string, string]>, own: m.environ as Array<[string, string]> },
        m.head === undefined ? undefined : headFromGolden(m.head as GoldenHead),
      );
    case 'RESPONSE_HEAD':
      return encodeResponseHead(golden.stream, m as { status: number; reason: string; headers: Array<[string, string]> });
    case 'WINDOW':
    case 'WANT_BODY':
      return encodeCount(type, golden.stream, m.n as number);
    case 'PING':
    case 'PONG':
      return encodeCount(type, golden.stream, m.nonce as number);
    case 'RESPONSE_TRAILERS':
      return encodeTrailers(golden.stream, m.headers as Array<[string, string]>);
    case 'EARLY_HINTS':
      return encodeEarlyHints(golden.stream, m.headers as Array<[string, string]>);
    case 'READY':
      return encodeReady({ ...(m as { pid: number; version: number; capabilities: number }), flags: golden.flags });
    case 'WEBSOCKET_ACCEPT':
      return encodeWebSocketAccept(golden.stream, m as { subprotocol: string | null; headers: Array<[string, string]> });
    case 'WEBSOCKET_MESSAGE':
      return encodeWebSocketMessage(golden.stream, m.text !== undefined ? (m.text as string) : Buffer.from(m.data_hex as string, 'hex'));
    case 'WEBSOCKET_CLOSE':
      return encodeWebSocketClose(golden.stream, m as { code: number; reason: string });
    case 'FILE':
      return encodeFile(golden.stream, m as { offset: number; length: number | null; path: string });
    case 'ERROR':
      return encodeError(golden.stream, m as { status: number; text: string });
    case 'WORKER_EXIT':
      return encodeWorkerExit(m as { pid: number; status: number });
    case 'BOOT_ERROR':
      return encodeFrame(type, golden.flags, golden.stream, Buffer.from(m.text as string, 'utf8'));
    case 'REQUEST_BODY':
    case 'RESPONSE_BODY':
      return encodeFrame(type, golden.flags, golden.stream, Buffer.from(m.data_hex as string, 'hex'));
    default:
      return encodeFrame(type, golden.flags, golden.stream);
  }
}

function decodeMessage(frame: Frame): Record<string, unknown> {
  switch (frame.type) {
    case FrameType.REQUEST:
    {
      const { shared, own, head } = decodeRequest(frame.payload, frame.flags);
      return {
        ...((frame.flags & RequestFlag.SHARED_ENVIRON) === 0 ? {} : { shared }),
        ...(head === null ? {} : { head: headToGolden(head) }),
        environ: own,
      };
    }
    case FrameType.RESPONSE_HEAD: {
      const { status, reason, headers } = decodeResponseHead(frame.payload);
      const pairs: Array<[string, string]> = [];
      for (let i = 0; i < headers.length; i += 2) pairs.push([headers[i] as string, headers[i + 1] as string]);
      return { status, reason, headers: pairs };
    }
    case FrameType.WINDOW:
    case FrameType.WANT_BODY:
      return { n: decodeCount(frame.payload) };
    case FrameType.PING:
    case FrameType.PONG:
      return { nonce: decodeCount(frame.payload) };
    case FrameType.RESPONSE_TRAILERS:
      return { headers: flatToPairs(decodeTrailers(frame.payload)) };
    case FrameType.EARLY_HINTS:
      return { headers: flatToPairs(decodeEarlyHints(frame.payload)) };
    case FrameType.READY: {
      const { pid, version, capabilities, flags } = decodeReady(frame.payload, frame.flags);
      assert.equal(flags, frame.flags, 'decodeReady gives back the header flags');
      return { pid, version, capabilities };
    }
    case FrameType.WEBSOCKET_ACCEPT: {
      const { subprotocol, headers } = decodeWebSocketAccept(frame.payload);
      return { subprotocol, headers: flatToPairs(headers) };
    }
    case FrameType.WEBSOCKET_MESSAGE: {
      const message = decodeWebSocketMessage(frame.payload, frame.flags);
      return typeof message === 'string' ? { text: message } : { data_hex: message.toString('hex') };
    }
    case FrameType.WEBSOCKET_CLOSE:
      return { ...decodeWebSocketClose(frame.payload) };
    case FrameType.FILE:
      return { ...decodeFile(frame.payload) };
    case FrameType.ERROR:
      return { ...decodeError(frame.payload) };
    case FrameType.WORKER_EXIT:
      return { ...decodeWorkerExit(frame.payload) };
    case FrameType.BOOT_ERROR:
      return { text: frame.payload.toString('utf8') };
    case FrameType.REQUEST_BODY:
    case FrameType.RESPONSE_BODY:
      return { data_hex: frame.payload.toString('hex') };
    default:
      return {};
  }
}

function decodeAll(bytes: Buffer, splits: number[] = []): Frame[] {
  const decoder = new FrameDecoder();
  const frames: Frame[] = [];
  let at = 0;
  for (const cut of [...splits, bytes.length]) {
    decoder.push(bytes.subarray(at, cut), (type, flags, stream, payload) => frames.push({ type, flags, stream, payload: Buffer.from(payload) }));
    at = cut;
  }
  return frames;
}

describe('frame codec against the golden frames shared with the Python codec', () => {
  it('has a golden frame for every message type', () => {
    const covered = new Set(GOLDEN.map((golden) => golden.type));
    for (const name of Object.keys(FrameType)) assert.ok(covered.has(name as keyof typeof FrameType), `no golden frame for ${name}`);
  });

  for (const golden of GOLDEN) {
    it(`encodes ${golden.name}`, () => {
      assert.equal(encodeGolden(golden).toString('hex'), golden.hex);
    });

    it(`decodes ${golden.name}`, () => {
      const [frame, ...rest] = decodeAll(Buffer.from(golden.hex, 'hex'));
      assert.equal(rest.length, 0);
      assert.ok(frame);
      assert.equal(frame.type, FrameType[golden.type]);
      assert.equal(frame.flags, golden.flags);
      assert.equal(frame.stream, golden.stream);
      assert.deepEqual(decodeMessage(frame), golden.message);
    });
  }
});

describe('FrameDecoder', () => {
  const stream = Buffer.concat(GOLDEN.map((golden) => Buffer.from(golden.hex, 'hex')));

  it('yields the same frames however the bytes are split', () => {
    const whole = decodeAll(stream);
    assert.equal(whole.length, GOLDEN.length);
    const byteByByte = decodeAll(stream, Array.from({ length: stream.length - 1 }, (_, i) => i + 1));
    assert.deepEqual(byteByByte, whole);
    for (let seed = 1; seed <= 20; seed++) {
      const cuts = new Set<number>();
      let x = seed;
      for (let i = 0; i < 8; i++) {
        x = (x * 1103515245 + 12345) % 2 ** 31;
        cuts.add(1 + (x % (stream.length - 1)));
      }
      assert.deepEqual(decodeAll(stream, [...cuts].sort((a, b) => a - b)), whole);
    }
  });

  it('has the flow-control constants of the spec, as the Python codec does (test_codec.py)', () => {
    assert.deepEqual([REQUEST_WINDOW, RESPONSE_WINDOW, MAX_CHUNK, MAX_PAYLOAD], [1048576, 1048576, 262144, 16777216]);
  });

  it('refuses an unknown frame type', () => {
    const bad = encodeFrame(FrameType.STOP, 0, 0);
    bad[0] = 0x7f;
    assert.throws(() => decodeAll(bad), (error: unknown) => error instanceof FrameProtocolError && error.code === 'PORTICO_ERR_FRAME');
  });

  it('refuses a payload length over the limit before buffering it', () => {
    const header = Buffer.alloc(HEADER_SIZE);
    header[0] = FrameType.RESPONSE_BODY;
    header.writeUInt32BE(MAX_PAYLOAD + 1, 8);
    assert.throws(() => decodeAll(header), FrameProtocolError);
  });

  it('reports a truncated pair list as a protocol error', () => {
    const frame = encodeRequest(1, 0, { shared: [], own: [['PATH_INFO', '/x']] });
    assert.throws(() => decodeRequest(frame.subarray(HEADER_SIZE, frame.length - 1), 0), FrameProtocolError);
  });

  it('reports a shared environ block that overruns its REQUEST as a protocol error', () => {
    const frame = encodeRequest(1, 0, { shared: [['SCRIPT_NAME', '/app']], own: [['PATH_INFO', '/x']] });
    assert.equal(frame[1], RequestFlag.SHARED_ENVIRON, 'the flag follows from a shared part');
    const payload = Buffer.from(frame.subarray(HEADER_SIZE));
    payload.writeUInt32BE(payload.length, 0);
    assert.throws(() => decodeRequest(payload, RequestFlag.SHARED_ENVIRON), FrameProtocolError);
    assert.throws(() => decodeRequest(payload.subarray(0, 3), RequestFlag.SHARED_ENVIRON), FrameProtocolError);
  });
});

describe('READY and the protocol version', () => {
  it('has the version and capability bits of the spec, as the Python codec does (test_codec.py)', () => {
    assert.deepEqual([PROTOCOL_VERSION, Capability.WSGI, Capability.ASGI, Capability.WEBSOCKET], [2, 1, 2, 4]);
  });

  it('reads a pid alone as a runtime from before versions (version 0), so that it can be refused by name', () => {
    assert.deepEqual(decodeReady(encodeCount(FrameType.WINDOW, 0, 77).subarray(HEADER_SIZE)), { pid: 77, version: 0, capabilities: 0, flags: 0 });
  });

  it('reads the version of a newer READY that carries more fields', () => {
    const payload = Buffer.concat([encodeReady({ pid: 5, version: 9, capabilities: 3 }).subarray(HEADER_SIZE), Buffer.from('later')]);
    assert.deepEqual(decodeReady(payload), { pid: 5, version: 9, capabilities: 3, flags: 0 });
  });

  it('says an ASGI worker in its flags byte, which decodeReady gives back', () => {
    const frame = encodeReady({ pid: 5, version: PROTOCOL_VERSION, capabilities: Capability.WSGI | Capability.ASGI, flags: ReadyFlag.ASGI });
    assert.equal(frame[1], 0x01);
    assert.equal(decodeReady(frame.subarray(HEADER_SIZE), frame[1] as number).flags & ReadyFlag.ASGI, ReadyFlag.ASGI);
  });

  it('reports a truncated READY as a protocol error', () => {
    assert.throws(() => decodeReady(Buffer.alloc(6)), FrameProtocolError);
  });
});

describe('the ASGI additions', () => {
  it('have the codes and flags of the spec, as the Python codec does (test_codec.py)', () => {
    assert.deepEqual(
      [FrameType.PING, FrameType.PONG, FrameType.RESPONSE_TRAILERS, FrameType.EARLY_HINTS, CancelFlag.TIMED_OUT, ReadyFlag.ASGI],
      [0x08, 0x8c, 0x8d, 0x8e, 0x01, 0x01],
    );
  });

  it('reports a truncated trailer list as a protocol error', () => {
    const frame = encodeTrailers(1, [['grpc-status', '0']]);
    assert.throws(() => decodeTrailers(frame.subarray(HEADER_SIZE, frame.length - 1)), FrameProtocolError);
  });
});

describe('the request head', () => {
  const head: RequestHead = {
    method: 'GET',
    scheme: 'https',
    httpVersion: '1.1',
    path: '/app/x',
    rawPath: '/app/./x',
    queryString: 'a=1',
    rootPath: '/app',
    headers: ['Host', 'example.com', 'X-Dup', '1', 'x-dup', '2'],
    client: ['203.0.113.7', 50000],
    server: ['/run/portico.sock', null],
    tls: null,
  };

  it('goes out with names lowercased, order and duplicates kept', () => {
    assert.deepEqual(decodeRequestHead(encodeRequestHead(head)).headers, ['host', 'example.com', 'x-dup', '1', 'x-dup', '2']);
  });

  it('sets HAS_HEAD, and SHARED_ENVIRON only with a shared part', () => {
    const own: Array<[string, string]> = [['PATH_INFO', '/x']];
    assert.equal(encodeRequest(1, 0, { shared: [], own }, head)[1], RequestFlag.HAS_HEAD);
    const both = encodeRequest(1, RequestFlag.HAS_BODY, { shared: [['SCRIPT_NAME', '/app']], own }, head);
    assert.equal(both[1], RequestFlag.HAS_BODY | RequestFlag.SHARED_ENVIRON | RequestFlag.HAS_HEAD);
    const decoded = decodeRequest(both.subarray(HEADER_SIZE), both[1] as number);
    assert.deepEqual(decoded.own, own);
    assert.equal(decoded.head?.rootPath, '/app');
    assert.equal(encodeRequest(1, 0, { shared: [], own })[1], 0, 'no head, no flag: what WSGI mounts send');
  });

  it('reports a truncated head, or one that overruns its REQUEST, as a protocol error', () => {
    const block = encodeRequestHead(head);
    for (const cut of [0, 1, 5, 12, block.length - 40]) {
      assert.throws(() => decodeRequestHead(block.subarray(0, cut)), FrameProtocolError, `cut at ${cut}`);
    }
    const frame = encodeRequest(1, 0, { shared: [], own: [] }, head);
    const payload = Buffer.from(frame.subarray(HEADER_SIZE));
    payload.writeUInt32BE(payload.length, 0);
    assert.throws(() => decodeRequest(payload, RequestFlag.HAS_HEAD), FrameProtocolError);
  });
});
