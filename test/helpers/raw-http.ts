import { connect } from 'node:net';
import type { Res } from './gateway.js';

/** An answer read off a raw socket: what fetch will not send (malformed requests, partial bodies). */
export interface RawRes {
  /** 0 when nothing was answered before the connection closed or the test gave up. */
  status: number;
  headers: Record<string, string>;
  text: string;
  /** Whether the gateway closed the connection (false: the test gave up after `giveUpMs`). */
  closed: boolean;
}

/**
 * Writes `chunks` on a fresh connection to `baseUrl`'s port and reads until the gateway closes it, giving up
 * (destroying the socket) after `giveUpMs`.
 */
export function rawRequest(baseUrl: string, chunks: (string | Buffer)[], giveUpMs = 10_000): Promise<RawRes> {
  const { port } = new URL(baseUrl);
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1');
    const got: Buffer[] = [];
    let closed = false;
    const finish = () => {
      clearTimeout(timer);
      const all = Buffer.concat(got).toString('latin1');
      const [head = '', ...rest] = all.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1] ?? 0), headers, text: rest.join('\r\n\r\n'), closed });
    };
    const timer = setTimeout(() => {
      socket.destroy();
      finish();
    }, giveUpMs);
    socket.on('data', (d) => got.push(d));
    socket.on('error', () => {});
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.on('connect', () => {
      for (const c of chunks) socket.write(c);
    });
  });
}

/** A raw answer as a Res, for expectProblem. */
export function asRes(r: RawRes): Res {
  let body: unknown = r.text;
  try {
    body = JSON.parse(r.text);
  } catch {}
  return { status: r.status, headers: new Headers(r.headers), body, text: r.text };
}
