/** Small base64 helpers over bytes (RFC 4648 §4 and §5); no dependency needed for these. */

/** Standard or URL-safe base64 (line breaks allowed) to bytes; undefined when not base64. */
export function base64ToBytes(value: string): Uint8Array<ArrayBuffer> | undefined {
  const compact = value
    .replace(/[\r\n\t ]/g, "")
    .replace(/-/g, "+")
    .replace(/_/g, "/");
  if (compact === "" || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return undefined;
  let binary: string;
  try {
    binary = atob(compact);
  } catch {
    return undefined;
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Bytes to unpadded base64url (RFC 4648 §5): safe in a cookie value and name. */
export function bytesToBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
