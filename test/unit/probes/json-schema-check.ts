// A small JSON Schema (draft 2020-12) checker for the keywords probes/http-probe-file.schema.json
// uses, so the examples can be checked against the schema without a validator dependency.
// Unknown keywords are an error here: the checker must not silently pass what it cannot judge.
type Schema = Record<string, unknown> | boolean;

const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description', 'default', 'deprecated', 'format', '$defs']);
const KEYWORDS = new Set(['type', 'required', 'properties', 'additionalProperties', 'items', 'minItems', 'oneOf', '$ref', 'enum', 'pattern', 'minimum', 'maximum', 'exclusiveMinimum', 'minLength', 'not']);

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

export function check(root: Schema, value: unknown): string[] {
  const errors: string[] = [];
  const visit = (schema: Schema, v: unknown, at: string): void => {
    if (schema === true) return;
    if (schema === false) return void errors.push(`${at}: not allowed`);
    for (const key of Object.keys(schema)) if (!KEYWORDS.has(key) && !ANNOTATIONS.has(key)) throw new Error(`json-schema-check: unsupported keyword ${key}`);
    if (typeof schema.$ref === 'string') {
      const target = schema.$ref.replace(/^#\//, '').split('/').reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], root);
      visit(target as Schema, v, at);
    }
    if (schema.type !== undefined) {
      const t = typeOf(v);
      if (!(t === schema.type || (schema.type === 'number' && t === 'integer'))) return void errors.push(`${at}: expected ${String(schema.type)}, got ${t}`);
    }
    if (Array.isArray(schema.enum) && !schema.enum.includes(v)) errors.push(`${at}: not one of ${schema.enum.join(', ')}`);
    if (typeof v === 'string') {
      if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(v)) errors.push(`${at}: does not match ${schema.pattern}`);
      if (typeof schema.minLength === 'number' && v.length < schema.minLength) errors.push(`${at}: shorter than ${schema.minLength}`);
    }
    if (typeof v === 'number') {
      if (typeof schema.minimum === 'number' && v < schema.minimum) errors.push(`${at}: below ${schema.minimum}`);
      if (typeof schema.maximum === 'number' && v > schema.maximum) errors.push(`${at}: above ${schema.maximum}`);
      if (typeof schema.exclusiveMinimum === 'number' && v <= schema.exclusiveMinimum) errors.push(`${at}: not above ${schema.exclusiveMinimum}`);
    }
    if (Array.isArray(v)) {
      if (typeof schema.minItems === 'number' && v.length < schema.minItems) errors.push(`${at}: fewer than ${schema.minItems} items`);
      if (schema.items !== undefined) v.forEach((item, i) => visit(schema.items as Schema, item, `${at}[${i}]`));
    }
    if (typeOf(v) === 'object') {
      const object = v as Record<string, unknown>;
      for (const key of (schema.required as string[] | undefined) ?? []) if (!(key in object)) errors.push(`${at}: missing ${key}`);
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      for (const [key, item] of Object.entries(object)) {
        if (key in properties) visit(properties[key]!, item, `${at}.${key}`);
        else if (schema.additionalProperties !== undefined) visit(schema.additionalProperties as Schema, item, `${at}.${key}`);
      }
    }
    if (Array.isArray(schema.oneOf)) {
      const matching = (schema.oneOf as Schema[]).filter((s) => sub(s, v)).length;
      if (matching !== 1) errors.push(`${at}: matches ${matching} of the oneOf alternatives, not exactly one`);
    }
    if (schema.not !== undefined && sub(schema.not as Schema, v)) errors.push(`${at}: matches a "not" schema`);
  };
  const sub = (schema: Schema, v: unknown): boolean => {
    const before = errors.length;
    visit(schema, v, '');
    const ok = errors.length === before;
    errors.length = before;
    return ok;
  };
  visit(root, value, '$');
  return errors;
}
