/**
 * Progress on stderr: a spinner per step on a TTY, one line per step otherwise (logs, CI). Never stdout,
 * so `URL=$(hessra pg sandbox start)` and --json keep working.
 */
import {ce} from '../output.js'

export interface Progress {
  /** Runs one step, showing it as in progress, then done (or failed). */
  step<T>(title: string, fn: (update: (detail: string) => void) => Promise<T>): Promise<T>
  /** A line of information (dimmed). */
  info(text: string): void
  warn(text: string): void
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']

export function createProgress(opts: {quiet?: boolean; stream?: NodeJS.WriteStream} = {}): Progress {
  const stream = opts.stream ?? process.stderr
  const quiet = opts.quiet ?? false
  const tty = Boolean(stream.isTTY) && process.env.TERM !== 'dumb' && !process.env.CI
  const e = ce()
  const write = (s: string) => {
    if (!quiet) stream.write(s)
  }
  return {
    async step(title, fn) {
      const started = Date.now()
      let detail = ''
      let frame = 0
      let timer: NodeJS.Timeout | undefined
      const render = () => {
        const d = detail ? e.dim(` ${detail.slice(0, Math.max(0, (stream.columns ?? 80) - title.length - 8))}`) : ''
        write(`\r\u001B[2K${e.cyan(FRAMES[frame++ % FRAMES.length])} ${title}${d}`)
      }
      let slow: NodeJS.Timeout | undefined
      if (tty && !quiet) {
        render()
        timer = setInterval(render, 100)
      } else {
        // logs: one line per step; a slow step also says it started, so a long build is not silent
        slow = setTimeout(() => write(`${e.dim('…')} ${title}\n`), 2000)
      }
      const update = (d: string) => {
        const line = d.split('\n').map((l) => l.trim()).filter(Boolean).pop()
        if (line) detail = line
      }
      const secs = () => {
        const s = (Date.now() - started) / 1000
        return s >= 1 ? e.dim(` (${s.toFixed(1)}s)`) : ''
      }
      try {
        const result = await fn(update)
        if (timer) clearInterval(timer)
        if (slow) clearTimeout(slow)
        write(`${tty ? '\r\u001B[2K' : ''}${e.green('✔')} ${title}${secs()}\n`)
        return result
      } catch (error) {
        if (timer) clearInterval(timer)
        if (slow) clearTimeout(slow)
        write(`${tty ? '\r\u001B[2K' : ''}${e.red('✖')} ${title}${secs()}\n`)
        throw error
      }
    },
    info(text) {
      write(`${e.dim(text)}\n`)
    },
    warn(text) {
      write(`${e.yellow('warning')}: ${text}\n`)
    },
  }
}

/** A Progress that records what happened (tests, --json). */
export function recordingProgress(): Progress & {lines: string[]} {
  const lines: string[] = []
  return {
    lines,
    async step(title, fn) {
      lines.push(`step: ${title}`)
      return fn(() => {})
    },
    info(text) {
      lines.push(`info: ${text}`)
    },
    warn(text) {
      lines.push(`warn: ${text}`)
    },
  }
}
