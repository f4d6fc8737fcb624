import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { EngineError } from '../core/errors.js';
import { CsvSyntaxError, parseCsv } from './csv.js';
import { productSchema, type Product } from './product.js';
import { createSearchIndex, type SearchOptions } from './search.js';


/** The products a shop sells, with the lookups the flows need. Read-only. */
export interface Catalog {
  /** The one currency of every price in this catalog. */
  readonly currency: string;
  readonly products: readonly Product[];
  /** A product by its id. */
  get(id: string): Product | undefined;
  /** A product by its article (SKU). */
  byArticle(article: string): Product | undefined;
  /** A product by a platform's reference: the article first, then the id. */
  find(ref: string): Product | undefined;
  /** The products of a category, in catalog order; `''` answers those without a category. */
  byCategory(category: string): readonly Product[];
  /** The category names, in order of first appearance. */
  categories(): readonly string[];
  /**
   * Products matching some of the words (all of them with `matchAll`) in their title,
   * category, description, article or id; case and diacritics do not matter. Best first.
   */
  search(words: string, options?: SearchOptions): readonly Product[];
}

/** Where a catalog is wrong: the row (CSV; the header is row 1) or item (JSON), and the field. */
export interface CatalogProblem {
  readonly where: string;
  readonly field?: string;
  readonly message: string;
}

/** A catalog that cannot be used, with every problem found (the message names the first few). */
export class CatalogError extends EngineError {
  constructor(readonly problems: readonly CatalogProblem[]) {
    const shown = problems.slice(0, 5).map((p) => `${p.where}${p.field ? `, field "${p.field}"` : ''}: ${p.message}`);
    const more = problems.length > 5 ? ` (and ${problems.length - 5} more)` : '';
    super('CONFIG', `catalog: ${shown.join('; ')}${more}`);
  }
}

/** The formats a catalog file comes in. */
export type CatalogFormat = 'json' | 'csv';

const requiredColumns = ['id', 'article', 'title', 'price', 'currency', 'image_url'] as const;
const optionalColumns = ['description', 'category', 'stock'] as const;

/**
 * Reads a catalog from JSON (an array of products, or `{ "products": [...] }`) or CSV (a
 * header row naming the columns). Throws `CatalogError` naming each bad row and field.
 * @example
 * const catalog = parseCatalog('id,article,title,price,currency,image_url\nm1,MUG-1,Mug,"9.90",EUR,https://example.com/m.jpg', 'csv');
 * catalog.get('m1')?.price // 990
 */
export function parseCatalog(text: string, format: CatalogFormat): Catalog {
  const rows = format === 'json' ? jsonRows(text) : csvRows(text);
  const problems: CatalogProblem[] = [];
  const products: Product[] = [];
  for (const { where, value } of rows) {
    const parsed = productSchema.safeParse(value, {
      error: (issue) => (issue.input === undefined ? 'is required' : undefined),
    });
    if (parsed.success) {
      products.push(parsed.data);
      continue;
    }
    for (const issue of parsed.error.issues) {
      const field = issue.path.length > 0 ? issue.path.join('.') : undefined;
      problems.push({ where, message: issue.message, ...(field ? { field } : {}) });
    }
  }
  if (problems.length > 0) throw new CatalogError(problems);
  return createCatalog(products, rows.map((row) => row.where));
}

/**
 * Loads a catalog file; `.json` or `.csv` decides the format.
 * @example const catalog = await loadCatalogFile('data/demo-catalog.json');
 */
export async function loadCatalogFile(path: string): Promise<Catalog> {
  const extension = extname(path).toLowerCase();
  if (extension !== '.json' && extension !== '.csv') {
    throw new CatalogError([{ where: path, message: 'a catalog file ends in .json or .csv' }]);
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CatalogError([{ where: path, message: `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})` }]);
  }
  return parseCatalog(text, extension === '.json' ? 'json' : 'csv');
}

/**
 * Builds the lookups over validated products. Ids and articles must be unique and every
 * price in one currency (a cart is priced in one currency).
 * @example
 * const mug = { id: 'm1', article: 'MUG-1', title: 'Mug', description: '', price: 990, currency: 'EUR', image_url: 'https://example.com/m.jpg' };
 * const catalog = createCatalog([mug]);
 */
export function createCatalog(products: readonly Product[], where?: readonly string[]): Catalog {
  const label = (index: number) => where?.[index] ?? `item ${index + 1}`;
  const problems: CatalogProblem[] = [];
  const byId = new Map<string, Product>();
  const byArticle = new Map<string, Product>();
  const categories = new Map<string, Product[]>();
  const first = products[0];
  if (!first) throw new CatalogError([{ where: 'catalog', message: 'has no products' }]);

  products.forEach((product, index) => {
    if (byId.has(product.id)) problems.push({ where: label(index), field: 'id', message: `"${product.id}" is used twice` });
    if (byArticle.has(product.article)) {
      problems.push({ where: label(index), field: 'article', message: `"${product.article}" is used twice` });
    }
    if (product.currency !== first.currency) {
      const message = `${product.currency} differs from ${first.currency}; one catalog has one currency`;
      problems.push({ where: label(index), field: 'currency', message });
    }
    byId.set(product.id, product);
    byArticle.set(product.article, product);
    const category = product.category ?? '';
    categories.set(category, [...(categories.get(category) ?? []), product]);
  });
  if (problems.length > 0) throw new CatalogError(problems);

  const index = createSearchIndex(products);
  const named = [...categories.keys()].filter((name) => name !== '');
  return {
    currency: first.currency,
    products,
    get: (id) => byId.get(id),
    byArticle: (article) => byArticle.get(article),
    find: (ref) => byArticle.get(ref) ?? byId.get(ref),
    byCategory: (category) => categories.get(category) ?? [],
    categories: () => named,
    search: (words, options) => index.search(words, options),
  };
}

interface RawRow {
  readonly where: string;
  readonly value: unknown;
}

function jsonRows(text: string): RawRow[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new CatalogError([{ where: 'JSON', message: (error as Error).message }]);
  }
  const list = Array.isArray(data) ? data : (data as { products?: unknown } | null)?.products;
  if (!Array.isArray(list)) {
    throw new CatalogError([{ where: 'JSON', message: 'expected an array of products or { "products": [...] }' }]);
  }
  return list.map((value, index) => ({ where: `item ${index + 1}`, value }));
}

function csvRows(text: string): RawRow[] {
  let records;
  try {
    records = parseCsv(text);
  } catch (error) {
    if (error instanceof CsvSyntaxError) {
      throw new CatalogError([{ where: `CSV line ${error.line}`, message: error.message.replace(/^line \d+: /, '') }]);
    }
    throw error;
  }
  const [header, ...body] = records;
  if (!header) throw new CatalogError([{ where: 'CSV', message: 'is empty; the first row names the columns' }]);
  const names = header.fields.map((name) => name.trim().toLowerCase());
  const missing = requiredColumns.filter((column) => !names.includes(column));
  if (missing.length > 0) {
    throw new CatalogError(missing.map((column) => ({ where: 'CSV header', message: `has no "${column}" column` })));
  }
  return body.map((record, index) => {
    const where = `row ${index + 2}`;
    if (record.fields.length !== names.length) {
      throw new CatalogError([
        { where, message: `has ${record.fields.length} fields; the header has ${names.length} (line ${record.line})` },
      ]);
    }
    const value: Record<string, unknown> = {};
    for (const column of requiredColumns) value[column] = record.fields[names.indexOf(column)];
    for (const column of optionalColumns) {
      const cell = record.fields[names.indexOf(column)];
      // An empty optional cell is an absent value, not an empty one.
      if (cell === undefined || cell.trim() === '') continue;
      value[column] = column === 'stock' && /^\s*\d+\s*$/.test(cell) ? Number(cell) : cell;
    }
    return { where, value };
  });
}
