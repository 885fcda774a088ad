/** Root help with real examples (oclif's root help has none). */
import {Help} from '@oclif/core'

const EXAMPLES = [
  ['Verify a token for alice reading documents (exit 0 valid, 1 denied/expired, 3 malformed)', 'hessra verify "$TOKEN" --key ed25519/3b6a27bc... --subject alice --resource documents --operation read'],
  ['Same, key from the configuration, token from a file, JSON for scripts', 'hessra verify --token-file token.txt --subject alice --resource documents --json'],
  ['Look inside a token without a key (signatures NOT checked)', 'hessra inspect "$TOKEN"'],
  ['Make a dev key pair and trust its public key', 'hessra keys generate --out root.pem --id dev --add'],
  ['Mint a token valid for 5 minutes', 'T=$(hessra token mint --private-key root.pem --subject alice --resource documents --operation read --ttl 5m)'],
  ['General Biscuit authorization with Datalog', 'echo \'allow if right("alice", "documents", "read");\' | hessra authorize "$T" --key-id dev --authorizer -'],
]

export default class HessraHelp extends Help {
  protected override async showRootHelp(): Promise<void> {
    await super.showRootHelp()
    const lines = ['', this.bold('EXAMPLES')]
    for (const [desc, cmd] of EXAMPLES) lines.push(`  ${this.dim(desc)}`, `    $ ${cmd}`, '')
    lines.push(this.bold('EXIT CODES'), '  0 ok · 1 denied, invalid or expired token · 2 usage · 3 malformed input · 4 configuration · 5 environment', '')
    this.log(lines.join('\n'))
  }

  private bold(s: string): string {
    return process.stdout.isTTY && !process.env.NO_COLOR ? `\u001B[1m${s}\u001B[22m` : s
  }

  private dim(s: string): string {
    return process.stdout.isTTY && !process.env.NO_COLOR ? `\u001B[2m${s}\u001B[22m` : s
  }
}
