import { contentWords, cosine, STOP_WORDS, tokenize } from '../embeddings/tokenize';
import type { OfflineEmbedder, TokenVector } from '../embeddings/offline-embedder';
import type { QualityInput } from './quality.types';

/** Documents longer than this are scored on their first part (bounded request-path cost). */
const MAX_DOCUMENT_CHARS = 20_000;
/**
 * The question as far as it is read: its first QUESTION_HEAD_CHARS and last QUESTION_TAIL_CHARS characters (a chat's
 * last message can be a whole pasted file, with the question usually at its end). /qa and /reason take at most 5,000,
 * read whole. Unbounded, a 1 MB chat message took the scorer 0.8 s of blocked event loop.
 */
const QUESTION_HEAD_CHARS = 2_000;
const QUESTION_TAIL_CHARS = 4_000;
/** The answer as far as it is read (its first characters): beyond the longest answers the scorer was made for. */
const MAX_ANSWER_CHARS = 12_000;
/**
 * A follow-up's previous exchange as far as it is read: its question and reply up to PREVIOUS_TURN_CHARS each (what a
 * short follow-up refers to is said early), the reply up to PREVIOUS_REPLY_CHARS to tell whether the answer repeats it.
 */
const PREVIOUS_TURN_CHARS = 1_000;
const PREVIOUS_REPLY_CHARS = 4_000;

function boundedQuestion(question: string): string {
  if (question.length <= QUESTION_HEAD_CHARS + QUESTION_TAIL_CHARS) return question;
  return `${question.slice(0, QUESTION_HEAD_CHARS)}\n${question.slice(-QUESTION_TAIL_CHARS)}`;
}
const MAX_DOCUMENT_SENTENCES = 200;
const MAX_ANSWER_SENTENCES = 40;
const MAX_CANDIDATES = 40;

const REFUSAL =
  /\b(?:i(?:'m| am)? (?:sorry|afraid)\b[^.]{0,40}\b(?:can(?:no|')t|unable|not able)|i (?:can(?:no|')t|cannot|won't|am unable to|'m unable to|am not able to) (?:help|assist|answer|provide|comply|do that|share)|i (?:do not|don't) (?:know|have (?:enough )?(?:information|data|access))|as an ai(?: language model)?|(?:not|isn't) (?:mentioned|provided|specified|stated|covered|included) in the (?:provided )?(?:document|context|text|passage)|(?:document|context|text|passage) does not (?:contain|mention|say|provide|include)|unable to (?:answer|provide|help|assist)|cannot (?:help|assist) with|i'm not sure)/i;
const HEDGES =
  /\b(?:might|maybe|perhaps|possibly|it depends|depends on|not sure|unclear|generally speaking|hard to (?:say|tell)|could be|it varies|varies from|no single answer|not really a single|many (?:opinions|possible answers|factors|things to consider)|(?:every|each) (?:situation|case|person) is different|everybody is different)\b/gi;
const NEGATION =
  /\b(?:not|no|never|none|without|cannot|can't|isn't|aren't|wasn't|weren't|doesn't|don't|didn't|won't|neither|nor)\b/i;
/** A number standing alone (not the digit of a word such as CO2, H2O or mp3). */
const NUMBER = /(?<![a-z\d])\d[\d,]*(?:\.\d+)?/gi;
/** A list item's marker at the start of a line ("1. ", "2) ", "- ", "* ", "• "): not content, and no number. */
const LIST_MARKER = /(^|\n)[ \t]*(?:\d{1,2}[.)]|[-*•])[ \t]+/g;
/**
 * Words an answer uses to frame what it takes from the document ("According to the provided document, ...").
 * They are not claims, so they count neither as unsupported (novelty) nor as support.
 */
const FRAMING_WORDS: ReadonlySet<string> = new Set(
  'according provided document documents context passage text source based states stated says mentions mentioned'.split(
    ' ',
  ),
);

/**
 * A social turn, whole: a greeting, thanks or goodbye (English and the main European languages), with at most a
 * few words more ("Thanks, that fixed it."). What answers it is a social reply, not content sharing its words.
 */
const SOCIAL_TURN =
  /^[^\p{L}\p{N}]*(?:(?:hi|hello|hey|hiya|good (?:morning|afternoon|evening|night)|thanks?|thank you|thx|ty|cheers|bye|goodbye|see you|have a (?:nice|good|great) (?:day|evening|weekend)|hola|bonjour|salut|hallo|guten (?:morgen|tag|abend)|ciao|buongiorno|ol[aá]|gracias|merci|danke|grazie|obrigad[oa]|adi[oó]s|au revoir|tsch[uü]ss)|(?:great|perfect|awesome|ok(?:ay)?|nice|cool)[^\p{L}\p{N}]+(?:thanks?|thank you|thx))(?![\p{L}\p{N}])(?:[^?]{0,60}|[^\p{L}\p{N}]+(?:how are you(?: doing)?|how's it going|what's up|¿?c[oó]mo est[aá]s|comment [çc]a va|wie geht'?s(?: dir)?)[^\p{L}\p{N}]*)$/iu;
/** The relevance of a social reply to a social turn: above LOW_RELEVANCE (rules-quality.ts). */
const SOCIAL_REPLY_RELEVANCE = 0.7;
/**
 * A social reply: short (at most 240 characters), with a greeting back, "you're welcome", "glad to help", "take
 * care"... in its first 80 characters. A long answer that merely uses one of those words is not one (the simulated
 * provider's "Regarding hey: First, clarify what hey means..." to "Hey, how are you?").
 */
const SOCIAL_REPLY =
  /^(?![\s\S]{241})[\s\S]{0,80}?(?<![\p{L}\p{N}])(?:hi|hello|hey|welcome|pleasure|any ?time|glad|happy to help|no problem|good (?:morning|afternoon|evening|night|luck)|bye|goodbye|see you|take care|you too|cheers|help(?:ed)?|hola|bonjour|salut|hallo|ciao|de (?:nada|rien)|je vous en prie|bitte|prego|gern(?:e|geschehen)?|por nada)(?![\p{L}\p{N}])/iu;
/** The relevance of a number given for an arithmetic question asked whole (`arithmeticValue`), right or wrong. */
const ARITHMETIC_RESULT_RELEVANCE = 0.9;
/** An arithmetic question ("What's 15% of 80?", "17 times 23", "square root of 144"): it wants a number. */
const ARITHMETIC =
  /\d\s*(?:%|percent|times|plus|minus|divided by|multiplied by|[x×*+/^])\s*(?:of\s+)?\d|\d\s+[-−]\s+\d|\b(?:square root|cube root|solve for|factorial of|sum of|product of)\b/i;

/** What kind of answer a question asks for, and how to recognise one (classic QA answer-type matching). */
const ANSWER_TYPES: ReadonlyArray<[RegExp, RegExp]> = [
  [SOCIAL_TURN, SOCIAL_REPLY],
  [ARITHMETIC, /\d/],
  [
    /(?:^|[.?!]\s+)(?:when\b|(?:in )?what year\b|since when\b)/i,
    /\b(?:1\d{3}|20\d{2}|\d{1,2}(?:st|nd|rd|th)|january|february|march|april|may|june|july|august|september|october|november|december|bc|ad|century|ago|today|yesterday|tomorrow|monday|tuesday|wednesday|thursday|friday|saturday|sunday|\d+\s*(?:am|pm))\b/i,
  ],
  [
    /\bhow (?:many|much|long|tall|high|far|old|big|large|often|fast|deep|heavy|efficient)\b|\bwhat (?:percentage|percent|number|rate|temperature)\b/i,
    /\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|hundred|thousand|million|billion|half|none|single|zero)\b/i,
  ],
  [/(?:^|[.?!]\s+)who\b/i, /(?:^|[^.!?]\s)[A-Z][a-z]+|\b(?:he|she|they|team|company|foundation)\b/],
  [
    /(?:^|[.?!]\s+)where\b|\bwhich (?:country|city|ocean|continent|region|state)\b/i,
    /(?:^|[^.!?]\s)[A-Z][a-z]+|\b(?:in|inside|at|near|on|into)\s/,
  ],
  [/(?:^|[.?!]\s+)why\b/i, /\b(?:because|since|so|due to|as a result|therefore|thus|reason|which|keeps?|makes?)\b/i],
  [
    // Not a request worded as a question ("Can you give an example?", "Could you write..."): it wants the thing.
    /(?:^|[.?!]\s+)(?!(?:can|could|would|will) you (?:please )?(?:give|tell|show|explain|write|help|make|list|provide|suggest|recommend|describe|summari[sz]e|translate|rewrite|check|fix|create|generate|draft)\b)(?:is|are|do|does|did|can|could|should|will|would|has|have)\b[^?]*\?/i,
    /\b(?:yes|no|not|never|cannot|can't|probably|should|shouldn't|both|neither|same|cheaper|better|worse)\b/i,
  ],
];

/** A second question word after "and" ("Where and when...", "Who built it, and when?"): a two-part question. */
const SECOND_ASK: ReadonlyArray<[RegExp, RegExp]> = [
  [/\band (?:in )?(?:when|what year)\b/i, ANSWER_TYPES[2]![1]],
  [/\band how (?:many|much|long|tall|high|far|old)\b/i, ANSWER_TYPES[3]![1]],
  [/\band (?:by )?whom?\b/i, ANSWER_TYPES[4]![1]],
  [/\band where\b/i, ANSWER_TYPES[5]![1]],
  [/\band why\b/i, ANSWER_TYPES[6]![1]],
];

/**
 * 1: the answer has the kind of content the question asks for; 0: it lacks it; 0.5: no expectation. A
 * two-part question ("Where and when was it signed?") asks for both: the share of the parts answered.
 */
function answerTypeMatch(question: string, answer: string): number {
  let asked = 0;
  let found = 0;
  for (const [asks, looksLike] of ANSWER_TYPES)
    if (asks.test(question)) {
      asked += 1;
      if (looksLike.test(answer)) found += 1;
      break;
    }
  for (const [asks, looksLike] of SECOND_ASK)
    if (asks.test(question)) {
      asked += 1;
      if (looksLike.test(answer)) found += 1;
    }
  return asked === 0 ? 0.5 : found / asked;
}

/** The signals every quality scorer works from. All in [0,1] unless said. */
export interface QualitySignals {
  /** Embedding cosine of question and answer, clipped to [0,1]. */
  semantic: number;
  /** Soft word alignment: weighted mean over the question's content words of their best cosine to an answer word. */
  alignment: number;
  /** Share of the question's content words (prefix-matched) found in the answer. */
  lexical: number;
  /** The answer has the kind of content the question asks for (a number for "how many"...): 1, 0 or 0.5. */
  answerType: number;
  /** Combined relevance. */
  relevance: number;
  hasDocument: boolean;
  /** Mean support of the answer's sentences by the document; null without a document. */
  groundedness: number | null;
  /** Share of answer sentences not supported by the document (0 without a document). */
  unsupported: number;
  /**
   * Share (weighted towards rare words) of the answer's content words found in neither the document nor the
   * question: names, places and terms the answer brings in unsupported. 0 without a document.
   */
  novelty: number;
  /**
   * How well the document passage the answer draws on matches the question, relative to the passage that
   * matches the question best: 1 when the answer is taken from the part of the document the question is about,
   * lower when it restates another part (grounded but off-question). 1 without a document.
   */
  anchoring: number;
  /**
   * Relevance through the document: how well the document passage that supports the answer matches the
   * question (a short "Canberra." is relevant because the sentence it comes from is about the question).
   * Equal to `relevance` without a document.
   */
  passageRelevance: number;
  /** The answer states a number that neither the document nor the question contains. */
  numberMismatch: boolean;
  /** The answer writes out a calculation with a wrong result ("17 × 23 = 401"), with or without a document. */
  wrongCalculation: boolean;
  /**
   * The best-matching document sentence and the answer sentence differ in negation, on the same word: the word the
   * negation bears on ("does not **work** with...") is in the other sentence too ("it works with...").
   */
  negationMismatch: boolean;
  /**
   * The answer states a number with the unit its passage gives another number ("30 seconds" where the document says
   * "10 seconds"), a value the document never states with that unit and the passage's numbers do not give in one step.
   * A checked contradiction: it caps the score (`quality-scorer.ts`).
   */
  unitConflict: boolean;
  /**
   * The answer says the document does not give what was asked ("The leaflet does not say whether...") and the document
   * indeed lacks it: a word the question asks about appears nowhere in it. A right answer, not a refusal
   * (`refusal` is false); it sets the score (`quality-scorer.ts`). When the document has it, `refusal` is true.
   */
  notInDocument: boolean;
  refusal: boolean;
  empty: boolean;
  truncated: boolean;
  blocked: boolean;
  /** Hedging phrases per sentence, capped at 1. */
  hedging: number;
  /**
   * Evidence: the document sentence(s) that best match the question. Share (weighted towards rare words) of
   * the answer's new words (not in the question) found in the evidence: low when the answer takes its words
   * from another part of the document or from nowhere. 1 without a document (nothing to check).
   */
  evidenceSupport: number;
  /** The answer names someone or something (capitalised) the evidence does not, while the evidence names another. */
  nameConflict: boolean;
  /** The answer states a number the evidence does not, while the evidence states another (same slot). */
  numberConflict: boolean;
  /** The answer uses a word whose opposite the evidence uses (and not the word itself): "north" for "south". */
  antonymConflict: boolean;
  /** Share of the answer's word pairs shared with the evidence that keep the evidence's order (role swaps). */
  orderAgreement: number;
  /**
   * For a question asking for several items: share of the evidence's items the answer names (with a document),
   * or items given over items asked ("Name three..."). 1 for other questions.
   */
  listCoverage: number;
  /**
   * The answer drifts off topic: of at least 4 sentences, the ones after the first mostly leave the question and the
   * opening (`driftsOffTopic`). Not a model input: it caps the score (`quality-scorer.ts`).
   */
  drift: boolean;
  /** log(1 + words) / log(1 + 200), capped at 1. */
  length: number;
  /** Share of the answer's content words that also appear in the question (echoing). */
  echo: number;
}

/** A text has a token (see `tokenize`) when its lower-cased form has one of these. */
const WORD_CHAR = /[\p{L}\p{N}]/u;

/** Sentences (and list items, one per line, without their markers). */
function sentences(text: string, max: number): string[] {
  const parts = text
    .replace(LIST_MARKER, '$1')
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.trim())
    .filter((s) => WORD_CHAR.test(s.toLowerCase()));
  return parts.slice(0, max);
}

const stem = (w: string): string => (w.length > 4 ? w.slice(0, Math.max(4, w.length - 3)) : w);

function coverage(words: string[], pool: ReadonlySet<string>): number {
  if (words.length === 0) return 0;
  let hit = 0;
  for (const w of words) if (pool.has(stem(w))) hit += 1;
  return hit / words.length;
}

/** For each content token of `from`, the best cosine to a content token of `to`; weighted mean. */
function softAlignment(from: readonly TokenVector[], to: readonly TokenVector[]): number {
  // Each distinct word once on either side (a word's vector is the same wherever it stands): the same result, at
  // a cost of distinct words × distinct words rather than words × words.
  const targets = [...new Map(to.filter((t) => !STOP_WORDS.has(t.token)).map((t) => [t.token, t])).values()];
  const sources = new Map<string, { vector: TokenVector['vector']; weight: number }>();
  for (const source of from) {
    if (STOP_WORDS.has(source.token)) continue;
    const seen = sources.get(source.token);
    if (seen) seen.weight += source.weight;
    else sources.set(source.token, { vector: source.vector, weight: source.weight });
  }
  let total = 0;
  let weights = 0;
  for (const source of sources.values()) {
    let best = 0;
    for (const target of targets) {
      let dot = 0;
      for (let d = 0; d < source.vector.length; d++) dot += source.vector[d]! * target.vector[d]!;
      if (dot > best) best = dot;
    }
    total += source.weight * best;
    weights += source.weight;
  }
  return weights === 0 ? 0 : total / weights;
}

const isContentWord = (token: string): boolean => !STOP_WORDS.has(token);
/** Content words that make a claim: not stop words, not the answer's framing ("according to the document"). */
const isClaimWord = (token: string): boolean => !STOP_WORDS.has(token) && !FRAMING_WORDS.has(token);
const clip = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : x);
const NUMBER_WORDS: Record<string, string> = {
  two: '2',
  three: '3',
  four: '4',
  five: '5',
  six: '6',
  seven: '7',
  eight: '8',
  nine: '9',
  ten: '10',
  eleven: '11',
  twelve: '12',
  twenty: '20',
  hundred: '100',
};
const NUMBER_WORD = /\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|hundred)\b/gi;
/** The numbers a text states, in digits or as a word ("three" is 3). */
const numbersIn = (text: string): string[] => [
  ...(text.replace(LIST_MARKER, '$1').match(NUMBER) ?? []).map((n) => n.replace(/,/g, '')),
  ...(text.match(NUMBER_WORD) ?? []).map((w) => NUMBER_WORDS[w.toLowerCase()]!),
];

/**
 * Antonyms and opposite directions (both ways): an answer that keeps the document's words but turns one into
 * its opposite ("speeds up" for "slows down", "north" for "south") contradicts it. Hand-written, general.
 */
const ANTONYMS: ReadonlyMap<string, readonly string[]> = (() => {
  const pairs =
    'increase decrease|increases decreases|increased decreased|rise fall|rises falls|raise lower|raises lowers|' +
    'raising lowering|higher lower|more less|most least|larger smaller|largest smallest|bigger smaller|' +
    'biggest smallest|longer shorter|longest shortest|faster slower|fastest slowest|speed slow|north south|' +
    'east west|northern southern|eastern western|northward southward|before after|above below|first last|' +
    'hot cold|warm cold|warmer colder|heat cold|wet dry|heavier lighter|high low|maximum minimum|' +
    'acidic basic|acid base|positive negative|inside outside|import export|imports exports|open closed|' +
    'win lose|won lost|early late|earlier later|start end|begin end|sink float|sinks floats|expand contract|' +
    'expands contracts|absorb reflect|absorbs reflect|absorbing reflecting|same different|always never|' +
    'true false|accept reject|allowed forbidden|legal illegal|possible impossible|' +
    'visible invisible|gain loss|profit loss|buy sell|mutable immutable|sorted unsorted|reads writes|' +
    'read write|input output|left right|male female|inner outer|upper lower|add remove|adds removes|' +
    'denser lighter|dense light|strong weak|stronger weaker|cheap expensive|cheaper dearer|safe dangerous|' +
    'internal external|minimum maximum|solid liquid|lowest highest|many few|plus minus|' +
    'lose keep|loses keeps|enter leave|arrive depart|clockwise anticlockwise|odd even|ancient modern|' +
    'dormant active|acquired inherited|connected disconnected|encrypt decrypt|rose fell|grew shrank';
  const map = new Map<string, string[]>();
  for (const pair of pairs.split('|')) {
    const [a, b] = pair.split(' ') as [string, string];
    map.set(a, [...(map.get(a) ?? []), b]);
    map.set(b, [...(map.get(b) ?? []), a]);
  }
  return map;
})();

/** Capitalised words (names, places) of a text, lower-cased; sentence-initial words are left out. */
function namesIn(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/[A-Z\u00c0-\u00de][A-Za-z\u00c0-\u017f]+/g)) {
    let k = m.index - 1;
    while (k >= 0 && (text[k] === ' ' || text[k] === '\t')) k -= 1;
    if (k < 0 || /[.!?:\n"'(\-*•]/.test(text[k]!)) continue;
    if (k === m.index - 1) continue; // inside a word (McDonald) or after punctuation without a space
    const w = m[0].toLowerCase();
    if (!STOP_WORDS.has(w) && !FRAMING_WORDS.has(w)) names.add(w);
  }
  return names;
}

/**
 * The known numbers and the values derivable from them by one arithmetic step (sum, difference, product, ratio). With
 * `distinct`, only the values derived from two different stated numbers (a number with itself makes its double: 60
 * from "30 minutes"; a number stated with another unit is no excuse either: "two hours" where it says "two tablets").
 */
function derivedNumbers(known: readonly number[], distinct = false): Set<number> {
  const out = new Set<number>(distinct ? [] : known);
  const xs = known.slice(0, 12);
  for (let i = 0; i < xs.length; i++)
    for (let j = 0; j < xs.length; j++) {
      if (distinct && i === j) continue;
      const a = xs[i]!;
      const b = xs[j]!;
      out.add(Math.round((a + b) * 1e6) / 1e6);
      out.add(Math.round((a - b) * 1e6) / 1e6);
      out.add(Math.round(a * b * 1e6) / 1e6);
      if (b !== 0) out.add(Math.round((a / b) * 1e6) / 1e6);
      if (b !== 0) out.add(Math.round((a / b) * 100 * 1e6) / 1e6);
    }
  return out;
}

/**
 * A calculation the answer writes out ("17 × 23 = 401", "120 km / 2 h = 240 km/h", "15% of 80 = 12"): one operation
 * of two numbers (each with an optional unit word), an equals sign and a result. Not when an operator or a word
 * is glued before the first operand ("2x + 6 = 14", "3 + 4 × 5 = 23": precedence is not modelled).
 */
const CALCULATION =
  /(?<![-+×*/÷^=]\s*)(?<![\p{L}\p{N}.,])(\d[\d,]*(?:\.\d+)?)(%|\s+[a-z]{1,8})?\s*([×x*+/÷]|\s[-−]\s|\bof\b)\s*\$?(\d[\d,]*(?:\.\d+)?)(?:\s*[a-z]{1,8})?\s*=\s*\$?(\d[\d,]*(?:\.\d+)?)(?![\d.,]*\s*[-+×*/÷^])/giu;

/** True when the answer writes out a calculation whose result is wrong (more than 1 % off, for rounding). */
function wrongCalculation(answer: string): boolean {
  for (const m of answer.matchAll(CALCULATION)) {
    const a = Number(m[1]!.replace(/,/g, ''));
    const b = Number(m[4]!.replace(/,/g, ''));
    const stated = Number(m[5]!.replace(/,/g, ''));
    const op = m[3]!.trim();
    const percent = m[2] === '%';
    let value: number;
    if (op === 'of') {
      if (!percent) continue;
      value = (a / 100) * b;
    } else if (percent) continue;
    else if (op === '+') value = a + b;
    else if (op === '-' || op === '−') value = a - b;
    else if (op === '/' || op === '÷') {
      if (b === 0) continue;
      value = a / b;
    } else value = a * b;
    if (Math.abs(value - stated) > 0.01 * Math.max(1, Math.abs(value))) return true;
  }
  return false;
}

/**
 * An arithmetic question asked whole (nothing else in it), with its value: "What is 12 times 12?", "What's 25% of
 * 200?", "Square root of 144?", "Solve for x: 3x - 5 = 10". Anything more ("17 times 23? Show your work", "If I buy 3
 * apples at 40 cents...") is not evaluated.
 */
const ASK_LEAD = String.raw`^(?:what(?:'s| is| does)|how much is|calculate|compute|work out|evaluate)?\s*`;
const OPERAND = String.raw`(-?\d[\d,]*(?:\.\d+)?)`;
const ASK_END = String.raw`\s*(?:equals?|make)?\s*[?.!]*$`;
const ASK_OPERATION = new RegExp(
  `${ASK_LEAD}${OPERAND}\\s*(\\+|-|−|plus|minus|times|x|×|\\*|multiplied by|divided by|over|/|÷)\\s*${OPERAND}${ASK_END}`,
  'i',
);
const ASK_PERCENT = new RegExp(`${ASK_LEAD}${OPERAND}\\s*(?:%|percent)\\s+of\\s+${OPERAND}${ASK_END}`, 'i');
const ASK_ROOT = new RegExp(`${ASK_LEAD}(?:the\\s+)?(square|cube) root of\\s+${OPERAND}${ASK_END}`, 'i');
const ASK_LINEAR = new RegExp(
  String.raw`^solve(?: for x)?\s*[:,]?\s*(\d*(?:\.\d+)?)\s*x\s*(?:([+\-−])\s*(\d+(?:\.\d+)?))?\s*=\s*(-?\d+(?:\.\d+)?)\s*[?.!]*$`,
  'i',
);
const num = (text: string): number => Number(text.replace(/,/g, ''));

/** The value of an arithmetic question asked whole (above), or undefined. */
function arithmeticValue(question: string): number | undefined {
  const q = question.trim().replace(/’/g, "'");
  if (q.length > 120) return undefined;
  let m = ASK_OPERATION.exec(q);
  if (m) {
    const [a, op, b] = [num(m[1]!), m[2]!.toLowerCase(), num(m[3]!)];
    if (op === '+' || op === 'plus') return a + b;
    if (op === '-' || op === '−' || op === 'minus') return a - b;
    if (op === 'divided by' || op === 'over' || op === '/' || op === '÷') return b === 0 ? undefined : a / b;
    return a * b;
  }
  m = ASK_PERCENT.exec(q);
  if (m) return (num(m[1]!) / 100) * num(m[2]!);
  m = ASK_ROOT.exec(q);
  if (m) {
    const n = num(m[2]!);
    return m[1]!.toLowerCase() === 'square' ? (n < 0 ? undefined : Math.sqrt(n)) : Math.cbrt(n);
  }
  m = ASK_LINEAR.exec(q);
  if (m) {
    const a = m[1] === '' ? 1 : num(m[1]!);
    const b = m[3] === undefined ? 0 : (m[2] === '+' ? 1 : -1) * num(m[3]);
    return a === 0 ? undefined : (num(m[4]!) - b) / a;
  }
  return undefined;
}

/**
 * Whether an answer gives the value of an arithmetic question: `right` when one of its numbers is the value (within
 * 1 %, or the value rounded to that number's decimals; a fraction "1/3" and a percentage "75%" count), `wrong` when
 * it states numbers and none is, undefined when it states none or cannot be read so (a decimal comma, "million",
 * "remainder": not judged).
 */
function arithmeticVerdict(value: number, answer: string): 'right' | 'wrong' | undefined {
  if (
    /\d,\d{1,2}(?!\d)|\b(?:thousand|million|billion|trillion|remainder|mod(?:ulo)?)\b|\d\s*[eE]\s*[-+]?\d/.test(answer)
  )
    return undefined;
  const stated: number[] = numbersIn(answer).map(Number);
  // Each from the start of a number only (a long run of digits is one start, not one per digit).
  for (const m of answer.matchAll(/(?<![\d.])(\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)/g))
    if (Number(m[2]) !== 0) stated.push(Number(m[1]) / Number(m[2]));
  for (const m of answer.matchAll(/(?<![\d.])(\d+(?:\.\d+)?)\s*%/g)) stated.push(Number(m[1]) / 100);
  if (stated.length === 0) return undefined;
  const target = Math.abs(value);
  const matches = (n: number, text?: string): boolean => {
    const x = Math.abs(n);
    if (Math.abs(x - target) <= 0.01 * Math.max(1, target)) return true;
    const decimals = text?.split('.')[1]?.length ?? 0;
    return Math.abs(x - target) <= 0.5 * 10 ** -decimals + 1e-9;
  };
  const texts = (answer.replace(LIST_MARKER, '$1').match(NUMBER) ?? []).map((t) => t.replace(/,/g, ''));
  if (texts.some((t) => matches(Number(t), t))) return 'right';
  return stated.some((n) => matches(n)) ? 'right' : 'wrong';
}

/** A question that asks for several items ("Name three...", "Which ... are", "List..."): how many, or 0 (some). */
const LIST_QUESTION =
  /\b(?:name|list|what are|which are|which (?:\w+ ){0,3}(?:are|were|share|cannot|can't|must)|who (?:\w+ ){0,3}(?:are|were|should(?: not|n't)|must not|cannot|can't)|what (?:\w+ ){1,3}(?:are|were)|costs|benefits|ingredients)\b/i;
const COUNT_WORDS: Record<string, number> = { two: 2, three: 3, four: 4, five: 5, both: 2 };

/** The items of a list in a text: comma, semicolon, "and" or line separated, with a content word. */
function listItems(text: string): string[][] {
  return text
    .replace(LIST_MARKER, '$1')
    .split(/,|;|\n|\band\b|\bor\b|\bplus\b/i)
    .map((part) =>
      contentWords(part)
        .filter((w) => !FRAMING_WORDS.has(w))
        .map(stem),
    )
    .filter((words) => words.length > 0);
}

/** Relevance from the word signals (before the social and arithmetic readings). */
const combinedRelevance = (semantic: number, alignment: number, lexical: number, answerType: number): number =>
  clip(0.3 * clip((semantic - 0.1) / 0.6) + 0.3 * clip((alignment - 0.2) / 0.6) + 0.15 * lexical + 0.25 * answerType);

interface AnswerText {
  answer: string;
  empty: boolean;
  content: readonly string[];
  stems: ReadonlySet<string>;
  tokens: readonly TokenVector[];
  vector: Float32Array;
}

/** The question-side signals of an answer: how it fits what was asked. */
function askedSignals(question: string, a: AnswerText, embedder: OfflineEmbedder) {
  const questionWords = tokenize(question);
  const questionContent = questionWords.filter(isContentWord);
  const questionStems = new Set(questionContent.map(stem));
  const questionTokens = embedder.vectorsOfTokens(questionWords);
  const questionVector = embedder.pool(questionTokens);
  const semantic = a.empty ? 0 : clip(cosine(questionVector, a.vector));
  const alignment = a.empty ? 0 : clip(softAlignment(questionTokens, a.tokens));
  const lexical = coverage(questionContent, a.stems);
  const echo = coverage([...a.content], questionStems);
  const answerType = a.empty ? 0 : answerTypeMatch(question, a.answer);
  const wordRelevance = combinedRelevance(semantic, alignment, lexical, answerType);
  return { questionStems, questionVector, semantic, alignment, lexical, echo, answerType, wordRelevance };
}

/**
 * Words a follow-up is made of when it asks for more of the same ("Tell me more", "Can you give an example?", "Shorter
 * please", "Why?", "And in Python?" has one word of its own): it names nothing the answer could share.
 */
const FOLLOW_UP_WORDS: ReadonlySet<string> = new Set(
  (
    'tell more give example examples another please shorter longer simpler simple short explain again elaborate ' +
    'continue go keep why how what when where who which about sure ok okay really detail details expand instead ' +
    'also else other briefly summary summarise summarize words terms plain english mean meaning like show something ' +
    'different way version rewrite try one ones thing things bit little lot much many further deeper exactly ' +
    'sounds good great nice cool perfect thanks thank'
  ).split(' '),
);

/**
 * How many words of its own a short turn has (content words that are not follow-up words): 0 for "Tell me more", 1 for
 * "And in Python?"; undefined for a turn longer than 8 words (not a follow-up).
 */
function ownWords(question: string): number | undefined {
  const words = tokenize(question);
  if (words.length === 0 || words.length > 8) return undefined;
  return words.filter((w) => isContentWord(w) && !FOLLOW_UP_WORDS.has(w)).length;
}

/** At least `share` of the answer's content words are those of the previous reply: it repeats it. */
function repeats(answerStems: ReadonlySet<string>, previousAnswer: string, share: number): boolean {
  if (answerStems.size === 0) return false;
  const before = new Set(contentWords(previousAnswer.slice(0, PREVIOUS_REPLY_CHARS)).map(stem));
  let hit = 0;
  for (const w of answerStems) if (before.has(w)) hit += 1;
  return hit / answerStems.size >= share;
}

/** The sentences read for drift (its first ones: where an answer drifts, it has done so by then). */
const MAX_DRIFT_SENTENCES = 12;
const MAX_DRIFT_CHARS = 4_000;
/** A later sentence this close to the opening (question + first sentence), or sharing a word with it, stays on topic. */
const ON_TOPIC_COSINE = 0.5;

/**
 * An answer that starts on topic and drifts away ("A refrigerator moves heat... Speaking of cold things, penguins
 * live..."): at least 4 sentences of 5 words or more, and after the first, their mean cosine to the opening (the question and the first
 * sentence) is under 0.5 and at least half of them are away from it (under 0.5, no content word in common). A long
 * answer that develops its topic in other words keeps a mean above 0.5.
 */
function driftsOffTopic(question: string, answer: string, embedder: OfflineEmbedder): boolean {
  // Prose only: code (its own vocabulary) and list items (steps, names) are left out, and sentences under 5 words (a
  // letter's "Dear Hiring Manager,") carry no topic of their own.
  const prose = answer
    .slice(0, MAX_DRIFT_CHARS)
    .replace(/```[\s\S]*?(?:```|$)|`[^`\n]*`/g, ' ')
    .replace(/(^|\n)[ \t]*(?:\d{1,2}[.)]|[-*•])[ \t]+[^\n]*/g, '$1');
  const read = sentences(prose, MAX_ANSWER_SENTENCES)
    .filter((sentence) => tokenize(sentence).length >= 5)
    .slice(0, MAX_DRIFT_SENTENCES);
  if (read.length < 4) return false;
  const opening = `${question}\n${read[0]!}`;
  const openingVector = embedder.embed(opening);
  const openingStems = new Set(contentWords(opening).map(stem));
  const later = read.slice(1);
  let total = 0;
  let away = 0;
  for (const sentence of later) {
    const similarity = cosine(openingVector, embedder.embed(sentence));
    total += similarity;
    if (similarity < ON_TOPIC_COSINE && !contentWords(sentence).some((w) => openingStems.has(stem(w)))) away += 1;
  }
  return total / later.length < ON_TOPIC_COSINE && away / later.length >= 0.5;
}

/** Computes the quality signals of one answer with a synchronous offline embedder. */
/**
 * An answer saying its document does not give what was asked: "The document does not say whether...", "The leaflet
 * doesn't mention alcohol", "not stated in the article", "The article has no information on...". Said of the document,
 * not of the world ("The policy does not cover rental cars" is a claim, not an abstention).
 */
const DOCUMENT_NOUN = String.raw`(?:document(?:ation)?|docs|text|context|passage|article|leaflet|manual|guide|report|source|page|excerpt|policy|provided information)`;
const DOCUMENT_ABSTENTION = new RegExp(
  String.raw`\b${DOCUMENT_NOUN}\s+(?:does not|doesn't|do not|don't|did not|didn't)\s+(?:say|mention|state|specify|list|give|describe|discuss|indicate|explain|address)\b|` +
    String.raw`\bnot (?:mentioned|stated|specified|given|listed|described|discussed|addressed|covered|provided|included) (?:in|by) the (?:provided )?${DOCUMENT_NOUN}\b|` +
    String.raw`\b${DOCUMENT_NOUN}\s+(?:has|contains|gives|provides) no (?:information|mention|details?)\b`,
  'i',
);
/** The refusal patterns' own "the document does not contain / provide / include" (`REFUSAL`). */
const REFUSAL_OF_DOCUMENT = /\b(?:document|context|text|passage) does not (?:contain|provide|include)\b/i;
/** A citation marker: "[1]", "[2, 3]", "[1-3]", "[^4]". */
const CITATION = /[ \t]*\[\^?\d{1,3}(?:\s*[,–-]\s*\d{1,3}){0,8}\]/g;
/** Question words too general to tell what a question is about ("What does a red light **mean**?"). */
const GENERIC_QUESTION_WORDS: ReadonlySet<string> = new Set(
  'mean means meaning happen happens happened work works use used using need needs get gets make makes know say says said exactly usually long many much often kind type way ways thing things people one time take takes'.split(
    ' ',
  ),
);

/**
 * The question asks about something the document never names: one of its words (beyond question words, framing and
 * the most general verbs) is in no form in the document ("Does it support **GraphQL**?", "Who **designed** the
 * bridge?").
 */
function asksBeyondDocument(question: string, document: string, documentSentences: readonly string[]): boolean {
  const documentWords = [...new Set(tokenize(document))];
  // Acronyms the document spells out: "DNS" for "Domain Name System".
  const initials = new Set<string>();
  for (const run of document.matchAll(/(?:[A-Z][a-z]+[ -]){1,5}[A-Z][a-z]+/g)) {
    const words = run[0].split(/[ -]/);
    for (let i = 0; i < words.length; i++)
      for (let j = i + 2; j <= words.length; j++)
        initials.add(
          words
            .slice(i, j)
            .map((w) => w[0]!.toLowerCase())
            .join(''),
        );
  }
  const inWords = formLookup(documentWords);
  const inDocument = (w: string): boolean => initials.has(w) || inWords(w);
  const words = tokenize(question);
  const missing = words.some(
    (w, i) =>
      isClaimWord(w) &&
      !GENERIC_QUESTION_WORDS.has(w) &&
      !inDocument(w) &&
      // A modifier of a word the document has names a kind of it, often in other words ("the **rate** limit" of a
      // document that says "100 requests per second"): it does not tell that the document lacks the thing.
      !(i + 1 < words.length && isContentWord(words[i + 1]!) && inDocument(words[i + 1]!)),
  );
  if (!missing) return false;
  // One sentence with most of the question's words (of those sharing a word with the question or the answer) is about
  // it, whatever word it lacks: "Why does water boil at a lower
  // temperature in the mountains?" against "At higher altitudes ... water boils at a lower temperature".
  const asked = [...new Set(words.filter((w) => isClaimWord(w) && !GENERIC_QUESTION_WORDS.has(w)))];
  if (asked.length < 3) return true;
  const askedLemmas = asked.map(lemma);
  const lemmaOf = new Map<string, string>();
  return !documentSentences.some((sentence) => {
    const found = new Set<number>();
    for (const w of tokenize(sentence)) {
      let y = lemmaOf.get(w);
      if (y === undefined) lemmaOf.set(w, (y = lemma(w)));
      askedLemmas.forEach((x, k) => {
        const [short, long] = x.length <= y.length ? [x, y] : [y, x];
        if (long.startsWith(short) && short.length >= 0.75 * long.length) found.add(k);
      });
    }
    return found.size >= 0.75 * asked.length;
  });
}

/** A word without its inflection ("losing", "loses" → "los"; "capped" → "capp"), to match a word's forms. */
const lemma = (w: string): string => (w.length > 4 ? w.replace(/(?:ing|ed|es|e|s)$/, '') : w);
const sameWord = (a: string, b: string): boolean => {
  const x = lemma(a);
  const y = lemma(b);
  return x.length >= 3 && y.length >= 3 && (x.startsWith(y) || y.startsWith(x));
};
/**
 * A lookup of words "in some form": a word is found when its lemma and a lemma of `words` are equal or one starts the
 * other with at least three quarters of its length ("connected" for "connect", "addresses" for "address"; not "home"
 * for "HomeKit"). Built once over the words (prefix sets), so a lookup costs the word's length, not the text's.
 */
function formLookup(words: Iterable<string>): (word: string) => boolean {
  const lemmas = new Set<string>();
  const prefixes = new Set<string>();
  for (const w of words) {
    const y = lemma(w);
    lemmas.add(y);
    for (let n = Math.ceil(0.75 * y.length); n <= y.length; n++) prefixes.add(y.slice(0, n));
  }
  return (word: string): boolean => {
    const x = lemma(word);
    if (prefixes.has(x)) return true;
    for (let n = Math.ceil(0.75 * x.length); n < x.length; n++) if (lemmas.has(x.slice(0, n))) return true;
    return false;
  };
}

/** The word a negation bears on: the first content word after it in its clause ("does not **work** with..."). */
function negatedWords(sentence: string): string[] {
  const out: string[] = [];
  for (const clause of sentence.toLowerCase().split(/[,;:()]|\s[-–—]\s/)) {
    const words = tokenize(clause);
    words.forEach((w, i) => {
      if (!NEGATION.test(w)) return;
      const next = words.slice(i + 1).find((x) => isContentWord(x) && !NEGATION.test(x));
      if (next !== undefined) out.push(next);
    });
  }
  return out;
}

/**
 * The answer sentence and its document sentence differ in negation. Not when the negation bears on nothing ("If it does
 * not, it retries..."), nor when the document's negation is the question's own frame ("Which items cannot be
 * returned?" answered with the items), nor when a short answer (at most 4 content words) lacks the word the negation
 * bears on ("Six tablets." for "Do not take more than six tablets"). Before, any negation on one side only counted.
 */
function negationDiffers(answerSentence: string, documentSentence: string, questionNegated: boolean): boolean {
  const answerNegated = NEGATION.test(answerSentence);
  if (answerNegated === NEGATION.test(documentSentence)) return false;
  const [negated, other] = answerNegated ? [answerSentence, documentSentence] : [documentSentence, answerSentence];
  const borne = negatedWords(negated);
  if (borne.length === 0) return false;
  const otherWords = tokenize(other).filter(isContentWord);
  // The negation bears on a word the other sentence has, in some form: "does not work" / "works", "no cap" / "capped".
  if (borne.some((w) => otherWords.some((o) => sameWord(w, o)))) return true;
  if (!answerNegated && questionNegated) return false;
  return contentWords(answerSentence).length > 4;
}

/** Numbers with the word after them ("10 seconds", "45 euros"): a value and its unit. */
function numbersWithUnits(text: string): { value: number; unit: string }[] {
  const out: { value: number; unit: string }[] = [];
  const cleaned = text.replace(LIST_MARKER, '$1');
  for (const m of cleaned.matchAll(
    /(?<![a-z\d.,])(\d[\d,]*(?:\.\d+)?|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|hundred)\s*(%|[a-z]+)/gi,
  )) {
    const raw = m[1]!.toLowerCase();
    const value = Number(NUMBER_WORDS[raw] ?? raw.replace(/,/g, ''));
    const word = m[2]!.toLowerCase();
    // A number followed by a stop word ("up to 200 with the limit parameter", "7 to 2") has no unit: ''.
    if (Number.isFinite(value))
      out.push({ value, unit: word === '%' ? 'percent' : STOP_WORDS.has(word) ? '' : stem(word) });
  }
  return out;
}

export function computeSignals(unbounded: QualityInput, embedder: OfflineEmbedder): QualitySignals {
  const input = { ...unbounded, question: boundedQuestion(unbounded.question) };
  // Citation markers ("[1]", "[2, 3]", "[^4]") point at sources: not words, not numbers the answer states. Before, the
  // "1" of "[1]" was a number the passage does not state, and a cited answer lost to the same answer uncited.
  const answer = input.answer.slice(0, MAX_ANSWER_CHARS).replace(CITATION, '').trim();
  const answerWords = tokenize(answer);
  const empty = answerWords.length === 0;
  const blocked = input.safetyBlocked || input.finishReason === 'safety' || input.finishReason === 'error';
  const truncated = input.finishReason === 'length';
  let refusal = !empty && REFUSAL.test(answer);
  const answerSentences = empty ? [] : sentences(answer, MAX_ANSWER_SENTENCES);
  const hedges = answer.match(HEDGES)?.length ?? 0;

  // Each text is tokenized once: content words and token vectors come from the same tokens.
  const answerContent = answerWords.filter(isContentWord);
  const answerStems = new Set(answerContent.map(stem));
  const answerTokens = embedder.vectorsOfTokens(answerWords);
  const answerVector = embedder.pool(answerTokens);
  const answerText: AnswerText = {
    answer,
    empty,
    content: answerContent,
    stems: answerStems,
    tokens: answerTokens,
    vector: answerVector,
  };
  let asked = askedSignals(input.question, answerText, embedder);
  // A follow-up that says little on its own is read with the conversation before it, when that reading finds the answer
  // more relevant: "Why?", "Tell me more", "Shorter please" (no word of its own) with the previous question and reply;
  // "And in Python?" (one word of its own) with the previous question, when the answer speaks to that word. Never when
  // the answer repeats the previous reply. Before, every such follow-up was read alone: a right answer was `off_topic`.
  const previous = input.previousTurn;
  // A social turn ("Thanks!") asks for a social reply, not more of the topic: it is read alone.
  const own =
    previous === undefined || empty || SOCIAL_TURN.test(input.question.trim()) ? undefined : ownWords(input.question);
  // A reply reworded ("Shorter please") reuses the previous one's words; one repeated nearly word for word does not count.
  if (
    previous !== undefined &&
    own !== undefined &&
    own <= 1 &&
    !repeats(answerStems, previous.answer, own === 0 ? 0.9 : 0.7)
  ) {
    const before = previous.question.slice(0, PREVIOUS_TURN_CHARS);
    const readings = [`${before}\n${input.question}`];
    if (own === 0) readings.push(`${before}\n${previous.answer.slice(0, PREVIOUS_TURN_CHARS)}\n${input.question}`);
    if (own === 0 || asked.alignment >= 0.5)
      for (const text of readings) {
        const contextual = askedSignals(text, answerText, embedder);
        if (contextual.wordRelevance > asked.wordRelevance) asked = contextual;
      }
  }
  const { questionStems, questionVector, semantic, alignment, lexical, echo } = asked;
  let answerType = asked.answerType;
  // An arithmetic question asked whole is checked: its value in the answer is the answer (before, "144." to "What is
  // 12 times 12?" was `off_topic`: a number shares no word with the question), another number is a wrong one.
  const value = empty ? undefined : arithmeticValue(input.question);
  const arithmetic = value === undefined ? undefined : arithmeticVerdict(value, answer);
  if (arithmetic === 'right') answerType = 1;
  // A social turn ("Thanks!") has no content for a reply to share: a social reply ("You're welcome!") is what is relevant
  // to it. Before, the word signals alone read it as off topic.
  const socialReply = !empty && answerType === 1 && SOCIAL_TURN.test(input.question.trim());
  const wordRelevance = combinedRelevance(semantic, alignment, lexical, answerType);
  // A number given for an arithmetic question is on topic, right or wrong: a wrong one is `wrong_calculation`.
  const relevance = empty
    ? 0
    : socialReply
      ? SOCIAL_REPLY_RELEVANCE
      : arithmetic !== undefined
        ? Math.max(ARITHMETIC_RESULT_RELEVANCE, wordRelevance)
        : wordRelevance;

  const document = input.document?.trim() ? input.document.slice(0, MAX_DOCUMENT_CHARS) : undefined;
  let groundedness: number | null = null;
  let unsupported = 0;
  let numberMismatch = false;
  let negationMismatch = false;
  let novelty = 0;
  let anchoring = 1;
  let passageRelevance = relevance;
  let evidenceSupport = 1;
  let nameConflict = false;
  let numberConflict = false;
  let antonymConflict = false;
  let orderAgreement = 1;
  let listCoverage = 1;
  let unitConflict = false;
  let notInDocument = false;
  if (!empty && LIST_QUESTION.test(input.question)) {
    const count = /\b(two|three|four|five|both)\b/i.exec(input.question)?.[1]?.toLowerCase();
    const asked = count ? COUNT_WORDS[count]! : 2;
    listCoverage = clip(listItems(answer).length / asked);
  }
  if (document !== undefined) {
    const docSentences = sentences(document, MAX_DOCUMENT_SENTENCES);
    const docSentenceStems = docSentences.map((sentence) => new Set(contentWords(sentence).map(stem)));
    const docStems = new Set<string>();
    for (const stems of docSentenceStems) for (const w of stems) docStems.add(w);
    const questionNegated = NEGATION.test(input.question);
    // Numbers with their unit ("10 seconds") as the document states them, for the unit-conflict check below.
    const documentUnits = new Set(numbersWithUnits(document).map((n) => `${n.value} ${n.unit}`));
    // Numbers the answer may state: the document's, and the question's (restating them is not a claim).
    const knownNumbers = derivedNumbers([...numbersIn(document), ...numbersIn(input.question)].map(Number));
    // Only document sentences sharing a content word with the answer or the question can be the answer's
    // support or the question's passage: embed those (at most MAX_CANDIDATES, the most overlapping first), so
    // long documents stay cheap. With no overlap at all, the first sentences are compared (paraphrases).
    const overlap = docSentenceStems.map((stems, i) => {
      let n = 0;
      for (const w of answerStems) if (stems.has(w)) n += 1;
      let q = 0;
      for (const w of questionStems) if (stems.has(w)) q += 1;
      return { i, n: n + q, q };
    });
    let candidates = overlap.filter((o) => o.n > 0);
    candidates = (candidates.length > 0 ? candidates : overlap)
      .sort((a, b) => b.n - a.n || a.i - b.i)
      .slice(0, MAX_CANDIDATES);
    const candidateSentences = candidates.map((c) => docSentences[c.i]!);
    const docVectors = candidateSentences.map((sentence) => embedder.embed(sentence));
    // "The document does not say": right when the document lacks what was asked, a refusal when it has it. Before,
    // every such answer was a refusal (0.04–0.2, `bad`), or, worded with another noun ("The article does not say..."),
    // `contradicts_document`.
    if (!empty && (DOCUMENT_ABSTENTION.test(answer) || REFUSAL_OF_DOCUMENT.test(answer))) {
      notInDocument = asksBeyondDocument(input.question, document, candidateSentences);
      refusal = !notInDocument;
    }
    // How much each candidate passage is about the question: embedding cosine and question-word coverage.
    const questionFit = candidates.map(
      (c, i) => 0.5 * clip(cosine(questionVector, docVectors[i]!)) + 0.5 * (c.q / Math.max(1, questionStems.size)),
    );
    const bestQuestionFit = Math.max(0, ...questionFit);
    let anchorFit = 0;
    let total = 0;
    let unsupportedCount = 0;
    for (const sentence of answerSentences) {
      const vector = embedder.embed(sentence);
      let best = 0;
      let bestIndex = -1;
      docVectors.forEach((v, i) => {
        const c = cosine(vector, v);
        if (c > best) {
          best = c;
          bestIndex = i;
        }
      });
      const words = contentWords(sentence).filter((w) => !FRAMING_WORDS.has(w));
      let support = 0.5 * clip((best - 0.2) / 0.6) + 0.5 * coverage(words, docStems);
      if (numbersIn(sentence).some((n) => !knownNumbers.has(Number(n)))) {
        numberMismatch = true;
        support *= 0.3;
      }
      const bestSentence = bestIndex >= 0 ? candidateSentences[bestIndex]! : '';
      if (best > 0.5 && negationDiffers(sentence, bestSentence, questionNegated)) {
        negationMismatch = true;
        support *= 0.5;
      }
      // A number in the slot of the passage's own ("hold it for 30 seconds" where the passage says 10 seconds), that the
      // document never states with that unit and the numbers of the passage and the sentences next to it do not give
      // in one step (26 = 86 − 60 does; 30 = 3 × 10 with the 3 of "3 a.m." two paragraphs away does not).
      if (bestSentence !== '') {
        const passage = numbersWithUnits(bestSentence);
        const at = candidates[bestIndex]!.i;
        const near = docSentences.slice(Math.max(0, at - 1), at + 2).join(' ');
        const derivable = derivedNumbers([...numbersIn(near), ...numbersIn(input.question)].map(Number), true);
        const asked = numbersIn(input.question).map(Number);
        for (const { value, unit } of numbersWithUnits(sentence))
          if (
            unit !== '' &&
            !documentUnits.has(`${value} ${unit}`) &&
            // The document states the value without a unit ("up to 200 with the limit parameter"): it may be this one.
            !documentUnits.has(`${value} `) &&
            !asked.includes(value) &&
            !derivable.has(value) &&
            passage.some((p) => p.unit === unit && p.value !== value)
          ) {
            unitConflict = true;
            numberMismatch = true;
          }
      }
      if (bestIndex >= 0 && support >= 0.45) anchorFit = Math.max(anchorFit, questionFit[bestIndex]!);
      total += support;
      if (support < 0.45) unsupportedCount += 1;
    }
    let novel = 0;
    let weights = 0;
    for (const t of answerTokens) {
      if (!isClaimWord(t.token)) continue;
      const w = stem(t.token);
      weights += t.weight;
      if (!docStems.has(w) && !questionStems.has(w)) novel += t.weight;
    }
    novelty = weights === 0 ? 0 : novel / weights;

    // Evidence: among the candidate sentences about the question (fit at least 60 % of the best one), the
    // one that covers most of the answer's new words (not in the question), with the next one when it adds.
    const newWords: { stem: string; weight: number }[] = [];
    for (const t of answerTokens) {
      if (!isClaimWord(t.token) || questionStems.has(stem(t.token))) continue;
      newWords.push({ stem: stem(t.token), weight: t.weight });
    }
    const newWeight = newWords.reduce((a, w) => a + w.weight, 0);
    const coverageOf = (stems: ReadonlySet<string>): number =>
      newWeight === 0 ? 1 : newWords.reduce((a, w) => a + (stems.has(w.stem) ? w.weight : 0), 0) / newWeight;
    const eligible = candidates
      .map((c, i) => ({ i, fit: questionFit[i]!, stems: docSentenceStems[c.i]! }))
      .filter(({ fit }) => fit >= 0.6 * bestQuestionFit)
      .map((e) => ({ ...e, cover: coverageOf(e.stems) }))
      .sort((a, b) => b.cover - a.cover || b.fit - a.fit);
    const evidenceText = eligible.length > 0 ? candidateSentences[eligible[0]!.i]! : '';
    const evidenceWords = tokenize(evidenceText);
    const evidenceStems = new Set(evidenceWords.filter(isContentWord).map(stem));
    const twoStems = new Set([...evidenceStems, ...(eligible[1]?.stems ?? [])]);
    evidenceSupport = coverageOf(twoStems);
    // Slot conflicts against the evidence: a name, a number or an opposite in place of the evidence's own.
    const questionNames = namesIn(input.question);
    const evidenceNames = namesIn(evidenceText);
    const answerNames = namesIn(answer);
    const answerWordSet = new Set(answerWords);
    const evidenceWordSet = new Set(evidenceWords);
    const isKnownName = (n: string): boolean => evidenceStems.has(stem(n)) || questionStems.has(stem(n));
    nameConflict =
      [...answerNames].some((n) => !isKnownName(n)) &&
      [...evidenceNames].some((n) => !answerStems.has(stem(n)) && !questionNames.has(n) && !questionStems.has(stem(n)));
    const evidenceNumbers = new Set(numbersIn(evidenceText).map(Number));
    const questionNumbers = new Set(numbersIn(input.question).map(Number));
    const answerNumbers = numbersIn(answer).map(Number);
    numberConflict =
      answerNumbers.some((n) => !evidenceNumbers.has(n) && !questionNumbers.has(n)) &&
      [...evidenceNumbers].some((n) => !answerNumbers.includes(n) && !questionNumbers.has(n));
    for (const w of answerWordSet) {
      const opposites = ANTONYMS.get(w) ?? [];
      if (
        !evidenceWordSet.has(w) &&
        opposites.some((opposite) => evidenceWordSet.has(opposite) && !answerWordSet.has(opposite))
      ) {
        antonymConflict = true;
        break;
      }
    }
    // Order: pairs of shared words in the answer that keep the evidence's order.
    const position = new Map<string, number>();
    evidenceWords.forEach((w, i) => {
      if (isContentWord(w) && !position.has(stem(w))) position.set(stem(w), i);
    });
    const shared: number[] = [];
    const seen = new Set<string>();
    for (const w of answerWords) {
      const p = position.get(stem(w));
      if (p !== undefined && isContentWord(w) && !seen.has(stem(w))) {
        seen.add(stem(w));
        shared.push(p);
      }
    }
    let concordant = 0;
    let pairs = 0;
    for (let i = 0; i < shared.length; i++)
      for (let j = i + 1; j < shared.length; j++) {
        pairs += 1;
        if (shared[j]! > shared[i]!) concordant += 1;
      }
    orderAgreement = pairs < 3 ? 1 : concordant / pairs;
    if (LIST_QUESTION.test(input.question)) {
      const items = listItems(evidenceText)
        .map((words) => words.filter((w) => !questionStems.has(w)))
        .filter((words) => words.length > 0);
      if (items.length >= 2) {
        const named = items.filter((words) => words.some((w) => answerStems.has(w))).length;
        listCoverage = named / items.length;
      }
    }
    groundedness = answerSentences.length === 0 ? 0 : clip(total / answerSentences.length);
    unsupported = answerSentences.length === 0 ? 1 : unsupportedCount / answerSentences.length;
    anchoring = bestQuestionFit <= 0 ? 1 : clip(anchorFit / bestQuestionFit);
    passageRelevance = Math.max(relevance, anchorFit);
  }

  return {
    semantic,
    alignment,
    lexical,
    answerType,
    relevance,
    hasDocument: document !== undefined,
    groundedness,
    unsupported,
    novelty,
    anchoring,
    passageRelevance,
    numberMismatch,
    wrongCalculation: !empty && (arithmetic === 'wrong' || wrongCalculation(answer)),
    negationMismatch,
    unitConflict,
    notInDocument,
    evidenceSupport,
    nameConflict,
    numberConflict,
    antonymConflict,
    orderAgreement,
    listCoverage,
    refusal,
    empty,
    truncated,
    blocked,
    hedging: clip(hedges / Math.max(1, answerSentences.length)),
    drift: !empty && driftsOffTopic(input.question, answer, embedder),
    length: clip(Math.log1p(answerWords.length) / Math.log1p(200)),
    echo,
  };
}

/**
 * The model's inputs, every one oriented so that higher is better (the model is monotone: non-negative
 * weights, so no signal can lower the score by improving). Without a document the document checks cannot
 * fail, so they take their best value: the score then rests on relevance and on answering at all, and a
 * correct answer scores the same with a document it restates as without one.
 */
export const FEATURE_NAMES = [
  'semantic',
  'alignment',
  'lexical',
  'answer_type',
  'relevance',
  'groundedness',
  'supported',
  'known_words',
  'anchoring',
  'passage_relevance',
  'no_number_mismatch',
  'no_negation_mismatch',
  'evidence_support',
  'no_name_conflict',
  'no_number_conflict',
  'no_antonym_conflict',
  'order_agreement',
  'list_coverage',
  'not_refusal',
  'not_empty',
  'not_truncated',
  'not_blocked',
  'not_hedging',
] as const;

/**
 * The model's input vector, in FEATURE_NAMES order. Length, echo, the endpoint and whether a document was
 * given are left out on purpose: in the synthetic training set they correlate with the label by construction,
 * not in real traffic.
 */
export function featureVector(signals: QualitySignals, _endpoint?: QualityInput['endpoint']): number[] {
  const not = (x: boolean): number => (x ? 0 : 1);
  const doc = signals.hasDocument;
  return [
    signals.semantic,
    signals.alignment,
    signals.lexical,
    signals.answerType,
    signals.relevance,
    doc ? (signals.groundedness ?? 0) : 1,
    doc ? 1 - signals.unsupported : 1,
    doc ? 1 - signals.novelty : 1,
    doc ? signals.anchoring : 1,
    signals.passageRelevance,
    // A wrong calculation is a wrong number the answer states, as one the document does not contain is.
    not(signals.numberMismatch || signals.wrongCalculation),
    not(signals.negationMismatch),
    doc ? signals.evidenceSupport : 1,
    not(signals.nameConflict),
    not(signals.numberConflict),
    not(signals.antonymConflict),
    signals.orderAgreement,
    signals.listCoverage,
    not(signals.refusal),
    not(signals.empty),
    not(signals.truncated),
    not(signals.blocked),
    1 - signals.hedging,
  ];
}
