import type { ConsoleSession } from '../../services/console/console-sessions.js';
import { type Html, html } from './html.js';

/** Messages shown once after a form was sent (redirect-after-POST): a closed list, so a link cannot show any text. */
export const FLASHES = {
  retried: 'Sent again: it is queued.',
  resolved: 'Resolved.',
  linked: 'Linked. Replay its orders to award them.',
  replayed: 'Replayed.',
  signed_out: 'Signed out.',
} as const;
export type Flash = keyof typeof FLASHES;

export const flashOf = (v: unknown): string | null =>
  typeof v === 'string' && Object.hasOwn(FLASHES, v) ? FLASHES[v as Flash] : null;

export const csrfField = (session: ConsoleSession): Html =>
  html`<input type="hidden" name="_csrf" value="${session.csrf}">`;

/** A console page: its title, the navigation (when signed in) and the sign-out form. */
export function page(
  title: string,
  body: Html,
  opts: { session?: ConsoleSession | null; flash?: string | null; current?: string } = {},
): string {
  const s = opts.session;
  const nav = s
    ? html`<nav>
  <a href="/console"${opts.current === 'review' ? html` aria-current="page"` : ''}>Review queue</a>
  <a href="/console/orders"${opts.current === 'orders' ? html` aria-current="page"` : ''}>Unmatched orders</a>
  <a href="/console/queues">Queues</a>
  <form method="post" action="/console/logout" class="signout">${csrfField(s)}<span>${s.client}</span>
    <button type="submit">Sign out</button></form>
</nav>`
    : '';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · loyalty-gateway console</title>
<link rel="stylesheet" href="/console/console.css">
</head>
<body>
<header><a class="brand" href="/console">loyalty-gateway</a>${nav}</header>
<main>
${opts.flash ? html`<p class="flash" role="status">${opts.flash}</p>` : ''}
<h1>${title}</h1>
${body}
</main>
</body>
</html>
`.text;
}
