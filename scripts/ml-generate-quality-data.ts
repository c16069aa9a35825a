/**
 * Generates data/quality/examples.jsonl, the labelled set for the quality model, from the hand-written
 * facts in data/quality/topics.json (24 topics, each with a short document and two questions, each with a
 * correct answer and a contradicting one) and data/quality/reasoning.json (20 reasoning prompts with a
 * correct answer). It is synthetic: every answer variant is built from those texts by fixed rules, so the
 * set measures whether the signals separate the failure kinds below, not how real LLM answers behave.
 *
 * Label 1 (good): a correct, complete answer, with or without the document, including answers that copy the
 * document's answering sentence (with or without "According to the document, ...") or the whole document.
 * Label 0 (not good): refusal / "I don't know", off-topic (another question's answer, same topic or not, or
 * the document's sentence that answers the other question), ungrounded (contradicts the document, or copies its
 * answering sentence with a number changed), truncated (finish reason length), empty, vague or hedged
 * non-answers, blocked by safety.
 *
 *   node scripts/ml-generate-quality-data.ts      (deterministic: seed 7)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

type Endpoint = 'qa' | 'reason' | 'stress';
type Finish = 'stop' | 'length' | 'safety' | 'error' | 'other';
interface Example {
  id: string;
  /** Topic or reasoning prompt the example comes from: the held-out split is by group. */
  group: string;
  kind: string;
  endpoint: Endpoint;
  question: string;
  answer: string;
  document?: string;
  finishReason: Finish;
  safetyBlocked: boolean;
  label: 0 | 1;
}
interface Topic {
  id: string;
  doc: string;
  qa: Array<[string, string, string]>;
}

const dir = join(process.cwd(), 'data', 'quality');
const topics = JSON.parse(readFileSync(join(dir, 'topics.json'), 'utf8')) as Topic[];
const reasoning = JSON.parse(readFileSync(join(dir, 'reasoning.json'), 'utf8')) as Array<[string, string]>;

let seed = 7;
const random = (): number => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 0x100000000;
};
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

const REFUSALS = [
  "I'm sorry, but I can't help with that request.",
  "I don't know the answer to that.",
  'I am unable to answer this question.',
  'The document does not contain information about that.',
  'As an AI language model, I cannot provide that information.',
  "I'm not sure. I don't have enough information to answer.",
  'Unfortunately I cannot assist with this.',
  'That is not mentioned in the provided context.',
];
const VAGUE = [
  'It depends on many factors, and there are different opinions on this topic.',
  'That is a great question. There are several things to consider here.',
  'This is a complex subject that people have discussed for a long time.',
  'Yes.',
  'There are many possible answers and each situation is different.',
];
const HEDGED = [
  'It might be one thing or another; it is hard to say without more context.',
  'I think it could depend on the situation, so I am not sure.',
  'Perhaps. There is probably no single answer to that.',
];
const PREFIXES = ['', '', 'Sure. ', 'Good question. ', 'Here is what I found. '];
const FRAMES = ['According to the document, ', 'According to the provided document, ', 'The document says: ', ''];

/** The document's sentences; the one that answers a question shares the most words with its answer. */
const docSentences = (doc: string): string[] => doc.split(/(?<=[.!?])\s+/).filter(Boolean);
const longWords = (text: string): Set<string> =>
  new Set((text.toLowerCase().match(/[a-z0-9]+/g) ?? []).filter((w) => w.length > 3 || /\d/.test(w)));
function answeringSentence(doc: string, question: string, answer: string): string {
  const wanted = new Set([...longWords(question), ...longWords(answer)]);
  let best = '';
  let bestScore = -1;
  for (const sentence of docSentences(doc)) {
    const score = [...longWords(sentence)].filter((w) => wanted.has(w)).length;
    if (score > bestScore) [best, bestScore] = [sentence, score];
  }
  return best;
}
/** The sentence with its first number changed (a year moves by 7-36, other numbers roughly double), or undefined. */
function changeNumber(sentence: string): string | undefined {
  const match = /\d[\d,]*/.exec(sentence);
  if (!match) return undefined;
  const n = Number(match[0].replace(/,/g, ''));
  const changed = n >= 1000 && n <= 2100 ? n + (random() < 0.5 ? -1 : 1) * (7 + Math.floor(random() * 30)) : n * 2 + 1;
  return sentence.slice(0, match.index) + String(changed) + sentence.slice(match.index + match[0].length);
}
const TOPIC_FILLERS = ['This is well documented.', 'Many sources agree on this.', 'It is a commonly asked question.'];

function truncate(answer: string): string {
  const words = answer.split(' ');
  return words.slice(0, Math.max(2, Math.floor(words.length * (0.3 + random() * 0.3)))).join(' ');
}

const examples: Example[] = [];
let group = '';
const add = (e: Omit<Example, 'id' | 'group' | 'finishReason' | 'safetyBlocked'> & Partial<Example>): void => {
  examples.push({
    id: `q${String(examples.length + 1).padStart(4, '0')}`,
    group,
    finishReason: 'stop',
    safetyBlocked: false,
    ...e,
  });
};

const allQa = topics.flatMap((t) => t.qa.map(([q, good, bad]) => ({ topic: t, q, good, bad })));
topics.forEach((topic, ti) => {
  group = topic.id;
  topic.qa.forEach(([question, good, contradicting], qi) => {
    const doc = topic.doc;
    const other = pick(allQa.filter((x) => x.topic.id !== topic.id));
    const sibling = topic.qa[1 - qi]!;
    const endpoint: Endpoint = (ti + qi) % 5 === 0 ? 'stress' : 'qa';
    const prefix = pick(PREFIXES);
    // good answers
    add({ kind: 'good_with_doc', endpoint: 'qa', question, answer: prefix + good, document: doc, label: 1 });
    add({ kind: 'good_no_doc', endpoint, question, answer: good, label: 1 });
    add({
      kind: 'good_elaborated',
      endpoint: 'qa',
      question,
      answer: `${good} ${pick(TOPIC_FILLERS)}`,
      document: random() < 0.5 ? doc : undefined,
      label: 1,
    });
    // failures
    add({ kind: 'ungrounded', endpoint: 'qa', question, answer: contradicting, document: doc, label: 0 });
    add({
      kind: 'off_topic',
      endpoint,
      question,
      answer: other.good,
      document: random() < 0.5 ? doc : undefined,
      label: 0,
    });
    add({
      kind: 'off_topic_same_topic',
      endpoint: 'qa',
      question,
      answer: sibling[1],
      document: random() < 0.5 ? doc : undefined,
      label: 0,
    });
    add({
      kind: 'refusal',
      endpoint,
      question,
      answer: pick(REFUSALS),
      document: random() < 0.5 ? doc : undefined,
      label: 0,
    });
    add({
      kind: 'truncated',
      endpoint,
      question,
      answer: truncate(good),
      document: random() < 0.5 ? doc : undefined,
      finishReason: 'length',
      label: 0,
    });
    if ((ti + qi) % 2 === 0) add({ kind: 'vague', endpoint, question, answer: pick(VAGUE), label: 0 });
    // extractive answers: the document's own words are the most grounded answer there is
    const own = answeringSentence(doc, question, good);
    const siblingSentence = answeringSentence(doc, sibling[0], sibling[1]);
    add({ kind: 'good_extractive', endpoint: 'qa', question, answer: pick(FRAMES) + own, document: doc, label: 1 });
    add({ kind: 'good_extractive_no_doc', endpoint, question, answer: own, label: 1 });
    if (qi === 0) add({ kind: 'good_document_copy', endpoint: 'qa', question, answer: doc, document: doc, label: 1 });
    if (siblingSentence !== own)
      add({ kind: 'off_question_extract', endpoint: 'qa', question, answer: siblingSentence, document: doc, label: 0 });
    const changed = changeNumber(own);
    if (changed) add({ kind: 'number_changed', endpoint: 'qa', question, answer: changed, document: doc, label: 0 });
    if ((ti + qi) % 2 === 1)
      add({
        kind: 'hedged',
        endpoint,
        question,
        answer: pick(HEDGED),
        document: random() < 0.5 ? doc : undefined,
        label: 0,
      });
    if ((ti + qi) % 6 === 0)
      add({ kind: 'empty', endpoint, question, answer: '', finishReason: pick(['stop', 'error'] as const), label: 0 });
    if ((ti + qi) % 8 === 1)
      add({
        kind: 'safety_blocked',
        endpoint,
        question,
        answer: '',
        finishReason: 'safety',
        safetyBlocked: true,
        label: 0,
      });
  });
});
reasoning.forEach(([question, good], i) => {
  group = `reason-${i + 1}`;
  const other = reasoning[(i + 7) % reasoning.length]![1];
  add({ kind: 'reason_good', endpoint: 'reason', question, answer: good, label: 1 });
  add({
    kind: 'reason_good_framed',
    endpoint: 'reason',
    question,
    answer: `Let's think it through. ${good}`,
    label: 1,
  });
  add({ kind: 'reason_off_topic', endpoint: 'reason', question, answer: other, label: 0 });
  add({ kind: 'reason_refusal', endpoint: 'reason', question, answer: pick(REFUSALS), label: 0 });
  add({
    kind: 'reason_truncated',
    endpoint: 'reason',
    question,
    answer: truncate(good),
    finishReason: 'length',
    label: 0,
  });
  if (i % 2 === 0) add({ kind: 'reason_vague', endpoint: 'reason', question, answer: pick(VAGUE), label: 0 });
});

writeFileSync(join(dir, 'examples.jsonl'), examples.map((e) => JSON.stringify(e)).join('\n') + '\n');
const positives = examples.filter((e) => e.label === 1).length;
console.log(`wrote ${examples.length} examples (${positives} good, ${examples.length - positives} not good)`);
