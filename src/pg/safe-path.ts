/**
 * Paths the CLI may rely on when it runs as root: the sandbox directory, its state file, and the programs
 * that state names. A path is trusted when nobody but the caller (or root) can change it: it and every
 * directory above it is owned by root or the caller and is not writable by group or others — except a
 * sticky directory such as /tmp, where others cannot rename or remove what the caller owns.
 *
 * Files written inside a sandbox directory (which, when we are root, belongs to the server's OS user) are
 * opened with O_NOFOLLOW, so a symbolic link planted there cannot redirect a write or a read.
 */
import {closeSync, constants, existsSync, fchownSync, fstatSync, lstatSync, openSync, readFileSync, realpathSync, statSync, writeSync, type Stats} from 'node:fs'
import {basename, dirname, join} from 'node:path'

import {EnvironmentError} from '../errors.js'

/** The caller's uid; null where there are no uids (Windows), where these checks do not apply. */
export function callerUid(): number | null {
  return typeof process.getuid === 'function' ? process.getuid() : null
}

const mode = (st: Stats) => (st.mode & 0o7777).toString(8).padStart(4, '0')
const writableByOthers = (st: Stats) => (st.mode & 0o022) !== 0

/** The first directory from `dir` up to / that someone other than `trusted` could change, and why. */
export function unsafeAncestor(dir: string, trusted: ReadonlySet<number>): string | null {
  for (let d = dir; ; d = dirname(d)) {
    const st = statSync(d)
    if (!trusted.has(st.uid)) return `${d} is owned by uid ${st.uid} (neither root nor you)`
    if (writableByOthers(st) && (st.mode & 0o1000) === 0) return `${d} is writable by group or others (mode ${mode(st)})`
    if (dirname(d) === d) return null
  }
}

/** `path` with symbolic links resolved for the part that exists (the rest appended as given). */
export function realPathOf(path: string): string {
  const rest: string[] = []
  let p = path
  while (!existsSync(p)) {
    if (dirname(p) === p) break
    rest.unshift(basename(p))
    p = dirname(p)
  }
  return join(realpathSync(p), ...rest)
}

/**
 * The directory's real path, after checking that only the caller (or `alsoOwner`, the server's OS user
 * when we are root) controls it: owned by one of them, not writable by group/others, every directory above
 * it trusted. A directory that does not exist yet is fine when the part of the path that exists is trusted.
 */
export function checkPrivateDir(dir: string, opts: {alsoOwner?: number; what: string; hint: string}): string {
  const uid = callerUid()
  const real = realPathOf(dir)
  if (uid === null) return real
  const trusted = new Set([0, uid])
  const refuse = (problem: string) => new EnvironmentError(`refusing to use ${opts.what} ${real}: ${problem}`, {hint: opts.hint})
  let existing = real
  if (existsSync(real)) {
    const st = lstatSync(real)
    if (!st.isDirectory()) throw refuse('it is not a directory')
    if (st.uid !== uid && st.uid !== opts.alsoOwner) throw refuse(`it is owned by uid ${st.uid}, not by you (uid ${uid})`)
    if (writableByOthers(st)) throw refuse(`it is writable by group or others (mode ${mode(st)})`)
    existing = dirname(real)
  } else {
    while (!existsSync(existing)) existing = dirname(existing)
  }
  const problem = unsafeAncestor(existing, trusted)
  if (problem) throw refuse(`${problem}, so another user could replace it`)
  return real
}

/** Refuses a file only the caller should have written: a symbolic link, not regular, another owner, writable by others. */
export function checkOwnFile(path: string, what: string): void {
  const uid = callerUid()
  if (uid === null) return
  const st = lstatSync(path)
  const refuse = (problem: string) =>
    new EnvironmentError(`refusing to read ${what} ${path}: ${problem}`, {hint: `remove it if you did not create it; only a file you own and nobody else can write is trusted`})
  if (st.isSymbolicLink()) throw refuse('it is a symbolic link')
  if (!st.isFile()) throw refuse('it is not a regular file')
  if (st.uid !== uid) throw refuse(`it is owned by uid ${st.uid}, not by you (uid ${uid})`)
  if (writableByOthers(st)) throw refuse(`it is writable by group or others (mode ${mode(st)})`)
}

/**
 * The program's real path, after checking nobody but root or the caller could have changed it (the
 * file and every directory above it). `origin` says where the path came from, for the message.
 */
export function checkTrustedProgram(path: string, origin: string): string {
  const uid = callerUid()
  let real: string
  try {
    real = realpathSync(path)
  } catch (error) {
    throw new EnvironmentError(`${path} (from ${origin}) cannot be used: ${(error as {code?: string}).code ?? 'error'}`)
  }
  if (uid === null) return real
  const trusted = new Set([0, uid])
  const st = statSync(real)
  const refuse = (problem: string) =>
    new EnvironmentError(`refusing to run ${real} (from ${origin}): ${problem}`, {hint: 'pass --pg-config PATH to choose the PostgreSQL installation explicitly'})
  if (!st.isFile()) throw refuse('it is not a regular file')
  if (!trusted.has(st.uid)) throw refuse(`it is owned by uid ${st.uid} (neither root nor you)`)
  if (writableByOthers(st)) throw refuse(`it is writable by group or others (mode ${mode(st)})`)
  const problem = unsafeAncestor(dirname(real), trusted)
  if (problem) throw refuse(`${problem}, so another user could replace it`)
  return real
}

/** Writes (or appends to) a file without following a symbolic link; chowns the open file when asked. */
export function writeFileNoFollow(path: string, text: string, opts: {mode: number; owner?: {uid: number; gid: number}; append?: boolean}): void {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | (opts.append ? constants.O_APPEND : constants.O_TRUNC)
  const fd = openSync(path, flags, opts.mode)
  try {
    if (!fstatSync(fd).isFile()) throw new EnvironmentError(`${path} is not a regular file`)
    if (opts.owner) fchownSync(fd, opts.owner.uid, opts.owner.gid)
    writeSync(fd, text)
  } finally {
    closeSync(fd)
  }
}

/** Reads a file without following a symbolic link. */
export function readFileNoFollow(path: string): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  try {
    if (!fstatSync(fd).isFile()) throw new EnvironmentError(`${path} is not a regular file`)
    return readFileSync(fd, 'utf8')
  } finally {
    closeSync(fd)
  }
}
