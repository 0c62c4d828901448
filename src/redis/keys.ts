/**
 * Every Redis key the gateway writes, in one place. All of them share one hash tag, `{<prefix>}`,
 * so that the multi-key Lua scripts also run on Redis Cluster (one slot holds all the gateway's data).
 *
 *   {lgw}:txn:<txn id>                           transaction (hash)
 *   {lgw}:idem:<client id>:<sha256 of key>       Idempotency-Key record (hash, TTL)
 *   {lgw}:ref:<card id>:<type>:<reference_id>    natural key -> transaction id
 *   {lgw}:card:<card id>                         built-in ledger card (hash)
 *   {lgw}:card:<card id>:buckets|rest|totals|history
 *   {lgw}:cards:<connection>                     card ids of a connection (sorted set)
 *   {lgw}:card-ext:<connection>:<external ref>   external reference -> card id
 *   {lgw}:expiry-due                             card id -> earliest expiry (sorted set)
 *   {lgw}:lock:<name>                            short-lived locks (the expiry sweep's)
 *   {lgw}:client-rate:<client id>:<window>       requests of an API key in one window (CLIENT_RATE_LIMIT)
 *   {lgw}:txns:<status>                          dispatched transactions in a status (sorted set by creation time)
 *   {lgw}:txn:<txn id>:audit                     admin actions on a transaction (list of JSON)
 *   {lgw}:txn:<txn id>:trail                     a dispatched transaction's steps (list of JSON, the last 50; written by
 *                                                the store's transition and settle scripts, expiring with the transaction)
 *   {lgw}:bulk:<bulk id>                         a bulk job (hash) and its items (:items, hash index -> JSON)
 *   {lgw}:balance:<card id>                      short-lived balance cache of an external card (string, TTL);
 *                                                :epoch counts the gateway's writes to the card (ends the cache)
 *   {lgw}:rate:acct-<digest>                     a provider account's rate-limit log (sorted set) and :blocked (429
 *                                                hold): connections with the same provider, base URL and secrets share it
 *   {lgw}:result:<job id>                        a provider call's answer, for the process waiting on it (TTL)
 *   {lgw}:dispatch-done                          pub/sub channel: a job finished (message: its id)
 *   {lgw}:q:<queue>:*                            BullMQ's own keys: one queue per external connection
 *                                                (conn-<connection id>) and one for bulk jobs (bulk)
 *   {lgw}:instance:<instance id>                 a gateway process's heartbeat (string, short TTL, refreshed
 *                                                while it runs): its claims are taken over once it lapses
 *   {lgw}:events                                 event ids, in creation order (sorted set, scores 0); :type:<type>
 *                                                the same per type; trimmed to EVENTS_TTL_DAYS as events are added
 *   {lgw}:event:<event id>                       one event (JSON string, TTL EVENTS_TTL_DAYS)
 *   {lgw}:audit-run:<audit id>                   a provider audit and its findings (JSON string, TTL 90 days)
 *   {lgw}:audit-runs                             audit ids, in creation order (sorted set, scores 0)
 *   {lgw}:webhooks                               webhook subscriptions (hash: id -> JSON, secrets included)
 *   {lgw}:webhook:<id>:deliveries                its delivery attempts, newest first (list of JSON, the last 1,000)
 *   {lgw}:webhooks:cursor                        the last event id handed to the deliveries (string)
 *   {lgw}:order:<shop>:<order id>                a shop's order as the gateway processed it (JSON, TTL 400 days);
 *                                                {lgw}:orders:<shop> its orders by time (sorted set)
 *   {lgw}:link:<id>                              a link of a shop customer to a card (JSON); {lgw}:link-by:<shop>:
 *                                                customer:<id> and :email:<email> -> link id; {lgw}:links-of:<card>
 *   {lgw}:hold:<id>                              a hold at checkout (JSON); :hold-ref:<card>:<reference_id> -> its id;
 *                                                {lgw}:holds-due (by expiry), :holds-of:<card> (active), :holds-owed
 *   {lgw}:pending-of:<card>                      orders whose points wait for their return window (set of <shop>:<order>)
 *   {lgw}:console-session:<sha256 of id>        a console session (hash: client, csrf; TTL 8 h)
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
  clientRate(clientId: string, window: number): string;
  txnsIn(status: string): string;
  audit(txnId: string): string;
  trail(txnId: string): string;
  bulk(id: string): string;
  bulkItems(id: string): string;
  balanceCache(cardId: string): string;
  balanceEpoch(cardId: string): string;
  rateLog(connection: string): string;
  rateBlocked(connection: string): string;
  result(jobId: string): string;
  dispatchDone: string;
  /** BullMQ's prefix: its keys carry the same hash tag. */
  queuePrefix: string;
  /** Prefix of heartbeat keys (the instance id follows): scripts derive an owner's key from it. */
  instancePrefix: string;
  instance(id: string): string;
  events: string;
  eventsOfType(type: string): string;
  event(id: string): string;
  auditRun(id: string): string;
  auditRuns: string;
  webhooks: string;
  webhookDeliveries(id: string): string;
  webhookCursor: string;
  order(shopId: string, orderId: string): string;
  ordersOf(shopId: string): string;
  link(id: string): string;
  linkByCustomer(shopId: string, customerId: string): string;
  linkByEmail(shopId: string, email: string): string;
  linksOfCard(cardId: string): string;
  hold(id: string): string;
  holdByReference(cardId: string, referenceId: string): string;
  holdsDue: string;
  holdsOfCard(cardId: string): string;
  holdsOwed: string;
  pendingOfCard(cardId: string): string;
  consoleSession(digest: string): string;
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
    clientRate: (clientId, window) => `${p}:client-rate:${clientId}:${window}`,
    txnsIn: (status) => `${p}:txns:${status}`,
    audit: (id) => `${p}:txn:${id}:audit`,
    trail: (id) => `${p}:txn:${id}:trail`,
    bulk: (id) => `${p}:bulk:${id}`,
    bulkItems: (id) => `${p}:bulk:${id}:items`,
    balanceCache: (id) => `${p}:balance:${id}`,
    balanceEpoch: (id) => `${p}:balance:${id}:epoch`,
    rateLog: (conn) => `${p}:rate:${conn}`,
    rateBlocked: (conn) => `${p}:rate:${conn}:blocked`,
    result: (id) => `${p}:result:${id}`,
    dispatchDone: `${p}:dispatch-done`,
    queuePrefix: `${p}:q`,
    instancePrefix: `${p}:instance:`,
    instance: (id) => `${p}:instance:${id}`,
    events: `${p}:events`,
    eventsOfType: (type) => `${p}:events:type:${type}`,
    event: (id) => `${p}:event:${id}`,
    auditRun: (id) => `${p}:audit-run:${id}`,
    auditRuns: `${p}:audit-runs`,
    webhooks: `${p}:webhooks`,
    webhookDeliveries: (id) => `${p}:webhook:${id}:deliveries`,
    webhookCursor: `${p}:webhooks:cursor`,
    order: (shop, id) => `${p}:order:${shop}:${id}`,
    ordersOf: (shop) => `${p}:orders:${shop}`,
    link: (id) => `${p}:link:${id}`,
    linkByCustomer: (shop, id) => `${p}:link-by:${shop}:customer:${id}`,
    linkByEmail: (shop, email) => `${p}:link-by:${shop}:email:${email}`,
    linksOfCard: (card) => `${p}:links-of:${card}`,
    hold: (id) => `${p}:hold:${id}`,
    holdByReference: (card, ref) => `${p}:hold-ref:${card}:${ref}`,
    holdsDue: `${p}:holds-due`,
    holdsOfCard: (card) => `${p}:holds-of:${card}`,
    holdsOwed: `${p}:holds-owed`,
    pendingOfCard: (card) => `${p}:pending-of:${card}`,
    consoleSession: (digest) => `${p}:console-session:${digest}`,
  };
}
