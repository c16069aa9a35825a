import { existsSync, globSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The docs point where they say: every relative link of README.md, docs/*.md and runbooks/*.md names a file that
 * exists and, with `#anchor`, a heading of it (GitHub's anchors); every repository path in backquotes
 * (`libs/...`, `docs/...`) exists; every section named in prose (`docs/ledger.md, "Schema version"`) is a heading or
 * a paragraph's bold lead of that page; and every page of docs/ is reachable from README.md.
 */
const ROOT = resolve(__dirname, '..');
const PAGES = ['README.md', ...globSync('docs/*.md', { cwd: ROOT }), ...globSync('runbooks/*.md', { cwd: ROOT })];
const TOP = /^(apps|libs|docs|test|scripts|runbooks|datadog|models|bench|deploy|data|openapi|clients|tools)\//;

/** The text outside fenced code blocks (a `#` comment in a shell block is not a heading). */
function prose(file: string): string {
  return readFileSync(join(ROOT, file), 'utf8').replace(/^```[\s\S]*?^```/gm, '');
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as `-`; a repeated heading gets `-1`, `-2`. */
function anchorsOf(file: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const m of prose(file).matchAll(/^#{1,6} (.+)$/gm)) {
    const slug = m[1]!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

/** The sections a page has: its headings and the bold leads of its paragraphs (`**Schema version.**`). */
function sectionsOf(file: string): string[] {
  const text = prose(file);
  const headings = [...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => m[1]!);
  const leads = [...text.matchAll(/\*\*([^*]+?)[.:]?\*\*/g)].map((m) => m[1]!);
  return [...headings, ...leads].map((s) => s.replace(/`/g, '').replace(/\s+/g, ' ').trim());
}

describe('links in the docs', () => {
  it('finds them (a check of nothing passes)', () => {
    const links = PAGES.flatMap((file) => [...prose(file).matchAll(/\]\(([^)\s]+)\)/g)]);
    expect(links.length).toBeGreaterThan(50);
    expect(links.some((m) => m[1]!.includes('#'))).toBe(true);
    expect(anchorsOf('docs/operations.md').has('memory')).toBe(true);
    expect(sectionsOf('docs/ledger.md')).toContain('Schema version');
  });

  it('relative links name files that exist, and anchors headings of them', () => {
    const problems: string[] = [];
    for (const file of PAGES) {
      for (const m of prose(file).matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/.test(target)) continue;
        const [path, anchor] = target.split('#') as [string, string | undefined];
        const to = path === '' ? file : relative(ROOT, resolve(dirname(join(ROOT, file)), path));
        if (!existsSync(join(ROOT, to))) problems.push(`${file}: (${target}): no file ${to}`);
        else if (anchor !== undefined && to.endsWith('.md') && !anchorsOf(to).has(anchor))
          problems.push(`${file}: (${target}): no heading of ${to} has the anchor #${anchor}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('repository paths in backquotes exist', () => {
    const problems: string[] = [];
    for (const file of PAGES) {
      for (const m of prose(file).matchAll(/`([a-z][\w.-]*\/[^`\s*<>{}]+)`/g)) {
        const path = m[1]!.replace(/[:#].*$/, '');
        if (TOP.test(path) && !/^datadog\/agent\b/.test(path) && !existsSync(join(ROOT, path)))
          problems.push(`${file}: \`${m[1]}\``);
      }
    }
    expect(problems).toEqual([]);
  });

  it('a section named in prose ("docs/x.md, \\"Heading\\"") is a heading or a bold lead of that page', () => {
    const problems: string[] = [];
    for (const file of PAGES) {
      for (const m of prose(file).matchAll(/\b((?:docs\/)?[a-z-]+\.md),?\s+"([^"]+)"/g)) {
        const page = m[1]!.startsWith('docs/') || m[1] === 'README.md' ? m[1]! : `docs/${m[1]}`;
        const section = m[2]!.replace(/\s+/g, ' ');
        if (!existsSync(join(ROOT, page))) problems.push(`${file}: ${page} does not exist`);
        else if (
          !sectionsOf(page).some((s) => s === section || s.startsWith(`${section} (`) || s.startsWith(`${section},`))
        )
          problems.push(`${file}: ${page} has no section "${section}"`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('every page of docs/ is linked from README.md', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const pages = globSync('docs/*.md', { cwd: ROOT });
    expect(pages.length).toBeGreaterThan(10);
    expect(pages.filter((page) => !readme.includes(`](${page})`))).toEqual([]);
  });
});
