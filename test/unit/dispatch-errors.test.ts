import { describe, expect, it } from 'vitest';
import { isOwnLimit, isTransient, rateLimitWaitMs } from '../../src/dispatch/job-errors.js';
import { ProviderError } from '../../src/domain/errors.js';
import { rateLimitOf } from '../../src/providers/descriptor.js';
import { type HttpResult, retryAfterOf } from '../../src/providers/http/provider-http.js';
import { descriptorOf, type ProviderConnectionSettings as ExternalConnection } from '../../src/providers/index.js';

const answer = (retryAfter: string | undefined): HttpResult => ({
  status: 429,
  headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter },
  body: undefined,
  invalidJson: false,
  text: '',
});
const limited = (retryAfter: string, extra: Record<string, unknown> = {}) =>
  new ProviderError('provider_rate_limited', 'limited', 'no', { retryAfter: retryAfter, ...extra });

describe('a 429 and its Retry-After', () => {
  it('reads seconds or an HTTP date, and falls back to a second', () => {
    expect(retryAfterOf(answer('7'))).toBe('7');
    expect(retryAfterOf(answer(new Date(Date.now() + 4500).toUTCString()))).toMatch(/^[45]$/);
    expect(retryAfterOf(answer(new Date(Date.now() - 10_000).toUTCString()))).toBe('0');
    expect(retryAfterOf(answer(undefined))).toBe('1');
    expect(retryAfterOf(answer('soon'))).toBe('1');
  });

  it('becomes the wait that holds the connection; a wait at our own gate is told apart', () => {
    expect(rateLimitWaitMs(limited('3'))).toBe(3000);
    expect(rateLimitWaitMs(new ProviderError('provider_unavailable', 'down', 'no'))).toBeNull();
    expect(isOwnLimit(limited('1'))).toBe(false);
    expect(isOwnLimit(limited('1', { gate: true }))).toBe(true);
  });
});

describe('what is tried again', () => {
  it('reads on any 5xx or timeout; writes only when the provider certainly did not get them', () => {
    const unknown = new ProviderError('provider_unavailable', '5xx', 'unknown');
    const refused = new ProviderError('provider_unavailable', 'no connection', 'no');
    const rejected = new ProviderError('provider_rejected', '4xx', 'no');
    expect(isTransient(unknown, false)).toBe(true);
    expect(isTransient(unknown, true)).toBe(false);
    expect(isTransient(refused, true)).toBe(true);
    expect(isTransient(rejected, false)).toBe(false);
    expect(isTransient(new ProviderError('provider_timeout', 't', 'unknown'), true)).toBe(false);
  });
});

describe('default limits', () => {
  const limitOf = (provider: string, extra: Record<string, unknown> = {}) =>
    rateLimitOf(descriptorOf(provider)!, { id: 'x', provider, baseUrl: 'http://p', ...extra } as ExternalConnection);
  it('are the documented ones, unless the connection sets its own', () => {
    expect(limitOf('highlight')).toEqual({ requests: 10, perSeconds: 1 });
    expect(limitOf('loyaltylt')).toEqual({ requests: 300, perSeconds: 60 });
    expect(limitOf('coupontools')).toBeNull();
    expect(limitOf('leal')).toBeNull();
    expect(limitOf('highlight', { rateLimit: { requests: 5, perSeconds: 2 } })).toEqual({
      requests: 5,
      perSeconds: 2,
    });
  });
});
