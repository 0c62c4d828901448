import { GatewayError } from '../../domain/errors.js';
import type { ProviderAdapter } from '../../providers/adapter.js';
import type { Connection } from '../connections/connection.js';
import type { ViewContext } from '../connections/views.js';

/**
 * The capability check of the provider-side operations (cards, customers, programs,
 * notifications), written once: a connection without a provider (the built-in ledger), or whose
 * provider's API has no such call, refuses with unsupported_operation naming what it supports.
 */

function unsupported(conn: Connection, what: string): GatewayError {
  const detail = conn.provider
    ? `${conn.provider.view.descriptor.name} (connection ${conn.id}) offers no ${what} through its API.`
    : `Connection ${conn.id} is the built-in ledger, which has no ${what}.`;
  return new GatewayError('unsupported_operation', detail, { supported: conn.capabilities.operations });
}

/** The connection's provider: how its objects are shown; else unsupported_operation for `what`. */
export function providerOf(conn: Connection, what: string): ViewContext {
  if (!conn.provider) throw unsupported(conn, what);
  return conn.provider.view;
}

/** One call of the connection's provider API (every call a job on its queue); else unsupported_operation for `what`. */
export function providerCall<K extends keyof ProviderAdapter>(
  conn: Connection,
  method: K,
  what: string,
): NonNullable<ProviderAdapter[K]> {
  const api = conn.provider?.api;
  const fn = api?.[method];
  if (!api || typeof fn !== 'function') throw unsupported(conn, what);
  return (fn as (...a: unknown[]) => unknown).bind(api) as NonNullable<ProviderAdapter[K]>;
}
