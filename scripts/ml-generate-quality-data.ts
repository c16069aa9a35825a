/**
 * Generates data/quality/examples.jsonl, the labelled set for the quality model, from the hand-written
 * facts in data/quality/topics.json (24 topics, each with a short document and two questions, each with a
 * correct answer and a contradicting one) and data/quality/reasoning.json (20 reasoning prompts with a
 * correct answer). It is synthetic: every answer variant is built from those texts by fixed rules, so the
 * set measures whether the signals separate the failure kinds below, not how real LLM answers behave.
 *
 * Label 1 (good): a correct, complete answer, with or without the document.
 * Label 0 (not good): refusal / "I don't know", off-topic (another question's answer, same topic or not),
 * ungrounded (contradicts the document), truncated (finish reason length), empty, vague, blocked by safety.
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
const PREFIXES = ['', '', 'Sure. ', 'Good question. ', 'Here is what I found. '];
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
