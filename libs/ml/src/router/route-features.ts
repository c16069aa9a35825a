import type { RouteFeatures, RouteRequest } from './router.types';

/** Code in the text: fences, keywords, syntax (case-sensitive: `SELECT`, `const`). */
const CODE_SYNTAX =
  /```|\b(function|def|class|return|import|const|let|var|public|SELECT|FROM|WHERE)\b|[{};]\s*$|=>|\(\)\s*[{:]/m;
/** A request about code in words: a language, a tool, an error (case-insensitive). */
const CODE_WORDS =
  /\b(python|javascript|typescript|java|golang|rust|kotlin|swift|c\+\+|c#|php|ruby|sql|regex|bash|powershell|html|css|dockerfile|docker|git|npm|pandas|react|code|coding|script|compiler?|compil(e|es|ed|ing)|debug(ging)?|bug|stack ?trace|exception|refactor|unit tests?|syntax error|segfault|null ?pointer)\b/i;
const MATH =
  /\d\s*[-+*/^=×÷]\s*\d|\d\s*%|\b(solve|equation|integral|integrate|derivative|probability|prove|theorem|percent(age)?|sum of|how many|calculate|compute|square root|cube root|prime|factorial|remainder|divisible|average|median|interest|logarithm|fraction|area of|volume of|perimeter)\b|[√∑∫π]/i;
const MULTI_STEP =
  /\b(step[- ]by[- ]step|first\b.*\bthen\b|explain (why|how)|walk me through|compare|trade-?offs?|pros and cons|plan|design|analy[sz]e)\b/is;

/** The request's kind of question, by its first words (English). */
function questionType(text: string): string {
  const t = text.trim().toLowerCase();
  if (/^(why|what causes|how come)\b/.test(t)) return 'why';
  if (/^(how|in what way)\b/.test(t)) return 'how';
  if (/\b(compare|difference between|versus|vs\.?)\b/.test(t)) return 'compare';
  if (/^(who|what|when|where|which|is|are|does|do|did|can|was|were|name|list)\b/.test(t)) return 'factual';
  if (/^(write|summari[sz]e|translate|rewrite|draft|generate|create|give|tell|describe|explain)\b/.test(t))
    return 'instruction';
  if (/\?\s*$/.test(t)) return 'open';
  return 'other';
}

/** Words, as whitespace-separated runs. */
function words(text: string): number {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const space = text.charCodeAt(i) <= 32;
    if (!space && !inWord) n++;
    inWord = !space;
  }
  return n;
}

/** Tokens of a text as the router estimates them: about four characters a token (not a count: cheap, same everywhere). */
export function routeTokenEstimate(text: string): number {
  return Math.ceil(text.length / 4);
}

/** The request's routing features: its shape and simple complexity signals (see RouteFeatures). */
export function extractRouteFeatures(request: RouteRequest): RouteFeatures {
  const text = request.userText;
  const document = request.document?.trim() ?? '';
  return {
    endpoint: request.endpoint,
    promptTokens: routeTokenEstimate(request.prompt),
    hasDocument: document.length > 0,
    documentTokens: routeTokenEstimate(document),
    questionType: questionType(text),
    code: CODE_SYNTAX.test(text) || CODE_WORDS.test(text),
    math: MATH.test(text),
    multiStep: MULTI_STEP.test(text),
    words: words(text),
  };
}

/** Version tag of the encoded form (the ledger's router_decision column). */
const VERSION = 'rf1';

/**
 * The features and the decision as the ledger keeps them (`router_decision`, at most 200 characters):
 * `rf1|<mode>|<reason>|<explored 0/1>|<endpoint>|<promptTokens>|<hasDocument>|<documentTokens>|<questionType>|<code>|<math>|<multiStep>|<words>`.
 */
export function encodeRouteDecision(
  features: RouteFeatures,
  decision: { mode: string; reason: string; explored: boolean },
): string {
  const b = (v: boolean): string => (v ? '1' : '0');
  return [
    VERSION,
    decision.mode,
    decision.reason,
    b(decision.explored),
    features.endpoint,
    features.promptTokens,
    b(features.hasDocument),
    features.documentTokens,
    features.questionType,
    b(features.code),
    b(features.math),
    b(features.multiStep),
    features.words,
  ].join('|');
}

/** A ledger row's routing (undefined for rows without one, or of another version). */
export function decodeRouteDecision(
  text: string | null | undefined,
): { features: RouteFeatures; mode: string; reason: string; explored: boolean } | undefined {
  if (!text) return undefined;
  const p = text.split('|');
  if (p[0] !== VERSION || p.length !== 13) return undefined;
  const n = (i: number): number => Number(p[i]);
  const features: RouteFeatures = {
    endpoint: p[4]!,
    promptTokens: n(5),
    hasDocument: p[6] === '1',
    documentTokens: n(7),
    questionType: p[8]!,
    code: p[9] === '1',
    math: p[10] === '1',
    multiStep: p[11] === '1',
    words: n(12),
  };
  if (![features.promptTokens, features.documentTokens, features.words].every(Number.isFinite)) return undefined;
  return { features, mode: p[1]!, reason: p[2]!, explored: p[3] === '1' };
}
