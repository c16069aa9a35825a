/**
 * Generates data/injection/examples.jsonl, the labelled set for the prompt-injection classifier, from
 * data/injection/seeds.json (hand-written: 50 benign prompts including hard negatives that mention
 * "ignore", "system prompt", "developer mode"...; 52 injection templates in 7 families; 10 attacker goals;
 * 5 carrier sentences) plus every question of the quality set as further benign prompts. Synthetic: it
 * measures the detector on these families, not on attacks it has never seen the like of.
 *
 * Each row: { text, label (1 = injection), family, template }. The held-out split is by template, so test
 * rows come from templates the classifier never saw in training.
 *
 *   node scripts/ml-generate-injection-data.ts      (deterministic)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface Seeds {
  benign: string[];
  goals: string[];
  templates: Record<string, string[]>;
  carriers: string[];
}
interface Row {
  text: string;
  label: 0 | 1;
  family: string;
  template: string;
}

const root = process.cwd();
const seeds = JSON.parse(readFileSync(join(root, 'data', 'injection', 'seeds.json'), 'utf8')) as Seeds;
const topics = JSON.parse(readFileSync(join(root, 'data', 'quality', 'topics.json'), 'utf8')) as Array<{
  id: string;
  doc: string;
  qa: Array<[string, string, string]>;
}>;
const reasoning = JSON.parse(readFileSync(join(root, 'data', 'quality', 'reasoning.json'), 'utf8')) as Array<
  [string, string]
>;

const rows: Row[] = [];
seeds.benign.forEach((text, i) => rows.push({ text, label: 0, family: 'benign_hard', template: `benign-${i}` }));
topics.forEach((t) =>
  t.qa.forEach(([q], i) => {
    rows.push({ text: q, label: 0, family: 'benign_question', template: `${t.id}-${i}` });
    rows.push({
      text: `${t.doc}\n\nQuestion: ${q}`,
      label: 0,
      family: 'benign_document',
      template: `${t.id}-doc-${i}`,
    });
  }),
);
reasoning.forEach(([q], i) => rows.push({ text: q, label: 0, family: 'benign_reasoning', template: `reason-${i}` }));

for (const [family, templates] of Object.entries(seeds.templates)) {
  templates.forEach((template, ti) => {
    const uses = template.includes('{goal}') ? seeds.goals.filter((_, gi) => (gi + ti) % 3 === 0) : [''];
    uses.forEach((goal, gi) => {
      const injection = template.replace('{goal}', goal);
      const carrier = seeds.carriers[(ti + gi) % seeds.carriers.length]!;
      rows.push({ text: carrier.replace('{injection}', injection), label: 1, family, template: `${family}-${ti}` });
    });
  });
}

writeFileSync(join(root, 'data', 'injection', 'examples.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
const positives = rows.filter((r) => r.label === 1).length;
console.log(`wrote ${rows.length} rows (${positives} injection, ${rows.length - positives} benign)`);
