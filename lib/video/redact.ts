/**
 * Credentials in camera URLs must never reach a log line, an error message or an event. They
 * come in several forms, each handled here:
 *
 * - user info: rtsp://user:password@host/... (the password may itself hold '@': the user info
 *   runs to the last '@' before the path, as URL parsers read it);
 * - query and fragment parameters named like secrets: ?token=..., &password=..., &auth=...,
 *   &key=..., #access_token=... (see SECRET_PARAMETER);
 * - either of those percent-encoded inside another text (a URL passed as a parameter:
 *   ?src=rtsp%3A%2F%2Fuser%3Apw%40cam).
 *
 * Every string that leaves lib/video goes through a Redactor made from the source's URL; it also
 * removes the bare secrets (raw, percent-decoded and percent-encoded), since decoders print them
 * in other shapes ("Connecting to ..." with the password decoded, say).
 */

/** Parameter names whose values are secrets: matched whole, case-insensitively, after percent-decoding. */
const SECRET_PARAMETER =
  /^(?:token|access[_-]?token|id[_-]?token|refresh[_-]?token|auth|auth[_-]?token|authorization|password|passwd|pwd|pass|passphrase|key|api[_-]?key|apikey|secret|client[_-]?secret|signature|sig|session|session[_-]?id|sessionid|credential|credentials|x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature|x-goog-credential)$/i;

const HIDDEN = '***';

/** scheme://userinfo@ — userinfo up to the last '@' before the path, query or fragment. */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#]*)@/gi;
/** The same, percent-encoded once: scheme%3A%2F%2Fuserinfo%40 (userinfo without an encoded '/', '?' or '#'). */
const ENCODED_USERINFO = /\b([a-z][a-z0-9+.-]*%3A%2F%2F)((?:(?!%2F|%3F|%23)[^\s/?#&])*)%40/gi;
/** ?name=value, &name=value, ;name=value, #name=value. */
const PARAMETER = /([?&;#])([^=&;#\s?]+)=([^&;#\s]*)/g;
/** The same, percent-encoded once: %3Fname%3Dvalue, %26name%3Dvalue. */
const ENCODED_PARAMETER = /(%3F|%26|%23)((?:(?!%3D|%26)[^\s&=?#])+)%3D((?:(?!%26|%23)[^\s&?#])*)/gi;

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function isSecretName(name: string): boolean {
  return SECRET_PARAMETER.test(safeDecode(name));
}

/** 'user:password' -> 'user:***'; a user info without a colon is a token: '***'. */
function hideUserinfo(userinfo: string, colon: string): string {
  const at = userinfo.indexOf(colon);
  return at < 0 ? HIDDEN : `${userinfo.slice(0, at)}${colon}${HIDDEN}`;
}

/**
 * The text with every URL's credentials replaced by `***`: user info (the user name stays, it
 * helps debugging), secret-named parameters, and both again in their percent-encoded form.
 */
export function redactUrl(text: string): string {
  return text
    .replace(USERINFO, (_m, scheme: string, userinfo: string) => `${scheme}${hideUserinfo(userinfo, ':')}@`)
    .replace(ENCODED_USERINFO, (_m, scheme: string, userinfo: string) => `${scheme}${hideUserinfo(userinfo, '%3A')}%40`)
    .replace(PARAMETER, (m, lead: string, name: string) => (isSecretName(name) ? `${lead}${name}=${HIDDEN}` : m))
    .replace(ENCODED_PARAMETER, (m, lead: string, name: string) => (isSecretName(name) ? `${lead}${name}%3D${HIDDEN}` : m));
}

/** The parts of a URL that authenticate: the user info's password (or token) and secret-named parameter values. */
export function urlSecrets(url: string): string[] {
  const secrets: string[] = [];
  const userinfo = /^[a-z][a-z0-9+.-]*:\/\/([^\s/?#]*)@/i.exec(url)?.[1];
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    secrets.push(colon < 0 ? userinfo : userinfo.slice(colon + 1));
  }
  for (const m of url.matchAll(PARAMETER)) if (isSecretName(m[2])) secrets.push(m[3]);
  return secrets.filter((s) => s !== '');
}

/** Each secret as it may be printed: raw, percent-decoded, and percent-encoded (once and twice). */
function secretForms(secrets: readonly string[]): string[] {
  const forms = new Set<string>();
  for (const raw of secrets) {
    const decoded = safeDecode(raw);
    for (const form of [raw, decoded, encodeURIComponent(decoded), encodeURIComponent(encodeURIComponent(decoded))]) forms.add(form);
  }
  // Very short secrets would turn every occurrence of a common letter into ***; the URL forms are
  // still redacted by the patterns above. Longest first, so no form is half-replaced by a shorter one.
  return [...forms].filter((s) => s.length >= 3).sort((a, b) => b.length - a.length);
}

export type Redactor = (text: string) => string;

/** A function that removes the credentials of `url` (and of any URL in the text) from a text. */
export function makeRedactor(url: string): Redactor {
  const secrets = secretForms(urlSecrets(url));
  return (text) => {
    let out = redactUrl(text);
    for (const secret of secrets) out = out.split(secret).join(HIDDEN);
    return out;
  };
}

/** A URL's user name and password (percent-decoded), and the URL without them. */
export function splitCredentials(url: string): { url: string; user: string | undefined; password: string | undefined } {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^\s/?#]*)@(.*)$/is.exec(url);
  if (!m) return { url, user: undefined, password: undefined };
  const colon = m[2].indexOf(':');
  const user = safeDecode(colon < 0 ? m[2] : m[2].slice(0, colon));
  const password = colon < 0 ? undefined : safeDecode(m[2].slice(colon + 1));
  return { url: `${m[1]}${m[3]}`, user, password };
}
