/** The rank file of a tiktoken encoding as js-tiktoken ships it (`js-tiktoken/ranks/<name>`). */
export interface BpeRanks {
  pat_str: string;
  special_tokens: Record<string, number>;
  /** Lines of `<label> <first rank> <base64 token> <base64 token>...`: consecutive ranks from the first. */
  bpe_ranks: string;
}

/** Pieces longer than this many bytes are merged in slices of it (bounds the quadratic merge; rare). */
const MAX_PIECE_BYTES = 512;
const NO_RANK = Number.MAX_SAFE_INTEGER;

/**
 * Counts the tokens of a text with a tiktoken BPE encoding, without building what only decoding needs.
 *
 * js-tiktoken's `Tiktoken` keeps two maps of 100k entries (ranks keyed by comma-joined byte lists, and a
 * Uint8Array per rank for decoding): 33 MB of heap, about 100 MB of RSS at its construction peak. Counting
 * needs only the ranks: here they are keyed by the token's bytes as a one-byte string (about 5 MB), built
 * line by line from the rank file. Same pre-tokenisation regex and the same lowest-rank-first merges as
 * tiktoken, so the counts are equal (tested against js-tiktoken). Special-token text is counted as
 * ordinary text (a prompt may quote `<|endoftext|>`; it never throws).
 */
export class BpeCounter {
  private readonly ranks = new Map<string, number>();
  private readonly pattern: RegExp;

  constructor(source: BpeRanks) {
    this.pattern = new RegExp(source.pat_str, 'gu');
    let start = 0;
    const text = source.bpe_ranks;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      this.addLine(text.slice(start, end));
      start = end + 1;
    }
  }

  get size(): number {
    return this.ranks.size;
  }

  count(text: string): number {
    let tokens = 0;
    for (const match of text.matchAll(this.pattern)) {
      const bytes = Buffer.from(match[0], 'utf8').toString('latin1');
      if (this.ranks.has(bytes)) {
        tokens += 1;
        continue;
      }
      for (let at = 0; at < bytes.length; at += MAX_PIECE_BYTES) {
        tokens += this.mergeCount(bytes.slice(at, at + MAX_PIECE_BYTES));
      }
    }
    return tokens;
  }

  private addLine(line: string): void {
    if (line.length === 0) return;
    const fields = line.split(' ');
    const first = Number.parseInt(fields[1] ?? '', 10);
    if (!Number.isInteger(first)) throw new Error(`BpeCounter: bad rank line "${line.slice(0, 40)}"`);
    for (let i = 2; i < fields.length; i++) {
      this.ranks.set(Buffer.from(fields[i]!, 'base64').toString('latin1'), first + i - 2);
    }
  }

  /** Number of tokens of one piece after tiktoken's merges (lowest rank first, leftmost on ties). */
  private mergeCount(piece: string): number {
    if (piece.length <= 1) return piece.length;
    if (this.ranks.has(piece)) return 1;
    // starts[i]: where part i begins; the last entry is the end of the piece.
    const starts: number[] = [];
    for (let i = 0; i <= piece.length; i++) starts.push(i);
    const rankOf = (i: number): number =>
      i + 2 < starts.length ? (this.ranks.get(piece.slice(starts[i], starts[i + 2])) ?? NO_RANK) : NO_RANK;
    const pairRanks: number[] = [];
    for (let i = 0; i < starts.length - 1; i++) pairRanks.push(rankOf(i));
    for (;;) {
      let best = NO_RANK;
      let at = -1;
      for (let i = 0; i < pairRanks.length; i++) {
        if (pairRanks[i]! < best) {
          best = pairRanks[i]!;
          at = i;
        }
      }
      if (at < 0) break;
      starts.splice(at + 1, 1);
      pairRanks.splice(at + 1, 1);
      pairRanks[at] = rankOf(at);
      if (at > 0) pairRanks[at - 1] = rankOf(at - 1);
    }
    return starts.length - 1;
  }
}
