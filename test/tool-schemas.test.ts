/**
 * The tools' schemas convert to JSON Schema once (src/mcp/tools/schema.ts): the SDK asks for the
 * conversion on every tools/list, and zod redoes it each time.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as z from 'zod';
import { withStableJsonSchema } from '../src/mcp/tools/schema.js';

const OPTIONS = { target: 'draft-2020-12' };

test("the JSON Schema is zod's own, converted once, handed out as a copy; validation is unchanged", async () => {
  const make = () => z.object({ query: z.string().max(5).describe('words') });
  const plain = make();
  const stable = withStableJsonSchema(make());
  const expected = plain['~standard'].jsonSchema.input(OPTIONS);
  assert.deepEqual(stable['~standard'].jsonSchema.input(OPTIONS), expected);
  assert.deepEqual(
    stable['~standard'].jsonSchema.output(OPTIONS),
    plain['~standard'].jsonSchema.output(OPTIONS),
  );

  const first = stable['~standard'].jsonSchema.input(OPTIONS);
  (first as Record<string, unknown>).type = 'mutated by a caller';
  assert.deepEqual(
    stable['~standard'].jsonSchema.input(OPTIONS),
    expected,
    'a caller cannot change the next answer',
  );

  assert.deepEqual(await stable['~standard'].validate({ query: 'abc' }), { value: { query: 'abc' } });
  const refused = await stable['~standard'].validate({ query: 'too long' });
  assert.ok('issues' in refused && refused.issues?.length === 1);
});

test('the underlying conversion runs once per side and target', () => {
  const schema = z.object({ id: z.string() });
  const convert = schema['~standard'].jsonSchema;
  let calls = 0;
  schema['~standard'] = {
    ...schema['~standard'],
    jsonSchema: {
      input: (o) => {
        calls++;
        return convert.input(o);
      },
      output: (o) => {
        calls++;
        return convert.output(o);
      },
    },
  };
  const stable = withStableJsonSchema(schema);
  for (let i = 0; i < 5; i++) {
    stable['~standard'].jsonSchema.input(OPTIONS);
    stable['~standard'].jsonSchema.output(OPTIONS);
  }
  assert.equal(calls, 2);
  stable['~standard'].jsonSchema.input({ target: 'draft-07' });
  assert.equal(calls, 3, 'another target is its own conversion');
});
