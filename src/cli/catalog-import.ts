import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { isAvailable, parseCatalog, toDecimal, type Catalog } from '../commerce/index.js';

/** What `importCatalog` wrote: where, and a count of what. */
export interface ImportResult {
  readonly out: string;
  readonly products: number;
  readonly available: number;
  readonly categories: number;
  readonly currency: string;
}

/**
 * The catalog in the file shape `loadCatalogFile` reads back: prices as exact decimals.
 * @example normalizedCatalog(parseCatalog(text, 'csv')).products[0].price // '12.50'
 */
export function normalizedCatalog(catalog: Catalog): { products: Record<string, unknown>[] } {
  return {
    products: catalog.products.map((product) => ({
      id: product.id,
      article: product.article,
      title: product.title,
      description: product.description,
      price: toDecimal(product.price, product.currency),
      currency: product.currency,
      image_url: product.image_url,
      ...(product.category === undefined ? {} : { category: product.category }),
      ...(product.stock === undefined ? {} : { stock: product.stock }),
    })),
  };
}

/**
 * Validates a CSV or JSON catalog and writes it as normalized JSON. Throws the catalog's
 * own error (naming the row and field) when it is not valid; writes nothing then.
 * @example await importCatalog('products.csv', 'data/catalog.json')
 */
export async function importCatalog(file: string, out: string): Promise<ImportResult> {
  const extension = extname(file).toLowerCase();
  if (extension !== '.json' && extension !== '.csv') throw new Error(`${file}: a catalog file ends in .json or .csv`);
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new Error(`${file}: cannot be read (${error.code ?? error.message})`);
  });
  const catalog = parseCatalog(text, extension === '.json' ? 'json' : 'csv');
  const target = resolve(out);
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, `${JSON.stringify(normalizedCatalog(catalog), null, 2)}\n`);
  return {
    out: target,
    products: catalog.products.length,
    available: catalog.products.filter(isAvailable).length,
    categories: catalog.categories().length,
    currency: catalog.currency,
  };
}
