/**
 * The search returns what it returned when the golden file was recorded
 * (test/helpers/searchGolden.ts): the top 10 ids per query, for staff and customers, on both
 * stores. A deliberate ranking change regenerates the file, with the reason for every query that
 * moved; a silent one fails here.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { findPostgres, postgresUserCondition } from './helpers/postgres.js';
import { requirements } from './helpers/requirements.js';
import { GOLDEN_FILE, type Golden, postgresGolden, sqliteGolden } from './helpers/searchGolden.js';

const golden = JSON.parse(readFileSync(GOLDEN_FILE, 'utf8')) as { sqlite: Golden; postgres: Golden };

function compare(actual: Golden, expected: Golden): void {
  for (const [viewer, queries] of Object.entries(expected)) {
    for (const [query, ids] of Object.entries(queries)) {
      assert.deepEqual(actual[viewer]?.[query], ids, `${viewer} ${JSON.stringify(query)}`);
    }
  }
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort());
}

describe('golden search results', () => {
  test('SQLite: every query, staff and customers, the recorded top 10', async () => {
    compare(await sqliteGolden(), golden.sqlite);
  });
  test('PostgreSQL: every query, staff and customers, the recorded top 10', {
    skip: requirements('golden search results on PostgreSQL', ['postgresql'], postgresUserCondition()),
  }, async () => {
    compare(await postgresGolden(findPostgres() ?? ''), golden.postgres);
  });
});
