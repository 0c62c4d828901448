import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ConsoleSession } from '../../services/console/console-sessions.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A console route reached without a session: the sign-in page and the stylesheet. */
    consolePublic?: boolean;
  }
  interface FastifyRequest {
    consoleSession?: ConsoleSession | null;
    consoleSessionId?: string;
  }
}

export const SESSION_COOKIE = 'lgw_console';
/** The sign-in form's token, before there is a session (a double-submit cookie). */
export const LOGIN_COOKIE = 'lgw_console_login';
export const LOGIN_PATH = '/console/login';

/** The cookie's flags: never readable by a script, never sent from another site, Secure over https. */
export function cookieOptions(req: FastifyRequest, maxAgeSeconds: number) {
  return {
    httpOnly: true,
    sameSite: 'strict' as const,
    path: '/console',
    secure: req.protocol === 'https',
    maxAge: maxAgeSeconds,
  };
}

export function sameToken(a: unknown, b: string | undefined): boolean {
  if (typeof a !== 'string' || b === undefined || a.length !== b.length || a === '') return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/**
 * A form sent from another site: an Origin (or Sec-Fetch-Site) that is not this console's own. SameSite=Strict
 * already keeps the cookie off such a request; this refuses it even where a browser sends the cookie anyway.
 */
export function crossSite(req: FastifyRequest): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return true;
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  return origin !== `${req.protocol}://${req.headers.host ?? ''}`;
}

/** A form field as text (a repeated field, or none, is undefined). */
export function field(body: unknown, name: string): string | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const v = (body as Record<string, unknown>)[name];
  return typeof v === 'string' ? v : undefined;
}

export function seeOther(reply: FastifyReply, url: string): FastifyReply {
  return reply.code(303).header('location', url).send();
}
