// Writes docs/blueprint.schema.json from the zod schema (npm run schema). A spec checks it is current.
import fs from 'node:fs';
import path from 'node:path';
import { blueprintJsonSchema } from '../lib/model/blueprint.js';

export const schemaFile = path.resolve(import.meta.dirname, '../docs/blueprint.schema.json');
export const schemaText = (): string => `${JSON.stringify(blueprintJsonSchema(), null, 2)}\n`;

if (process.argv[1] === import.meta.filename) {
  fs.writeFileSync(schemaFile, schemaText());
  console.log(`wrote ${path.relative(process.cwd(), schemaFile)}`);
}
