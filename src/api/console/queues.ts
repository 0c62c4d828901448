import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance } from 'fastify';
import type { Gateway } from '../../services/gateway.js';

/**
 * The dispatch queues (one per provider connection) and the orders queue, through bull-board, read-only: a job of
 * the dispatch queue is a transaction's, and removing or promoting one by hand would go round the review's rules
 * (retry and resolve are on the transaction's page). Its own scripts and styles: the console's strict CSP is not
 * applied here; the session check of the console's scope is.
 */
export async function queueBoard(app: FastifyInstance, opts: { prefix: string; gateway: Gateway }) {
  const { gateway } = opts;
  const queues = gateway.connections
    .list()
    .filter((c) => c.engine.dispatched)
    .map((c) => new BullMQAdapter(gateway.dispatch.queueOf(c.id), { readOnlyMode: true }));
  if (gateway.orders.shops.size > 0) queues.push(new BullMQAdapter(gateway.orders.jobs, { readOnlyMode: true }));
  const board = new FastifyAdapter();
  board.setBasePath('/console/queues');
  createBullBoard({
    queues,
    serverAdapter: board,
    options: { uiConfig: { boardTitle: 'Gateway queues', miscLinks: [{ text: 'Console', url: '/console' }] } },
  });
  app.addHook('onSend', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    reply.header('x-frame-options', 'DENY');
    reply.header('x-content-type-options', 'nosniff');
  });
  await app.register(board.registerPlugin() as never);
}
