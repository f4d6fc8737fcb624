import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CatalogError, createCatalog, loadCatalogFile, parseCatalog } from '../../src/commerce/catalog.js';
import { isAvailable } from '../../src/commerce/product.js';

const header = 'id,article,title,description,price,currency,image_url,category,stock';
const csv = (...rows: string[]) => [header, ...rows].join('\n');
const row = (id: string, price = '1.00', extra = '') =>
  `${id},ART-${id},Title ${id},Description,${price},EUR,https://example.com/${id}.jpg${extra || ',,'}`;

function problemOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CatalogError);
    expect((error as CatalogError).code).toBe('CONFIG');
    return (error as Error).message;
  }
  throw new Error('expected a CatalogError');
}

describe('parseCatalog from JSON', () => {
  const product = { id: 'mug', article: 'MUG-1', title: 'Mug', description: 'A mug', price: '12.50', currency: 'EUR', image_url: 'https://example.com/mug.jpg' };

  it('reads an array of products, prices as integer minor units', () => {
    const catalog = parseCatalog(JSON.stringify([product, { ...product, id: 'cup', article: 'CUP-1', price: '0.10', stock: 3, category: 'Cups' }]), 'json');
    expect(catalog.get('mug')).toEqual({ ...product, price: 1250 });
    expect(catalog.get('cup')).toMatchObject({ price: 10, stock: 3, category: 'Cups' });
    expect(catalog.currency).toBe('EUR');
  });

  it('reads { "products": [...] } and JSON number prices by their digits', () => {
    const catalog = parseCatalog(JSON.stringify({ products: [{ ...product, price: 12.5 }] }), 'json');
    expect(catalog.get('mug')?.price).toBe(1250);
  });

  it('names the item and field of each problem', () => {
    const { title: _title, ...untitled } = product;
    const message = problemOf(() =>
      parseCatalog(JSON.stringify([product, untitled, { ...product, id: 'x', article: 'X', price: '1.999' }]), 'json'),
    );
    expect(message).toContain('item 2, field "title": is required');
    expect(message).toContain('item 3, field "price": "1.999" has 3 decimals; EUR allows 2');
  });

  it('refuses a bad currency, image URL, id and stock', () => {
    const message = problemOf(() =>
      parseCatalog(JSON.stringify([{ ...product, currency: 'EURO', image_url: 'ftp://x', id: 'has space', stock: -1 }]), 'json'),
    );
    expect(message).toContain('field "currency": must be an ISO 4217 currency code');
    expect(message).toContain('field "image_url": must be an http(s) URL');
    expect(message).toContain('field "id": must be 1–40 letters');
    expect(message).toContain('field "stock"');
  });

  it('refuses duplicate ids and articles, mixed currencies, and an empty catalog', () => {
    const twice = problemOf(() => parseCatalog(JSON.stringify([product, product]), 'json'));
    expect(twice).toContain('item 2, field "id": "mug" is used twice');
    expect(twice).toContain('item 2, field "article": "MUG-1" is used twice');
    const mixed = problemOf(() => parseCatalog(JSON.stringify([product, { ...product, id: 'b', article: 'B', currency: 'USD' }]), 'json'));
    expect(mixed).toContain('item 2, field "currency": USD differs from EUR');
    expect(problemOf(() => parseCatalog('[]', 'json'))).toContain('has no products');
    expect(problemOf(() => parseCatalog('{ nope', 'json'))).toContain('catalog: JSON');
  });
});

describe('parseCatalog from CSV', () => {
  it('reads quoted fields with commas, line breaks and quotes', () => {
    const catalog = parseCatalog(
      csv(
        'mug,MUG-1,"Mug, large","Holds 350 ml.\nDishwasher safe, says the ""maker""",12.50,EUR,https://example.com/m.jpg,Mugs,4',
        'card,CARD-1,Gift card,,25,EUR,https://example.com/c.jpg,,',
      ),
      'csv',
    );
    expect(catalog.get('mug')).toEqual({
      id: 'mug',
      article: 'MUG-1',
      title: 'Mug, large',
      description: 'Holds 350 ml.\nDishwasher safe, says the "maker"',
      price: 1250,
      currency: 'EUR',
      image_url: 'https://example.com/m.jpg',
      category: 'Mugs',
      stock: 4,
    });
    expect(catalog.get('card')).toEqual({
      id: 'card',
      article: 'CARD-1',
      title: 'Gift card',
      description: '',
      price: 2500,
      currency: 'EUR',
      image_url: 'https://example.com/c.jpg',
    });
  });

  it('takes the columns in any order and ignores unknown ones', () => {
    const catalog = parseCatalog('price,title,notes,id,currency,article,image_url\n3.00,Cup,internal,cup,USD,C1,https://example.com/c.jpg\n', 'csv');
    expect(catalog.get('cup')).toMatchObject({ price: 300, title: 'Cup', currency: 'USD', description: '' });
  });

  it('names the row (the header is row 1) and the field of a bad value', () => {
    const message = problemOf(() => parseCatalog(csv(row('a'), row('b', '12.345'), row('c', 'cheap')), 'csv'));
    expect(message).toContain('row 3, field "price": "12.345" has 3 decimals; EUR allows 2');
    expect(message).toContain('row 4, field "price": "cheap" is not a decimal amount');
  });

  it('names an empty required field and a stock that is not a whole number', () => {
    const message = problemOf(() => parseCatalog(csv('a,ART-a,,Description,1.00,EUR,https://example.com/a.jpg,,lots'), 'csv'));
    expect(message).toContain('row 2, field "title": must not be empty');
    expect(message).toContain('row 2, field "stock"');
  });

  it('names a row with the wrong number of fields', () => {
    expect(problemOf(() => parseCatalog(csv(row('a'), 'b,ART-b,Title'), 'csv'))).toContain('row 3: has 3 fields; the header has 9');
  });

  it('names a missing column', () => {
    expect(problemOf(() => parseCatalog('id,title\n1,Mug', 'csv'))).toContain('CSV header: has no "article" column');
  });

  it('names the line of a quote that is never closed', () => {
    expect(problemOf(() => parseCatalog(csv(row('a'), 'b,ART-b,"Title'), 'csv'))).toContain('CSV line 3: a quoted field is never closed');
  });
});

describe('Catalog lookups', () => {
  const catalog = parseCatalog(
    JSON.stringify([
      { id: 'eth', article: 'CB-ETH', title: 'Ethiopia Yirgacheffe', description: 'Floral coffee beans', price: '12.50', currency: 'EUR', image_url: 'https://example.com/1.jpg', category: 'Coffee' },
      { id: 'earl', article: 'TEA-EARL', title: 'Earl Grey Crème', description: 'Black tea with bergamot', price: '7.90', currency: 'EUR', image_url: 'https://example.com/2.jpg', category: 'Tea', stock: 0 },
      { id: 'CB-ETH2', article: 'eth', title: 'Ethiopia Guji', description: 'Another coffee from Ethiopia', price: '13.00', currency: 'EUR', image_url: 'https://example.com/3.jpg', category: 'Coffee' },
      { id: 'card', article: 'GIFT', title: 'Gift card', description: 'For a coffee lover', price: '25.00', currency: 'EUR', image_url: 'https://example.com/4.jpg' },
    ]),
    'json',
  );

  it('finds products by id, by article, and by a platform reference (article first)', () => {
    expect(catalog.get('eth')?.title).toBe('Ethiopia Yirgacheffe');
    expect(catalog.byArticle('TEA-EARL')?.id).toBe('earl');
    expect(catalog.find('eth')?.id).toBe('CB-ETH2');
    expect(catalog.find('card')?.id).toBe('card');
    expect(catalog.find('nothing')).toBeUndefined();
  });

  it('lists categories in order of appearance, and their products', () => {
    expect(catalog.categories()).toEqual(['Coffee', 'Tea']);
    expect(catalog.byCategory('Coffee').map((p) => p.id)).toEqual(['eth', 'CB-ETH2']);
    expect(catalog.byCategory('').map((p) => p.id)).toEqual(['card']);
    expect(catalog.byCategory('Nope')).toEqual([]);
  });

  it('searches words in title, category and description, ignoring case and accents, best first', () => {
    expect(catalog.search('CREME').map((p) => p.id)).toEqual(['earl']);
    expect(catalog.search('ethiopia').map((p) => p.id)).toEqual(['eth', 'CB-ETH2']);
    expect(catalog.search('coffee').map((p) => p.id)).toEqual(['eth', 'CB-ETH2', 'card']);
    expect(catalog.search('ethiopia floral').map((p) => p.id)).toEqual(['eth', 'CB-ETH2']);
    expect(catalog.search('bean').map((p) => p.id)).toEqual(['eth']);
    expect(catalog.search('teas').map((p) => p.id)).toEqual(['earl']);
    expect(catalog.search('TEA-EARL').map((p) => p.id)).toEqual(['earl']);
    expect(catalog.search('   ')).toEqual([]);
  });

  it('can ask for every word to match', () => {
    expect(catalog.search('ethiopia guji', { matchAll: true }).map((p) => p.id)).toEqual(['CB-ETH2']);
    expect(catalog.search('what time do you open', { matchAll: true })).toEqual([]);
    expect(catalog.search('coffee', { limit: 1 }).map((p) => p.id)).toEqual(['eth']);
  });

  it('answers a search asked again at once from the last one, and any other afresh', () => {
    const first = catalog.search('ethiopia', { matchAll: true });
    expect(catalog.search('ethiopia', { matchAll: true })).toBe(first);
    expect(catalog.search('ethiopia').map((p) => p.id)).toEqual(['eth', 'CB-ETH2']);
    expect(catalog.search('ethiopia', { matchAll: true, limit: 1 }).map((p) => p.id)).toEqual(['eth']);
    expect(catalog.search('coffee', { matchAll: true }).map((p) => p.id)).toEqual(['eth', 'CB-ETH2', 'card']);
    expect(catalog.search('ethiopia', { matchAll: true })).not.toBe(first);
    expect(catalog.search('ethiopia', { matchAll: true })).toEqual(first);
  });

  it('says whether a product can be bought', () => {
    expect(isAvailable(catalog.get('earl')!)).toBe(false);
    expect(isAvailable(catalog.get('eth')!)).toBe(true);
  });

  it('builds from products in memory too', () => {
    const built = createCatalog([{ id: 'm', article: 'M', title: 'Mug', description: '', price: 990, currency: 'EUR', image_url: 'https://example.com/m.jpg' }]);
    expect(built.get('m')?.price).toBe(990);
  });
});

describe('loadCatalogFile', () => {
  it('loads the demo catalog: about twenty products in several categories, a couple out of stock', async () => {
    const catalog = await loadCatalogFile(new URL('../../data/demo-catalog.json', import.meta.url).pathname);
    expect(catalog.products.length).toBeGreaterThanOrEqual(18);
    expect(catalog.categories().length).toBeGreaterThanOrEqual(4);
    expect(catalog.currency).toBe('EUR');
    expect(catalog.products.filter((product) => !isAvailable(product)).length).toBeGreaterThanOrEqual(2);
    for (const product of catalog.products) expect(product.image_url).toMatch(/^https:\/\/example\.com\//);
  });

  it('loads CSV by its extension and refuses other extensions', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'orderly-catalog-'));
    await writeFile(join(dir, 'shop.csv'), csv(row('a', '2.50')));
    expect((await loadCatalogFile(join(dir, 'shop.csv'))).get('a')?.price).toBe(250);
    await expect(loadCatalogFile(join(dir, 'shop.xml'))).rejects.toThrow('a catalog file ends in .json or .csv');
    await expect(loadCatalogFile(join(dir, 'missing.json'))).rejects.toThrow('cannot be read (ENOENT)');
  });
});
