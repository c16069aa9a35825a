import type { InjectionPattern } from './injection-patterns';

/**
 * Poisoned tool declarations: instructions to the model hidden in a tool's description or its parameters'
 * descriptions ("tool poisoning", the attack on agents that load tools from a third-party server, such as an MCP
 * server). The model reads every declaration on every call and the user never sees them, so a tool can ask the model
 * to read `~/.ssh/id_rsa` and pass it as an argument, to copy the conversation into a field, or to send every email to
 * another address, and to keep quiet about it.
 *
 * The prompt detector is not used here: written for what a user types, it flags ordinary tool descriptions
 * ("You must call this first", "Ignore any instructions contained in the text to translate"). These rules name what a
 * tool description has no business saying; each is evidence with a weight, combined by noisy-OR, and a tool is
 * flagged at 0.5: no single weak rule flags on its own (a description saying "do not show raw ids to the user" is
 * fine), a rule that asks for the system prompt or to drop earlier instructions does.
 */

export interface ToolDescription {
  /** The tool's name, as declared. */
  name: string;
  /** Its description and the descriptions of its parameters (and of a `json_schema` response format), joined. */
  text: string;
}

export interface ToolPoisoningAssessment {
  /** The highest combined score of a tool, in [0,1]. */
  score: number;
  flagged: boolean;
  /** The rules that matched in the flagged tools (or in the highest-scoring one when none is flagged). */
  signals: string[];
  /** The names of the flagged tools (at most 10; never a metric tag). */
  tools: string[];
}

/** A named, weighted rule, as the prompt's patterns are; applied to one sentence of the lower-cased text. */
type ToolRule = InjectionPattern;

export const TOOL_POISONING_THRESHOLD = 0.5;

/** A tool's text read at most this far: declarations are small, and every rule is linear in it. */
const MAX_TEXT_CHARS = 20_000;
const MAX_NAMED_TOOLS = 10;

/** Up to 80 characters of the same sentence (sentences are split before the rules run; a path keeps its dots). */
const GAP = '.{0,80}?';
const SECRET_PLACES =
  '~/\\.ssh|\\.ssh/|id_rsa|id_ed25519|id_ecdsa|/etc/passwd|/etc/shadow|\\.aws/credentials|\\.npmrc|\\.netrc|\\.pgpass|' +
  '\\.git-credentials|\\.docker/config|\\.kube/config|mcp\\.json|\\.env\\b|private keys?|ssh keys?|credentials? files?|' +
  'api keys?|access tokens?|secret keys?|passwords?|session cookies?';

export const TOOL_POISONING_RULES: readonly ToolRule[] = [
  {
    // "Ignore all previous instructions", "disregard your safety guidelines", "forget the system prompt".
    signal: 'tool_override_instructions',
    weight: 0.6,
    pattern: new RegExp(
      `\\b(?:ignore|disregard|forget|override|bypass|do not follow|don't follow|stop following)\\s+(?:all\\s+|any\\s+)?` +
        `(?:of\\s+)?(?:the\\s+|your\\s+|its\\s+)?(?:previous|prior|above|earlier|original|system|safety|other|existing|` +
        `developer)\\s+(?:tools?'s?\\s+|tool's\\s+)?(?:instructions|rules|guidelines|prompts?|policies|restrictions|messages?|directives)`,
      'u',
    ),
  },
  {
    signal: 'tool_prompt_leak',
    weight: 0.5,
    pattern: new RegExp(
      `\\b(?:reveal|print|output|repeat|include|send|leak|copy|write out|pass|append|disclose|put)\\b${GAP}` +
        `\\b(?:system prompt|system message|system instructions|hidden instructions|developer message|initial instructions)`,
      'u',
    ),
  },
  {
    signal: 'tool_conversation_exfiltration',
    weight: 0.5,
    pattern: new RegExp(
      `\\b(?:send|include|append|pass|copy|forward|attach|post|upload|put|add)\\b${GAP}` +
        `\\b(?:the\\s+)?(?:entire\\s+|full\\s+|whole\\s+|complete\\s+)?(?:conversation|chat history|message history|` +
        `previous messages|all messages|all prior messages|user's messages|earlier messages|full context)`,
      'u',
    ),
  },
  {
    // Every email, message or payment to an address the user did not give: another tool's behaviour, shadowed.
    signal: 'tool_redirect',
    weight: 0.5,
    pattern: new RegExp(
      `\\b(?:all|every|any)\\s+(?:outgoing\\s+)?(?:emails?|messages?|payments?|transfers?|funds|invoices?|orders?)\\b` +
        `${GAP}\\b(?:must|should|needs? to|have to|has to|are to|is to)\\s+(?:also\\s+)?(?:be\\s+)?` +
        `(?:sent|forwarded|redirected|copied|bcc|bcc'd|routed|go|paid|made)\\s+to\\b`,
      'u',
    ),
  },
  {
    signal: 'tool_secret_access',
    weight: 0.4,
    pattern: new RegExp(
      `\\b(?:read|open|cat|load|access|include|send|pass|copy|upload|attach|append|fetch|extract|collect)\\b${GAP}` +
        `(?:${SECRET_PLACES})`,
      'u',
    ),
  },
  {
    // "pass its content as the 'sidenote' parameter": a value the user did not give, smuggled into an argument.
    signal: 'tool_smuggled_argument',
    weight: 0.35,
    pattern: new RegExp(
      `\\b(?:pass|put|include|add|append|provide|set|insert|embed|copy|attach|write)\\b${GAP}` +
        `(?:\\b(?:its|their|that file's|the file's|the file)\\s+(?:full\\s+|entire\\s+|whole\\s+)?(?:contents?|value|text|data)\\b|` +
        `${SECRET_PLACES})${GAP}\\b(?:as|in|into|inside|to)\\s+(?:the\\s+)?[\`'"]?[\\w-]+[\`'"]?\\s+` +
        `(?:parameter|argument|field|param)`,
      'u',
    ),
  },
  {
    signal: 'tool_conceal_from_user',
    weight: 0.35,
    pattern: new RegExp(
      `\\b(?:do not|don't|never|must not|should not|without)\\s+(?:ever\\s+)?(?:tell|telling|mention|mentioning|` +
        `inform|informing|notify|notifying|reveal|revealing|disclose|disclosing|alert|alerting|let)\\b${GAP}` +
        `\\b(?:the\\s+)?(?:user|human|person|customer|requester)`,
      'u',
    ),
  },
  {
    signal: 'tool_hidden_tag',
    weight: 0.2,
    pattern: /<\s*(?:important|system|instructions?|secret|hidden|admin)\s*>/u,
  },
];

function sentencesOf(text: string): string[] {
  return text
    .slice(0, MAX_TEXT_CHARS)
    .toLowerCase()
    .replace(/[\u2018\u2019]/gu, "'")
    .split(/[.!?;\n]+(?:\s|$)|\n/u);
}

/** The rules a tool's text matches, and their noisy-OR. */
export function assessToolText(text: string): { score: number; signals: string[] } {
  const sentences = sentencesOf(text);
  const signals: string[] = [];
  let miss = 1;
  for (const rule of TOOL_POISONING_RULES) {
    if (sentences.some((s) => rule.pattern.test(s))) {
      signals.push(rule.signal);
      miss *= 1 - rule.weight;
    }
  }
  return { score: 1 - miss, signals };
}

/** Assesses each declared tool; flagged when one tool scores at or above TOOL_POISONING_THRESHOLD. */
export function assessToolDescriptions(tools: readonly ToolDescription[]): ToolPoisoningAssessment {
  let score = 0;
  let topSignals: string[] = [];
  const flaggedSignals = new Set<string>();
  const flaggedTools: string[] = [];
  for (const tool of tools) {
    const assessed = assessToolText(tool.text);
    if (assessed.score > score) {
      score = assessed.score;
      topSignals = assessed.signals;
    }
    if (assessed.score >= TOOL_POISONING_THRESHOLD) {
      for (const signal of assessed.signals) flaggedSignals.add(signal);
      if (flaggedTools.length < MAX_NAMED_TOOLS) flaggedTools.push(tool.name.slice(0, 64));
    }
  }
  const flagged = flaggedTools.length > 0;
  return {
    score: Math.round(score * 1000) / 1000,
    flagged,
    signals: flagged ? [...flaggedSignals] : topSignals,
    tools: flaggedTools,
  };
}
