/**
 * The request target taken apart: its path and query (RFC 9112 §3.2), and
 * the path's percent-escapes decoded to bytes. The router splits and
 * decodes paths with these to find the mount; neither routing nor the
 * gateways that read the result need to import each other for it.
 */

/**
 * PEP 3333 wants PATH_INFO decoded, as CGI has it, but as a native string of
 * the raw bytes: '%C3%A9' becomes '\xc3\xa9' and '%FF' becomes '\xff', which
 * latin-1 carries one byte per character. Malformed escapes stay as they are.
 */
export function decodePathBytes(path: string): string {
  if (!path.includes('%')) return path;
  return path.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Splits a request target into its path and raw query, RFC 9112 §3.2. */
export function splitTarget(target: string): { path: string; query: string } {
  let rest = target;
  // absolute-form (RFC 9112 §3.2.2): the authority is not part of the path.
  if (!rest.startsWith('/') && /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(rest)) {
    const afterScheme = rest.indexOf('//') + 2;
    const pathStart = rest.slice(afterScheme).search(/[/?]/);
    rest = pathStart === -1 ? '/' : rest.slice(afterScheme + pathStart);
    if (rest.startsWith('?')) rest = '/' + rest;
  }
  const hash = rest.indexOf('#');
  if (hash !== -1) rest = rest.slice(0, hash);
  const q = rest.indexOf('?');
  return q === -1 ? { path: rest, query: '' } : { path: rest.slice(0, q), query: rest.slice(q + 1) };
}
