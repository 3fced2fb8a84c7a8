// What a tool is: plain data (name, schemas, words, annotations) and a thin handler over the checkout engine.
import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import type { CallHooks, CheckoutResult, Checkouts } from './checkout/checkouts.js';

export interface ToolContext {
  principal: string;
  checkouts: Checkouts;
  hooks: CallHooks;
}

export interface ToolDefinition<Input extends z.ZodObject = z.ZodObject> {
  name: string;
  title: string;
  description: string;
  input: Input;
  annotations: ToolAnnotations;
  handle(args: z.infer<Input>, context: ToolContext): Promise<CheckoutResult>;
}

/** Keeps each tool's handler typed by its own input schema. */
export function defineTool<Input extends z.ZodObject>(tool: ToolDefinition<Input>): ToolDefinition {
  return tool as unknown as ToolDefinition;
}
