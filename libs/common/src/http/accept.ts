/** One media range of an Accept header: its type and subtype (lower case) and its weight. */
interface MediaRange {
  type: string;
  subtype: string;
  q: number;
}

/** The media ranges of an Accept header (RFC 9110 §12.5.1), media types compared case-insensitively. */
function mediaRanges(accept: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  for (const part of accept.split(',')) {
    const [range, ...params] = part.split(';');
    const [type, subtype] = (range ?? '').trim().toLowerCase().split('/');
    if (!type || !subtype) continue;
    let q = 1;
    for (const param of params) {
      const [name, value] = param.split('=');
      if (name?.trim().toLowerCase() !== 'q') continue;
      const weight = Number(value?.trim());
      q = Number.isFinite(weight) && weight >= 0 && weight <= 1 ? weight : 0;
    }
    ranges.push({ type, subtype, q });
  }
  return ranges;
}

/** The weight an Accept header gives a media type: its most specific matching range's (0 when none matches). */
function weightOf(ranges: readonly MediaRange[], type: string, subtype: string): number {
  let best: { specificity: number; q: number } | undefined;
  for (const range of ranges) {
    const specificity =
      range.type === type && range.subtype === subtype
        ? 2
        : range.type === type && range.subtype === '*'
          ? 1
          : range.type === '*' && range.subtype === '*'
            ? 0
            : -1;
    if (specificity < 0) continue;
    if (best === undefined || specificity > best.specificity) best = { specificity, q: range.q };
  }
  return best?.q ?? 0;
}

/**
 * Whether a request asks for Server-Sent Events rather than JSON: its Accept header names `text/event-stream`
 * (any case) with a weight above 0, at least as high as the weight it gives JSON. No header, `*` / `*` alone, or
 * `text/event-stream;q=0` answer JSON.
 */
export function prefersEventStream(accept: string | undefined): boolean {
  if (accept === undefined || !/event-stream/i.test(accept)) return false;
  const ranges = mediaRanges(accept);
  const sse = ranges.find((r) => r.type === 'text' && r.subtype === 'event-stream')?.q ?? 0;
  return sse > 0 && sse >= weightOf(ranges, 'application', 'json');
}
