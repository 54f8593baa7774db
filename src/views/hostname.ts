/** The host name check of the schemas' "hostname" format, apart from formats.ts so a view can use it without TypeBox. */

/** RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens. */
export function isHostname(v: string): boolean {
  return (
    v.length <= 253 &&
    /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/.test(v)
  );
}
