// The sandbox merchant's fixed catalog, tax rate and shipping options. Money is integer minor units (usd).

export type Availability = 'in_stock' | 'out_of_stock';

export interface CatalogItem {
  id: string;
  name: string;
  unit_amount: number;
  /** Digital goods need no address and ship by download. */
  digital: boolean;
  availability: Availability;
  /** Sold by weight (per kg): a quantity may be a decimal, as 2025-09-29 and 2026-04-17 allow. */
  fractional?: boolean;
}

export const SANDBOX_CURRENCY = 'usd';

const items: CatalogItem[] = [
  { id: 'sku_tshirt', name: 'Sandbox T-Shirt', unit_amount: 2500, digital: false, availability: 'in_stock' },
  { id: 'sku_mug', name: 'Sandbox Mug', unit_amount: 1400, digital: false, availability: 'in_stock' },
  { id: 'sku_hoodie', name: 'Sandbox Hoodie', unit_amount: 5500, digital: false, availability: 'in_stock' },
  { id: 'sku_cap', name: 'Sandbox Cap', unit_amount: 2000, digital: false, availability: 'in_stock' },
  { id: 'sku_sticker_pack', name: 'Sticker Pack', unit_amount: 600, digital: false, availability: 'in_stock' },
  { id: 'sku_notebook', name: 'Dot-Grid Notebook', unit_amount: 1250, digital: false, availability: 'in_stock' },
  { id: 'sku_socks', name: 'Sandbox Socks', unit_amount: 999, digital: false, availability: 'in_stock' },
  { id: 'sku_tote', name: 'Canvas Tote', unit_amount: 1800, digital: false, availability: 'in_stock' },
  { id: 'sku_poster', name: 'Protocol Poster', unit_amount: 1500, digital: false, availability: 'in_stock' },
  { id: 'sku_ebook', name: 'Exactly-Once (e-book)', unit_amount: 900, digital: true, availability: 'in_stock' },
  { id: 'sku_coffee_kg', name: 'Sandbox Coffee Beans (per kg)', unit_amount: 2400, digital: false, availability: 'in_stock', fractional: true },
  // Always out of stock, so business errors in messages[] (R12) can be exercised.
  { id: 'sku_sold_out', name: 'Limited Edition Jacket', unit_amount: 12000, digital: false, availability: 'out_of_stock' },
];

export const CATALOG: ReadonlyMap<string, CatalogItem> = new Map(items.map((item) => [item.id, item]));

export function findItem(id: string): CatalogItem | undefined {
  return CATALOG.get(id);
}

/** 8.75 % sales tax, in basis points so the arithmetic stays integer. */
export const TAX_BASIS_POINTS = 875;

/** Tax on an amount in minor units, rounded half up to an integer. */
export function taxOn(amount: number): number {
  return Math.floor((amount * TAX_BASIS_POINTS + 5_000) / 10_000);
}

export interface ShippingOption {
  id: string;
  type: 'shipping' | 'digital';
  title: string;
  description: string;
  amount: number;
}

export const SHIP_STANDARD: ShippingOption = {
  id: 'ship_standard',
  type: 'shipping',
  title: 'Standard shipping',
  description: 'Arrives in 4-6 business days',
  amount: 500,
};

export const SHIP_EXPRESS: ShippingOption = {
  id: 'ship_express',
  type: 'shipping',
  title: 'Express shipping',
  description: 'Arrives in 1-2 business days',
  amount: 1500,
};

export const DIGITAL_DELIVERY: ShippingOption = {
  id: 'digital_download',
  type: 'digital',
  title: 'Instant download',
  description: 'A download link by email',
  amount: 0,
};

/** A cart with any physical item ships; an all-digital cart is delivered by download. */
export function optionsFor(allDigital: boolean): ShippingOption[] {
  return allDigital ? [DIGITAL_DELIVERY] : [SHIP_STANDARD, SHIP_EXPRESS];
}

export function findShippingOption(id: string): ShippingOption | undefined {
  return [SHIP_STANDARD, SHIP_EXPRESS, DIGITAL_DELIVERY].find((option) => option.id === id);
}
