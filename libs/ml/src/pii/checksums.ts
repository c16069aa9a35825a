/** Check-digit algorithms used to tell real identifiers from look-alike numbers. */

/** Luhn (ISO/IEC 7812): payment cards, Canadian SIN. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/** IBAN lengths by country (ISO 13616 registry, the SEPA countries and the common others). */
const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24,
  AE: 23,
  AL: 28,
  AT: 20,
  AZ: 28,
  BA: 20,
  BE: 16,
  BG: 22,
  BH: 22,
  BR: 29,
  CH: 21,
  CR: 22,
  CY: 28,
  CZ: 24,
  DE: 22,
  DK: 18,
  DO: 28,
  EE: 20,
  EG: 29,
  ES: 24,
  FI: 18,
  FO: 18,
  FR: 27,
  GB: 22,
  GE: 22,
  GI: 23,
  GL: 18,
  GR: 27,
  GT: 28,
  HR: 21,
  HU: 28,
  IE: 22,
  IL: 23,
  IQ: 23,
  IS: 26,
  IT: 27,
  JO: 30,
  KW: 30,
  KZ: 20,
  LB: 28,
  LI: 21,
  LT: 20,
  LU: 20,
  LV: 21,
  MC: 27,
  MD: 24,
  ME: 22,
  MK: 19,
  MR: 27,
  MT: 31,
  MU: 30,
  NL: 18,
  NO: 15,
  PK: 24,
  PL: 28,
  PS: 29,
  PT: 25,
  QA: 29,
  RO: 24,
  RS: 22,
  SA: 24,
  SE: 24,
  SI: 19,
  SK: 24,
  SM: 27,
  TN: 24,
  TR: 26,
  UA: 29,
  VG: 24,
  XK: 20,
};

/** IBAN (ISO 13616): known country length and MOD 97-10 (ISO 7064) equal to 1. `iban` has no spaces. */
export function ibanValid(iban: string): boolean {
  const expected = IBAN_LENGTHS[iban.slice(0, 2)];
  if (expected === undefined || iban.length !== expected) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0);
    const value = code >= 65 && code <= 90 ? String(code - 55) : ch;
    for (const digit of value) remainder = (remainder * 10 + (digit.charCodeAt(0) - 48)) % 97;
  }
  return remainder === 1;
}

/** US Social Security Number issuance rules (SSA): no 000/666/9xx area, no 00 group, no 0000 serial. */
export function ssnValid(area: string, group: string, serial: string): boolean {
  if (area === '000' || area === '666' || area.startsWith('9')) return false;
  if (group === '00' || serial === '0000') return false;
  // Numbers the SSA voided after they were printed in advertising.
  return !(`${area}${group}${serial}` === '078051120' || `${area}${group}${serial}` === '219099999');
}

const DNI_LETTERS = 'TRWAGMYFPDXBNJZSQVHLCKE';

/** Spanish DNI (8 digits + letter) and NIE (X/Y/Z + 7 digits + letter): the letter is the number mod 23. */
export function spanishIdValid(id: string): boolean {
  const prefix = { X: '0', Y: '1', Z: '2' }[id[0] ?? ''];
  const body = (prefix ?? id[0]) + id.slice(1, 8);
  if (!/^\d{8}$/.test(body)) return false;
  return DNI_LETTERS[Number(body) % 23] === id[8];
}

/** Payment card number plausibility: length 13-19, a known issuer prefix (IIN) and the Luhn check. */
export function paymentCardValid(digits: string): boolean {
  if (digits.length < 13 || digits.length > 19) return false;
  if (/^(\d)\1+$/.test(digits)) return false;
  const known =
    /^4/.test(digits) || // Visa
    /^(5[1-5]|2(2[2-9]|[3-6]\d|7[01]|720))/.test(digits) || // Mastercard
    /^3[47]/.test(digits) || // American Express
    /^(6011|65|64[4-9]|622)/.test(digits) || // Discover, UnionPay co-brand
    /^35(2[89]|[3-8]\d)/.test(digits) || // JCB
    /^3(0[0-5]|[68])/.test(digits) || // Diners Club
    /^(62|81)/.test(digits) || // UnionPay
    /^(5018|5020|5038|6304|6759|676[1-3])/.test(digits); // Maestro
  return known && luhnValid(digits);
}

/** Brazilian CPF (11 digits): two mod-11 check digits; a number of one repeated digit is not issued. */
export function cpfValid(digits: string): boolean {
  if (!/^\d{11}$/.test(digits) || /^(\d)\1{10}$/.test(digits)) return false;
  const check = (length: number): number => {
    let sum = 0;
    for (let i = 0; i < length; i++) sum += (digits.charCodeAt(i) - 48) * (length + 1 - i);
    return ((sum * 10) % 11) % 10;
  };
  return check(9) === digits.charCodeAt(9) - 48 && check(10) === digits.charCodeAt(10) - 48;
}

/** Values of a codice fiscale's odd positions (1st, 3rd, ...) for A–Z; a digit d counts as the d-th letter. */
const CF_ODD = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23];

/** Italian codice fiscale (16 characters): the check letter (Agenzia delle Entrate's odd/even tables, mod 26). */
export function codiceFiscaleValid(code: string): boolean {
  const id = code.toUpperCase();
  if (!/^[A-Z0-9]{15}[A-Z]$/.test(id)) return false;
  let sum = 0;
  for (let i = 0; i < 15; i++) {
    const c = id.charCodeAt(i);
    const rank = c <= 57 ? c - 48 : c - 65; // 0–9 and A–Z both count from 0
    sum += i % 2 === 0 ? CF_ODD[rank]! : rank;
  }
  return String.fromCharCode(65 + (sum % 26)) === id[15];
}

/**
 * A US bank's ABA routing transit number: 9 digits, weights 3-7-1 summing to a multiple of 10, and a first pair the
 * Federal Reserve assigns (00–12 banks, 21–32 thrifts, 61–72 electronic, 80 traveller's cheques).
 */
export function abaRoutingValid(digits: string): boolean {
  if (!/^\d{9}$/.test(digits)) return false;
  const prefix = Number(digits.slice(0, 2));
  if (!(prefix <= 12 || (prefix >= 21 && prefix <= 32) || (prefix >= 61 && prefix <= 72) || prefix === 80))
    return false;
  const d = [...digits].map(Number);
  return (3 * (d[0]! + d[3]! + d[6]!) + 7 * (d[1]! + d[4]! + d[7]!) + d[2]! + d[5]! + d[8]!) % 10 === 0;
}

/** An NHS number (England, Wales, Isle of Man): 10 digits, the last a mod-11 check digit over weights 10 to 2. */
export function nhsNumberValid(digits: string): boolean {
  if (!/^\d{10}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(digits[i]) * (10 - i);
  const check = 11 - (sum % 11);
  return check !== 10 && (check === 11 ? 0 : check) === Number(digits[9]);
}
