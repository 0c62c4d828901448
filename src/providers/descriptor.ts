import type { TObject } from 'typebox';
import type { CardTypeCapabilities } from '../domain/capabilities.js';
import type { Movement, ProviderAdapter, ProviderProgram } from './adapter.js';
import { LocalRequestGate } from './http/local-gate.js';
import type { RateLimitSetting, RequestGate } from './http/request-gate.js';
import type { ProviderSettings } from './settings.js';

/**
 * How a movement whose outcome is unknown (a timeout or a 5xx after it was sent) is settled
 * before anything is sent again (src/dispatch/transaction-job.ts):
 *  - 'lookup': the adapter's findApplied searches the provider's records for the movement's txn
 *    id; found, it succeeded; not found, it was not applied and may be sent again;
 *  - 'resend': the provider de-duplicates on the movement's `dedupKey`, so sending it again is safe;
 *  - 'none': there is no way to tell; the transaction is kept as needs_review for a person.
 */
export type ReconcileStrategy = 'lookup' | 'resend' | 'none';

/**
 * Everything the gateway knows of one provider kind, in one object: each
 * `src/providers/<kind>/index.ts` exports one, and `src/providers/index.ts` lists them. Adding a
 * provider is a folder with its descriptor and one line in that list.
 */
export interface ProviderDescriptor<S extends ProviderSettings = ProviderSettings> {
  /** The `provider` value of a connection in the configuration file. */
  readonly kind: S['provider'];
  /** The provider's name in messages. */
  readonly name: string;
  /** The schema of the connection's settings, validated at start-up (S is its static type). */
  readonly settings: TObject;
  /** The settings that are credentials: never shown (GET /v1/connections), never logged. */
  readonly secrets: readonly string[];
  /** The provider's documented rate limit, used when the connection sets none; null when it documents none. */
  readonly defaultRateLimit: RateLimitSetting | null;
  /** The capability table: every card type the provider has, and what each supports. */
  readonly cardTypes: readonly CardTypeCapabilities[];
  /** How an unknown outcome of this movement is settled. */
  reconcile(movement: Movement): ReconcileStrategy;
  /** What a card of this program supports, where it depends on the program (Highlight template mechanics). */
  programCapabilities?(settings: S, program: ProviderProgram): CardTypeCapabilities | null;
  /** Whether an issued card can keep the caller's external_reference (a new customer, a customer field...). */
  keepsExternalReference?(card: { newCustomer: boolean; existingCustomer: boolean }): boolean;
  /**
   * The adapter of one connection. `gate` is its rate-limit gate (the shared Redis limiter in a
   * running gateway); without one, an in-process gate at the connection's limit.
   */
  create(settings: S, gate?: RequestGate): ProviderAdapter;
}

/** A connection's rate limit: its own `rateLimit` setting, else its provider's documented one (null: none). */
export function rateLimitOf(descriptor: ProviderDescriptor, settings: ProviderSettings): RateLimitSetting | null {
  return settings.rateLimit ?? descriptor.defaultRateLimit;
}

/** The gate of an adapter made without a shared one (tests, tools): in this process, at the connection's limit. */
export function defaultGate(descriptor: ProviderDescriptor, settings: ProviderSettings): RequestGate {
  return new LocalRequestGate(rateLimitOf(descriptor, settings));
}
