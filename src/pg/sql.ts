/** SQL text helpers: identifier and literal quoting (always quoted, never trusted). */
import {UsageError} from '../errors.js'

/** Max identifier length in bytes (NAMEDATALEN - 1). */
export const MAX_IDENT_BYTES = 63

function checkNoNul(value: string, what: string): void {
  if (value.includes('\u0000')) throw new UsageError(`${what} must not contain a NUL character`)
}

/** "name" with embedded quotes doubled. Always quotes, so case and odd characters survive. */
export function quoteIdent(name: string, what = 'identifier'): string {
  checkNoNul(name, what)
  if (name.length === 0) throw new UsageError(`${what} must not be empty`)
  if (Buffer.byteLength(name, 'utf8') > MAX_IDENT_BYTES) {
    throw new UsageError(`${what} "${name}" is longer than ${MAX_IDENT_BYTES} bytes (PostgreSQL would truncate it)`)
  }
  return `"${name.replaceAll('"', '""')}"`
}

/** 'text' with embedded quotes doubled (standard_conforming_strings). */
export function quoteLiteral(value: string): string {
  checkNoNul(value, 'string literal')
  return `'${value.replaceAll("'", "''")}'`
}

/** "schema"."table" */
export function qualifiedName(schema: string, table: string): string {
  return `${quoteIdent(schema, 'schema name')}.${quoteIdent(table, 'table name')}`
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
