import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { GatewayError } from '../../domain/errors.js';
import type { ShopSettings } from '../../domain/shops.js';

/** What a verified customer token lets a browser do: the one card, and holds up to a limit. */
export interface CustomerPrincipal {
  shopId: string;
  /** The token's `sub`: the shop's customer id, or a gateway card id. */
  subject: string;
  maxHoldPoints: number | null;
}

/** The longest a token may live: a page asks its backend for a new one. */
export const MAX_TOKEN_SECONDS = 3600;
const SKEW_SECONDS = 30;

/**
 * Customer tokens (issue 12): a shop's backend signs an HS256 JWT for its logged-in customer with
 * one of the shop's secrets (`kid` names it, so two can be live during a rotation); the browser
 * sends it with the shop's publishable key. Verified with `jose` (a maintained JOSE library), which
 * refuses `alg: none` and, here, every algorithm but HS256; the claims must hold `sub` and an
 * `exp` at most an hour ahead, and no `nbf`/`iat` in the future.
 */
export class CustomerTokens {
  private readonly byKey = new Map<string, ShopSettings>();

  constructor(shops: ShopSettings[]) {
    for (const s of shops) if (s.publishableKey) this.byKey.set(s.publishableKey, s);
  }

  /** The shop a publishable key names, or null. */
  shopOf(publishableKey: string | undefined): ShopSettings | null {
    return publishableKey ? (this.byKey.get(publishableKey) ?? null) : null;
  }

  /** Every origin some shop allows (CORS). */
  allowedOrigins(): Set<string> {
    return new Set([...this.byKey.values()].flatMap((s) => s.allowedOrigins ?? []));
  }

  async verify(shop: ShopSettings, token: string): Promise<CustomerPrincipal> {
    const secrets = shop.tokenSecrets ?? [];
    const bad = (why: string) => new GatewayError('unauthorized', `The customer token is not valid: ${why}.`);
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(
        token,
        async (header) => {
          const s = secrets.find((x) => x.kid === header.kid);
          if (!s) throw bad(`no signing secret of shop ${shop.id} has kid ${JSON.stringify(header.kid ?? null)}`);
          return new TextEncoder().encode(s.secret);
        },
        { algorithms: ['HS256'], requiredClaims: ['sub', 'exp'], clockTolerance: SKEW_SECONDS },
      ));
    } catch (err) {
      if (err instanceof GatewayError) throw err;
      if (err instanceof joseErrors.JWTExpired) throw bad('it has expired');
      if (err instanceof joseErrors.JOSEAlgNotAllowed) throw bad('only HS256 is accepted');
      if (err instanceof joseErrors.JWTClaimValidationFailed) throw bad(`claim ${err.claim} ${err.reason}`);
      throw bad('its signature or form is wrong');
    }
    const now = Math.floor(Date.now() / 1000);
    if (typeof payload.exp !== 'number' || payload.exp > now + MAX_TOKEN_SECONDS + SKEW_SECONDS)
      throw bad('exp is more than an hour ahead');
    if (typeof payload.iat === 'number' && payload.iat > now + SKEW_SECONDS) throw bad('it was issued in the future');
    const sub = payload.sub;
    if (typeof sub !== 'string' || sub === '' || sub.length > 233) throw bad('sub must name the customer');
    const max = payload.max_hold_points;
    return {
      shopId: shop.id,
      subject: sub,
      maxHoldPoints: typeof max === 'number' && Number.isInteger(max) && max >= 0 ? max : null,
    };
  }

  /** Mints a token for backends that prefer a call to signing (POST /v1/customer-tokens). */
  async mint(
    shop: ShopSettings,
    customer: string,
    ttlSeconds: number,
    maxHoldPoints?: number,
  ): Promise<{ token: string; expires_at: string }> {
    const secret = shop.tokenSecrets?.[0];
    if (!secret || !shop.publishableKey) {
      throw new GatewayError(
        'validation_failed',
        `Shop ${shop.id} has no publishableKey and tokenSecrets configured: it takes no customer tokens.`,
        { errors: [{ field: '/shop_id', message: 'names a shop without customer tokens' }] },
      );
    }
    const now = Math.floor(Date.now() / 1000);
    const exp = now + Math.min(ttlSeconds, MAX_TOKEN_SECONDS);
    const token = await new SignJWT(maxHoldPoints !== undefined ? { max_hold_points: maxHoldPoints } : {})
      .setProtectedHeader({ alg: 'HS256', kid: secret.kid })
      .setSubject(customer)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .sign(new TextEncoder().encode(secret.secret));
    return { token, expires_at: new Date(exp * 1000).toISOString() };
  }
}
