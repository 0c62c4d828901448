import { pino, type Logger } from 'pino';

/** Paths pino blanks in every log line: keys, secrets and credentials never reach a log. */
export const REDACT_PATHS = [
  'req.headers["x-api-key"]',
  'req.headers.authorization',
  'headers["x-api-key"]',
  'headers.authorization',
  '*.apiKey',
  '*.apiSecret',
  '*.token',
  '*.password',
  '*.secret',
];

export function createLogger(level: string): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { service: 'loyalty-gateway' } });
}
