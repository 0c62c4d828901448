/**
 * The import boundaries of src/, checked by `npm run lint` (and so by CI). The layers, lowest first:
 *
 *   lib            small pure helpers
 *   domain         the vocabulary, view schemas and error codes (no HTTP)
 *   redis          connections, key names, Lua loading
 *   providers      one folder per provider: descriptor, adapter, its HTTP client
 *   store          the gateway's transaction records        builtin-ledger   the built-in points ledger
 *   config         start-up settings (it reads the providers' and the built-in ledger's settings schemas)
 *   idempotency    the one claim / replay / takeover flow
 *   dispatch       per-connection queues, workers, the rate gate
 *   services       what a request asks for (services/gateway.ts wires every part together)
 *   api            the HTTP edge (app.ts builds the Fastify app); server.ts, the process, starts it
 *
 * Each layer imports only layers below it. src/sandbox (the simulators) and src/providers never
 * import each other. src/metrics (the Prometheus registry, GET /metrics) stands beside lib: any layer
 * may import it, and it imports only lib.
 */
const below = (...layers) => `^src/(${layers.join('|')})(/|\\.ts$)`;

module.exports = {
  forbidden: [
    {
      name: 'api-is-the-edge',
      comment: 'Nothing outside src/api imports src/api (but the process, src/server.ts, which starts it).',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/api/', '^src/server\\.ts$'] },
      to: { path: '^src/api/' },
    },
    {
      name: 'no-services-below',
      severity: 'error',
      from: { path: below('lib', 'domain', 'redis', 'providers', 'store', 'builtin-ledger', 'config', 'idempotency', 'dispatch') },
      to: { path: '^src/services/' },
    },
    {
      name: 'no-dispatch-below',
      severity: 'error',
      from: { path: below('lib', 'domain', 'redis', 'providers', 'store', 'builtin-ledger', 'config', 'idempotency') },
      to: { path: '^src/dispatch/' },
    },
    {
      name: 'no-idempotency-below',
      severity: 'error',
      from: { path: below('lib', 'domain', 'redis', 'providers', 'store', 'builtin-ledger', 'config') },
      to: { path: '^src/idempotency/' },
    },
    {
      name: 'no-config-below',
      severity: 'error',
      from: { path: below('lib', 'domain', 'redis', 'providers', 'store', 'builtin-ledger') },
      to: { path: '^src/config/' },
    },
    {
      name: 'no-stores-below',
      severity: 'error',
      from: { path: below('lib', 'domain', 'redis', 'providers', 'store') },
      to: { path: '^src/builtin-ledger/' },
    },
    {
      name: 'store-below-ledger-engines',
      severity: 'error',
      from: { path: below('lib', 'domain', 'redis', 'providers') },
      to: { path: '^src/store/' },
    },
    {
      name: 'providers-know-no-infrastructure',
      comment: 'An adapter knows neither routes, nor queues, nor the stores, nor Redis: it translates HTTP.',
      severity: 'error',
      from: { path: '^src/providers/' },
      to: { path: '^src/(redis|sandbox)/' },
    },
    {
      name: 'sandbox-and-providers-share-nothing',
      comment: 'A simulator written from the documents must not borrow the adapter it tests, nor the reverse.',
      severity: 'error',
      from: { path: '^src/sandbox/' },
      to: { path: '^src/(providers|services|dispatch|store|builtin-ledger|idempotency|domain)/' },
    },
    {
      name: 'domain-imports-only-lib',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { path: '^src/', pathNot: '^src/(domain|lib)/' },
    },
    {
      name: 'lib-imports-nothing',
      severity: 'error',
      from: { path: '^src/lib/' },
      to: { path: '^src/', pathNot: '^src/lib/' },
    },
    {
      name: 'metrics-imports-only-lib',
      comment: 'Every layer counts into src/metrics, so it must import none of them.',
      severity: 'error',
      from: { path: '^src/metrics/' },
      to: { path: '^src/', pathNot: '^src/(metrics|lib)/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
