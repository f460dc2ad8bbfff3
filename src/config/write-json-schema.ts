/** `npm run schema`: regenerates schema/pipeline.schema.json. */
import { writeFileSync } from 'node:fs';
import { pipelineJsonSchema } from './json-schema.js';

const target = new URL('../../schema/pipeline.schema.json', import.meta.url);
writeFileSync(target, `${JSON.stringify(pipelineJsonSchema(), null, 2)}\n`);
console.log(`wrote ${target.pathname}`);
