/** Named prompt-injection patterns with their weight (evidence strength), applied to normalised text. */
export interface InjectionPattern {
  signal: string;
  weight: number;
  pattern: RegExp;
}

export const INJECTION_PATTERNS: readonly InjectionPattern[] = [
  {
    signal: 'ignore_instructions',
    weight: 0.8,
    pattern:
      /\b(?:ignore|disregard|forget|skip|override|bypass|drop)\b[^.!?\n]{0,40}\b(?:previous|prior|above|earlier|preceding|all|your|the|system|original|initial)\b[^.!?\n]{0,30}\b(?:instructions?|rules|prompts?|directions|guidelines|context|messages?|constraints|everything)\b/i,
  },
  {
    signal: 'ignore_instructions_translated',
    weight: 0.8,
    pattern:
      /\b(?:ignora|ignorez|ignoriere|ignorar|negeer|ignorera|ignoruj)\b[^.!?\n]{0,40}\b(?:instrucciones|instructions|anweisungen|instruções|instrucoes|istruzioni|instructies|instruktioner|instrukcje)\b/i,
  },
  {
    signal: 'forget_everything',
    weight: 0.6,
    pattern: /\bforget (?:everything|all) (?:you(?:'ve| have| were)? (?:been )?(?:told|learned|said)|above|before)\b/i,
  },
  {
    signal: 'system_prompt_leak',
    weight: 0.8,
    pattern:
      /\b(?:reveal|show|print|repeat|display|output|leak|tell me|what(?:'s| is| are| were)|give me|list)\b[^.!?\n]{0,40}\b(?:your (?:system|hidden|initial|original|secret|developer|configured)\s+(?:prompts?|instructions?|messages?|rules)|(?:system|hidden|secret|developer)\s+(?:prompts?|instructions?|messages?))\b|\b(?:prompt|instructions) you (?:were|have been) given\b|\b(?:your|the) (?:system|initial|original|hidden) (?:prompt|instructions)\b[^.!?\n]{0,30}\b(?:verbatim|word for word)\b|\beverything above this line\b|\bwhat were you told not to\b/i,
  },
  {
    signal: 'role_override',
    weight: 0.6,
    pattern:
      /\byou are (?:now|no longer)\b[^.!?\n]{0,40}\b(?:dan|unfiltered|unrestricted|jailbroken|evil|without|bound|free|no (?:rules|restrictions))|\bfrom now on,? you are\b[^.!?\n]{0,40}\b(?:unfiltered|unrestricted|no rules|without)|\b(?:pretend|act as|roleplay as|imagine) (?:you are |to be |as )?(?:an? )?(?:ai|assistant|model|bot)?[^.!?\n]{0,20}\b(?:no|without)\b[^.!?\n]{0,15}\b(?:restrictions|rules|limits|limitations|filters|guardrails)\b|\bwho never refuses\b|\bno longer bound by\b/i,
  },
  {
    signal: 'jailbreak_terms',
    weight: 0.6,
    pattern:
      /\b(?:dan|do anything now|developer mode|jailbreak|jailbroken|god mode|evilbot|uncensored assistant|unfiltered ai)\b(?![^.!?\n]{0,40}\b(?:phone|android|iphone|ios|protocol|network|legal)\b)/i,
  },
  {
    signal: 'delimiter_injection',
    weight: 0.7,
    pattern:
      /<\|?(?:im_start|im_end|system|endoftext)\|?>|\[\/?inst\]|<<\/?sys>>|^\s*#{2,}\s*(?:system|instructions?)\b|\bbegin (?:system|admin) (?:prompt|message)\b|"role"\s*:\s*"system"|<\/?system>|\bend of user input\b|^\s*-{3,}\s*\n\s*new instructions\b/im,
  },
  {
    signal: 'new_instructions',
    weight: 0.5,
    pattern:
      /\b(?:new|updated|real|actual|override) (?:instructions?|policy|rules|task)\s*[:-]|\b(?:note|instruction|message) (?:to|for) (?:the )?(?:ai|assistant|language model|llm)s?\b|\b(?:ai|assistant),? (?:ignore|forget|disregard)\b|\bthe assistant (?:must|will) now\b/i,
  },
  {
    signal: 'safety_override',
    weight: 0.6,
    pattern:
      /\b(?:disable|turn off|ignore|bypass|without)\b[^.!?\n]{0,30}\b(?:safety filters?|content (?:policy|moderation|filters?)|ethical guidelines|guardrails|moderation|your filters|any filters)\b|\bif you had no (?:guardrails|restrictions|rules)\b/i,
  },
  {
    signal: 'secret_exfiltration',
    weight: 0.5,
    pattern:
      /\b(?:output|print|reveal|show|give me|list|send)\b[^.!?\n]{0,30}\b(?:api keys?|passwords?|credentials|secrets|tokens|user emails)\b[^.!?\n]{0,30}\b(?:you have|in your|access|context|stored)\b|\b(?:send|post|upload|forward)\b[^.!?\n]{0,40}\bto https?:\/\//i,
  },
  {
    signal: 'encoded_payload',
    weight: 0.4,
    pattern: /\b(?:decode|base64|rot13)\b[^.!?\n]{0,40}\b(?:and (?:follow|execute|obey|do)|follow it|then)\b/i,
  },
];

const LEET: Readonly<Record<string, string>> = {
  '0': 'o',
  '1': 'i',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '@': 'a',
  $: 's',
};

const MIXED = /[a-z][0-9@$]|[0-9@$][a-z]/gi;
const WORD_CHAR = /[a-z0-9@$]/i;

/** Leetspeak back to letters, only inside words that mix letters with digits or @/$ (rare in prose). */
function deLeet(text: string): string {
  let out = '';
  let last = 0;
  for (const m of text.matchAll(MIXED)) {
    if (m.index < last) continue;
    let start = m.index;
    while (start > 0 && WORD_CHAR.test(text[start - 1]!)) start -= 1;
    let end = m.index + 2;
    while (end < text.length && WORD_CHAR.test(text[end]!)) end += 1;
    out += text.slice(last, start) + text.slice(start, end).replace(/[013457@$]/g, (c) => LEET[c] ?? c);
    last = end;
  }
  return last === 0 ? text : out + text.slice(last);
}

/**
 * Undoes cheap obfuscation before matching: zero-width characters, leetspeak inside words, letters spaced or
 * dotted apart ("i g n o r e", "i.g.n.o.r.e"), hyphens splitting trigger words ("ign-ore"). Linear time.
 */
export function normaliseForInjection(text: string): string {
  let out = /[^\t\n\r\x20-\x7e]/.test(text) ? text.normalize('NFKC').replace(/[\u200b-\u200f\u2060\ufeff]/g, '') : text;
  out = out.replace(/\b(?:[a-z][ .](?=[a-z](?:[ .]|\b))){3,}[a-z]\b/gi, (m) => m.replace(/[ .]/g, ''));
  out = deLeet(out);
  out = out.replace(/\b(ign|pri|instruc|prev|disre|sys)([a-z]*)-([a-z]{2,})/gi, '$1$2$3');
  return out;
}

export interface PatternMatch {
  score: number;
  signals: string[];
}

/** Noisy-OR of the matching patterns' weights, and their names. */
export function matchInjectionPatterns(normalised: string): PatternMatch {
  let keep = 1;
  const signals: string[] = [];
  for (const { signal, weight, pattern } of INJECTION_PATTERNS) {
    if (pattern.test(normalised)) {
      keep *= 1 - weight;
      signals.push(signal);
    }
  }
  return { score: 1 - keep, signals };
}
