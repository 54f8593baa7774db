/**
 * The native view's document: the Discovery as JSON text. Apart from
 * native.ts (its JSON Schema, built with TypeBox) so that printing a
 * discovery loads no schema code.
 */
import type { Discovery } from '../model/types.js';

/** The native model as JSON text: the model is plain data already, nothing is renamed. */
export function toNativeJson(discovery: Discovery, indent?: number): string {
  return JSON.stringify(discovery, null, indent);
}
