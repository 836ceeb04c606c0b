/** Writes docs/schemas/*.json from the zod schemas. `npm run schema`; a unit test fails when they are stale. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { JSON_SCHEMA_FILES, renderJsonSchema } from './json-schema.ts';

const dir = new URL('../../docs/schemas/', import.meta.url);
mkdirSync(dir, { recursive: true });
for (const name of Object.keys(JSON_SCHEMA_FILES) as (keyof typeof JSON_SCHEMA_FILES)[]) {
  writeFileSync(new URL(name, dir), renderJsonSchema(name));
  console.log(`wrote docs/schemas/${name}`);
}
