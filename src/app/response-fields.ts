/**
 * What the front reads in the header fields a worker sends: the declared
 * Content-Length, 103 Early Hints' links, trailer fields. Fields arrive flat,
 * as Node's rawHeaders are: name, value, name, value, ...
 */

/** Statuses whose responses never carry a body (RFC 9110 §6.4.1). */
export function statusHasBody(status: number): boolean {
  return !(status < 200 || status === 204 || status === 304);
}

/**
 * The Content-Length the fields declare: null for none, or the offending
 * value when it is not one number, or two that differ (RFC 9110 §8.6).
 */
export function declaredContentLength(fields: readonly string[]): { length: number | null } | { invalid: string } {
  let declared: number | null = null;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i] as string;
    // Only a 14-character name can be Content-Length: the others need no lower-casing.
    if (name.length !== 14 || name.toLowerCase() !== 'content-length') continue;
    const value = fields[i + 1] as string;
    if (!/^\d+$/.test(value) || (declared !== null && declared !== Number(value))) return { invalid: value };
    declared = Number(value);
  }
  return { length: declared };
}

/** The Link fields of an early hint (RFC 8297): the only ones a 103 is for. */
export function earlyHintLinks(fields: readonly string[]): string[] {
  const links: string[] = [];
  for (let i = 0; i < fields.length; i += 2) if ((fields[i] as string).toLowerCase() === 'link') links.push(fields[i + 1] as string);
  return links;
}

/** Flat fields as the [name, value] pairs res.addTrailers() takes. */
export function fieldPairs(fields: readonly string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < fields.length; i += 2) pairs.push([fields[i] as string, fields[i + 1] as string]);
  return pairs;
}
