/**
 * Finding and loading libhessra_ffi, and binding its functions (one by one, on first use, so a
 * partially implemented library still serves what it exports).
 *
 * The library is loaded lazily from $HESSRA_FFI_LIB when set, else from the first of these that
 * loads: the engine prebuilt for this platform that a packaged release ships
 * (<package root>/prebuilt/<platform>/, see platformTag()), then a local build
 * (<package root>/native/target/release/).
 */
import koffi from 'koffi'
import {existsSync} from 'node:fs'
import {dirname, isAbsolute, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

import {ExitCode, HessraError, NativeLibraryMissingError} from '../errors.js'
import {PROTOTYPES, type FnName, type NativeFn} from './prototypes.js'

/** The package root (the folder holding package.json), from dist/native/ or src/native/. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'native'))) return dir
    const up = dirname(dir)
    if (up === dir) break
    dir = up
  }
  // dist/native/library.js -> two levels up
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
}

function libraryFileName(): string {
  if (process.platform === 'darwin') return 'libhessra_ffi.dylib'
  if (process.platform === 'win32') return 'hessra_ffi.dll'
  return 'libhessra_ffi.so'
}

/**
 * This platform as named under prebuilt/: `<os>-<arch>`, plus `-gnu` or `-musl` on Linux, since a
 * library built against glibc does not load on musl. `npm run package` (scripts/package.sh) names
 * what it ships the same way.
 */
export function platformTag(): string {
  const base = `${process.platform}-${process.arch}`
  if (process.platform !== 'linux') return base
  const header = (process.report?.getReport() as {header?: {glibcVersionRuntime?: string}} | undefined)?.header
  return `${base}-${header?.glibcVersionRuntime ? 'gnu' : 'musl'}`
}

/** The engine shipped prebuilt for this platform (a packaged release), else null. */
function prebuiltDir(root = packageRoot()): string | null {
  const dir = join(root, 'prebuilt', platformTag())
  return existsSync(dir) ? dir : null
}

function localBuildDir(root = packageRoot()): string {
  return join(root, 'native', 'target', 'release')
}

/** The libraries to try, in order: $HESSRA_FFI_LIB alone when set, else the prebuilt one, then a local build. */
function libraryCandidates(): string[] {
  const env = process.env.HESSRA_FFI_LIB
  if (env && env.trim() !== '') return [isAbsolute(env) ? env : resolve(process.cwd(), env)]
  const prebuilt = prebuiltDir()
  return [...(prebuilt ? [join(prebuilt, libraryFileName())] : []), join(localBuildDir(), libraryFileName())]
}

/** The native library in use (once loaded), else the first candidate that exists, else the local build's path. */
export function libraryPath(): string {
  if (libPath) return libPath
  const candidates = libraryCandidates()
  return candidates.find((c) => existsSync(c)) ?? candidates.at(-1)!
}

/**
 * The engine's static library and the folder holding its header, for building the PostgreSQL
 * extension (pg-plugin/Makefile's NATIVE_LIB and NATIVE_DIR): the prebuilt one when this platform
 * has it, else the local build's (which `make` builds with cargo when missing).
 */
export function engineStaticLibrary(root = packageRoot()): {path: string; prebuilt: boolean} {
  const prebuilt = prebuiltDir(root)
  if (prebuilt && existsSync(join(prebuilt, 'libhessra_ffi.a'))) return {path: join(prebuilt, 'libhessra_ffi.a'), prebuilt: true}
  return {path: join(localBuildDir(root), 'libhessra_ffi.a'), prebuilt: false}
}

/** What to do when no library loads: how to build one from the sources shipped in the package. */
function buildHint(): string {
  const root = packageRoot()
  const prebuilt = prebuiltDir(root)
  const chosen = process.env.HESSRA_FFI_LIB?.trim()
  if (chosen && prebuilt) return `unset HESSRA_FFI_LIB to use the engine this package ships for ${platformTag()} (${join(prebuilt, libraryFileName())}), or point it at a libhessra_ffi that loads`
  const shipped = prebuilt
    ? ` (the engine this package ships for ${platformTag()} did not load)`
    : existsSync(join(root, 'prebuilt'))
      ? ` (this package ships a prebuilt engine only for other platforms than ${platformTag()})`
      : ''
  return (
    `build the engine from source${shipped}: \`cd ${root} && npm run build:native\` ` +
    '(needs Rust/cargo, a C compiler, libssl-dev and libpcre2-dev; see README "Install"), ' +
    'or set HESSRA_FFI_LIB to a libhessra_ffi built elsewhere'
  )
}

let lib: koffi.IKoffiLib | undefined
let libPath: string | undefined
let loadError: NativeLibraryMissingError | undefined
const bound = new Map<FnName, NativeFn>()

function library(): koffi.IKoffiLib {
  if (lib) return lib
  if (loadError) throw loadError
  const candidates = libraryCandidates()
  const failures: string[] = []
  const failed = (path: string, reason: string) => failures.push(candidates.length > 1 ? `${path}: ${reason}` : reason)
  for (const path of candidates) {
    if (!existsSync(path)) {
      failed(path, 'file not found')
      continue
    }
    try {
      lib = koffi.load(path)
      libPath = path
      return lib
    } catch (error) {
      // e.g. a prebuilt library needing a newer glibc: a local build may still do
      failed(path, error instanceof Error ? error.message.split('\n')[0] : String(error))
    }
  }
  loadError = new NativeLibraryMissingError(libraryPath(), failures.join('; '), buildHint())
  throw loadError
}

export function fn(name: FnName): NativeFn {
  let f = bound.get(name)
  if (f) return f
  const l = library()
  try {
    f = l.func(PROTOTYPES[name]) as NativeFn
  } catch {
    throw new HessraError('native_library_missing', ExitCode.ENVIRONMENT, `the hessra native library at ${libraryPath()} does not provide ${name}`, {
      hint: 'it is older than this CLI: rebuild it with `npm run build:native`',
    })
  }
  bound.set(name, f)
  return f
}

/**
 * A C function bound with its prototype, called with raw arguments (handles as `.ptr`). Only for
 * callers that must measure or exercise the ABI itself (bench/); everything else uses the typed API.
 */
export function rawFunction(name: FnName): NativeFn {
  return fn(name)
}

/** True when the library loads (used by tests and `hessra --version`). */
export function isAvailable(): boolean {
  try {
    library()
    return true
  } catch {
    return false
  }
}

export function version(): string {
  return fn('hessra_version')() as string
}
