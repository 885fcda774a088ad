/**
 * Help rendering: root help with real examples (oclif's has none), and examples everywhere shown the
 * same way: the description, then every command line after `$ ` (also `T=$(hessra ...)` lines and
 * each line of a multi-line example), wrapped at spaces with a ` \` continuation so that a copied
 * example still runs. Colour follows src/output.ts (NO_COLOR, CLICOLOR=0, TERM=dumb, not a terminal).
 */
import {CommandHelp, Help, type Command} from '@oclif/core'

import {colorEnabled} from './output.js'

const EXAMPLES: [string, string][] = [
  ['Make a dev key pair and trust its public key', 'hessra keys generate --out root.pem --id dev --add'],
  ['Mint a token valid for 5 minutes', 'T=$(hessra token mint --private-key root.pem --subject alice --resource documents --operation read --ttl 5m)'],
  ['Verify it for alice reading documents (exit 0 valid, 1 denied/expired, 3 malformed)', 'hessra verify "$T" --subject alice --resource documents --operation read'],
  ['Same, with an explicit key, the token from a file, JSON for scripts', 'hessra verify --token-file token.txt --key root.pub --subject alice --resource documents --json'],
  ['Look inside a token without a key (signatures NOT checked)', 'hessra inspect "$T"'],
  [
    'General Biscuit authorization with your own Datalog (--at now adds the time fact)',
    'echo \'subject("alice"); resource("documents");\' \'operation("read");\' \'allow if right("alice", "documents", "read");\' | hessra authorize "$T" --key-id dev --at now --authorizer -',
  ],
]

/** The root help's examples, for tests that run every example. */
export const ROOT_EXAMPLES: readonly (readonly [string, string])[] = EXAMPLES

/**
 * Greedy word wrap at spaces into lines of at most `width` characters (a longer word stays whole).
 * `shell`: a command line, never broken inside quotes (a ` \` continuation there would be literal).
 */
export function wrapWords(text: string, width: number, shell = false): string[] {
  const words = shell ? (text.match(/(?:[^\s'"]+|'[^']*'|"(?:[^"\\]|\\.)*")+/g) ?? []) : text.split(' ')
  const lines: string[] = []
  let line = ''
  for (const word of words) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else line = line === '' ? word : `${line} ${word}`
  }
  lines.push(line)
  return lines
}

/**
 * One example: the description, a blank line, then each command line as `  $ command`, wrapped at
 * `width` with ` \` continuations indented under it.
 */
export function formatExample(description: string | undefined, command: string, width: number, dim: (s: string) => string = (s) => s): string {
  const out: string[] = []
  if (description) out.push(...wrapWords(description, width).map(dim), '')
  for (const line of command.split('\n')) {
    const wrapped = wrapWords(`$ ${line.trim()}`, Math.max(20, width - 6), true)
    wrapped.forEach((l, i) => out.push(`${i === 0 ? '  ' : '    '}${l}${i < wrapped.length - 1 ? ' \\' : ''}`))
  }
  return out.join('\n')
}

const style = (code: [number, number]) => (s: string) => (colorEnabled(process.stdout) ? `\u001B[${code[0]}m${s}\u001B[${code[1]}m` : s)
const bold = style([1, 22])
const dim = style([2, 22])

class HessraCommandHelp extends CommandHelp {
  protected override examples(examples: Command.Example[] | undefined | string): string | undefined {
    if (!examples || examples.length === 0) return undefined
    const list = typeof examples === 'string' ? [examples] : examples
    // the section is indented by 2 (EXAMPLES body)
    return list
      .map((e) => (typeof e === 'string' ? formatExample(undefined, this.render(e), this.opts.maxWidth - 2) : formatExample(this.render(e.description), this.render(e.command), this.opts.maxWidth - 2, dim)))
      .join('\n\n')
  }
}

export default class HessraHelp extends Help {
  protected override CommandHelpClass = HessraCommandHelp

  /** True while oclif renders a list of commands, which wraps each summary in its column itself. */
  private listing = false

  protected override formatCommands(commands: Command.Loadable[]): string {
    this.listing = true
    try {
      return super.formatCommands(commands)
    } finally {
      this.listing = false
    }
  }

  /**
   * oclif leaves a command's summary unwrapped as the first line of its help, and wraps it in the
   * commands list: wrapped here for the first line only (wrapped twice, the list showed "revocation"
   * then "ids" on a line of its own).
   */
  protected override summary(c: Command.Loadable): string | undefined {
    const text = super.summary(c)
    return text === undefined || this.listing ? text : wrapWords(text, this.opts.maxWidth).join('\n')
  }

  /** oclif leaves the package description (the first line) unwrapped. */
  override formatRoot(): string {
    const [first, ...rest] = super.formatRoot().split('\n')
    return [...wrapWords(first, this.opts.maxWidth), ...rest].join('\n')
  }

  protected override async showRootHelp(): Promise<void> {
    await super.showRootHelp()
    const width = this.opts.maxWidth - 2
    const lines = ['', bold('EXAMPLES')]
    for (const [desc, cmd] of EXAMPLES) lines.push(this.indent(formatExample(desc, cmd, width, dim)), '')
    lines.push(bold('EXIT CODES'), this.indent(wrapWords('0 ok · 1 denied, invalid, expired or revoked token · 2 usage · 3 malformed input · 4 configuration · 5 environment', width).join('\n')), '')
    this.log(lines.join('\n'))
  }
}
