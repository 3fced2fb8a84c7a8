// Our address (ACP shape: one `name`, line_one/line_two, city, state) and UCP's postal address (first_name,
// last_name, street_address, address_locality, address_region): the one place the two are translated, for the
// ucp backend and the sandbox business alike. A name splits at its first space and joins with one again.
import type { Address } from '../../commerce/session.js';

export interface UcpPostalAddress {
  id?: string;
  first_name?: string;
  last_name?: string;
  street_address?: string;
  extended_address?: string;
  address_locality?: string;
  address_region?: string;
  address_country?: string;
  postal_code?: string;
  phone_number?: string;
}

export function toPostal(address: Address, phone?: string): UcpPostalAddress {
  const name = address.name.trim();
  const space = name.indexOf(' ');
  const postal: UcpPostalAddress = {
    first_name: space < 0 ? name : name.slice(0, space),
    ...(space < 0 ? {} : { last_name: name.slice(space + 1) }),
    street_address: address.line_one,
    ...(address.line_two ? { extended_address: address.line_two } : {}),
    address_locality: address.city,
    address_region: address.state,
    address_country: address.country,
    postal_code: address.postal_code,
  };
  if (phone) postal.phone_number = phone;
  return postal;
}

export function fromPostal(postal: UcpPostalAddress): Address {
  const address: Address = {
    name: [postal.first_name, postal.last_name].filter((part) => typeof part === 'string' && part !== '').join(' '),
    line_one: postal.street_address ?? '',
    city: postal.address_locality ?? '',
    state: postal.address_region ?? '',
    country: postal.address_country ?? '',
    postal_code: postal.postal_code ?? '',
  };
  if (postal.extended_address) address.line_two = postal.extended_address;
  return address;
}
