/**
 * SQL text helpers: the one place that renders identifiers, literals and comments into SQL the CLI
 * generates or runs. Everything is quoted, never trusted: the output must stay what it looks like when
 * a superuser runs it with `psql -f` or the CLI sends it, whatever the names contain.
 */
import {UsageError} from '../errors.js'

/** Max identifier length in bytes (NAMEDATALEN - 1). */
export const MAX_IDENT_BYTES = 63

/**
 * Characters refused in names: C0/C1 controls and DEL (a newline or carriage return ends a `--` comment
 * and starts a new psql line), line/paragraph separators, and the bidirectional embedding/override/isolate
 * controls (they make a script read differently from what runs). Quoting alone would keep such a name
 * inside its quotes, but a name is also shown in comments and messages, so it is refused outright.
 */
const UNSAFE_CLASS = String.raw`[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]`
const UNSAFE_CHAR = new RegExp(UNSAFE_CLASS, 'u')
const UNSAFE_CHARS = new RegExp(UNSAFE_CLASS, 'gu')

/** Each unsafe character as a visible \uXXXX escape. */
export function escapeUnsafe(text: string): string {
  return text.replace(UNSAFE_CHARS, (ch) => `\\u${ch.codePointAt(0)!.toString(16).padStart(4, '0')}`)
}

/** A value for messages: JSON-quoted, control characters shown as escapes (they cannot end a line). */
export function displayValue(value: string): string {
  return escapeUnsafe(JSON.stringify(value))
}

function checkNoNul(value: string, what: string): void {
  if (value.includes('\u0000')) throw new UsageError(`${what} must not contain a NUL character`)
}

/** Refuses names PostgreSQL would mangle or that could break out of a comment or line. */
export function checkName(name: string, what = 'identifier'): void {
  checkNoNul(name, what)
  if (name.length === 0) throw new UsageError(`${what} must not be empty`)
  const bad = UNSAFE_CHAR.exec(name)
  if (bad) {
    const code = `U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`
    throw new UsageError(`${what} ${displayValue(name)} contains a control or formatting character (${code}); such names are refused`, {
      hint: 'rename the object, or check how the name was typed or generated',
    })
  }
  if (Buffer.byteLength(name, 'utf8') > MAX_IDENT_BYTES) {
    throw new UsageError(`${what} ${displayValue(name)} is longer than ${MAX_IDENT_BYTES} bytes (PostgreSQL would truncate it)`)
  }
}

/** "name" with embedded quotes doubled. Always quotes, so case and odd characters survive. */
export function quoteIdent(name: string, what = 'identifier'): string {
  checkName(name, what)
  return `"${name.replaceAll('"', '""')}"`
}

/**
 * 'text' with embedded quotes doubled; a value holding a backslash becomes E'...' with the backslashes
 * doubled (like PostgreSQL's quote_literal), because a plain '...' literal treats a backslash as an
 * escape when standard_conforming_strings is off — a setting any database owner can choose.
 */
export function quoteLiteral(value: string): string {
  checkNoNul(value, 'string literal')
  const quoted = `'${value.replaceAll("'", "''").replaceAll('\\', '\\\\')}'`
  return value.includes('\\') ? `E${quoted}` : quoted
}

/** 'text'::pg_catalog.text: a literal of a fixed type, so function resolution cannot pick another overload. */
export function textLiteral(value: string): string {
  return `${quoteLiteral(value)}::pg_catalog.text`
}

/** "schema"."table" */
export function qualifiedName(schema: string, table: string): string {
  return `${quoteIdent(schema, 'schema name')}.${quoteIdent(table, 'table name')}`
}

/**
 * A `-- ` comment line. Anything a line break could end (control characters of any kind) is escaped,
 * so text from names or flags can never continue as SQL on the next line.
 */
export function sqlComment(text: string): string {
  return `-- ${escapeUnsafe(text)}`
}

/** A dollar-quote tag ($hessra$, $hessra1$, ...) that does not occur in `body`. */
export function dollarTag(body: string, base = 'hessra'): string {
  for (let i = 0; ; i++) {
    const tag = `$${base}${i === 0 ? '' : i}$`
    if (!body.includes(tag)) return tag
  }
}

/** Password removed from a connection string, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    for (const k of [...u.searchParams.keys()]) if (/pass|token|secret/i.test(k)) u.searchParams.set(k, '***')
    return u.toString()
  } catch {
    return url.replace(/(:\/\/[^:/@]*:)[^@]*@/, '$1***@')
  }
}
