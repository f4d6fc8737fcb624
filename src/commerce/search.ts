import type { Product } from './product.js';

/** How a catalog search matches and how many it answers. */
export interface SearchOptions {
  /** Only products that match every word (a free-text guess rather than an explicit search). */
  readonly matchAll?: boolean;
  readonly limit?: number;
}

/** Lowercase, without diacritics: "Crème Brûlée" → "creme brulee". */
export function foldText(text: string): string {
  return text.normalize('NFD').replace(/\p{M}+/gu, '').toLowerCase();
}

/** The words of a text, folded. */
export function words(text: string): string[] {
  return foldText(text)
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length > 0);
}

interface Field {
  readonly tokens: ReadonlySet<string>;
  /** The same tokens, for prefix matching. */
  readonly list: readonly string[];
  readonly exact: number;
  readonly prefix: number;
}

interface Entry {
  readonly product: Product;
  readonly fields: readonly Field[];
  readonly codes: ReadonlySet<string>;
}

/** Weights: a word in the title counts most, then the category, then the description. */
const weights = { title: [6, 4], category: [4, 3], description: [2, 1] } as const;

/** An index over products for word search, built once per catalog. */
export function createSearchIndex(products: readonly Product[]) {
  const field = (text: string, [exact, prefix]: readonly [number, number]): Field => {
    const tokens = new Set(words(text));
    return { tokens, list: [...tokens], exact, prefix };
  };
  const entries: Entry[] = products.map((product) => ({
    product,
    fields: [
      field(product.title, weights.title),
      field(product.category ?? '', weights.category),
      field(product.description, weights.description),
    ],
    codes: new Set([foldText(product.id), foldText(product.article)]),
  }));
  /** The last search, answered again as it was: a flow's guard and its action often ask the same. */
  let last: { text: string; matchAll: boolean; limit: number | undefined; found: Product[] } | undefined;

  function scoreWord(entry: Entry, word: string): number {
    if (entry.codes.has(word)) return weights.title[0];
    // "beans" also finds "bean"; "ethiop" finds "ethiopia".
    const singular = word.length >= 4 && word.endsWith('s') ? word.slice(0, -1) : undefined;
    let best = 0;
    for (const field of entry.fields) {
      if (field.tokens.has(word) || (singular !== undefined && field.tokens.has(singular))) {
        best = Math.max(best, field.exact);
      } else if (word.length >= 3 && field.list.some((token) => token.startsWith(word))) {
        best = Math.max(best, field.prefix);
      }
    }
    return best;
  }

  function find(text: string, matchAll: boolean, limit: number | undefined): Product[] {
    const code = foldText(text.trim());
    const terms = [...new Set(words(text))].filter((word) => word.length >= 2 || /\d/.test(word));
    if (code === '') return [];
    const hits = entries
      .map((entry, order) => {
        // The whole query as an article or id ("ETH-250") is the best match there is.
        if (entry.codes.has(code)) return { product: entry.product, matched: terms.length, score: 1_000, order };
        let matched = 0;
        let score = 0;
        for (const term of terms) {
          const points = scoreWord(entry, term);
          // Every word must match: the first that does not ends this product.
          if (points === 0 && matchAll) return { product: entry.product, matched, score: 0, order };
          if (points > 0) matched++;
          score += points;
        }
        return { product: entry.product, matched, score, order };
      })
      .filter((hit) => hit.score > 0 && (!matchAll || hit.matched === terms.length));
    hits.sort((a, b) => b.matched - a.matched || b.score - a.score || a.order - b.order);
    return hits.slice(0, limit ?? hits.length).map((hit) => hit.product);
  }

  return {
    search(text: string, options: SearchOptions = {}): readonly Product[] {
      const matchAll = options.matchAll ?? false;
      if (last && last.text === text && last.matchAll === matchAll && last.limit === options.limit) return last.found;
      const found = find(text, matchAll, options.limit);
      last = { text, matchAll, limit: options.limit, found };
      return found;
    },
  };
}
