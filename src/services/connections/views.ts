import type { Capabilities, CardTypeCapabilities, Operation } from '../../domain/capabilities.js';
import type { Card } from '../../domain/cards.js';
import type { CustomerResource } from '../../domain/customers.js';
import { gatewayId } from '../../domain/ids.js';
import type { Program } from '../../domain/programs.js';
import { isoTime as iso } from '../../lib/time.js';
import type { ProviderCard, ProviderCustomer, ProviderProgram } from '../../providers/adapter.js';
import type { ProviderDescriptor } from '../../providers/descriptor.js';
import type { ProviderSettings } from '../../providers/settings.js';

/**
 * A provider's objects as the API shows them: its references become gateway ids
 * (`<connection>:<reference>`), and cards and programs say what they support. The one place
 * that maps them, for every route and every provider.
 */

/** The gateway always keeps history (its own record) and can show any card; reverse is the provider's to declare. */
function withGatewayOps(operations: readonly Operation[]): Operation[] {
  const out = new Set(operations);
  out.add('history');
  out.add('get_card');
  return [...out];
}

/** A row of a provider's capability table as the API shows it. */
export function capabilitiesOfType(t: CardTypeCapabilities): Capabilities {
  return {
    operations: withGatewayOps(t.operations),
    units: [...t.units],
    native_unit: t.nativeUnit,
    ...(t.adjust ? { adjust: { add: [...t.adjust.add], subtract: [...t.adjust.subtract] } } : {}),
  };
}

/** Where views are made: the connection, and its provider's descriptor. */
export interface ViewContext {
  id: string;
  settings: ProviderSettings;
  descriptor: ProviderDescriptor;
}

/** A card; `caps` is this very card's (its template's mechanics), else its card type's. */
export function cardView(v: ViewContext, c: ProviderCard, caps?: CardTypeCapabilities): Card {
  const type = caps ?? v.descriptor.cardTypes.find((t) => t.cardType === c.cardType);
  return {
    id: gatewayId(v.id, c.reference),
    connection: v.id,
    reference: c.reference,
    status: c.status,
    status_reason: null,
    card_type: c.cardType,
    program_id: c.programReference !== null ? gatewayId(v.id, c.programReference) : null,
    customer_id: c.customerReference !== null ? gatewayId(v.id, c.customerReference) : null,
    provider_status: c.providerStatus,
    links: c.links,
    customer: c.customer,
    external_reference: null,
    metadata: null,
    capabilities: type ? capabilitiesOfType(type) : { operations: ['get_card', 'history'], units: [] },
    created_at: iso(c.createdAt ?? 0),
    updated_at: iso(c.updatedAt ?? c.createdAt ?? 0),
  };
}

export function customerView(v: ViewContext, c: ProviderCustomer): CustomerResource {
  const { cardReferences, ...rest } = c;
  return {
    ...rest,
    id: gatewayId(v.id, c.reference),
    connection: v.id,
    card_ids: cardReferences.map((r) => gatewayId(v.id, r)),
  };
}

/** A program, with what its cards support (a Highlight template's mechanics count). */
export function programView(v: ViewContext, p: ProviderProgram): Program {
  const type =
    v.descriptor.programCapabilities?.(v.settings, p) ?? v.descriptor.cardTypes.find((t) => t.cardType === p.card_type);
  return {
    ...p,
    id: gatewayId(v.id, p.reference),
    connection: v.id,
    capabilities: type ? capabilitiesOfType(type) : { operations: [], units: [] },
  };
}
