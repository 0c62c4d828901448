/**
 * A receiver of the gateway's webhooks (docs/events.md): an HTTP server that verifies each delivery's Standard
 * Webhooks signature with the reference library, `standardwebhooks`, answers 204, logs the event once (a retry or
 * redelivery has the same `webhook-id`), and refuses a forged or stale one with 401.
 *
 *   LOYALTY_WEBHOOK_SECRET=whsec_... PORT=4000 npx tsx examples/receiver.ts
 *
 * then subscribe it: POST /v1/webhooks {"url": "http://<this host>:4000/hooks/loyalty", "events": ["*"]}.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { Webhook } from 'standardwebhooks';

/** An event as the gateway sends it. */
export interface GatewayEvent {
  id: string;
  type: string;
  created_at: string;
  data: Record<string, unknown>;
}

export interface ReceiverOptions {
  /**
   * The subscription's signing secret, `whsec_...` (POST /v1/webhooks answers it, once). Without it (the receiver
   * started before it was subscribed), deliveries answer 503, so the gateway tries them again, until `useSecret`.
   */
  secret?: string;
  /** 0 (the default): any free port. */
  port?: number;
  host?: string;
  path?: string;
  /** Called once per event, after its signature is verified. */
  onEvent?: (event: GatewayEvent) => void | Promise<void>;
  log?: (line: string) => void;
}

export interface Receiver {
  /** Where to subscribe it. */
  url: string;
  /** The events received, verified, each once, in the order they came. */
  events: GatewayEvent[];
  /** Deliveries refused (a signature that does not verify). */
  refused: number;
  /** Verify with this secret from now on (a new subscription, or after rotate-secret). */
  useSecret(secret: string): void;
  close(): Promise<void>;
}

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

export async function startReceiver(options: ReceiverOptions): Promise<Receiver> {
  let verifier = options.secret ? new Webhook(options.secret) : null;
  const path = options.path ?? '/hooks/loyalty';
  const log = options.log ?? ((line: string) => console.log(line));
  const seen = new Set<string>();
  const receiver: Receiver = {
    url: '',
    events: [],
    refused: 0,
    useSecret: (secret) => {
      verifier = new Webhook(secret);
    },
    close: async () => {},
  };

  const server = createServer(async (req, res) => {
    if (req.method !== 'POST' || req.url !== path) return res.writeHead(404).end();
    const body = await readBody(req);
    if (!verifier) return res.writeHead(503).end();
    let event: GatewayEvent;
    try {
      // Checks the signature over `<webhook-id>.<webhook-timestamp>.<body>` and that the timestamp is recent.
      event = verifier.verify(body, {
        'webhook-id': String(req.headers['webhook-id'] ?? ''),
        'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''),
        'webhook-signature': String(req.headers['webhook-signature'] ?? ''),
      }) as GatewayEvent;
    } catch (err) {
      receiver.refused++;
      log(`refused a delivery: ${(err as Error).message}`);
      return res.writeHead(401).end();
    }
    if (!seen.has(event.id)) {
      seen.add(event.id);
      receiver.events.push(event);
      log(`${event.created_at} ${event.type} ${event.id} ${String(event.data.id ?? '')}`);
      try {
        await options.onEvent?.(event);
      } catch (err) {
        // Not handled: answer 500, and the gateway delivers it again later.
        seen.delete(event.id);
        receiver.events.splice(receiver.events.indexOf(event), 1);
        log(`failed to handle ${event.id}: ${(err as Error).message}`);
        return res.writeHead(500).end();
      }
    }
    res.writeHead(204).end();
  });

  await new Promise<void>((ok) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', ok));
  const { address, port } = server.address() as AddressInfo;
  receiver.url = `http://${address.includes(':') ? `[${address}]` : address}:${port}${path}`;
  receiver.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((ok) => server.close(() => ok()));
  };
  return receiver;
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const secret = process.env.LOYALTY_WEBHOOK_SECRET;
  if (!secret) {
    console.error('usage: LOYALTY_WEBHOOK_SECRET=whsec_... [PORT=4000] npx tsx examples/receiver.ts');
    process.exit(2);
  }
  const receiver = await startReceiver({ secret, port: Number(process.env.PORT ?? 4000), host: process.env.HOST });
  console.log(`listening on ${receiver.url}`);
}
