import { isIP } from 'node:net';
import { LRCP_KEY_RUN, lrcpKeyShaped } from '@app/common';
import {
  abaRoutingValid,
  codiceFiscaleValid,
  cpfValid,
  ibanValid,
  luhnValid,
  nhsNumberValid,
  paymentCardValid,
  spanishIdValid,
  ssnValid,
} from './checksums';
import { PERSON_NAME_RULES } from './person-name';

export type PiiType =
  | 'email'
  | 'phone'
  | 'credit_card'
  | 'iban'
  | 'bank_account'
  | 'national_id'
  | 'ip_address'
  | 'secret'
  | 'date_of_birth'
  | 'street_address'
  | 'person_name'
  | 'medical_id';

export const PII_TYPES: readonly PiiType[] = [
  'email',
  'phone',
  'credit_card',
  'iban',
  'bank_account',
  'national_id',
  'ip_address',
  'secret',
  'date_of_birth',
  'street_address',
  'person_name',
  'medical_id',
];

/** Where a piece of personal data or a secret sits in the text. Offsets only: never the value. */
export interface PiiFinding {
  type: PiiType;
  start: number;
  end: number;
}

interface Rule {
  type: PiiType;
  pattern: RegExp;
  /** Quick pre-check: skip the regex when the text cannot contain a match. */
  needs?: RegExp;
  /** Index of the capture group to report instead of the whole match. */
  group?: number;
  validate?: (match: RegExpExecArray, scan: Scan) => boolean;
  /**
   * The findings inside a match, as offsets in the text, in place of the match itself: for a rule whose match is a
   * run that holds the item (a card among other numbers) rather than the item.
   */
  pick?: (match: RegExpExecArray) => ReadonlyArray<readonly [number, number]>;
}

/** What a scan knows besides the text: the current year, from the detector's clock. */
interface Scan {
  year: number;
}

const digitsOf = (text: string): string => text.replace(/\D/g, '');

/** How card numbers are printed, in digits per group: Visa/Mastercard/Discover 4-4-4-4 (19: 4-4-4-4-3), Amex 4-6-5, Diners 4-6-4, 13-digit Visa 4-4-5. */
const CARD_LAYOUTS: ReadonlyArray<readonly number[]> = [
  [4, 4, 4, 4, 3],
  [4, 4, 4, 4],
  [4, 6, 5],
  [4, 6, 4],
  [4, 4, 5],
];

/**
 * The cards in a run of digit groups (`12 4111 1111 1111 1111 123`), as offsets in the text: windows of whole groups
 * laid out as a card is printed, joined inside by one kind of separator and set off from the rest of the run by
 * spaces (a window ending at a dash is part of a longer id), Luhn-valid with a known issuer. Left to right, the
 * longest layout first; found windows do not overlap.
 */
function cardsInRun(run: string, offset: number): Array<readonly [number, number]> {
  // The groups' bounds, read in one pass (the run is digits and single separators).
  const starts: number[] = [];
  const ends: number[] = [];
  for (let at = 0; at < run.length;) {
    starts.push(at);
    while (at < run.length && run.charCodeAt(at) >= 48 && run.charCodeAt(at) <= 57) at++;
    ends.push(at++);
  }
  const sepBefore = (k: number): string => run[starts[k]! - 1]!;
  const found: Array<readonly [number, number]> = [];
  for (let i = 0; i < starts.length; i++) {
    if (ends[i]! - starts[i]! !== 4 || (i > 0 && sepBefore(i) !== ' ')) continue;
    for (const layout of CARD_LAYOUTS) {
      const last = i + layout.length - 1;
      if (last >= starts.length || (last + 1 < starts.length && sepBefore(last + 1) !== ' ')) continue;
      let fits = true;
      for (let k = 0; k < layout.length && fits; k++) {
        fits = ends[i + k]! - starts[i + k]! === layout[k] && (k < 2 || sepBefore(i + k) === sepBefore(i + 1));
      }
      if (!fits || !paymentCardValid(digitsOf(run.slice(starts[i], ends[last])))) continue;
      found.push([offset + starts[i]!, offset + ends[last]!]);
      i = last;
      break;
    }
  }
  return found;
}

/** Redis's `requirepass` and `masterauth` (redis.conf, `CONFIG SET`) hold its password: until 2026-12-07 they did not. */
const CREDENTIAL_KEY =
  /api[_-]?key|apikey|secret|token|passw(?:or)?d|pwd|access[_-]?key|private[_-]?key|client[_-]?secret|requirepass|masterauth|(?:^|[_.-])(?:pw|pass)$/i;

/**
 * Keys with a credential word in them that hold something else: a tokenizer (`tokenizer: cl100k_base`), a model's
 * special token (`pad_token = tokenizer.eos_token`), a secrets-manager service or IAM action
 * (`secretsmanager:GetSecretValue`), or a property of a credential rather than the credential: its name, header,
 * type, URL, lifetime, length, file or path (`api_key_header_name = "x-api-key"`, `secret_name: prod/db-credentials`,
 * `csrfTokenHeader: X-CSRF-Token`, `private_key_path: ~/.ssh/id_ed25519`); or a paging cursor, which an API hands
 * back to fetch the next page and which grants nothing (`nextPageToken`, `page_token`, AWS `NextToken`, S3
 * `ContinuationToken`, `pagination_token`).
 */
const NOT_CREDENTIAL_KEY =
  /tokeni[sz]|^(?:pad|eos|bos|unk|sep|cls|mask|stop|start|end|special)[_-]?tokens?$|secretsmanager|(?:page|next|continuation|pagination)[_-]?token$|[_.-](?:name|header|type|url|uri|endpoint|ttl|expiry|length|len|path|file|dir|policy)$/i;
const NOT_CREDENTIAL_CAMEL_KEY =
  /[a-z0-9](?:Name|Header|Type|Url|Uri|Endpoint|Ttl|Expiry|Length|Path|File|Dir|Policy)$/;

/** A stand-in for a secret: a mask (********, xxxx), a redaction, <PASSWORD>, ${DB_PASSWORD}, $DB_PASSWORD. */
const placeholder = (value: string): boolean =>
  /^(?:\*+|x+|\[?redacted\]?|<[^<>]*>|\$\{?[A-Za-z_]\w*\}?)$/i.test(value) ||
  // What a tutorial writes in place of one: YOUR_API_KEY, your-api-key-here, <...> above, INSERT_TOKEN_HERE; and the
  // default a sample config ships asking to be changed (changeme, CHANGE_ME, Java's keystore changeit).
  /^(?:your|insert|enter|replace|put)[_-]?[a-z_-]*$|^[a-z_-]*[_-]here$|^change[_-]?(?:me|it)$/i.test(value);

/**
 * Whether `key = value` assigns a credential: the key is named like one and the value is not a stand-in for one
 * (a mask, a redaction, a reference to where the value lives, a timestamp, the shell's working directory).
 */
function credentialAssignment(key: string, value: string): boolean {
  if (!CREDENTIAL_KEY.test(key) || placeholder(value)) return false;
  if (NOT_CREDENTIAL_KEY.test(key) || NOT_CREDENTIAL_CAMEL_KEY.test(key)) return false;
  // A count of tokens, not a token: total_tokens=12850311, prompt_tokens: 512 (an LLM gateway's own usage lines), or
  // the expression that counts them, quoted or not (`inputTokens: 'COALESCE(SUM(input_tokens), 0)'`, a SQL column;
  // a function's name holds no digit, `Qm4(Zt8)Wk2v` is a token).
  if (/tokens$/i.test(key) && (/^\d+$/.test(value) || /^[A-Za-z_]+(?:\.[A-Za-z_]+)*\(/.test(value))) return false;
  if (/^(?:process\.env|import\.meta\.env|os\.environ|env|config|settings|this|self)\.[A-Za-z_]/.test(value))
    return false;
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) return false;
  return !(/pwd$/i.test(key) && /^[/~]/.test(value)); // PWD=/home/app, OLDPWD=...
}

/**
 * A password of 6 or 7 characters with a letter and a digit (`password: Hunter2`, `pwd=abc123`): under a key naming a
 * password only. Other credentials (tokens, keys) are long; a 6-character value of `token:` is as often a label.
 * Until 2026-12-07 every value under 8 characters was left in the text.
 */
function shortPassword(key: string, value: string): boolean {
  return value.length >= 6 && /passw(?:or)?d|pwd|passcode/i.test(key) && /[A-Za-z]/.test(value) && /\d/.test(value);
}

/**
 * A password given in prose: "my password is Xk9mP2qL", "the wifi password is Summer2024!", "the password for the
 * router was changed to 7731alpha". Until 2026-12-07 only `key: value` forms were read, and a user telling the
 * assistant their password in a sentence had it in the logs. The value is the one word after the verb, the last of
 * its clause (a sentence's end, a comma, "and", "but", "for", ...): "the password is SHA-256 hashed" gives none. It
 * holds a letter and a digit or a symbol (not only a hyphen), or is 6+ digits: "the password is required", "is
 * case-sensitive", "is 'admin'" (a word) are not read as passwords.
 */
const PROSE_PASSWORD =
  /\b(?:password|passwd|passcode|passphrase|pass[ \t]?word)(?:[ \t]+(?:for|of|on|to)[ \t]+(?:the[ \t]+|my[ \t]+|our[ \t]+|your[ \t]+)?[\w.@-]{1,40})?[ \t]+(?:is|was|is[ \t]+now|will[ \t]+be|(?:(?:is|was|has[ \t]+been)[ \t]+)?(?:set|changed|reset|updated)[ \t]+to)[ \t]*:?[ \t]+["'\x60\u201c]?([^\s"'\x60\u201d]*[^\s"'\x60\u201d.,;:!?)\]}])(?=["'\x60\u201d]?(?:[ \t]*(?:[.,;!?)\]}\n]|$)|[ \t]+(?:and|but|so|or|for|if|when|please|thanks)\b|[ \t]+[-\u2013\u2014]))/gi;

function prosePasswordShaped(value: string): boolean {
  if (value.length < 6 || value.length > 64 || placeholder(value)) return false;
  if (/^\d+$/.test(value)) return true;
  return (
    /[A-Za-z]/.test(value) && (/\d/.test(value) || /[!@#$%^&*+=~?_]/.test(value)) && !/^[\w.+-]+@[\w-]+\./.test(value)
  );
}

/**
 * `value` without the `)` at its end that close no `(` of it: those close the code around an unquoted value
 * (`connect(password=hunter2pass)`). One inside it is the value's own (`Gh5)Pq8(Ls3x`).
 */
function withoutClosingTail(value: string): string {
  let open = 0;
  let close = 0;
  for (const c of value) {
    if (c === '(') open++;
    else if (c === ')') close++;
  }
  let end = value.length;
  while (close > open && value[end - 1] === ')') {
    end--;
    close--;
  }
  return value.slice(0, end);
}

/**
 * A name, dotted or not, as code writes a function or a variable (`getpass.getpass`, `os.getenv`, `st.secrets`),
 * perhaps inside the parentheses of an expression (`(os.getenv("KEY") or "")`).
 */
const CODE_NAME = /^\(*[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*/;

/**
 * Whether an unquoted credential value (at `start` in `text`) is code that fetches the credential rather than the
 * credential: a name indexed or called (`st.secrets["api_key"]`, `os.getenv("API_KEY")`, `getpass.getpass()`,
 * `keyring.get_password("svc", "me")`), the call running on past the value's end into its quoted arguments or onto the
 * next line. A call followed by more of the value is not one: `Secret123(abc)xyz` is a password. Reads at most 256
 * characters after the value's `(`, on its line.
 */
function codeFetchingCredential(text: string, start: number, value: string): boolean {
  const name = CODE_NAME.exec(value)?.[0] ?? '';
  if (name.length === value.length) return /[([]/.test(text[start + value.length] ?? '');
  if (name.length === 0 || value[name.length] !== '(') return false;
  let depth = 0;
  let quote = '';
  const limit = Math.min(text.length, start + name.length + 256);
  for (let i = start + name.length; i < limit; i++) {
    const c = text[i]!;
    if (c === '\n') return true; // a call continued on the next line
    if (quote !== '') {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'" || c === '\x60') quote = c;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return !/[A-Za-z0-9_!@#$%^*~+=/-]/.test(text[i + 1] ?? '');
  }
  return true; // unclosed within reach: a call written over several lines, or cut off
}

/** Addresses that are never a person's: this network (0/8), loopback (127/8), reserved and broadcast (240/4). */
const NON_PERSONAL_IPV4 = /^(?:0|127|24\d|25[0-5])\./;
/** Public DNS resolvers named in every network how-to (Google, Cloudflare, Quad9, OpenDNS): infrastructure, no one's. */
const PUBLIC_RESOLVERS = new Set([
  '8.8.8.8',
  '8.8.4.4',
  '1.1.1.1',
  '1.0.0.1',
  '9.9.9.9',
  '149.112.112.112',
  '208.67.222.222',
  '208.67.220.220',
]);

/**
 * Whether an IPv4 address is a network written in CIDR (`10.0.0.0/8`, `203.0.113.0/24`): a prefix after it and no
 * host bits set. A host with its prefix (`inet 10.24.8.17/24`) is still an address.
 */
function cidrNetwork(m: RegExpExecArray): boolean {
  const prefix = /^\/(\d{1,2})(?!\d)/.exec(m.input.slice(m.index + m[0].length, m.index + m[0].length + 4));
  if (prefix === null || Number(prefix[1]) >= 32) return false;
  const value = m[0].split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
  return value % 2 ** (32 - Number(prefix[1])) === 0;
}

/** A version or section number written like an address: v1.2.3.4, version 7.52.0.1, build 4.8.1.0, § 4.2.1.3. */
const VERSION_BEFORE = /(?:\bv|\b(?:ver|version|build|release|rev|revision|firmware|section|chapter)[.:]?\s?|§\s?)$/i;

/** A number just after `+CC ` is the rest of an international phone number, not an id (+61 491 570 156). */
const AFTER_COUNTRY_CODE = /(?:\+|%2B)\d{1,3}[ .-]?$/i;
/**
 * A number written with spaces between its thousands and followed by a unit or a currency, or after a currency sign
 * ("We sold 612 345 678 units", "Le budget est de 046 454 286 €", "$ 612 345 678"): an amount, not a SIN. Until
 * 2026-12-07 one amount in ten (those passing the SIN's Luhn check) was redacted as a national id.
 */
const QUANTITY_AFTER =
  /^[ \t]*(?:[€$£¥%]|(?:eur|usd|gbp|chf|euros?|dollars?|pounds?|units?|people|persons|users|customers|visitors|requests|calls|tokens|items|bytes|[kmg]b|km|kg|tonnes?|tons?|views|downloads|habitants|personnes|clients|ventes|einwohner|menschen|personas|habitantes|inhabitants|residents)\b)/i;
const quantity = (m: RegExpExecArray): boolean =>
  QUANTITY_AFTER.test(m.input.slice(m.index + m[0].length, m.index + m[0].length + 24)) ||
  precededBy(m, /[€$£¥][ \t]?$/);

/**
 * Words that name a phone number right before one ("Mi número es 612 345 678", "call me on 612 345 678"): a 3-3-3
 * number after them is a phone (Spain's and Portugal's 9 digits), not a Canadian SIN, which was the type they read
 * as until 2026-12-07 whenever the digits passed the SIN's Luhn check (one in ten).
 */
const PHONE_WORD_BEFORE =
  /(?:\b(?:phone|mobile|cell|tel|call(?:[ \t]+me)?(?:[ \t]+(?:on|at))?|whatsapp|n[uú]mero|tel[eé]fono|m[oó]vil|celular|telefone|telemóvel|telem[oó]vel|handy|telefon|portable|t[eé]l[eé]phone|cellulare|telefono|anrufen|rufen|erreichbar|joindre|joignable|appel(?:ez|le|er)?|ll[aá]m(?:a|e|ar|ame)|ligue|chiama(?:mi)?)\b[^\d\n]{0,24})$/i;
const phoneWordBefore = (m: RegExpExecArray): boolean => {
  const before = m.input.slice(Math.max(0, m.index - 48), m.index);
  return PHONE_WORD_BEFORE.test(before) && !/\b(?:sin|social[ \t]+insurance)\b[^\d\n]{0,16}$/i.test(before);
};
const precededBy = (m: RegExpExecArray, before: RegExp, start = m.index): boolean =>
  before.test(m.input.slice(Math.max(0, start - 16), start));

/**
 * What labels a number as a code rather than a phone (or a SSN or SIN), right before it: an order, tracking, invoice, reference, case,
 * ticket, policy, booking, confirmation, part, serial, build or ISBN number (`Order #212-555-0147`, `Tracking number:
 * 020 7946 0958`, `Booking ref 0612 447 3390`), also with `no.`, `number`, `#`, `id`, `code` after the word, and the
 * French, German, Spanish, Portuguese and Italian words for order and invoice. A phone's own label (`phone`, `tel`,
 * `call`, `mobile`) is none of these; "Order line: ..." or "orders, call ..." still are phones (the label must be right
 * before the number).
 */
const CODE_LABEL_BEFORE = new RegExp(
  String.raw`(?<![\p{L}\d])(?:order|tracking|invoice|inv|ref|reference|case|ticket|policy|booking|confirmation|pnr|` +
    String.raw`reservation|voucher|coupon|membership|loyalty|` +
    String.raw`part|serial|build|isbn(?:-1[03])?|issn|sku|po|receipt|claim|shipment|parcel|transaction|txn|batch|lot|` +
    String.raw`contract|account|acct|quote|bestellung|bestellnummer|rechnung|rechnungsnummer|auftrag|sendungsnummer|` +
    String.raw`commande|facture|pedido|factura|fatura|encomenda|ordine|fattura|riferimento|referencia|référence)` +
    String.raw`(?:[ \t]*(?:no\.?|nr\.?|n[°º]\.?|num(?:ber)?\.?|#|id|code|ref(?:erence)?|number))?[ \t]*[#:.]?[ \t]*$`,
  'iu',
);
/** Whether a phone-shaped match is labelled as a code (`CODE_LABEL_BEFORE`). */
const labelledAsCode = (m: RegExpExecArray): boolean =>
  CODE_LABEL_BEFORE.test(m.input.slice(Math.max(0, m.index - 40), m.index));

/**
 * What names a bank account's number right before it: "account number", "acc no", "acct #", a "bank", "checking",
 * "savings" or "current" account, and the German, French, Spanish, Portuguese and Italian words ("Kontonummer",
 * "numéro de compte", "número de cuenta", "número da conta", "numero di conto"). A bare "account" (group 1) names one
 * only beside a bank's words (`BANK_WORD`): "AWS account 123456789012" is a cloud account. Until 2026-12-08 no type
 * held a bank account, and "my account number is 12345678, sort code 12-34-56" went to the logs as typed.
 */
const ACCOUNT_LABEL =
  String.raw`(?:(?:bank|checking|chequing|savings|current|deposit)[ \t_-]*account|(?:bank[ \t_-]*)?(?:account|acc(?:t|ount)?\.?)[ \t_-]*(?:number|num\.?|no\.?|nr\.?|#)|` +
  String.raw`konto(?:nummer|[ \t]*-?nr\.?)|(?:num[ée]ro|n[°º])[ \t]+de[ \t]+compte|n[úu]mero[ \t]+de[ \t]+cuenta|n[úu]mero[ \t]+da[ \t]+conta|` +
  String.raw`numero[ \t]+di[ \t]+conto|(account|konto|compte|cuenta|conta|conto))`;
/** A bank's words, near a bare "account" number: what makes it a bank account rather than a cloud or customer one. */
const BANK_WORD =
  /\b(?:bank|routing|sort[ \t-]?code|aba|iban|bic|swift|wire|blz|deposit|transfer|payee|banque|bancaria|banco|banca)\b/i;
/** Not a bank's: a cloud, customer, service or e-mail account ("AWS account number 123456789012"). */
const NOT_BANK_BEFORE =
  /\b(?:aws|gcp|azure|cloud|billing|service|customer|user|e-?mail|github|google|microsoft|apple|steam|twitter|instagram)[ \t_-]*$/i;

/**
 * What names a medical record or health insurance number right before it: "MRN", "medical record number", "patient
 * ID", "patient #", "NHS number", "CHI number", "Medicare number", "Medicaid ID", "health insurance (member) ID",
 * "health card number", German "Versichertennummer" / "Krankenversichertennummer". Until 2026-12-08 no type held them.
 */
const MEDICAL_LABEL =
  String.raw`mrn|medical[ \t_-]*record(?:[ \t_-]*(?:number|no\.?|#))?|patient(?:[ \t_-]*(?:id|number|no\.?)|[ \t]*#)|` +
  String.raw`(nhs|chi)(?:[ \t_-]*(?:number|no\.?))?|medicare(?:[ \t_-]*(?:number|no\.?|id))?|medicaid(?:[ \t_-]*(?:number|no\.?|id))?|` +
  String.raw`health[ \t_-]*(?:insurance|plan|card)(?:[ \t_-]*(?:member|policy|subscriber))?[ \t_-]*(?:id|number|no\.?)|` +
  String.raw`(?:kranken)?versicherten[ \t]*-?(?:nummer|nr\.?)`;

/**
 * An e-mail address written to escape address harvesters: `jane[at]example[dot]org`, `bob (at) example (dot) com`,
 * "john dot doe at gmail dot com", "maria.lopez AT example DOT es". Until 2026-12-08 every one was left in the text.
 * Each separator is bounded (`[ \t]{0,3}`) and so is each repetition: a long run of "a dot a dot ..." is read in
 * bounded work from each word's start, linear.
 */
const SPELLED_AT = String.raw`[ \t]{1,3}at[ \t]{1,3}`;
const BRACKETED_AT = String.raw`[ \t]{0,3}[[({<][ \t]{0,2}at[ \t]{0,2}[\])}>][ \t]{0,3}`;
const SPELLED_DOT = String.raw`(?:[ \t]{1,3}dot[ \t]{1,3}|[ \t]{0,3}[[({<][ \t]{0,2}dot[ \t]{0,2}[\])}>][ \t]{0,3})`;
const OBFUSCATED_EMAIL = new RegExp(
  String.raw`(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}(?:${SPELLED_DOT}[A-Za-z0-9_%+-]{1,64}){0,3}` +
    String.raw`(${SPELLED_AT}|${BRACKETED_AT})[A-Za-z0-9-]{1,63}(?:(?:${SPELLED_DOT}|\.)[A-Za-z0-9-]{1,63}){0,3}` +
    String.raw`(?:${SPELLED_DOT}|\.)([A-Za-z]{2,6})(?![A-Za-z0-9-]|\.[A-Za-z0-9])`,
  'gi',
);
/** Top-level domains an obfuscated address ends in: "the dot on" or "a dot in" is no address. */
const MAIL_TLDS = new Set(
  (
    'com org net edu gov mil int io co uk de fr es it pt nl be ch at ca au us info biz me ai dev app eu br mx ar cl jp ' +
    'in ru pl se no dk fi ie nz za cz gr hu ro tr il sg hk kr tw cn'
  ).split(' '),
);
/** Mail providers whose name after "at" says an address is meant ("bob at gmail dot com"). */
const MAIL_PROVIDER =
  /^(?:gmail|googlemail|yahoo|hotmail|outlook|live|msn|icloud|me|mac|aol|proton|protonmail|pm|gmx|web|yandex|mail|zoho|fastmail|orange|free|laposte|libero|t-online)$/i;
/**
 * Whether a spelled-out address is one: a bracketed `[at]` always is; a spelled " at " needs a spelled dot and either
 * a local part that is no plain word (a dot, an underscore, a digit in it: "sam_smith at outlook dot com"), a mail
 * provider ("bob at gmail dot com"), or a word naming an address just before ("email: bob at example dot com"); and
 * is no help text's stand-in ("such as name at domain dot com"). "Point at the dot on the screen", "look at example
 * dot com", "the dot com bubble burst at ..." are not.
 */
function obfuscatedEmail(m: RegExpExecArray): boolean {
  if (!MAIL_TLDS.has(m[2]!.toLowerCase())) return false;
  if (!/^[ \t]*at[ \t]*$/i.test(m[1]!)) return true;
  const at = m[0].indexOf(m[1]!);
  const local = m[0].slice(0, at);
  const domain = m[0].slice(at + m[1]!.length);
  if (!new RegExp(SPELLED_DOT, 'i').test(domain)) return false;
  // What a form's help text writes for an address: "such as name at domain dot com".
  if (/^(?:name|user|username|your[ \t]?name|someone|somebody)$/i.test(local) || /^(?:your|my)?domain\b/i.test(domain))
    return false;
  if (/[._\d%+]|[ \t]dot[ \t]/i.test(local)) return true;
  if (MAIL_PROVIDER.test(/^[A-Za-z0-9-]+/.exec(domain)![0])) return true;
  return /\b(?:e-?mail|mail|contact|reach|write|address|courriel|correo|kontakt)\b[^\n]{0,12}$/i.test(
    m.input.slice(Math.max(0, m.index - 40), m.index),
  );
}

/** Month names (en, fr, de, es, pt, it; full and common abbreviations), lower case, accents kept and stripped. */
const MONTHS = new Set(
  [
    'january jan february feb march mar april apr may june jun july jul august aug september sept sep october oct',
    'november nov december dec',
    'janvier fevrier février mars avril mai juin juillet aout août septembre octobre novembre decembre décembre',
    'januar jänner februar märz maerz april mai juni juli august september oktober november dezember',
    'enero febrero marzo abril mayo junio julio agosto septiembre setiembre octubre noviembre diciembre',
    'janeiro fevereiro março marco abril maio junho julho agosto setembro outubro novembro dezembro',
    'gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre',
  ]
    .join(' ')
    .split(' '),
);

/**
 * What names a date of birth just before it: "date of birth", "DOB", "born on", `birth_date=`, and their French,
 * German, Spanish, Portuguese and Italian wordings. Only a date after one of these is a birth date: a bare date is
 * a timestamp, a deadline, an invoice date.
 */
const BIRTH_KEY =
  String.raw`date[ _-]?of[ _-]?birth|birth[ _-]?date|d\.?o\.?b\.?|born(?:\s+(?:in\s+\p{Lu}\p{L}+\s+)?on)?|birthday(?:['’]s)?(?:\s+(?:is\s+|was\s+)?on)?|` +
  String.raw`geburtsdatum|geb\.|geboren(?:\s+(?:in\s+\p{Lu}\p{L}+\s+)?am)?|date\s+de\s+naissance|n[ée]e?\s+le|` +
  String.raw`fecha[ _-](?:de[ _-])?nacimiento|naci(?:d[oa]|ó|o)\s+el|data[ _-](?:de[ _-])?nascimento|nascimento|` +
  String.raw`nasceu\s+em|nascid[oa]\s+em|data[ _-]di[ _-]nascita|nat[oa](?:\s+a\s+\p{Lu}\p{L}+)?\s+il`;
/**
 * A full date: 14/03/1987, 14.03.87, 1987-03-14, 1986.10.05, 14 March 1987, the 4th of July 2015, 14 de marzo de
 * 1987, March 14th, 1987.
 */
const FULL_DATE =
  String.raw`\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})(?![\d./-]*\d)|\d{4}([./-])\d{1,2}\2\d{1,2}(?![\d./-]*\d)|` +
  String.raw`(?:the\s+)?\d{1,2}(?:st|nd|rd|th|er|º)?\.?\s+(?:de\s+|of\s+)?(\p{L}{3,9})\.?,?\s+(?:de\s+)?\d{4}(?!\d)|` +
  String.raw`(\p{L}{3,9})\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}(?!\d)`;

/** A capitalised word of a street or place name (O'Connell, Saint-Honoré, Baker). */
const NAME_WORD = String.raw`\p{Lu}[\p{L}'’.-]*`;
/** English street types (the number comes first: 221B Baker Street, 1600 Pennsylvania Avenue NW). */
const EN_STREET =
  'Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|Square|Sq|Terrace|Way|Close|' +
  'Crescent|Parkway|Pkwy|Highway|Hwy|Row|Gardens|Mews';
/** An apartment, suite or floor after the street: ", Apt 4B", ", Suite 1400", ", 3º B", ", apto 92". */
const UNIT_AFTER = String.raw`(?:,?\s+(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|Flat|Floor|Fl\.?|#|apto\.?|piso|étage)\s*[\p{L}\d-]{1,6}|,\s*\d{1,2}[º°]\s?\p{L}?)?`;
/**
 * A town's name: capitalised words, joined by spaces or small words (Frankfurt am Main); a hyphenated name
 * (Stratford-upon-Avon, Aix-en-Provence) is one `NAME_WORD`, which holds hyphens. Words are not also joined by a
 * hyphen: a run of `A-A-A-...` after a street could then be split into up to three words at any two of its hyphens,
 * and each split was tried against the postcode that must follow (cubic: 3,200 characters after "4 Privet Drive"
 * took 8.6 s, and a 5,000-character prompt blocked the event loop for longer than a client waits).
 */
const TOWN = String.raw`${NAME_WORD}(?:(?: |\s(?:am|an der|de|del|la|le|sur|upon|on|di)\s)${NAME_WORD}){0,2}`;
/** A postcode and town after a street: ", London NW1 6XE", ", Springfield, IL 62704", ", 75002 Paris". */
const PLACE_AFTER = String.raw`${UNIT_AFTER}(?:,?\s+${TOWN}(?:,\s*\p{Lu}{2})?(?:\s+(?:\d{5}(?:-\d{4})?|\p{Lu}{1,2}\d[\p{Lu}\d]?\s?\d\p{Lu}{2}))|,?\s+\d{4,5}(?:-\d{3})?\s+${TOWN})?`;

/** A number that counts something in a text rather than a house: "Chapter 12 The Way Forward", "Step 3 Main Road". */
const COUNTED_BEFORE =
  /\b(?:chapter|chap\.|section|sec\.|part|step|page|p\.|pp\.|vol\.?|volume|episode|ep\.|season|level|figure|fig\.|table|item|no\.|number|rule|article|art\.|verse|lesson|unit|book|act|scene|exhibit|appendix|track|route|room|gate|platform|bus|line)\s*$/i;

/** Keywords as written at the start of a sentence or not (rue, Rue): the rest stays case-sensitive (`NAME_WORD`). */
const anyCase = (words: string): string =>
  words
    .split('|')
    .map((w) => (/^\p{Ll}/u.test(w) ? `[${w[0]!.toUpperCase()}${w[0]}]${w.slice(1)}` : w))
    .join('|');

const monthNamed = (m: RegExpExecArray): boolean => {
  const word = m[3] ?? m[4];
  return word === undefined || MONTHS.has(word.toLowerCase());
};

/**
 * Whether a birth date's year could be a living person's: not before 1900 (no one alive was born then: "Napoleon was
 * born on 15 August 1769", "Einstein was born on 14 March 1879" are history, and personal data is a living person's)
 * nor after `thisYear` (the detector's clock: until 2026-12-07 the wall clock was read here, so no test could fix the
 * year). A two-digit year (14.03.87) says nothing and is kept.
 */
const livingBirthYear = (date: string, thisYear: number): boolean => {
  const year = /(?<!\d)\d{4}(?!\d)/.exec(date);
  if (year === null) return true;
  const y = Number(year[0]);
  return y >= 1900 && y <= thisYear;
};

/**
 * Rules in priority order: when two findings overlap, the earlier rule wins (a key inside a bearer header
 * is one secret; an e-mail's digits are not a phone).
 */
const RULES: readonly Rule[] = [
  // --- secrets ---
  {
    type: 'secret',
    pattern:
      /-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|$)/g,
    needs: /PRIVATE KEY/,
  },
  { type: 'secret', pattern: /\beyJ[A-Za-z0-9_-]{6,}\.eyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{4,}/g, needs: /eyJ/ },
  {
    // Authorization header values; the token must look like one (a digit or a symbol), not an English word.
    type: 'secret',
    pattern: /\b(?:bearer|basic)\s+((?=[A-Za-z0-9._~+/=-]*[0-9._~+/=])[A-Za-z0-9._~+/=-]{12,})/gi,
    group: 1,
    validate: (m) => !placeholder(m[1]!), // Bearer YOUR_API_KEY_HERE
  },
  { type: 'secret', pattern: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b/g },
  { type: 'secret', pattern: /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g, needs: /AIza/ },
  { type: 'secret', pattern: /\bya29\.[0-9A-Za-z_-]{20,}/g, needs: /ya29\./ },
  { type: 'secret', pattern: /\b(?:sk|pk|rk|whsec)[-_][A-Za-z0-9_-]{16,}/g },
  {
    // Slack incoming-webhook URLs: whoever holds one can post to the channel.
    type: 'secret',
    pattern: /\b(?:https?:\/\/)?hooks\.slack\.com\/services\/[A-Za-z0-9_/-]{16,}/g,
    needs: /hooks\.slack\.com/,
  },
  {
    // The password in a URL's userinfo: postgres://app:PASSWORD@db:5432/orders, redis://:PASSWORD@cache. Before
    // the e-mail rule, which would otherwise take `PASSWORD@host.tld` (and miss it when the host has no dot).
    type: 'secret',
    // Not a placeholder (postgres://USER:PASSWORD@host, ...:<POSTGRES_PASSWORD>@...).
    pattern: /:\/\/[^\s/:@]*:([^\s/@]+)@/g,
    needs: /:\/\//,
    group: 1,
    validate: (m) => !placeholder(m[1]!) && !/^[A-Z_]+$/.test(m[1]!),
  },
  { type: 'secret', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})/g },
  { type: 'secret', pattern: /\bxox[abprs]-[A-Za-z0-9-]{10,}/g, needs: /xox/ },
  // Hugging Face access tokens (hf_ and 34 letters) and SendGrid API keys (SG.<22>.<43>): until 2026-12-08 left in
  // the text unless a credential key named them.
  { type: 'secret', pattern: /\bhf_[A-Za-z0-9]{30,}(?![A-Za-z0-9_-])/g, needs: /hf_/ },
  { type: 'secret', pattern: /\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g, needs: /SG\./ },
  // GitLab personal access tokens are glpat- (a dash), npm tokens npm_.
  { type: 'secret', pattern: /\b(?:glpat-|npm_)[A-Za-z0-9_-]{20,}/g },
  {
    // This service's own API keys: `lrcp_` then a label and the random part (the generated development key is
    // `lrcp_dev_` + 43 base64url characters, libs/security DEVELOPMENT_KEY_PREFIX; docs/security.md asks for
    // `lrcp_live_...` keys). Case-sensitive, and the rest must hold a digit or a capital: `lrcp_dev_` alone, a
    // snake_case name such as `lrcp_dev_key_prefix`, `LRCP_API_KEY`, `urn:lrcp:` or `x-lrcp-` are not keys. The
    // digit or capital is checked on the match (`lrcpKeyShaped`), not by a lookahead: a lookahead rescanned the run
    // from each `lrcp_` in it (`lrcp_lrcp_lrcp_...`, quadratic: 200 KB in a chat message blocked the loop for 16 s).
    type: 'secret',
    pattern: new RegExp(LRCP_KEY_RUN),
    needs: /lrcp_/,
    validate: (m) => lrcpKeyShaped(m[0]),
  },
  {
    // key = value, key: "value" for anything named like a credential. The key is a whole run of name characters
    // (the lookbehind) checked for a credential word afterwards: matching the word inside the pattern let every
    // position of a long dotted or dashed run rescan it, quadratic (40 KB: 2 s). The separator stays on its line:
    // `variables:\n  GITLAB_TOKEN: ...` must not read as the key `variables` with the value `GITLAB_TOKEN`. A value
    // holds an `&` but not one that starts the next `name=` of a query string: the value of `?user=bob&password=...`
    // ran on over `&password=...`, so the password (or `&token=` after `?id=`) was never read as a key of its own and
    // was left in the text. A value holds parentheses (`S3cr3t(Prod)2024!`): until 2026-12-07 it stopped at the `(`,
    // and what followed it was left in the text (or, unquoted, the whole value was read as a function call).
    type: 'secret',
    pattern:
      /(?<![A-Za-z0-9_.-])([A-Za-z0-9_.-]+)["']?[ \t]*[:=][ \t]*["']?((?:[A-Za-z0-9_\-./+=~!@#$%^*()]|&(?![A-Za-z0-9_.-]+=)){6,})/g,
    needs: /[:=]/,
    pick: (m) => {
      let key = m[1]!;
      let raw = m[2]!;
      let start = m.index + m[0].length - raw.length;
      let quoted = /["']$/.test(m[0].slice(0, m[0].length - raw.length));
      // A value that is itself an assignment (`env: DB_PASSWORD=...`, `redis.conf: requirepass=...`,
      // `args=--password=...`) is read as one: until 2026-12-07 the outer key decided and the password was left in
      // the text. Three levels at most, so a run of `a=a=a=...` stays linear.
      for (let depth = 0; depth < 3; depth++) {
        const value = quoted ? raw : withoutClosingTail(raw);
        if ((value.length >= 8 || shortPassword(key, value)) && credentialAssignment(key, value))
          return !quoted && codeFetchingCredential(m.input, start, value) ? [] : [[start, start + value.length]];
        const inner = /^([A-Za-z0-9_.-]+)[:=]/.exec(raw);
        if (inner === null || CREDENTIAL_KEY.test(key)) return [];
        key = inner[1]!;
        raw = raw.slice(inner[0].length);
        start += inner[0].length;
        quoted = false;
      }
      return [];
    },
  },
  {
    type: 'secret',
    pattern: PROSE_PASSWORD,
    needs: /pass/i,
    group: 1,
    validate: (m) => prosePasswordShaped(m[1]!),
  },
  {
    // A key or token named in a sentence, without `:` or `=` ("my Datadog API key 0123...cdef", "the app key is
    // ...", "twilio auth token ..."): 20+ characters holding a letter and a digit, as keys are. Until 2026-12-08 a
    // key pasted this way (a Datadog API key, 32 hex characters, to this very service) was left in the text. A paging
    // token ("next page token ...") grants nothing.
    type: 'secret',
    pattern:
      /(?<![\w-])(?:api[ \t_-]?key|app(?:lication)?[ \t_-]?key|access[ \t_-]?(?:key|token)|auth(?:entication)?[ \t_-]?token|secret[ \t_-]?key|client[ \t_-]?secret|token)(?:[ \t]+(?:is|was))?[ \t]+["'\x60]?([A-Za-z0-9][A-Za-z0-9_-]{19,})(?![\w-])/gi,
    needs: /key|token|secret/i,
    group: 1,
    validate: (m) =>
      /[A-Za-z]/.test(m[1]!) &&
      /\d/.test(m[1]!) &&
      !placeholder(m[1]!) &&
      !precededBy(m, /\b(?:page|next|continuation|pagination|cursor)[ \t_-]*$/i),
  },
  {
    // A PIN given with its value ("my PIN is 4821", "pin: 90210", "PIN code = 1234"): a credential. The value comes
    // after "is", ":" or "=" (a pin of a board, "GPIO pin 17", "pin 4821" as a label, is not one); until 2026-12-07
    // it was left in the text.
    type: 'secret',
    pattern: /\bpin(?:[ \t]+(?:code|number))?(?:[ \t]*[:=]|[ \t]+(?:is|was))[ \t]*["']?(\d{4,8})(?!\d)/gi,
    needs: /pin/i,
    group: 1,
  },
  {
    // redis.conf and `CONFIG SET` write Redis's password after a space: `requirepass Kd8#Wm2qLx9v`, `masterauth ...`.
    type: 'secret',
    // The value ends before a closing quote or backtick and the punctuation of the sentence around it.
    pattern: /(?<![\w.-])(?:requirepass|masterauth)[ \t]+["'\x60]?([^\s"'\x60]*[^\s"'\x60.,;:)\]}])/gi,
    needs: /requirepass|masterauth/i,
    group: 1,
    validate: (m) => /[A-Za-z0-9]/.test(m[1]!) && !placeholder(m[1]!),
  },
  // --- contact and financial data ---
  {
    // The local part starts where a run of its characters starts (the lookbehind): without it every position of
    // a long run (a base64 blob) rescanned the run to its end looking for an @, quadratic: 80 KB took 10 s.
    // `%40` is an @ URL-encoded in a logged query string (?email=jane%40example.com).
    type: 'email',
    pattern:
      /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}/g,
    needs: /@|%40/,
    validate: (m) => {
      const at = m[0].search(/@|%40/);
      // SCP-style git remotes (git@github.com:org/repo.git) and retina assets (logo@2x.png) are not addresses.
      if (m[0].slice(0, at) === 'git' && m.input[m.index + m[0].length] === ':') return false;
      // The password and host of a URL (`mongodb+srv://admin:your_password_here@cluster0.example.net`): the URL rule
      // above judges the password; a placeholder it let pass was redacted here as an e-mail.
      if (/:\/\/[^\s/:@]*:$/.test(m.input.slice(Math.max(0, m.index - 64), m.index))) return false;
      return !/^(?:@|%40)\d+(?:\.\d+)?x\./i.test(m[0].slice(at));
    },
  },
  {
    // An e-mail address spelled out against harvesters (`OBFUSCATED_EMAIL`): `jane[at]example[dot]org`, "john dot
    // doe at gmail dot com".
    type: 'email',
    pattern: OBFUSCATED_EMAIL,
    needs: /\bdot\b|[[({<][ \t]*at[ \t]*[\])}>]/i,
    // A candidate turned down is read again from its next word: "mail me at olivia dot king at icloud dot com" first
    // matches from "me" (up to "king", no domain), and the address inside it would be passed over. Each start's match
    // is bounded, so this stays linear.
    validate: (m) => {
      if (obfuscatedEmail(m)) return true;
      OBFUSCATED_EMAIL.lastIndex = m.index + 1;
      return false;
    },
  },
  {
    type: 'iban',
    pattern: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b/g,
    validate: (m) => ibanValid(m[0].replace(/ /g, '')),
  },
  {
    // Typed in lower case (users do): compact only, the checksum decides.
    type: 'iban',
    pattern: /\b[a-z]{2}\d{2}[a-z0-9]{11,30}\b/g,
    validate: (m) => ibanValid(m[0].toUpperCase()),
  },
  {
    // Typed in lower case and in its printed groups of four (`gb82 west 1234 5698 7654 32`): until 2026-12-08 only
    // the compact lower-case form was read. The country's length and mod-97 decide.
    type: 'iban',
    pattern: /\b[a-z]{2}\d{2}(?: [a-z0-9]{4}){2,7}(?: [a-z0-9]{1,3})?\b/g,
    validate: (m) => ibanValid(m[0].replace(/ /g, '').toUpperCase()),
  },
  {
    type: 'credit_card',
    pattern: /(?<![\d.-])\d(?:[ -]?\d){12,18}(?![\d-])/g,
    validate: (m) => paymentCardValid(digitsOf(m[0])),
  },
  {
    // A card in its printed groups inside a longer run of digit groups: `order 12 4111 1111 1111 1111`, a CVV after it
    // (`4111 1111 1111 1111 123`), a phone just before it. The rule above takes the whole run, which fails Luhn: the
    // card was left in the text. Here a window of the run's groups is a card when it is grouped as cards are printed,
    // is set off from the rest of the run by spaces, and passes Luhn and the issuer prefix.
    type: 'credit_card',
    pattern: /(?<![\d.-])\d{1,6}(?:[ -]\d{1,6}){3,}(?![\d-])/g,
    needs: /\d{4}[ -]\d{4}/,
    pick: (m) => cardsInRun(m[0], m.index),
  },
  {
    // Dotted, only as four groups of four (a looser dotted form would read version strings and OIDs).
    type: 'credit_card',
    pattern: /(?<![\d.])\d{4}\.\d{4}\.\d{4}\.\d{4}(?![\d.]*\d)/g,
    validate: (m) => paymentCardValid(digitsOf(m[0])),
  },
  {
    // A bank account number where words name it (`ACCOUNT_LABEL`): 6 to 17 digits, as the UK (8), Germany (10), France
    // (11) and the US (up to 17) write them, also in groups.
    type: 'bank_account',
    pattern: new RegExp(
      String.raw`(?<![\p{L}\d])(?:${ACCOUNT_LABEL})(?:["']?[ \t]*[:=#]{1,2}|[ \t]+(?:is|was|lautet|est|es|é|è))?[ \t]*["']?(\d(?:[ -]?\d){5,16})(?![\d-])`,
      'giu',
    ),
    needs: /account|acc|konto|compte|cuenta|conta|conto/i,
    group: 2,
    validate: (m) => {
      if (/^0+$/.test(digitsOf(m[2]!)) || NOT_BANK_BEFORE.test(m.input.slice(Math.max(0, m.index - 24), m.index)))
        return false;
      // A bare "account" is a bank's only beside a bank's words (in the 80 characters around it, on its line).
      if (m[1] === undefined) return true;
      const lineStart = m.input.lastIndexOf('\n', m.index) + 1;
      const lineEnd = m.input.indexOf('\n', m.index + m[0].length);
      const from = Math.max(lineStart, m.index - 80);
      const to = Math.min(lineEnd === -1 ? m.input.length : lineEnd, m.index + m[0].length + 80);
      return BANK_WORD.test(m.input.slice(from, to));
    },
  },
  {
    // A US routing transit number where words name it ("routing 021000021", "ABA: 026009593", "RTN 122105155"):
    // the ABA checksum and the Federal Reserve's prefixes.
    type: 'bank_account',
    pattern:
      /(?<![A-Za-z0-9])(?:routing|aba|rtn|transit)(?:[ \t_-]*(?:transit[ \t_-]*)?(?:number|no\.?|num\.?))?(?:["']?[ \t]*[:=#]{1,2}|[ \t]+(?:is|was))?[ \t]*["']?(\d{9})(?!\d)/gi,
    needs: /routing|aba|rtn|transit/i,
    group: 1,
    validate: (m) => abaRoutingValid(m[1]!),
  },
  {
    // A UK sort code (12-34-56) or a German Bankleitzahl (BLZ 370 400 44) where words name it.
    type: 'bank_account',
    pattern:
      /(?<![A-Za-z0-9])(?:sort[ \t_-]?code|blz|bankleitzahl)(?:["']?[ \t]*[:=#]|[ \t]+(?:is|was|lautet))?[ \t]*["']?(\d{2}([ -]?)\d{2}\2\d{2}|\d{3} ?\d{3} ?\d{2})(?![\d-])/gi,
    needs: /sort|blz|bankleitzahl/i,
    group: 1,
  },
  {
    // A medical record or health insurance number where words name it (`MEDICAL_LABEL`): 5 to 15 letters and
    // digits, at least 4 of them digits ("MRN 00482913", "patient ID: 7731-2231", "Medicare number 1EG4-TE5-MK73");
    // an NHS number (10 digits, also 3-3-4) must pass its mod-11 check. "patient ID column", "MRN field" give none.
    type: 'medical_id',
    pattern: new RegExp(
      String.raw`(?<![\p{L}\d])(?:${MEDICAL_LABEL})(?:["']?[ \t]*[:=#]{1,2}|[ \t]+(?:is|was|lautet))?[ \t]*["']?(\d{3} \d{3} \d{4}|[A-Z0-9]{1,15}(?:-[A-Z0-9]{1,15}){0,3})(?![\w-])`,
      'giu',
    ),
    needs: /mrn|medical|patient|nhs|chi|medicare|medicaid|health|versicherten/i,
    group: 2,
    validate: (m) => {
      const value = m[2]!.replace(/[ -]/g, '');
      if (m[1] !== undefined) return nhsNumberValid(value);
      return value.length >= 5 && value.length <= 15 && (value.match(/\d/g)?.length ?? 0) >= 4;
    },
  },
  {
    // US SSN, dashed or spaced (a bare 9-digit number is too ambiguous).
    type: 'national_id',
    pattern: /(?<![\d-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\d-])/g,
    validate: (m) => ssnValid(m[1]!, m[3]!, m[4]!) && !precededBy(m, AFTER_COUNTRY_CODE) && !labelledAsCode(m),
  },
  {
    // Canadian SIN: 3-3-3 digits, Luhn.
    type: 'national_id',
    pattern: /(?<![\d-])[0-79]\d{2}([- ])\d{3}\1\d{3}(?![\d-])/g,
    // Nor a number labelled as a code (`Pedido nº 612 345 678`: one number in ten passes Luhn).
    validate: (m) =>
      luhnValid(digitsOf(m[0])) &&
      !precededBy(m, AFTER_COUNTRY_CODE) &&
      !labelledAsCode(m) &&
      !phoneWordBefore(m) &&
      !quantity(m),
  },
  {
    // Spain's and Portugal's 9-digit numbers written 3-3-3 where words name a phone ("Mi número es 612 345 678",
    // "telemóvel 912 345 678"): a phone, whether or not the digits pass a SIN's check. Mobiles start 6, 7 or 9,
    // landlines 8 or 9 (Spain) and 2 (Portugal).
    type: 'phone',
    pattern: /(?<![\d-])[26-9]\d{2}([ .-])\d{3}\1\d{3}(?![\d-])/g,
    validate: (m) => phoneWordBefore(m) && !precededBy(m, AFTER_COUNTRY_CODE) && !labelledAsCode(m),
  },
  {
    // A bare 9-digit SSN or SIN only where a key names it (ssn=384201956, "sin": "271836454"), also in a sentence
    // ("my social security number is 384201956", "SSN 384201956"; until 2026-12-07 only after `:` or `=`).
    type: 'national_id',
    pattern:
      /\b(?:ssn|sin|social[ _-]?(?:security|insurance)(?:[ _-]?(?:no|num|number))?)(?:["']?[ \t]*[:=][ \t]*["']?|[ \t]+(?:(?:is|was)[ \t]+)?|[ \t]*#[ \t]*)(\d{9})(?!\d)/gi,
    group: 1,
    validate: (m) => {
      const d = m[1]!;
      return ssnValid(d.slice(0, 3), d.slice(3, 5), d.slice(5)) || luhnValid(d);
    },
  },
  {
    // A passport or driving licence number where words name it ("passport number X12345678", "driver's license:
    // D1234567", "Reisepass-Nr. C01X00T47"): until 2026-12-07 none was read. 6 to 12 letters and digits with at least
    // 5 digits (so "passport number expired" or "licence is valid" give none).
    type: 'national_id',
    pattern:
      /\b(?:passport|driver'?s?[ \t]+licen[cs]e|driving[ \t]+licen[cs]e|reisepass|pasaporte|passeport)(?:[ \t-]*(?:no\.?|nr\.?|num(?:ber)?\.?|#|id))?(?:[ \t]*[:=#]|[ \t]+(?:is|was))?[ \t]*["']?([A-Z0-9][A-Z0-9-]{4,14}[A-Z0-9])(?![\w-])/gi,
    needs: /passport|licen[cs]e|reisepass|pasaporte|passeport/i,
    group: 1,
    validate: (m) => {
      const value = m[1]!.replace(/-/g, '');
      return value.length >= 6 && value.length <= 12 && (value.match(/\d/g)?.length ?? 0) >= 5;
    },
  },
  {
    // A card's security code where words name it ("cvv 123", "CVC: 4567", "the CVV is 123"): with the card number,
    // what lets someone use the card. Until 2026-12-07 it was left in the text.
    type: 'credit_card',
    pattern:
      /\b(?:cvv2?|cvc2?|csc|card[ \t]+security[ \t]+code)(?:[ \t]*[:=#]|[ \t]+(?:is|was))?[ \t]*(\d{3,4})(?!\d)/gi,
    needs: /cvv|cvc|csc|security/i,
    group: 1,
  },
  {
    // Spanish DNI / NIE: mod-23 check letter.
    type: 'national_id',
    pattern: /\b[XYZ\d]\d{7}-?[A-Z]\b/g,
    validate: (m) => spanishIdValid(m[0].replace('-', '')),
  },
  {
    // Brazilian CPF in its written form 123.456.789-09 (two mod-11 check digits; 11 bare digits read as ids).
    type: 'national_id',
    pattern: /(?<![\d.-])\d{3}\.\d{3}\.\d{3}-\d{2}(?![\d.-]*\d)/g,
    validate: (m) => cpfValid(digitsOf(m[0])),
  },
  {
    // Italian codice fiscale: surname, name, birth date and place, check letter (mod 26).
    type: 'national_id',
    pattern: /\b[A-Z]{6}\d{2}[A-EHLMPR-T]\d{2}[A-Z]\d{3}[A-Z]\b/gi,
    validate: (m) => codiceFiscaleValid(m[0]),
  },
  {
    // UK National Insurance number: prefix rules from HMRC (no checksum exists).
    type: 'national_id',
    pattern: /\b(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b/gi,
  },
  {
    // IPv6, before IPv4 so an IPv4-mapped address (::ffff:192.0.2.128, Node's remoteAddress) is one finding.
    type: 'ip_address',
    pattern:
      /(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4})(?:%[A-Za-z0-9]+)?(?![0-9A-Fa-f:])/g,
    needs: /:.*:/,
    validate: (m) => {
      const address = m[0].replace(/%.*$/, '');
      const mapped = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(address);
      // An address holds a digit and writes each group in one case: `Add::Feed`, `Face::Bad` and `dead::beef` are
      // Perl, Ruby or C++ names made of hex letters, not addresses.
      if (!/\d/.test(address) || /[A-F][a-f]|[a-f][A-F]/.test(address)) return false;
      return address.length >= 6 && isIP(address) === 6 && !(mapped && NON_PERSONAL_IPV4.test(mapped[1]!));
    },
  },
  {
    // Not 0.0.0.0, loopback or reserved addresses, nor a version or section number (v1.2.3.4, version 7.52.0.1).
    type: 'ip_address',
    pattern: /(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\d.]*\d)/g,
    validate: (m) =>
      !NON_PERSONAL_IPV4.test(m[0]) && !PUBLIC_RESOLVERS.has(m[0]) && !precededBy(m, VERSION_BEFORE) && !cidrNetwork(m),
  },
  {
    // A date of birth: a full date right after what names it ("Date of birth: 14/03/1987", `"dob": "1987-03-14"`,
    // "geboren am 3. Mai 1990", "née le 2 juin 1975"). Before the phones, which would read 14.03.1987 10:00 as one.
    type: 'date_of_birth',
    pattern: new RegExp(
      // The blanks after the separator only when there is one: `\s*(?:sep)?\s*` cut a run of blanks after the key in
      // two at every place, each cut tried against the date (quadratic: 38 KB of spaces after "born on" took 3.7 s).
      String.raw`(?<![\p{L}\d])(?:${BIRTH_KEY})["']?\s*(?:(?:[:=—–-]|\bis\b)\s*)?["']?(${FULL_DATE})`,
      'giu',
    ),
    needs: /birth|born|d\.?o\.?b|geb|naissance|n[ée]e?\s+le|nacim|naci|nascim|nascid|nasceu|nascita|nat[oa]\s/i,
    group: 1,
    validate: (m, scan) => monthNamed(m) && livingBirthYear(m[1]!, scan.year),
  },
  {
    // A street address, number first (221B Baker Street; 1600 Pennsylvania Avenue NW, Washington, DC 20500), then
    // its town and postcode when they follow. The street type is what makes it an address: "5 Main" is not one.
    type: 'street_address',
    pattern: new RegExp(
      String.raw`(?<![\p{L}\d.,/-])(?:(?:Flat|Apt\.?|Apartment|Unit|Suite)\s+[\p{L}\d]{1,4},?\s+)?\d{1,5}[A-Za-z]?,?\s+(?:${NAME_WORD}\s+){1,4}(?:${EN_STREET})\b\.?(?:\s+(?:NW|NE|SW|SE|N|S|E|W)\b)?${PLACE_AFTER}`,
      'gu',
    ),
    needs: new RegExp(String.raw`\b(?:${EN_STREET})\b`),
    validate: (m) => !precededBy(m, COUNTED_BEFORE),
  },
  {
    // French: "12 rue de la Paix, 75002 Paris", "5 bis avenue Victor Hugo".
    type: 'street_address',
    pattern: new RegExp(
      String.raw`(?<![\p{L}\d.,/-])\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:${anyCase('rue|avenue|av\\.|boulevard|bd|place|chemin|allée|allee|impasse|quai|route|cours')})\s+(?:(?:de|du|des|la|le|l'|d'|l’|d’)\s*){0,3}${NAME_WORD}(?:[ -]${NAME_WORD}){0,3}${PLACE_AFTER}`,
      'gu',
    ),
    needs: /rue|avenue|av\.|boulevard|bd|place|chemin|all[ée]e|impasse|quai|route|cours/i,
  },
  {
    // Spanish, Portuguese, Italian: the number after the name ("Calle Mayor 5, 28013 Madrid", "Rua Augusta, 274").
    type: 'street_address',
    pattern: new RegExp(
      String.raw`(?<![\p{L}\d])(?:${anyCase('calle|c/|avenida|avda\\.|plaza|paseo|rua|travessa|largo|viale|piazza|corso')}|Via)\s+(?:(?:de|del|de la|da|do|dos|das|della|dei)\s+){0,2}${NAME_WORD}(?:\s+${NAME_WORD}){0,3},?\s+(?:n\.?[º°o]?\s*)?\d{1,4}[A-Za-z]?(?![\d.,]\d)${PLACE_AFTER}`,
      'gu',
    ),
    needs: /calle|c\/|avenida|avda|plaza|paseo|rua|travessa|largo|via|viale|piazza|corso/i,
  },
  {
    // German: "Musterstraße 12a, 10115 Berlin", "Lindenweg 3" (the street type ends the name's last word). The word
    // before it starts where a word starts (its lookbehind): tried from each capital inside a long run of name
    // characters (`A.A.A.` or `A-A-A-`, with a street word anywhere in the text), it rescanned the run to its end from
    // each of them, quadratic: 16 KB took 0.4 s, 200 KB in a chat message about a minute.
    type: 'street_address',
    pattern: new RegExp(
      String.raw`(?<![\p{L}\d])(?:(?<![\p{L}\d'’.-])${NAME_WORD}\s+)?\p{Lu}\p{L}+(?:stra(?:ß|ss)e|str\.|weg|allee|gasse|platz|damm)\s+\d{1,4}[a-z]?(?![\d.,]\d)${PLACE_AFTER}`,
      'gu',
    ),
    needs: /stra(?:ß|ss)e|str\.|weg|allee|gasse|platz|damm/,
  },
  {
    // International (+CC ...) numbers, 8-15 digits. The match, else, longest first, each of its heads that ends before
    // a space: the match runs on into the digit groups that follow a number (`+44 7700 900123 4111 1111 1111 1111`,
    // a card after the phone), and was dropped whole, phone included, for having too many digits. A head that
    // overlaps what an earlier rule found (the card) gives way to the next shorter one.
    type: 'phone',
    pattern: /(?<![\w+])(?:\+|%2B)\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,6}(?!\d)/gi,
    needs: /\+|%2B/i,
    pick: (m) => {
      const heads: Array<readonly [number, number]> = [];
      for (let end = m[0].length; end > 0; end = m[0].lastIndexOf(' ', end - 1)) {
        const n = digitsOf(m[0].slice(0, end).replace(/^%2B/i, '')).length;
        if (n >= 8 && n <= 15) heads.push([m.index, m.index + end]);
      }
      return heads;
    },
  },
  {
    // North American numbers: (NXX) NXX-XXXX, NXX-NXX-XXXX, NXX.NXX.XXXX. Not three groups of a longer run of
    // numbers set apart by spaces (`... 233 377 610 987 1597 2584 ...`, a series or a table row): a phone written
    // with spaces stands alone, or after its `1`.
    type: 'phone',
    pattern: /(?<![\d-])(?:1[-. ])?(?:\(([2-9]\d{2})\) ?|([2-9]\d{2})[-. ])[2-9]\d{2}[-. ]\d{4}(?![\d-])/g,
    validate: (m) => {
      if (labelledAsCode(m)) return false;
      if (!/ \d{4}$/.test(m[0])) return true;
      const after = m.index + m[0].length;
      return !precededBy(m, /\d $/) && !(m.input[after] === ' ' && /\d/.test(m.input[after + 1] ?? ''));
    },
  },
  {
    // The North American shape with an area or exchange code the plan does not assign ((555) 123-4567,
    // 123-456-7890): what fictional, test and example data writes, and what a reader takes for a phone. Only in
    // the parenthesised or the dashed form, never with spaces or dots (`version 100.200.3000`); not labelled as a code (`order
    // 100-200-3000`). Until 2026-12-07 these were left in the text.
    type: 'phone',
    pattern: /(?<![\w.-])(?:1-)?(?:\(\d{3}\) ?\d{3}-\d{4}|\d{3}-\d{3}-\d{4})(?![\w-]|\.\d)/g,
    validate: (m) => !labelledAsCode(m),
  },
  {
    // Brazilian numbers: (11) 91234-5678, (21) 3456-7890.
    type: 'phone',
    pattern: /(?<![\d-])\(\d{2}\) ?9?\d{4}-\d{4}(?![\d-])/g,
    validate: (m) => !labelledAsCode(m),
  },
  {
    // European national formats with a trunk 0, three to five groups: 0X XX XX XX XX, 020 7946 0958,
    // (020) 7946 0958, 0121 496 0000, 07700 900 123. Not a date and the time after it (05.11.2024 14:00,
    // 01-15-2024 10:30): two 2-digit groups and a 4-digit year are a date.
    type: 'phone',
    pattern: /(?<![\d-])(?:\(0[1-9]\d{0,3}\)|0[1-9]\d{0,3})(?:[ .-]\d{2,4}){2,4}(?![\d-])/g,
    validate: (m) => {
      // Not the tail of a longer run of numbers set apart by spaces (`Quote 2024 0612 0001 4412`, a table row).
      if ((/ \d+$/.test(m[0]) && precededBy(m, /\d $/)) || labelledAsCode(m)) return false;
      // Nor an amount with a leading 0 (`046 454 286 €`, `012 345 678 EUR`): until 2026-12-08 a phone.
      if (quantity(m)) return false;
      const n = digitsOf(m[0]).length;
      return (
        n >= 9 && n <= 12 && !/^\d{4}-\d{2}-\d{2}$/.test(m[0]) && !/^\d{2}([ .-])\d{2}\1(?:19|20)\d{2}(?!\d)/.test(m[0])
      );
    },
  },
  {
    // A trunk-0 area or mobile prefix and one subscriber number (which never starts with 0), 11 digits in all as
    // UK numbers are: 07700 900123, 01632 960123, (01632) 960123, 0121 4960000, 016977 12345; or a 3-digit city
    // prefix and 7 digits (030-1234567). Other splits are more often two codes side by side (PIN 0420 123456,
    // zip codes 02134 10001) than a phone.
    type: 'phone',
    // German numbers also as 089/12345678, and mobiles (015x, 016x, 017x) with 7 or 8 digits after the prefix.
    pattern: /(?<![\w.,+/-])(?:\((0[1-9]\d{1,4})\)|(0[1-9]\d{1,4}))[ /-]([1-9]\d{4,7})(?![\w/-]|[.,]\d)/g,
    validate: (m) => {
      const prefix = m[1] ?? m[2]!;
      const subscriber = m[3]!.length;
      const n = prefix.length + subscriber;
      if (labelledAsCode(m)) return false;
      return n === 11 || (prefix.length === 3 && subscriber === 7) || (/^01[5-7]\d$/.test(prefix) && n === 12);
    },
  },
  {
    // A trunk-0 number split as Germans write it where words name a phone ("Tel.: 0221 / 123456", "Rufen Sie 040 - 12
    // 34 56 78 an", "Telefon 0221 123456"): an area code of 2 to 5 digits and a subscriber number, 9 to 12 digits in
    // all. The rules above take only the splits that are seldom two codes side by side; here the words say which it is.
    // Until 2026-12-08 these were left in the text.
    type: 'phone',
    pattern:
      /(?<![\w.,+/-])(?:\(0[1-9]\d{1,4}\)|0[1-9]\d{1,4})(?:[ \t]{0,2}[/-][ \t]{0,2}|[ \t])\d{2,8}(?:[ -]\d{2,4}){0,3}(?![\w/-]|[.,]\d)/g,
    needs: /0[1-9]/,
    validate: (m) => {
      const n = digitsOf(m[0]).length;
      return n >= 9 && n <= 12 && phoneWordBefore(m) && !labelledAsCode(m) && !quantity(m);
    },
  },
  {
    // UK mobiles written without separators: 07700900123 (07 and 9 more digits). Other numbers without any
    // separator are too ambiguous (order numbers, ids).
    type: 'phone',
    pattern: /(?<![\w.,+-])07[1-9]\d{8}(?![\w-]|[.,]\d)/g,
    needs: /07/,
    validate: (m) => !labelledAsCode(m),
  }, // --- person names (./person-name): last, so any other finding inside a name's words wins ---
  ...PERSON_NAME_RULES.map((rule): Rule => ({ type: 'person_name', ...rule })),
];

/** Characters that hide personal data from the rules without changing what a reader sees or types. */
const FOLDED = /[\u00a0\u00ad\u061c\u180e\u2000-\u200f\u202a-\u202f\u205f-\u2064\u3000\ufeff\uff01-\uff5e]/g;
/** Of those, the ones left out: zero-width characters, the soft hyphen, bidi controls, word joiners, the BOM. */
const INVISIBLE = /^[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]$/;

interface FoldedText {
  text: string;
  /** For each code unit of `text`, where its character starts in the original. */
  from: Int32Array;
  /** For each code unit of `text`, where its character ends in the original. */
  to: Int32Array;
}

/**
 * The text as the rules should read it (see `PiiDetector.detect`), with the way back to the original offsets; null
 * when nothing needs folding (most text: one regular-expression test). Linear.
 */
function foldForDetection(text: string): FoldedText | null {
  FOLDED.lastIndex = 0;
  if (!FOLDED.test(text)) return null;
  const from = new Int32Array(text.length);
  const to = new Int32Array(text.length);
  const parts: string[] = [];
  let j = 0;
  let at = 0;
  const keep = (end: number): void => {
    parts.push(text.slice(at, end));
    for (let i = at; i < end; i += 1, j += 1) {
      from[j] = i;
      to[j] = i + 1;
    }
  };
  FOLDED.lastIndex = 0;
  for (let m = FOLDED.exec(text); m !== null; m = FOLDED.exec(text)) {
    keep(m.index);
    at = m.index + 1;
    const c = m[0];
    if (INVISIBLE.test(c)) continue;
    const code = c.charCodeAt(0);
    parts.push(code >= 0xff01 ? String.fromCharCode(code - 0xfee0) : ' ');
    from[j] = m.index;
    to[j] = m.index + 1;
    j += 1;
  }
  keep(text.length);
  return { text: parts.join(''), from: from.subarray(0, j), to: to.subarray(0, j) };
}

/**
 * Finds personal data and secrets in text: e-mails, phone numbers, payment cards (Luhn and issuer prefix),
 * IBANs (country length and mod-97), national ids (US SSN issuance rules, Canadian SIN Luhn, Spanish
 * DNI/NIE mod-23 letter, UK NINO prefix rules), IPv4/IPv6 addresses and secrets (cloud keys, this service's
 * own `lrcp_` API keys, bearer tokens, JWTs, private key blocks, credential assignments), dates of birth, street
 * addresses and person names where the text says a name follows (./person-name). Returns offsets only.
 */
export class PiiDetector {
  /** `now`: the wall clock in epoch ms, for the current year (a birth date after it is no one's). */
  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Findings in `text`, read as typed rather than as encoded: invisible characters (zero-width, soft hyphen, bidi
   * controls, BOM) are left out, non-breaking and other typographic spaces read as spaces, and full-width ASCII
   * forms (`４１１１`, `＠`) as ASCII. Offsets are the original text's, a finding covering the invisible characters
   * inside it.
   */
  detect(text: string): PiiFinding[] {
    if (!text) return [];
    const folded = foldForDetection(text);
    if (folded === null) return this.detectIn(text);
    return this.detectIn(folded.text).map((f) => ({
      type: f.type,
      start: folded.from[f.start]!,
      end: folded.to[f.end - 1]!,
    }));
  }

  private detectIn(text: string): PiiFinding[] {
    const candidates: Array<PiiFinding & { rank: number }> = [];
    const scan: Scan = { year: new Date(this.now()).getUTCFullYear() };
    RULES.forEach((rule, rank) => {
      if (rule.needs && !rule.needs.test(text)) return;
      rule.pattern.lastIndex = 0;
      for (let m = rule.pattern.exec(text); m !== null; m = rule.pattern.exec(text)) {
        if (m[0].length === 0) {
          rule.pattern.lastIndex += 1;
          continue;
        }
        if (rule.validate && !rule.validate(m, scan)) continue;
        if (rule.pick) {
          for (const [start, end] of rule.pick(m)) candidates.push({ type: rule.type, start, end, rank });
          continue;
        }
        let start = m.index;
        let end = m.index + m[0].length;
        if (rule.group !== undefined && m[rule.group] !== undefined) {
          const value = m[rule.group]!;
          start = m.index + m[0].lastIndexOf(value);
          end = start + value.length;
        }
        candidates.push({ type: rule.type, start, end, rank });
      }
    });
    if (candidates.length === 0) return [];
    candidates.sort((a, b) => a.rank - b.rank || a.start - b.start);
    // The higher-ranked finding wins where two overlap. Which characters are taken is kept in a byte per
    // character: checking each candidate against every accepted finding was quadratic (17,000 e-mail addresses
    // in a 1 MB prompt: 0.3 s of blocked event loop).
    const taken = new Uint8Array(text.length);
    const accepted: PiiFinding[] = [];
    for (const c of candidates) {
      if (taken.subarray(c.start, c.end).includes(1)) continue;
      taken.fill(1, c.start, c.end);
      accepted.push({ type: c.type, start: c.start, end: c.end });
    }
    return accepted.sort((a, b) => a.start - b.start);
  }

  /** The distinct types found, in a stable order. */
  types(text: string): PiiType[] {
    const found = new Set(this.detect(text).map((f) => f.type));
    return PII_TYPES.filter((t) => found.has(t));
  }

  /** The text with each finding replaced by `[REDACTED:TYPE]`. */
  redact(text: string): string {
    const findings = this.detect(text);
    if (findings.length === 0) return text;
    let out = '';
    let at = 0;
    for (const f of findings) {
      out += `${text.slice(at, f.start)}[REDACTED:${f.type.toUpperCase()}]`;
      at = f.end;
    }
    return out + text.slice(at);
  }
}
