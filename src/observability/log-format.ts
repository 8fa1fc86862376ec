/**
 * --log-format: how both logs are written. 'text' is gunicorn's layouts
 * (the error log's bracketed prefix, the access log's --access-logformat);
 * 'json' is one JSON object per line with stable keys, for a log shipper.
 */
export type LogFormat = 'text' | 'json';
export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];
