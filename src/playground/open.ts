/**
 * Opening the playground in the user's browser without putting the secret URL on a command line:
 * every local user can read a process's arguments (/proc/PID/cmdline), so xdg-open (and the browser
 * it starts) is given a private file that redirects to the URL instead, as Jupyter does.
 */
import {spawn} from 'node:child_process'
import {accessSync, constants, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {delimiter, join} from 'node:path'

/** The path of an executable on PATH, or null. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue
    const candidate = join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  return null
}

/** The launcher page: a redirect, readable only by the user (its directory is 0700, the file 0600). */
export function writeLauncher(url: string): {file: string; remove(): void} {
  const dir = mkdtempSync(join(tmpdir(), 'hessra-playground-'))
  const file = join(dir, 'open.html')
  const escaped = url.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;')
  writeFileSync(file, `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${escaped}"><title>hessra playground</title>\n`, {mode: 0o600})
  return {file, remove: () => rmSync(dir, {recursive: true, force: true})}
}

/**
 * Opens the URL with xdg-open when it is installed; false when it is not (the caller prints the URL,
 * which it does anyway). A browser that fails to start is not the server's failure: errors are ignored.
 */
export function openInBrowser(url: string, env: NodeJS.ProcessEnv = process.env): {opened: boolean; cleanup(): void} {
  const xdgOpen = findOnPath('xdg-open', env)
  if (!xdgOpen) return {opened: false, cleanup: () => {}}
  const launcher = writeLauncher(url)
  try {
    const child = spawn(xdgOpen, [launcher.file], {stdio: 'ignore', detached: true})
    child.on('error', () => {})
    child.unref()
  } catch {
    launcher.remove()
    return {opened: false, cleanup: () => {}}
  }
  return {opened: true, cleanup: () => launcher.remove()}
}
