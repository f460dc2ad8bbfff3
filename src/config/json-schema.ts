/** The JSON Schema for editors, generated from the zod schema (schema/pipeline.schema.json). */
import { z } from 'zod';
import { pipelineSchema } from './schema.js';

export function pipelineJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(pipelineSchema, { io: 'input', unrepresentable: 'any' }),
    $id: 'https://transbatch.dev/schema/pipeline.schema.json',
    title: 'transbatch pipeline config',
  };
}
