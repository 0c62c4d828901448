import type { TestGateway } from './gateway.js';

/** An answer of the console: its status, headers and HTML. */
export interface Page {
  status: number;
  headers: Headers;
  text: string;
  /** The first CSRF token of its forms (the hidden `_csrf` field), if any. */
  csrf: string | null;
}

const CSRF = /name="_csrf" value="([^"]+)"/;

/**
 * A browser's share of the console, over real HTTP: a cookie jar (only the cookies under /console), forms sent as
 * application/x-www-form-urlencoded, redirects not followed (a test reads each 303).
 */
export class ConsoleClient {
  readonly cookies = new Map<string, string>();

  constructor(readonly gw: TestGateway) {}

  private cookieHeader(): Record<string, string> {
    return this.cookies.size
      ? { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') }
      : ({} as Record<string, string>);
  }

  private remember(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair = ''] = c.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<Page> {
    const res = await fetch(this.gw.url + path, {
      redirect: 'manual',
      headers: { ...this.cookieHeader(), ...headers },
    });
    return this.page(res);
  }

  async post(path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Page> {
    const res = await fetch(this.gw.url + path, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...this.cookieHeader(), ...headers },
      body: new URLSearchParams(form).toString(),
    });
    return this.page(res);
  }

  private async page(res: Response): Promise<Page> {
    this.remember(res);
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, csrf: CSRF.exec(text)?.[1] ?? null };
  }

  /** Signs in through the form with this key: the sign-in answer. */
  async login(key: string): Promise<Page> {
    const form = await this.get('/console/login');
    return this.post('/console/login', { _csrf: form.csrf ?? '', key });
  }

  /** The session's CSRF token, read off a page. */
  async csrf(): Promise<string> {
    const p = await this.get('/console');
    if (!p.csrf) throw new Error(`no CSRF token on /console (${p.status})`);
    return p.csrf;
  }
}
