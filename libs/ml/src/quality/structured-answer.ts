import type { QualityJudged, StructuredExpectation } from './quality.types';

/**
 * A structured answer (a JSON answer under `response_format`, an answer that calls tools) judged on what can be
 * judged of it without knowing the right answer: that it parses, that it is an object, that it matches the schema it
 * was asked for (a function's parameters), that the function was offered, that it is not empty. Its words are not
 * compared with the question: the prose scorer read `{"label":"negative"}` as off topic for "Sentiment of: ...",
 * and a JSON answer scored `degraded` as often as a wrong one.
 */
export interface StructuredVerdict {
  judged: Exclude<QualityJudged, 'text'>;
  /** The checks made, in order (`parses`, `object`, `schema`, `non_empty`, `offered_function`, `arguments_parse`...). */
  checks: string[];
  /** The checks that failed, as reasons (`invalid_json`, `not_an_object`, `schema_mismatch`, `empty`...). */
  failures: string[];
  /** Nothing to use: an empty object (or arguments left empty where the function takes some). */
  empty: boolean;
}

/**
 * The overall score of a structured answer that passes every check: the mean score the served quality model gives
 * correct prose answers without a document on the held-out test set (docs/ml.md: 0.60 for v3), so that a
 * caller switching from prose to structured output keeps its `llm.quality.score` level. A failed check caps the
 * answer at `STRUCTURED_FAILED_SCORE` (`bad`), as a failed prose answer is capped.
 */
export const STRUCTURED_VALID_SCORE = 0.6;
export const STRUCTURED_FAILED_SCORE = 0.2;

/** Schemas nested deeper than this are not checked further. */
const MAX_DEPTH = 32;

export function judgeStructured(answer: string, expectation: StructuredExpectation): StructuredVerdict {
  return expectation.kind === 'json' ? judgeJson(answer, expectation.schema) : judgeToolCalls(expectation);
}

function judgeJson(answer: string, schema: Record<string, unknown> | undefined): StructuredVerdict {
  const judged = schema === undefined ? 'json' : 'json_schema';
  const checks = schema === undefined ? ['parses', 'object', 'non_empty'] : ['parses', 'object', 'schema', 'non_empty'];
  const parsed = parseJson(answer);
  if (!parsed.ok) return { judged, checks, failures: ['invalid_json'], empty: answer.trim() === '' };
  if (!isObject(parsed.value)) return { judged, checks, failures: ['not_an_object'], empty: false };
  const failures: string[] = [];
  if (schema !== undefined && !matches(parsed.value, schema, 0)) failures.push('schema_mismatch');
  const empty = isEmptyValue(parsed.value);
  if (empty) failures.push('empty');
  return { judged, checks, failures, empty };
}

function judgeToolCalls(expectation: Extract<StructuredExpectation, { kind: 'tool_calls' }>): StructuredVerdict {
  const checks = ['offered_function', 'arguments_parse', 'arguments_schema', 'non_empty'];
  const failures = new Set<string>();
  let empty = false;
  for (const call of expectation.calls) {
    const tool = expectation.tools.find((t) => t.name === call.name);
    if (tool === undefined) failures.add('function_not_offered');
    const parsed = parseJson(call.arguments);
    if (!parsed.ok || !isObject(parsed.value)) {
      failures.add('invalid_arguments');
      continue;
    }
    if (tool?.parameters !== undefined && !matches(parsed.value, tool.parameters, 0))
      failures.add('arguments_mismatch');
    // Arguments left empty where the function takes some: nothing to run it with.
    if (isEmptyValue(parsed.value) && hasProperties(tool?.parameters)) {
      failures.add('empty');
      empty = true;
    }
  }
  return { judged: 'tool_calls', checks, failures: [...failures], empty };
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `{}`, or an object whose every value is null, "", [] or {}. */
function isEmptyValue(value: Record<string, unknown>): boolean {
  return Object.values(value).every(
    (v) =>
      v === null || v === '' || (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.keys(v).length === 0),
  );
}

function hasProperties(schema: Record<string, unknown> | undefined): boolean {
  const properties = schema?.properties;
  return isObject(properties) && Object.keys(properties).length > 0;
}

/**
 * The value against the keywords of a JSON Schema that decide most structured answers: `type` (one or several;
 * `integer`), `enum`, `const`, `properties`, `required`, `additionalProperties` (false or a schema), `items`,
 * `minItems`/`maxItems`, `anyOf`/`oneOf` (one matches), `allOf`. Other keywords are not checked: an answer is not
 * failed on what is not checked.
 */
function matches(value: unknown, schema: unknown, depth: number): boolean {
  if (!isObject(schema) || depth > MAX_DEPTH) return true;
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((type) => hasType(value, type))) return false;
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((option) => sameJson(option, value))) return false;
  if ('const' in schema && !sameJson(schema.const, value)) return false;
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = schema[key];
    if (Array.isArray(options) && options.length > 0 && !options.some((s) => matches(value, s, depth + 1)))
      return false;
  }
  if (Array.isArray(schema.allOf) && !schema.allOf.every((s) => matches(value, s, depth + 1))) return false;
  if (isObject(value)) {
    if (Array.isArray(schema.required) && !schema.required.every((key) => typeof key !== 'string' || key in value)) {
      return false;
    }
    const properties = isObject(schema.properties) ? schema.properties : {};
    for (const [key, item] of Object.entries(value)) {
      if (key in properties) {
        if (!matches(item, properties[key], depth + 1)) return false;
      } else if (schema.additionalProperties === false) {
        return false;
      } else if (isObject(schema.additionalProperties) && !matches(item, schema.additionalProperties, depth + 1)) {
        return false;
      }
    }
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) return false;
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) return false;
    if (isObject(schema.items) && !value.every((item) => matches(item, schema.items, depth + 1))) return false;
  }
  return true;
}

function hasType(value: unknown, type: unknown): boolean {
  switch (type) {
    case 'object':
      return isObject(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
    default:
      return true;
  }
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
