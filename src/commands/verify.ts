import {BaseCommand} from '../base-command.js'
import {runVerify, verifyArgs, verifyFlags} from '../cli/verify.js'
import {ExitCode} from '../errors.js'

// Flags, arguments and the work itself live in src/cli/verify.ts, shared with the fast path in bin/run.js.

export default class Verify extends BaseCommand<typeof Verify> {
  static override summary = 'Verify a Hessra token (authorization or identity): signatures, rights or identity, expiry, service chain'
  static override description = `Checks the token's signatures with the root public key, then runs the Hessra rules: the token must grant SUBJECT the OPERATION on RESOURCE and every check (expiry, domain, service chain) must pass. With --subject that is subject mode; without --subject the token is checked in capability mode (whoever holds it); without --operation any operation the token grants on the resource is accepted.

Identity tokens (see \`hessra identity mint\`): --identity ID checks that the token proves ID (the actor); its delegation blocks narrow it, so a token delegated to alice:laptop proves neither alice nor alice:phone. With none of --identity, --subject and --resource an identity token is checked in bearer mode (its own subject; a delegated token does not pass that way). --domain supplies the domain of domain-restricted tokens; --subject-in-domain also requires the token to be minted for it.

The key is --key, else --key-id, else HESSRA_PUBLIC_KEY, else the configuration (by the token's root key id, then default_key). Exit status: 0 valid · 1 denied, invalid (bad signature) or expired · 2 usage · 3 malformed token or key · 4 configuration · 5 environment.`

  static override examples = [
    {description: 'Subject mode: may alice read documents?', command: '<%= config.bin %> <%= command.id %> "$TOKEN" --key root.pub --subject alice --resource documents --operation read'},
    {description: 'Capability mode, token from stdin, key id from the configuration', command: 'echo "$TOKEN" | <%= config.bin %> <%= command.id %> - --key-id prod --resource documents --operation read'},
    {description: 'As a script would: JSON on stdout, exit code kept', command: '<%= config.bin %> <%= command.id %> --token-file token.txt --key root.pub --subject alice --resource documents --json'},
    {description: 'Check how it looked yesterday, with 30 s of clock skew tolerated', command: '<%= config.bin %> <%= command.id %> "$TOKEN" --subject alice --resource documents --at 2026-01-31T12:00:00Z --leeway 30'},
    {description: 'Identity token: does it prove urn:hessra:alice:laptop?', command: '<%= config.bin %> <%= command.id %> "$ID_TOKEN" --key root.pub --identity urn:hessra:alice:laptop'},
    {description: 'Service chain: has every node before payment_service attested?', command: '<%= config.bin %> <%= command.id %> "$TOKEN" --subject alice --resource orders --service-chain @chain.json --component payment_service'},
  ]

  // Written out: oclif's generated line grouped --identity's exclusive flags as `[--identity ID | -s
  // SUBJECT | -r RESOURCE | -o OP | …]`, which read as if subject, resource and operation excluded each other.
  static override usage = [
    '<%= command.id %> [TOKEN] [-s SUBJECT] -r RESOURCE [-o OP] [--domain DOMAIN] [--prefix PREFIX] [--service-chain JSON|@FILE --component NAME] [-k KEY|FILE | --key-id ID] [--token-file PATH] [--at TIME] [--leeway SECONDS] [--json] [--config PATH]',
    '<%= command.id %> [TOKEN] [--identity ID] [--domain DOMAIN] [--subject-in-domain] [-k KEY|FILE | --key-id ID] [--token-file PATH] [--at TIME] [--leeway SECONDS] [--json] [--config PATH]',
  ]

  static override args = verifyArgs

  static override flags = verifyFlags

  async run(): Promise<void> {
    const code = await runVerify(this.flags, this.args)
    if (code !== ExitCode.OK) this.setExitCode(code)
  }
}
