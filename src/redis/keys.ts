/**
 * Every Redis key the gateway writes, in one place. All of them share one hash tag, `{<prefix>}`,
 * so that the multi-key Lua scripts also run on Redis Cluster (one slot holds the ledger).
 *
 *   {lgw}:txn:<txn id>                           transaction (hash)
 *   {lgw}:idem:<client id>:<sha256 of key>       Idempotency-Key record (hash, TTL)
 *   {lgw}:ref:<card id>:<type>:<reference_id>    natural key -> transaction id
 *   {lgw}:card:<card id>                         built-in ledger card (hash)
 *   {lgw}:card:<card id>:buckets|rest|totals|history
 *   {lgw}:cards:<connection>                     card ids of a connection (sorted set)
 *   {lgw}:card-ext:<connection>:<external ref>   external reference -> card id
 *   {lgw}:expiry-due                             card id -> earliest expiry (sorted set)
 *   {lgw}:lock:<name>                            short-lived locks
 *   {lgw}:none                                   placeholder for optional script keys; never written
 */
export interface KeySpace {
  prefix: string;
  txnPrefix: string;
  none: string;
  txn(id: string): string;
  idempotency(clientId: string, keyDigest: string): string;
  naturalKey(cardId: string, type: string, referenceId: string): string;
  card(cardId: string): string;
  buckets(cardId: string): string;
  rest(cardId: string): string;
  totals(cardId: string): string;
  history(cardId: string): string;
  cardsOf(connection: string): string;
  cardByExternalRef(connection: string, ref: string): string;
  expiryDue: string;
  lock(name: string): string;
}

export function keySpace(prefix: string): KeySpace {
  const p = `{${prefix}}`;
  return {
    prefix: p,
    txnPrefix: `${p}:txn:`,
    none: `${p}:none`,
    txn: (id) => `${p}:txn:${id}`,
    idempotency: (clientId, digest) => `${p}:idem:${clientId}:${digest}`,
    naturalKey: (cardId, type, ref) => `${p}:ref:${cardId}:${type}:${ref}`,
    card: (id) => `${p}:card:${id}`,
    buckets: (id) => `${p}:card:${id}:buckets`,
    rest: (id) => `${p}:card:${id}:rest`,
    totals: (id) => `${p}:card:${id}:totals`,
    history: (id) => `${p}:card:${id}:history`,
    cardsOf: (conn) => `${p}:cards:${conn}`,
    cardByExternalRef: (conn, ref) => `${p}:card-ext:${conn}:${ref}`,
    expiryDue: `${p}:expiry-due`,
    lock: (name) => `${p}:lock:${name}`,
  };
}
