/**
 * Reading an application/x-www-form-urlencoded callback body for the few
 * fields that identify a connection. Works on a bounded prefix: a field cut
 * off by the limit is dropped rather than read half.
 */
import { parseSegment } from "./query";

export function isFormUrlEncoded(contentType: string | null): boolean {
  if (contentType === null) return false;
  return contentType.split(";")[0]?.trim().toLowerCase() === "application/x-www-form-urlencoded";
}

export interface FormField {
  name: string;
  value: string;
}

/**
 * All fields of a form body. `complete` false means the bytes are a prefix of
 * the body, so the last segment may be cut short and is ignored.
 */
export function parseFormBody(bytes: Uint8Array, complete: boolean): FormField[] {
  // Form bodies are ASCII (everything else is percent-encoded); latin1 keeps
  // any stray byte as one character so nothing can throw here.
  const text = new TextDecoder("latin1").decode(bytes);
  const segments = text.split("&");
  if (!complete) segments.pop();
  const fields: FormField[] = [];
  for (const segment of segments) {
    const field = segment === "" ? undefined : parseSegment(segment);
    if (field !== undefined) fields.push({ name: field.name, value: field.value });
  }
  return fields;
}

export function firstField(fields: FormField[], name: string): string | undefined {
  return fields.find((f) => f.name === name)?.value;
}
