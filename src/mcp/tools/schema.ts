/**
 * Tool schemas whose JSON Schema is computed once per process. The SDK asks a schema for its JSON
 * Schema (Standard Schema's `~standard.jsonSchema`) on every `tools/list`, and zod converts it
 * afresh each time: in `npm run bench:soak` that conversion was 4 % of the server's CPU. zod lets
 * `~standard` be replaced (it has a setter for it); validation stays zod's own.
 */
import type * as z from 'zod';

type JsonSchemaOptions = { target?: string } & Record<string, unknown>;
type Converter = (options: JsonSchemaOptions) => Record<string, unknown>;

/** `schema` itself, its JSON Schema (input and output side) remembered per conversion target. */
export function withStableJsonSchema<T extends z.ZodType>(schema: T): T {
  const standard = schema['~standard'] as unknown as {
    jsonSchema?: { input: Converter; output: Converter };
  } & Record<string, unknown>;
  const convert = standard.jsonSchema;
  if (convert === undefined) return schema;
  const remembered = new Map<string, Record<string, unknown>>();
  const once =
    (io: 'input' | 'output'): Converter =>
    (options) => {
      const key = `${io} ${JSON.stringify(options)}`;
      let json = remembered.get(key);
      if (json === undefined) {
        json = convert[io](options);
        remembered.set(key, json);
      }
      // A copy: whoever receives it may add to it (the SDK sets a default root type).
      return structuredClone(json);
    };
  (schema as { '~standard': unknown })['~standard'] = {
    ...standard,
    jsonSchema: { input: once('input'), output: once('output') },
  };
  return schema;
}
