import { getMetadataStorage } from 'class-validator';

type Storage = ReturnType<typeof getMetadataStorage>;
type Lookup = Storage['getTargetValidationMetadatas'];
/** A validated class (class-validator types it as `Function`). */
type Target = Parameters<Lookup>[0];
type ValidationMetadata = ReturnType<Lookup>[number];
type Grouped = Record<string, ValidationMetadata[]>;

let installed = false;

/**
 * Memoises class-validator's rule lookups. On every object it validates, class-validator (0.15) looks up the
 * class's rules from scratch: it filters the class's metadata, walks every decorated class of the process with
 * `instanceof` to find inherited rules, and regroups the result by property. For a chat completion (a body, its
 * messages, their parts) that was about 33 KB of garbage per request, 15 % of everything the request allocated,
 * and about 4 % of its CPU (CPU and allocation profiles of `npm run bench`'s `openai-chat`). The rules are fixed once
 * the decorators have run, so each lookup is kept per class and options, and every cache is dropped whenever a rule,
 * a constraint or a schema is added (a class loaded later). The arrays and groupings handed out are shared:
 * class-validator only reads them. Idempotent; installed by the request validation pipe.
 */
export function memoiseValidationMetadata(): void {
  if (installed) return;
  installed = true;
  const storage = getMetadataStorage();
  const lookup: Lookup = storage.getTargetValidationMetadatas.bind(storage);
  const group = storage.groupByPropertyName.bind(storage);
  let byTarget = new Map<Target, Map<string, ValidationMetadata[]>>();
  let grouped = new WeakMap<ValidationMetadata[], Grouped>();
  const clear = (): void => {
    byTarget = new Map();
    grouped = new WeakMap();
  };
  const addRule = storage.addValidationMetadata.bind(storage);
  const addConstraint = storage.addConstraintMetadata.bind(storage);
  const addSchema = storage.addValidationSchema.bind(storage);
  storage.addValidationMetadata = (metadata) => {
    clear();
    addRule(metadata);
  };
  storage.addConstraintMetadata = (metadata) => {
    clear();
    addConstraint(metadata);
  };
  storage.addValidationSchema = (schema) => {
    clear();
    addSchema(schema);
  };
  storage.getTargetValidationMetadatas = (target, schema, always, strictGroups, groups) => {
    const key = `${String(schema)}\u0000${always}\u0000${strictGroups}\u0000${groups?.join('\u0001') ?? ''}`;
    let forTarget = byTarget.get(target);
    if (!forTarget) {
      forTarget = new Map();
      byTarget.set(target, forTarget);
    }
    let rules = forTarget.get(key);
    if (!rules) {
      rules = lookup(target, schema, always, strictGroups, groups);
      forTarget.set(key, rules);
    }
    return rules;
  };
  storage.groupByPropertyName = (metadata) => {
    let byProperty = grouped.get(metadata);
    if (!byProperty) {
      byProperty = group(metadata);
      grouped.set(metadata, byProperty);
    }
    return byProperty;
  };
}
