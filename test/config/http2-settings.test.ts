/**
 * The HTTP/2 settings into what the public listeners take
 * (http2ListenerOptions): --http-protocols in its order, h2c only when
 * asked for, and the combinations that leave a listener nothing to speak,
 * or speak HTTP/2 where it cannot be, refused by name.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { http2ListenerOptions } from '../../src/config/listener-settings.js';
import { loadOptions } from '../../src/config/load-options.js';
import { ConfigError } from '../../src/errors.js';

function optionsOf(argv: string[], tls = false, env: NodeJS.ProcessEnv = {}): ReturnType<typeof http2ListenerOptions> {
  return http2ListenerOptions(loadOptions([...argv, 'app:application'], env, '/').options, tls);
}

function refused(argv: string[], tls: boolean, message: RegExp): void {
  assert.throws(() => optionsOf(argv, tls), (error: unknown) => error instanceof ConfigError && message.test(error.message));
}

describe('HTTP/2 settings', () => {
  it('default to h2 then h1, no h2c, and RFC 9113 SETTINGS of 100 streams and a 64 KiB header list', () => {
    assert.deepEqual(optionsOf([]), {
      httpProtocols: ['h2', 'h1'],
      http2: { maxConcurrentStreams: 100, maxHeaderListSize: 65536, initialWindowSize: 65535 },
      http2Cleartext: false,
    });
  });

  it('take --http-protocols in its order, from the command line or the environment', () => {
    assert.deepEqual(optionsOf(['--http-protocols', 'h1,h2']).httpProtocols, ['h1', 'h2']);
    assert.deepEqual(optionsOf(['--http-protocols', 'h1']).httpProtocols, ['h1']);
    assert.deepEqual(optionsOf([], false, { PORTICO_HTTP_PROTOCOLS: 'h2' , PORTICO_HTTP2_CLEARTEXT: 'prior-knowledge' }).httpProtocols, ['h2']);
  });

  it('take the limits', () => {
    const { http2 } = optionsOf(['--http2-max-concurrent-streams', '8', '--http2-max-header-list-size', '16384', '--http2-initial-window-size', '1048576']);
    assert.deepEqual(http2, { maxConcurrentStreams: 8, maxHeaderListSize: 16384, initialWindowSize: 1048576 });
  });

  it('refuse what cannot work, naming the option', () => {
    refused(['--http-protocols', 'h3'], false, /--http-protocols: expected h1 or h2, got 'h3'/);
    refused(['--http-protocols', ''], false, /--http-protocols/);
    refused(['--http2-initial-window-size', '2147483648'], false, /RFC 9113 §6\.5\.2/);
    refused(['--http2-cleartext', 'upgrade'], false, /--http2-cleartext: expected one of off, prior-knowledge/);
    refused(['--http2-cleartext', 'prior-knowledge', '--http-protocols', 'h1'], false, /needs h2 in --http-protocols/);
    refused(['--http-protocols', 'h2'], false, /without TLS needs --http2-cleartext prior-knowledge/);
    refused(['--http2-cleartext', 'prior-knowledge', '--protocol', 'uwsgi'], false, /--protocol uwsgi/);
  });

  it('let h2 alone stand over TLS', () => {
    assert.deepEqual(optionsOf(['--http-protocols', 'h2'], true).httpProtocols, ['h2']);
  });
});
