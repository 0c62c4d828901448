import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * What every sandbox simulator shares: a real HTTP server, routing, a sliding-window rate limit,
 * fault injection and operation counters. Each simulator (src/sandbox/<provider>/) brings the
 * provider's own paths, auth, envelopes and error bodies; nothing here knows any provider, and
 * nothing here is shared with the gateway's adapters (a misreading in an adapter must not be
 * copied into the simulator that tests it).
 *
 * Control endpoints, outside the provider's API (no auth, no rate limit, not counted in the stats):
 *   GET  /_sandbox/counters          { "<operation>": n, ... } operations applied so far
 *   GET  /_sandbox/stats             SimStats: requests that reached the provider's API, 429s, the
 *                                    most arrivals inside any rate-limit window (see SimStats)
 *   GET  /_sandbox/arrivals          [t, ...] arrival times (epoch ms, high resolution) of the last
 *                                    200,000 requests to the provider's API, oldest first
 *   GET  /_sandbox/applied           { "<gateway txn id>": n, ... } state-changing operations applied
 *                                    per gateway transaction id (exactly-once evidence; {} when the
 *                                    provider's API carries no txn id)
 *   POST /_sandbox/faults            queue a fault (body: Fault); returns the queue
 *   DELETE /_sandbox/faults          clear queued faults
 *   POST /_sandbox/reset             clear counters, stats, faults and the rate-limit window (and
 *                                    restore the simulator's seed)
 *   PUT  /_sandbox/ratelimit         { "requests": n, "perSeconds": s }: change the rate limit (clears
 *                                    the window and the stats)
 *   GET  /_sandbox/state             the simulator's in-memory state, for debugging
 *   (a simulator may add its own, SimulatorOptions.control: Highlight's PUT /_sandbox/readings)
 *
 * Times in the stats come from one high-resolution clock (performance.timeOrigin + performance.now(),
 * epoch ms with sub-ms fractions), the same one the rate limit uses, so `maxInWindow` and the 429s
 * agree exactly: with no 429 and no refused auth, `maxInWindow <= limit`.
 */

export interface SimRequest {
  method: string;
  /** Path without the query string, with the simulator's base path removed. */
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** Parsed JSON body, or undefined when there is none. */
  body: unknown;
  rawBody: string;
}

export interface SimResponse {
  status: number;
  /** Sent as JSON unless `raw` is given. */
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
}

export type Handler = (req: SimRequest, params: Record<string, string>) => SimResponse | Promise<SimResponse>;

/**
 * A fault to inject into the next matching request(s). Faults apply to requests that passed auth and
 * the rate limit; the first queued fault that matches (and wins its `probability` draw) applies.
 * - latency: wait `ms`, then handle normally.
 * - status: answer `status` (default 503) without applying anything. With `applied`, the request is
 *   handled first (the operation happens) and the injected status is answered instead of the real
 *   answer (which is lost).
 * - timeout: never answer (the socket is held open for `ms`, default 60 s, then destroyed). With
 *   `applied`, the request is handled first (the operation happens, the answer is lost).
 * - drop: destroy the connection without an answer; with `applied`, after handling it.
 * - malformed: handle it (the operation happens), then answer 200 with a body that is not valid JSON.
 */
export interface Fault {
  kind: 'latency' | 'status' | 'timeout' | 'drop' | 'malformed';
  ms?: number;
  status?: number;
  /** status, timeout, drop: handle the request first, then lose the answer (malformed always does). */
  applied?: boolean;
  /**
   * How many requests it applies to (default 1). With `probability`, only requests it actually
   * applied to use one up, so a large number (e.g. 1e9) means "for the rest of the run".
   */
  times?: number;
  /** Only requests whose "METHOD /path" matches this regular expression. */
  match?: string;
  /**
   * 0 < p <= 1: a matching request gets the fault only with this probability (a draw < p; see seedFaults);
   * otherwise the fault is skipped for that request (a later queued fault may still match it).
   * Absent: every matching request gets it.
   */
  probability?: number;
}

/**
 * What the simulator saw of the provider's API since start, the last reset or the last rate-limit
 * change. Every request under the base path counts once its body is read, whatever its answer
 * (including 429s and refused auth); control endpoints (/_sandbox/*) and paths outside the base
 * path do not.
 */
export interface SimStats {
  /** Requests that arrived. */
  requests: number;
  /** Of them, answered 429 by the rate limit (not by an injected `status` fault). */
  rateLimited: number;
  /** The most arrivals inside any window (t - windowMs, t], computed exactly over every arrival. */
  maxInWindow: number;
  /** The rate limit's span: perSeconds * 1000. */
  windowMs: number;
  /** The rate limit's requests per window. */
  limit: number;
  /** Arrival of the first / last request (epoch ms, high resolution), null before any. */
  firstAt: number | null;
  lastAt: number | null;
}

export interface RateLimit {
  requests: number;
  perSeconds: number;
}

export interface SimulatorOptions {
  name: string;
  /** Path prefix of the provider's API, e.g. "/api/v2"; control endpoints stay at the root. */
  basePath?: string;
  rateLimit: RateLimit;
  /** The provider's 429 answer; `retryAfterSeconds` is when the window frees a slot. */
  rateLimited: (retryAfterSeconds: number) => SimResponse;
  /** Null when the request is authenticated; otherwise the provider's refusal. */
  authenticate: (req: SimRequest) => SimResponse | null;
  /** The provider's answer to an unknown path. */
  notFound: (req: SimRequest) => SimResponse;
  /** Extra headers on every answer (e.g. rate-limit headers); gets the window's state. */
  decorate?: (res: SimResponse, window: { limit: number; remaining: number; resetSeconds: number }) => void;
  /** The provider's error body for an injected `status` fault and for a wrong method (default `{message}`). */
  errorBody?: (status: number, message: string) => unknown;
  /** The simulator's state, for GET /_sandbox/state. */
  state?: () => unknown;
  /**
   * For each gateway transaction id (`txn_` + 26 of [0-9A-Z]), how many state-changing operations
   * carrying it the simulator applied, read from the simulator's own operation log (GET
   * /_sandbox/applied). Absent when the provider's API has no field the txn id can travel in.
   */
  appliedByTxn?: () => Record<string, number>;
  /** Called on POST /_sandbox/reset after the harness has reset itself. */
  onReset?: () => void;
  /**
   * The simulator's own control endpoints under /_sandbox/ (e.g. PUT /_sandbox/readings): an answer, or null when
   * the path is not one of them.
   */
  control?: (method: string, path: string, body: unknown) => SimResponse | null;
}

interface Route {
  method: string;
  parts: string[];
  handler: Handler;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());
/** Bodies larger than this are refused (413): no provider takes megabytes of JSON. */
const MAX_BODY_BYTES = 1_048_576;
/** Arrival times kept for `arrivals()` (the newest ones). */
const MAX_ARRIVALS = 200_000;
/** Epoch milliseconds, high resolution and monotonic within the process. */
const clock = (): number => performance.timeOrigin + performance.now();

/** A gateway transaction id: "txn_" + a 26-character ULID. */
export const GATEWAY_TXN_ID = /^txn_[0-9A-Z]{26}$/;
const LGW_TAG = /\[lgw:(txn_[0-9A-Z]{26})\]/;

/** The gateway txn id in a "[lgw:txn_...]" tag inside free text (comment, description), or null. */
export function txnIdInText(text: unknown): string | null {
  return typeof text === 'string' ? (LGW_TAG.exec(text)?.[1] ?? null) : null;
}

/** Counts occurrences of each txn id (nulls skipped): the shape of appliedByTxn(). */
export function tallyTxnIds(ids: Iterable<string | null | undefined>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const id of ids) if (id) out[id] = (out[id] ?? 0) + 1;
  return out;
}

/** Why a fault cannot be injected, or null when it is well-formed. */
function faultError(f: Fault | undefined): string | null {
  if (!f || typeof f !== 'object' || !['latency', 'status', 'timeout', 'drop', 'malformed'].includes(f.kind)) {
    return 'kind must be latency, status, timeout, drop or malformed';
  }
  if (f.status !== undefined && !(Number.isInteger(f.status) && f.status >= 100 && f.status <= 599))
    return 'status must be an integer from 100 to 599';
  if (f.ms !== undefined && !(Number.isFinite(f.ms) && f.ms >= 0 && f.ms <= 600_000))
    return 'ms must be from 0 to 600000';
  if (f.times !== undefined && !(Number.isInteger(f.times) && f.times >= 1))
    return 'times must be an integer of at least 1';
  if (f.applied !== undefined && typeof f.applied !== 'boolean') return 'applied must be true or false';
  if (f.probability !== undefined && !(typeof f.probability === 'number' && f.probability > 0 && f.probability <= 1)) {
    return 'probability must be a number greater than 0 and at most 1';
  }
  if (f.match !== undefined) {
    if (typeof f.match !== 'string') return 'match must be a regular expression as a string';
    try {
      new RegExp(f.match);
    } catch {
      return 'match is not a valid regular expression';
    }
  }
  return null;
}

export class Simulator {
  private readonly routes: Route[] = [];
  private readonly counts = new Map<string, number>();
  private faults: (Fault & { left: number; re: RegExp | null })[] = [];
  /** The draw for `probability` faults: Math.random, or a seeded sequence (seedFaults) a test can repeat. */
  private random: () => number = Math.random;
  /** Bumped by reset() and stop(): a request still waiting on injected latency then applies nothing. */
  private generation = 0;
  private window: number[] = [];
  private st: SimStats = Simulator.emptyStats(0, 0);
  /** Arrivals inside the last window span, for maxInWindow: statWin[statHead..] (older ones dropped lazily). */
  private statWin: number[] = [];
  private statHead = 0;
  /** Every arrival, oldest first; trimmed to the newest MAX_ARRIVALS when it reaches twice that. */
  private arrivalLog: number[] = [];
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  url = '';

  constructor(readonly options: SimulatorOptions) {
    this.clearStats();
  }

  /** Adds a route; `pattern` segments starting with ":" are parameters, e.g. "/cards/:serial". */
  route(method: string, pattern: string, handler: Handler): this {
    this.routes.push({ method, parts: pattern.split('/').filter(Boolean), handler });
    return this;
  }

  /** Counts one applied operation (call it only where the operation changed state). */
  count(operation: string, n = 1): void {
    this.counts.set(operation, (this.counts.get(operation) ?? 0) + n);
  }

  counters(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  /** Total of all counters. */
  applied(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }

  /** Request statistics (see SimStats); a copy. */
  stats(): SimStats {
    return { ...this.st };
  }

  /** Arrival times (epoch ms, high resolution) of the last 200,000 requests to the provider's API, oldest first. */
  arrivals(): number[] {
    return this.arrivalLog.length > MAX_ARRIVALS ? this.arrivalLog.slice(-MAX_ARRIVALS) : [...this.arrivalLog];
  }

  /** Applied state-changing operations per gateway txn id; {} when the simulator supplies none. */
  appliedByTxn(): Record<string, number> {
    return this.options.appliedByTxn?.() ?? {};
  }

  /** Draws `probability` faults from a sequence seeded with `seed` (mulberry32), so a run can be repeated. */
  seedFaults(seed: number): void {
    let a = seed >>> 0;
    this.random = () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  /** Queues a fault; throws on a malformed one (see faultError). */
  inject(fault: Fault): void {
    const why = faultError(fault);
    if (why) throw new Error(`bad fault: ${why}`);
    this.faults.push({
      ...fault,
      left: fault.times ?? 1,
      re: fault.match !== undefined ? new RegExp(fault.match) : null,
    });
  }

  setRateLimit(limit: RateLimit): void {
    this.options.rateLimit = limit;
    this.window = [];
    this.clearStats();
  }

  /** Drops the queued faults (DELETE /_sandbox/faults); counters, stats and state stay. */
  clearFaults(): void {
    this.faults = [];
  }

  reset(): void {
    this.generation++;
    this.counts.clear();
    this.faults = [];
    this.window = [];
    this.clearStats();
    this.options.onReset?.();
  }

  private static emptyStats(windowMs: number, limit: number): SimStats {
    return { requests: 0, rateLimited: 0, maxInWindow: 0, windowMs, limit, firstAt: null, lastAt: null };
  }

  private clearStats(): void {
    const { requests, perSeconds } = this.options.rateLimit;
    this.st = Simulator.emptyStats(perSeconds * 1000, requests);
    this.statWin = [];
    this.statHead = 0;
    this.arrivalLog = [];
  }

  /** One request reached the provider's API at `t`: counts it and updates the sliding-window maximum. */
  private recordArrival(t: number): void {
    const st = this.st;
    st.requests += 1;
    st.firstAt ??= t;
    st.lastAt = t;
    this.arrivalLog.push(t);
    if (this.arrivalLog.length >= 2 * MAX_ARRIVALS) this.arrivalLog = this.arrivalLog.slice(-MAX_ARRIVALS);
    // Arrivals in (t - span, t]: the clock is monotonic, so older ones leave from the front (t itself stays).
    const win = this.statWin;
    win.push(t);
    const from = t - st.windowMs;
    while (win[this.statHead]! <= from) this.statHead += 1;
    const inWindow = win.length - this.statHead;
    if (inWindow > st.maxInWindow) st.maxInWindow = inWindow;
    if (this.statHead >= 1024 && this.statHead * 2 >= win.length) {
      this.statWin = win.slice(this.statHead);
      this.statHead = 0;
    }
  }

  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    this.server = createServer((req, res) => {
      // Nothing a client sends (an aborted upload, odd bytes) may take the process down.
      this.handle(req, res).catch(() => {
        if (!res.headersSent) {
          try {
            this.send(res, { status: 500, body: this.errorBody(500, 'Simulator error') });
            return;
          } catch {
            /* fall through */
          }
        }
        res.destroy();
      });
    });
    this.server.keepAliveTimeout = 5000;
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => resolve());
    });
    const addr = this.server.address();
    const p = typeof addr === 'object' && addr ? addr.port : port;
    this.url = `http://${host}:${p}${this.options.basePath ?? ''}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.generation++;
    if (!this.server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server!.close(() => r()));
    this.server = null;
  }

  /** The first queued fault that matches and wins its probability draw; uses up one of its `times`. */
  private takeFault(method: string, path: string): Fault | null {
    const target = `${method} ${path}`;
    for (let i = 0; i < this.faults.length; i++) {
      const f = this.faults[i]!;
      if (f.re !== null && !f.re.test(target)) continue;
      if (f.probability !== undefined && !(this.random() < f.probability)) continue;
      f.left -= 1;
      if (f.left <= 0) this.faults.splice(i, 1);
      return f;
    }
    return null;
  }

  /** Sliding window over the last `perSeconds`: a slot, or the seconds until one frees. */
  private admit(now: number): { ok: true } | { ok: false; retryAfter: number } {
    const { requests, perSeconds } = this.options.rateLimit;
    const span = perSeconds * 1000;
    while (this.window.length > 0 && this.window[0]! <= now - span) this.window.shift();
    if (this.window.length >= requests) {
      return { ok: false, retryAfter: Math.max(1, Math.ceil((this.window[0]! + span - now) / 1000)) };
    }
    this.window.push(now);
    return { ok: true };
  }

  private windowState(now: number) {
    const { requests, perSeconds } = this.options.rateLimit;
    const oldest = this.window[0];
    return {
      limit: requests,
      remaining: Math.max(0, requests - this.window.length),
      resetSeconds: oldest === undefined ? 0 : Math.max(0, Math.ceil((oldest + perSeconds * 1000 - now) / 1000)),
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_BODY_BYTES) {
        this.send(res, { status: 413, body: this.errorBody(413, 'Request body too large') });
        return;
      }
      chunks.push(c as Buffer);
    }
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const u = new URL(req.url ?? '/', 'http://sandbox');
    let body: unknown;
    if (rawBody.length > 0) {
      try {
        body = JSON.parse(rawBody);
      } catch {
        body = undefined;
      }
    }
    const method = req.method ?? 'GET';

    if (u.pathname.startsWith('/_sandbox/')) {
      this.send(res, this.control(method, u.pathname, body));
      return;
    }

    const base = this.options.basePath ?? '';
    // The provider's API lives under its base path only: a client that drops or garbles it gets a 404.
    const underBase = !base || u.pathname === base || u.pathname.startsWith(`${base}/`);
    const path = base && underBase ? u.pathname.slice(base.length) || '/' : u.pathname;
    const sreq: SimRequest = { method, path, query: u.searchParams, headers: req.headers, body, rawBody };
    if (!underBase) {
      this.send(res, this.decorated(this.options.notFound(sreq)));
      return;
    }

    // What the provider would count: every request to its API, refused or not. The same instant
    // is used by the rate limit below (authenticate is synchronous), so the two agree exactly.
    const now = clock();
    this.recordArrival(now);
    const denied = this.options.authenticate(sreq);
    if (denied) {
      this.send(res, this.decorated(denied));
      return;
    }
    const slot = this.admit(now);
    if (!slot.ok) {
      this.st.rateLimited += 1;
      this.send(res, this.decorated(this.options.rateLimited(slot.retryAfter)));
      return;
    }

    const fault = this.takeFault(method, path);
    const generation = this.generation;
    if (fault?.kind === 'latency') {
      await sleep(fault.ms ?? 1000);
      if (generation !== this.generation || req.socket.destroyed) return;
    }
    if (fault?.kind === 'status' && !fault.applied) {
      this.send(res, this.decorated(this.injectedStatus(fault)));
      return;
    }
    if ((fault?.kind === 'timeout' || fault?.kind === 'drop') && !fault.applied) {
      if (fault.kind === 'drop') req.socket.destroy();
      else setTimeout(() => req.socket.destroy(), fault.ms ?? 60_000).unref();
      return;
    }

    let answer: SimResponse;
    try {
      answer = await this.dispatch(sreq);
    } catch (err) {
      answer = { status: 500, body: this.errorBody(500, `Simulator error: ${(err as Error).message}`) };
    }
    if (fault?.kind === 'timeout') {
      setTimeout(() => req.socket.destroy(), fault.ms ?? 60_000).unref();
      return;
    }
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'status') {
      // Applied: the operation happened, and its answer is replaced by the injected status.
      this.send(res, this.decorated(this.injectedStatus(fault)));
      return;
    }
    if (fault?.kind === 'malformed')
      answer = { status: 200, raw: '{"data": {"id": ', headers: { 'content-type': 'application/json' } };
    this.send(res, this.decorated(answer));
  }

  private injectedStatus(fault: Fault): SimResponse {
    const status = fault.status ?? 503;
    return { status, body: this.errorBody(status, 'Injected fault') };
  }

  private errorBody(status: number, message: string): unknown {
    return this.options.errorBody ? this.options.errorBody(status, message) : { message };
  }

  private decorated(r: SimResponse): SimResponse {
    this.options.decorate?.(r, this.windowState(clock()));
    return r;
  }

  private async dispatch(req: SimRequest): Promise<SimResponse> {
    let parts: string[];
    try {
      parts = req.path
        .split('/')
        .filter(Boolean)
        .map((p) => decodeURIComponent(p));
    } catch {
      return this.options.notFound(req); // a malformed %-escape names no resource
    }
    let pathMatched = false;
    for (const r of this.routes) {
      if (r.parts.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < parts.length; i++) {
        const want = r.parts[i]!;
        if (want.startsWith(':')) params[want.slice(1)] = parts[i]!;
        else if (want !== parts[i]) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      pathMatched = true;
      if (r.method === req.method) return r.handler(req, params);
    }
    if (pathMatched) return { status: 405, body: this.errorBody(405, 'Method not allowed') };
    return this.options.notFound(req);
  }

  private control(method: string, path: string, body: unknown): SimResponse {
    if (method === 'GET' && path === '/_sandbox/counters') return { status: 200, body: this.counters() };
    if (method === 'GET' && path === '/_sandbox/state') return { status: 200, body: this.options.state?.() ?? {} };
    if (method === 'GET' && path === '/_sandbox/stats') return { status: 200, body: this.stats() };
    if (method === 'GET' && path === '/_sandbox/arrivals') return { status: 200, body: this.arrivals() };
    if (method === 'GET' && path === '/_sandbox/applied') return { status: 200, body: this.appliedByTxn() };
    if (method === 'POST' && path === '/_sandbox/reset') {
      this.reset();
      return { status: 204 };
    }
    if (path === '/_sandbox/faults' && method === 'DELETE') {
      this.clearFaults();
      return { status: 204 };
    }
    if (path === '/_sandbox/faults' && method === 'POST') {
      const f = body as Fault | undefined;
      const why = faultError(f);
      if (why) return { status: 400, body: { message: why } };
      this.inject(f!);
      return { status: 201, body: this.faults.map(({ re: _re, ...rest }) => rest) };
    }
    if (path === '/_sandbox/ratelimit' && method === 'PUT') {
      const r = body as RateLimit | undefined;
      if (!r || !(r.requests > 0) || !(r.perSeconds > 0))
        return { status: 400, body: { message: 'requests and perSeconds must be positive' } };
      this.setRateLimit(r);
      return { status: 200, body: r };
    }
    return (
      this.options.control?.(method, path, body) ?? {
        status: 404,
        body: { message: 'Unknown sandbox control endpoint' },
      }
    );
  }

  private send(res: ServerResponse, r: SimResponse): void {
    const headers: Record<string, string> = { ...(r.headers ?? {}) };
    let payload = '';
    if (r.raw !== undefined) payload = r.raw;
    else if (r.body !== undefined) {
      payload = JSON.stringify(r.body);
      headers['content-type'] ??= 'application/json';
    }
    res.writeHead(r.status, headers);
    res.end(payload);
  }
}

/** Reads a sandbox server's request statistics over HTTP (GET /_sandbox/stats). */
export async function fetchStats(rootUrl: string): Promise<SimStats> {
  const res = await fetch(new URL('/_sandbox/stats', rootUrl));
  return (await res.json()) as SimStats;
}

/** Reads a sandbox server's arrival times over HTTP (GET /_sandbox/arrivals). */
export async function fetchArrivals(rootUrl: string): Promise<number[]> {
  const res = await fetch(new URL('/_sandbox/arrivals', rootUrl));
  return (await res.json()) as number[];
}

/** Reads a sandbox server's applied operations per gateway txn id over HTTP (GET /_sandbox/applied). */
export async function fetchAppliedByTxn(rootUrl: string): Promise<Record<string, number>> {
  const res = await fetch(new URL('/_sandbox/applied', rootUrl));
  return (await res.json()) as Record<string, number>;
}
