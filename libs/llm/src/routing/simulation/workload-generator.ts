import { seededRandom } from '@app/common';
import { WORKLOAD_KINDS, WORKLOAD_MIXTURE, type WorkloadKind } from './workload-mixture';
import {
  COUNTRIES,
  BOOKS,
  EVENTS,
  TERMS,
  LANDMARKS,
  ACRONYMS,
  HOW_TASKS,
  PHENOMENA,
  PROCESSES,
  PLANS,
  RECIPIENTS,
  DRAFT_TOPICS,
  CODE_TASKS,
  LANGUAGES,
  CHAT,
  DOC_SUBJECTS,
  DOC_SENTENCES,
  DOC_QUESTIONS,
  SUMMARY_ASKS,
  SUBJECT_SUMMARY_ASKS,
} from './workload-vocabulary';

/** One request of a router workload: what a caller sends to /qa (question + optional document) or /reason. */
export interface WorkloadRequest {
  id: string;
  kind: WorkloadKind;
  endpoint: 'qa' | 'reason';
  /** The question (/qa) or the prompt (/reason). */
  text: string;
  document?: string;
}

type Random = () => number;

const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const int = (random: Random, lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
const chance = (random: Random, p: number): boolean => random() < p;
const fill = (template: string, slots: Record<string, string>): string =>
  template.replace(/\{(\w+)\}/g, (_, key: string) => slots[key] ?? key);

// --- vocabulary -------------------------------------------------------------------------------------------------

function makeDocument(random: Random, sentences: number): { text: string; subject: (typeof DOC_SUBJECTS)[number] } {
  const subject = pick(random, DOC_SUBJECTS);
  const parts: string[] = [];
  for (let i = 0; i < sentences; i++) {
    const sentence = fill(DOC_SENTENCES[(i + int(random, 0, DOC_SENTENCES.length - 1)) % DOC_SENTENCES.length]!, {
      S: subject.name,
      kind: subject.kind,
      year: String(int(random, 1965, 2024)),
      n: String(int(random, 3, 40)),
      small: String(int(random, 2, 9)),
      big: String(int(random, 1_000, 250_000)),
      money: String(int(random, 2, 900)),
      pct: String(int(random, 3, 95)),
    });
    parts.push(sentence.charAt(0).toUpperCase() + sentence.slice(1));
  }
  // Paragraphs of four to six sentences.
  const paragraphs: string[] = [];
  for (let i = 0; i < parts.length; i += 5) paragraphs.push(parts.slice(i, i + 5).join(' '));
  return { text: paragraphs.join('\n\n'), subject };
}

/** Document sizes: log-uniform from 2 to 120 sentences (about 40 to 2,500 tokens). */
const documentSentences = (random: Random): number => Math.round(Math.exp(Math.log(2) + random() * Math.log(60)));

// --- styles ------------------------------------------------------------------------------------------------------

const PREFIXES = ['', '', '', 'Quick question: ', 'hey, ', 'Hi! ', 'Please help: ', 'I was wondering, '];
const SUFFIXES = [
  '',
  '',
  '',
  ' Thanks!',
  ' Keep it short.',
  ' I need it for a school project.',
  ' Please explain in simple terms.',
  ' Be detailed.',
];

function styled(random: Random, text: string): string {
  let out = `${pick(random, PREFIXES)}${text}${pick(random, SUFFIXES)}`;
  if (chance(random, 0.15)) out = out.toLowerCase().replace(/[?.!]+$/, '');
  return out;
}

/** Context sentences that make a request longer without changing its task. */
const BACKGROUND = [
  'I have tried a couple of things already but nothing worked.',
  'For context, I am a beginner and do not know the jargon.',
  'This is for work, and my deadline is on Friday.',
  'My friend told me something different, so I want to double-check.',
  'I read two articles about it and they seemed to disagree.',
  'We are a small team of five people with a limited budget.',
];

function withBackground(random: Random, text: string, p: number): string {
  if (!chance(random, p)) return text;
  const extra = Array.from({ length: int(random, 1, 3) }, () => pick(random, BACKGROUND));
  return chance(random, 0.5) ? `${extra.join(' ')} ${text}` : `${text} ${extra.join(' ')}`;
}

// --- kinds -------------------------------------------------------------------------------------------------------

function generate(kind: WorkloadKind, random: Random): Omit<WorkloadRequest, 'id' | 'kind'> {
  switch (kind) {
    case 'factual': {
      const text = pick(random, [
        () => `What is the capital of ${pick(random, COUNTRIES)}?`,
        () => `Who wrote ${pick(random, BOOKS)}?`,
        () => `When did ${pick(random, EVENTS)} happen?`,
        () => `Where is ${pick(random, LANDMARKS)} located?`,
        () => `What does ${pick(random, ACRONYMS)} stand for?`,
        () => `What is ${pick(random, TERMS)}?`,
        () => `Which country has the larger population, ${pick(random, COUNTRIES)} or ${pick(random, COUNTRIES)}?`,
        () => `Is ${pick(random, LANDMARKS)} a UNESCO World Heritage site?`,
        () => `Name the author of ${pick(random, BOOKS)} and the year it was published.`,
      ])();
      return { endpoint: 'qa', text: styled(random, text) };
    }
    case 'how_to': {
      const task = pick(random, HOW_TASKS);
      const text = pick(random, [
        `How do I ${task}?`,
        `What's the best way to ${task}?`,
        `Any tips to ${task}?`,
        `I need to ${task}. Where should I start?`,
        `Give me practical advice on how to ${task}.`,
      ]);
      return {
        endpoint: chance(random, 0.5) ? 'qa' : 'reason',
        text: styled(random, withBackground(random, text, 0.35)),
      };
    }
    case 'explain': {
      const text = pick(random, [
        () => `Why does ${pick(random, PHENOMENA)}?`,
        () => `Explain how ${pick(random, PROCESSES)} works.`,
        () => `Can you explain ${pick(random, TERMS)} like I'm a beginner?`,
        () => `What causes ${pick(random, PHENOMENA).replace(/^(\w+) /, '$1 to ')}?`,
        () => `Explain why ${pick(random, PHENOMENA).replace(/^the /, 'the ')}, step by step.`,
        () => `Compare ${pick(random, TERMS)} and ${pick(random, TERMS)}: what is the difference between them?`,
      ])();
      return { endpoint: 'reason', text: styled(random, withBackground(random, text, 0.3)) };
    }
    case 'planning': {
      const plan = pick(random, PLANS);
      const text = pick(random, [
        `Plan ${plan}. First list the steps, then estimate the time each one takes.`,
        `Help me design ${plan}, and walk me through the trade-offs of each option.`,
        `I need a step-by-step plan for ${plan}. Include risks and how to reduce them.`,
        `Create a detailed plan for ${plan} with milestones, then analyze what could go wrong.`,
      ]);
      return { endpoint: 'reason', text: styled(random, withBackground(random, text, 0.5)) };
    }
    case 'doc_qa': {
      const { text: document, subject } = makeDocument(random, documentSentences(random));
      const question = fill(pick(random, DOC_QUESTIONS), { S: subject.name, kind: subject.kind });
      return { endpoint: 'qa', text: styled(random, question), document };
    }
    case 'summarise': {
      const { text: document, subject } = makeDocument(random, documentSentences(random));
      const ask = chance(random, 0.5)
        ? pick(random, SUMMARY_ASKS)
        : fill(pick(random, SUBJECT_SUMMARY_ASKS), { S: subject.name, kind: subject.kind });
      return { endpoint: 'qa', text: ask, document };
    }
    case 'drafting': {
      const text = pick(random, [
        () => `Write a short email to ${pick(random, RECIPIENTS)} about ${pick(random, DRAFT_TOPICS)}.`,
        () => `Draft a polite message to ${pick(random, RECIPIENTS)} about ${pick(random, DRAFT_TOPICS)}.`,
        () => `Write a haiku about ${pick(random, TERMS)}.`,
        () => `Rewrite this to sound more professional: "hey, sorry, ${pick(random, DRAFT_TOPICS)} again, my bad"`,
        () => `Write a four-line poem for my mum's birthday that mentions ${pick(random, LANDMARKS)}.`,
        () => `Create a catchy slogan for a bakery in ${pick(random, COUNTRIES)}.`,
      ])();
      return { endpoint: 'reason', text: styled(random, withBackground(random, text, 0.25)) };
    }
    case 'code': {
      const language = pick(random, LANGUAGES);
      const task = pick(random, CODE_TASKS);
      const text = pick(random, [
        () => `Write a ${language} function that ${task}.`,
        () => `How do I write code in ${language} that ${task}?`,
        () =>
          `Why does this throw an error?\n\`\`\`\nfunction total(items) {\n  return items.reduce((a, b) => a + b.price);\n}\n\`\`\``,
        () =>
          `Refactor this ${language} snippet so it is easier to test:\n\`\`\`\nconst x = load(); if (x) { save(x); }\n\`\`\``,
        () => `Write an SQL query that returns the ${int(random, 3, 20)} customers with the highest total orders.`,
        () => `Debug my ${language} code: it ${task.replace(/s\b/, '')} but returns an empty result for large inputs.`,
      ])();
      return { endpoint: 'reason', text: withBackground(random, text, 0.3) };
    }
    case 'math': {
      const a = int(random, 2, 99);
      const b = int(random, 2, 99);
      const c = int(random, 2, 999);
      const text = pick(random, [
        `What is ${a} * ${b} + ${c}?`,
        `Solve for x: ${a}x + ${b} = ${c}.`,
        `A train travels ${c} km in ${(a % 9) + 2} hours. What is its average speed?`,
        `What is the probability of rolling a total of ${int(random, 3, 11)} with two dice?`,
        `Calculate ${a} percent of ${c}.`,
        `Find the derivative of ${a}x^3 - ${b}x + ${c}.`,
        `If I invest ${c * 10} dollars at ${(a % 9) + 1} percent interest for ${(b % 20) + 1} years, how much will I have?`,
        `How many ways can ${(a % 6) + 3} people sit around a round table?`,
      ]);
      return { endpoint: 'reason', text: styled(random, text) };
    }
    case 'chat':
      return { endpoint: 'reason', text: pick(random, CHAT) };
  }
}

/** Draws a kind by the documented mixture. */
function drawKind(random: Random): WorkloadKind {
  let r = random();
  for (const kind of WORKLOAD_KINDS) {
    r -= WORKLOAD_MIXTURE[kind];
    if (r < 0) return kind;
  }
  return WORKLOAD_KINDS[WORKLOAD_KINDS.length - 1]!;
}

/**
 * A GENERATED router workload: `count` requests drawn from the documented mixture (workload-mixture.ts) with
 * templates across kinds (grounded questions and summaries of documents from 2 to 120 sentences, factual questions,
 * how-to and why questions, code, math, multi-step planning, drafting, chit-chat), in several writing styles.
 * Deterministic for (count, seed). The router's hand-written evaluation set (data/router-eval) is not produced here.
 */
export function generateWorkload(count: number, seed: number): WorkloadRequest[] {
  const random = seededRandom(seed);
  const out: WorkloadRequest[] = [];
  for (let i = 0; i < count; i++) {
    const kind = drawKind(random);
    out.push({ id: `gen-${seed}-${i}`, kind, ...generate(kind, random) });
  }
  return out;
}
