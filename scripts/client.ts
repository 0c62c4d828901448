/**
 * Writes the TypeScript client, clients/typescript/ (`write`), or fails when the committed files differ from a
 * fresh generation (`check`): schema.d.ts is made by openapi-typescript from openapi/openapi.json (which
 * `npm run openapi:check` keeps in step with the routes), index.ts makes an openapi-fetch client typed by it.
 * The check also type-checks the client strictly (its own tsconfig: schema.d.ts included, no skipLibCheck).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';

const DIR = new URL('../clients/typescript/', import.meta.url);
const SPEC = new URL('../openapi/openapi.json', import.meta.url);

const INDEX = `${COMMENT_HEADER}/**
 * A client of the loyalty-gateway API, typed by schema.d.ts (openapi-typescript) and made by openapi-fetch:
 *
 *   const gw = createGatewayClient({ baseUrl: 'http://localhost:3000', apiKey: process.env.LOYALTY_API_KEY! });
 *   const { data, error, response } = await gw.GET('/v1/points/balance/{card_id}', {
 *     params: { path: { card_id: 'hl:100000-000-003' } },
 *   });
 *
 * Written by \`npm run client\` from openapi/openapi.json: do not edit by hand.
 */
import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, paths } from './schema.js';

export type { components, operations, paths, webhooks } from './schema.js';

/** The schemas of the API: \`Schemas['Transaction']\`, \`Schemas['Card']\`... */
export type Schemas = components['schemas'];

export type GatewayClient = Client<paths>;

/** A client for one gateway; \`apiKey\` is sent as \`x-api-key\` on every request. */
export function createGatewayClient(options: ClientOptions & { apiKey?: string }): GatewayClient {
  const { apiKey, ...rest } = options;
  const client = createClient<paths>(rest);
  if (apiKey !== undefined) {
    client.use({
      onRequest({ request }) {
        request.headers.set('x-api-key', apiKey);
        return request;
      },
    });
  }
  return client;
}
`;

/** The client's files, name → text, made from the committed OpenAPI document. */
export async function generateClient(): Promise<Record<string, string>> {
  const spec = JSON.parse(readFileSync(SPEC, 'utf8'));
  const ast = await openapiTS(spec, { silent: true });
  return { 'schema.d.ts': `${COMMENT_HEADER}${astToString(ast)}`, 'index.ts': INDEX };
}

const mode = process.argv[2];
if (mode === 'write' || mode === 'check') {
  const files = await generateClient();
  if (mode === 'write') {
    mkdirSync(DIR, { recursive: true });
    for (const [name, text] of Object.entries(files)) writeFileSync(new URL(name, DIR), text);
    console.log(`clients/typescript/ written (${Object.keys(files).join(', ')})`);
  } else {
    const stale = Object.entries(files).filter(([name, text]) => {
      try {
        return readFileSync(new URL(name, DIR), 'utf8') !== text;
      } catch {
        return true; // missing counts as stale
      }
    });
    if (stale.length > 0) {
      console.error(
        `clients/typescript/ is stale (${stale.map(([n]) => n).join(', ')}): run \`npm run client\` and commit the result.`,
      );
      process.exit(1);
    }
    execFileSync('npx', ['tsc', '--noEmit', '-p', 'clients/typescript/tsconfig.json'], { stdio: 'inherit' });
    console.log('clients/typescript/ is up to date and type-checks');
  }
}
