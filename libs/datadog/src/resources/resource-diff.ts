/** Keys whose string values are Datadog queries: compared without whitespace (Datadog reformats them). */
const QUERY_KEYS = new Set(['query', 'q', 'numerator', 'denominator']);
/** Keys whose arrays are sets (Datadog may return them in another order). */
const SET_KEYS = new Set(['tags']);
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A value Datadog may leave out of its answer when it is the default. */
function isEmptyDefault(value: unknown): boolean {
  return (
    value === false ||
    value === null ||
    value === '' ||
    (Array.isArray(value) && value.length === 0) ||
    (isRecord(value) && Object.keys(value).length === 0)
  );
}

function sameScalar(key: string, desired: unknown, existing: unknown): boolean {
  if (desired === existing) return true;
  if (typeof desired === 'string' && typeof existing === 'string') {
    if (QUERY_KEYS.has(key)) return desired.replace(/\s+/g, '') === existing.replace(/\s+/g, '');
    if (ISO_DATE.test(desired) && ISO_DATE.test(existing)) return Date.parse(desired) === Date.parse(existing);
  }
  return false;
}

/**
 * Where an existing resource differs from a payload file: the paths (`options.thresholds.critical`) of every value
 * the file sets that the resource does not hold. Values the resource has and the file does not set are not
 * differences (ids, dates, defaults Datadog fills in). Empty: the resource is as the file says.
 */
export function differences(desired: unknown, existing: unknown, path = '', key = ''): string[] {
  const here = path || '(root)';
  if (existing === undefined) return isEmptyDefault(desired) ? [] : [here];
  if (Array.isArray(desired)) {
    if (!Array.isArray(existing) || existing.length !== desired.length) return [here];
    if (SET_KEYS.has(key) && desired.every((v) => typeof v === 'string')) {
      const a = [...desired].sort();
      const b = [...(existing as unknown[])].map(String).sort();
      return a.every((v, i) => v === b[i]) ? [] : [here];
    }
    return desired.flatMap((item, i) => differences(item, existing[i], `${path}[${i}]`, key));
  }
  if (isRecord(desired)) {
    if (!isRecord(existing)) return [here];
    return Object.keys(desired).flatMap((k) => differences(desired[k], existing[k], path ? `${path}.${k}` : k, k));
  }
  return sameScalar(key, desired, existing) ? [] : [here];
}
