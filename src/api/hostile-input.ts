import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type ErrorCode, GatewayError } from '../domain/errors.js';
import { problemOf, statusOf } from './problem.js';

/**
 * Defences against hostile input that JSON Schema never sees: the body's bytes (UTF-8 only, a bounded nesting
 * depth), API keys sent in the URL, secrets in the logged URL, and what Node's HTTP parser refuses before Fastify
 * has a request (answered as problem+json on the raw socket).
 */

/** Deeper bodies are refused before anything walks them (no request of the API nests more than a few levels). */
export const MAX_JSON_DEPTH = 32;

/** The deepest nesting of `text` outside strings, stopping as soon as it passes `limit`. Iterative: any depth. */
export function jsonDepthOver(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** The charset a Content-Type declares, lower-cased and unquoted, or undefined. */
function declaredCharset(contentType: string | undefined): string | undefined {
  const m = /;\s*charset\s*=\s*("?)([^";\s]*)\1/i.exec(contentType ?? '');
  return m ? m[2]!.toLowerCase() : undefined;
}

/**
 * Replaces Fastify's JSON parser: the body must be UTF-8 (a declared charset other than UTF-8 is 415, invalid bytes
 * 400 invalid_encoding: never stored as U+FFFD) and nest at most MAX_JSON_DEPTH levels; then Fastify's own parser
 * (which refuses __proto__ and constructor.prototype).
 */
export function registerJsonParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    const charset = declaredCharset(req.headers['content-type']);
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      return done(
        new GatewayError(
          'unsupported_media_type',
          `The body must be UTF-8 JSON: charset=${charset} is not accepted (send charset=utf-8, or none).`,
        ),
      );
    }
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      return done(new GatewayError('invalid_encoding', 'The body is not valid UTF-8.'));
    }
    if (jsonDepthOver(text, MAX_JSON_DEPTH)) {
      const message = `must be nested at most ${MAX_JSON_DEPTH} levels deep`;
      return done(
        new GatewayError('validation_failed', `The body is nested more than ${MAX_JSON_DEPTH} levels deep.`, {
          errors: [{ field: '/', message }],
        }),
      );
    }
    return parse(req, text, done);
  });
}

/** Query parameters that are an API key (compared lower-cased, without `-` and `_`). */
const API_KEY_PARAMS = new Set(['apikey', 'xapikey']);
/** Query parameters whose value is never logged: exact names, and names containing one of SECRET_PARTS. */
const SECRET_PARAMS = new Set(['key', 'sig', 'auth', 'pwd', 'passwd', 'credential', 'credentials', 'jwt']);
const SECRET_PARTS = ['apikey', 'token', 'secret', 'password', 'signature', 'authorization', 'session'];

const normalized = (name: string): string => {
  let decoded = name;
  try {
    decoded = decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {}
  return decoded.toLowerCase().replace(/[-_\s.]/g, '');
};

const isSecretParam = (name: string): boolean => {
  const n = normalized(name);
  return SECRET_PARAMS.has(n) || SECRET_PARTS.some((p) => n.includes(p));
};

/** The URL with the value of every secret-looking query parameter replaced by [redacted] (for logs). */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const parts = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq === -1 ? pair : pair.slice(0, eq);
      return eq !== -1 && isSecretParam(name) ? `${name}=[redacted]` : pair;
    });
  return `${url.slice(0, q + 1)}${parts.join('&')}`;
}

/** Refuses an API key sent in the query string (it ends up in proxies' and browsers' logs): the header only. */
export function registerQueryKeyCheck(app: FastifyInstance): void {
  app.addHook('onRequest', async (req: FastifyRequest) => {
    const q = req.url.indexOf('?');
    if (q === -1) return;
    for (const pair of req.url.slice(q + 1).split('&')) {
      const name = pair.split('=', 1)[0] ?? '';
      if (API_KEY_PARAMS.has(normalized(name))) {
        throw new GatewayError(
          'validation_failed',
          'API keys are not accepted in the URL: send the key in the X-Api-Key header (and replace this key: ' +
            'a URL is kept in logs and histories).',
          { errors: [{ field: `/${normalized(name)}`, message: 'must not be sent in the query string' }] },
        );
      }
    }
  });
}

/** A whole HTTP/1.1 problem+json answer, for a socket that has no Fastify reply. */
function rawProblem(code: ErrorCode, detail: string): string {
  const status = statusOf(code);
  const body = JSON.stringify(problemOf(new GatewayError(code, detail)));
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

/**
 * Node's 'clientError' (Fastify's clientErrorHandler): a malformed request, headers over the limit, bad chunked
 * encoding, a request not received within REQUEST_TIMEOUT_MS. Answered as problem+json when nothing of a response
 * was written yet, then the connection is closed.
 */
export function clientErrorHandler(this: FastifyInstance, err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  let answer: string;
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    answer = rawProblem(
      'request_timeout',
      'The request (headers and body) was not received in time (REQUEST_TIMEOUT_MS); the connection is closed.',
    );
  } else if (err.code === 'HPE_HEADER_OVERFLOW') {
    answer = rawProblem('headers_too_large', 'The request headers are larger than this gateway accepts.');
  } else {
    const reason = err.code?.startsWith('HPE_') ? ` (${err.code.slice(4).toLowerCase().replace(/_/g, ' ')})` : '';
    answer = rawProblem('malformed_request', `The request is not valid HTTP/1.1${reason}.`);
  }
  this.log.debug({ code: err.code }, 'client error');
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  socket.end(answer);
  setTimeout(() => socket.destroy(), 1000).unref();
}
