/**
 * A small JSON Schema (2020-12) checker for the keywords docs/webhook-event.schema.json
 * uses: type, required, properties, additionalProperties: false, const, enum,
 * items, minItems/maxItems, minLength, minimum, pattern, format date-time,
 * oneOf, $ref to #/$defs. Returns every violation with its JSON path.
 */
type Schema = Record<string, unknown>;

function typeOk(type: string, value: unknown): boolean {
  switch (type) {
    case 'object':
      return !!value && typeof value === 'object' && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    default:
      throw new Error(`schema type ${type} not supported by this checker`);
  }
}

export function validate(root: Schema, value: unknown, schema: Schema = root, path = '$'): string[] {
  const problems: string[] = [];
  const known = new Set([
    '$schema',
    '$id',
    'title',
    'description',
    '$defs',
    'type',
    'required',
    'properties',
    'additionalProperties',
    'const',
    'enum',
    'items',
    'minItems',
    'maxItems',
    'minLength',
    'minimum',
    'pattern',
    'format',
    'oneOf',
    '$ref',
  ]);
  for (const key of Object.keys(schema)) if (!known.has(key)) throw new Error(`keyword ${key} not supported by this checker`);
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.replace('#/$defs/', '');
    const target = (root.$defs as Record<string, Schema>)[name];
    if (!target) throw new Error(`unknown $ref ${schema.$ref}`);
    return validate(root, value, target, path);
  }
  if (Array.isArray(schema.oneOf)) {
    const passing = (schema.oneOf as Schema[]).filter((s) => validate(root, value, s, path).length === 0).length;
    if (passing !== 1) problems.push(`${path}: matches ${passing} of oneOf`);
    return problems;
  }
  if (typeof schema.type === 'string' && !typeOk(schema.type, value)) return [`${path}: not ${schema.type}`];
  if ('const' in schema && value !== schema.const) problems.push(`${path}: not ${JSON.stringify(schema.const)}`);
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) problems.push(`${path}: not one of ${schema.enum.join(', ')}`);
  if (typeof value === 'string') {
    if (typeof schema.minLength === 'number' && value.length < schema.minLength) problems.push(`${path}: too short`);
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern).test(value)) problems.push(`${path}: does not match ${schema.pattern}`);
    if (schema.format === 'date-time' && !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(value)) problems.push(`${path}: not a date-time`);
  }
  if (typeof value === 'number' && typeof schema.minimum === 'number' && value < schema.minimum) problems.push(`${path}: below ${schema.minimum}`);
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) problems.push(`${path}: fewer than ${schema.minItems} items`);
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) problems.push(`${path}: more than ${schema.maxItems} items`);
    if (schema.items) {
      for (const [i, item] of value.entries()) problems.push(...validate(root, item, schema.items as Schema, `${path}[${i}]`));
    }
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const object = value as Record<string, unknown>;
    for (const key of (schema.required as string[] | undefined) ?? []) if (!(key in object)) problems.push(`${path}.${key}: required`);
    const properties = (schema.properties as Record<string, Schema> | undefined) ?? {};
    for (const [key, child] of Object.entries(object)) {
      if (properties[key]) problems.push(...validate(root, child, properties[key], `${path}.${key}`));
      else if (schema.additionalProperties === false) problems.push(`${path}.${key}: not allowed`);
    }
  }
  return problems;
}
