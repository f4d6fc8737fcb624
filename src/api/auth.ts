import { createHash, timingSafeEqual } from 'node:crypto';

/** A caller the token check let in: which configured token it showed, never the token itself. */
export interface Caller {
  /** `token#1`, `token#2`… in `MERCHANT_TOKEN` order: safe to log, the rate limiter's key. */
  readonly name: string;
}

/** Checks a presented token against the configured ones. */
export type TokenCheck = (presented: string | undefined) => Caller | null;

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * The merchant API's token check. Both sides are hashed with SHA-256 before
 * `timingSafeEqual`, so neither a token's content nor its length shows in the time taken,
 * and every configured token is compared (no early exit tells which one was close). With
 * no token configured every call is refused.
 * @example
 * const check = createTokenCheck(['alpha', 'beta']);
 * check('beta') // { name: 'token#2' }
 * check('gamma') // null
 */
export function createTokenCheck(tokens: readonly string[]): TokenCheck {
  const known = tokens.map(digest);
  return (presented) => {
    if (presented === undefined || presented.length === 0 || known.length === 0) return null;
    const shown = digest(presented);
    let match = -1;
    known.forEach((token, index) => {
      if (timingSafeEqual(token, shown) && match < 0) match = index;
    });
    return match < 0 ? null : { name: `token#${match + 1}` };
  };
}

/**
 * The token a request shows: the path's last segment (`/api/v1/<method>/<token>`) when
 * there is one, otherwise `Authorization: Bearer <token>`.
 * @example presentedToken(undefined, 'Bearer s3cr3t') // 's3cr3t'
 */
export function presentedToken(pathToken: string | undefined, authorization: string | undefined): string | undefined {
  if (pathToken !== undefined && pathToken.length > 0) return pathToken;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
  return match?.[1];
}
