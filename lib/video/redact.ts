/**
 * Credentials in camera URLs (rtsp://user:password@host/...) must never reach a log line, an
 * error message or an event. Every string that leaves lib/video goes through a Redactor made from
 * the source's URL; it also removes the bare password, since ffmpeg sometimes prints it decoded.
 */

const USERINFO = /([a-z][a-z0-9+.-]*:\/\/)([^/@\s]+)@/gi;

/** The URL with its user:password replaced by `***` (the user name stays, it helps debugging). */
export function redactUrl(url: string): string {
  return url.replace(USERINFO, (_m, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return colon < 0 ? `${scheme}***@` : `${scheme}${userinfo.slice(0, colon)}:***@`;
  });
}

/** The secrets a URL carries: the password, raw and percent-decoded. */
function secretsOf(url: string): string[] {
  const match = /^[a-z][a-z0-9+.-]*:\/\/([^/@\s]+)@/i.exec(url);
  if (!match) return [];
  const colon = match[1].indexOf(':');
  if (colon < 0) return [];
  const raw = match[1].slice(colon + 1);
  const secrets = new Set([raw]);
  try {
    secrets.add(decodeURIComponent(raw));
  } catch {
    // a malformed escape: the raw form is all there is to hide
  }
  // Very short passwords would turn every occurrence of a common letter into ***; the URL form is
  // still redacted by the pattern above.
  return [...secrets].filter((s) => s.length >= 3);
}

export type Redactor = (text: string) => string;

/** A function that removes the credentials of `url` (and any URL's user info) from a text. */
export function makeRedactor(url: string): Redactor {
  const secrets = secretsOf(url);
  return (text) => {
    let out = redactUrl(text);
    for (const secret of secrets) out = out.split(secret).join('***');
    return out;
  };
}
