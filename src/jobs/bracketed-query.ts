/**
 * A value as a bracketed query string, the form PHP and Rails read back into the same
 * structure: `id=12&goods[0][id]=eth&goods[0][count]=2`. Names and values are
 * percent-encoded per RFC 3986 (a space is `%20`, `!'()*` are encoded too); the brackets
 * that give the structure stay literal. `undefined` is left out, `null` is empty.
 * @example toBracketedQuery({ id: 1, goods: [{ title: 'Tea & cake' }] }) // 'id=1&goods[0][title]=Tea%20%26%20cake'
 */
export function toBracketedQuery(value: Readonly<Record<string, unknown>>): string {
  const parts: string[] = [];
  const walk = (name: string, item: unknown): void => {
    if (item === undefined) return;
    if (Array.isArray(item)) {
      item.forEach((element, index) => walk(`${name}[${index}]`, element));
    } else if (typeof item === 'object' && item !== null) {
      for (const [key, inner] of Object.entries(item)) walk(`${name}[${rfc3986(key)}]`, inner);
    } else {
      parts.push(`${name}=${item === null ? '' : rfc3986(String(item))}`);
    }
  };
  for (const [key, item] of Object.entries(value)) walk(rfc3986(key), item);
  return parts.join('&');
}

/**
 * RFC 3986 percent-encoding: everything but the unreserved characters.
 * @example rfc3986("it's (1)*") // 'it%27s%20%281%29%2A'
 */
export function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}
