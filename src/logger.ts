import { type Logger, pino } from 'pino';

/** Paths pino blanks in every log line: keys, secrets and credentials never reach a log. */
export const REDACT_PATHS = [
  'req.headers["x-api-key"]',
  'req.headers.authorization',
  'headers["x-api-key"]',
  'headers.authorization',
  'req.headers["x-api-secret"]',
  'headers["x-api-secret"]',
  // Provider connection settings, should a connection ever be logged (explicit paths: wildcard
  // paths cost a few per cent of a request's CPU).
  'connection.apiKey',
  'connection.apiSecret',
  'connection.token',
  'connection.password',
  'err.config.headers["x-api-key"]',
];

export function createLogger(level: string): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { service: 'loyalty-gateway' } });
}
