/**
 * `hessra verify`: its argument and flag definitions and what it does once they are parsed. Used by
 * the oclif command (src/commands/verify.ts) and by the fast path (src/cli/fast.ts), so both parse the
 * same definitions with oclif's parser and run the same code. Free of @oclif/core's command machinery
 * on purpose (only its `flags` entry point): see bin/run.js.
 */
import * as Flags from '@oclif/core/flags'
import type {Interfaces} from '@oclif/core'

import {loadConfig, type LoadedConfig} from '../config/index.js'
import {ExitCode, UsageError} from '../errors.js'
import {atFlag, baseFlags, keyFlags, tokenArg, tokenFileFlag} from '../flags.js'
import {formatIdentityVerify, formatVerify} from '../format.js'
import {resolveTokenInput, type TokenInput} from '../input/token.js'
import {isoDate, parseAt} from '../input/time.js'
import {c, ce, printJson, stderr, stdout} from '../output.js'
import {parseServiceChain} from '../service-chain.js'
import {requestedKind, verifyIdentityToken} from '../tokens/identity.js'
import {verdictError, verifyToken, type VerifyResult} from '../tokens/verify.js'

export const verifyArgs = {token: tokenArg}

export const verifyFlags = {
  ...keyFlags,
  'token-file': tokenFileFlag,
  subject: Flags.string({char: 's', description: 'authorization tokens, subject mode: who is asking (omit for capability mode)', helpValue: 'SUBJECT'}),
  resource: Flags.string({char: 'r', description: 'authorization tokens: the resource being accessed (required for them)', helpValue: 'RESOURCE'}),
  operation: Flags.string({char: 'o', description: 'the operation (omit: any operation the token grants on the resource)', helpValue: 'OP'}),
  domain: Flags.string({description: 'domain fact for domain-restricted tokens (default: the configuration\'s domain)', helpValue: 'DOMAIN'}),
  prefix: Flags.string({description: 'the prefix the request acts under: prefix-restricted tokens verify only when it equals their prefix', helpValue: 'PREFIX'}),
  'service-chain': Flags.string({description: 'service chain nodes as JSON [{"component","public_key"}] or @file', helpValue: 'JSON|@FILE'}),
  component: Flags.string({description: 'the component verifying: every node before it in the chain must have attested', helpValue: 'NAME'}),
  at: atFlag('verify at this time instead of now'),
  identity: Flags.string({
    description: 'identity tokens: the identity the token must prove (omit, with no --subject/--resource: bearer mode, its own subject)',
    helpValue: 'ID',
    exclusive: ['subject', 'resource', 'operation', 'prefix', 'service-chain', 'component'],
  }),
  'subject-in-domain': Flags.boolean({description: "identity tokens: the token's subject must belong to --domain (a token minted for that domain)", default: false}),
  leeway: Flags.integer({description: 'tolerated clock skew on time bounds, in seconds (default: the configuration\'s leeway_seconds; an explicit 0 turns it off)', min: 0, helpValue: 'SECONDS'}),
}

export type VerifyFlags = Interfaces.InferredFlags<typeof baseFlags & typeof verifyFlags>
export type VerifyArgs = Interfaces.InferredArgs<typeof verifyArgs>

/** Verifies and prints the result (human, or JSON with --json). Returns the exit code: 0 valid, 1 denied, expired, invalid or revoked. */
export async function runVerify(flags: VerifyFlags, args: VerifyArgs): Promise<ExitCode> {
  const input = await resolveTokenInput({arg: args.token, tokenFile: flags['token-file']})
  const loaded = await loadConfig({configPath: flags.config})
  if (requestedKind(flags, input) === 'identity') return runVerifyIdentity(flags, input, loaded)
  if (flags['subject-in-domain']) throw new UsageError('--subject-in-domain is for identity tokens (with --identity, or bearer mode)')
  const result = verifyToken(input, {
    ...commonOptions(flags, loaded),
    subject: flags.subject ?? null,
    resource: flags.resource ?? '',
    operation: flags.operation ?? null,
    domain: flags.domain ?? null,
    prefix: flags.prefix ?? null,
    serviceChain: flags['service-chain'] ? parseServiceChain(flags['service-chain']) : null,
    component: flags.component ?? null,
  })
  // not a token: an error (exit 3, in the --json error format), as for every malformed input
  if (result.status === 'malformed') throw verdictError(result)
  if (flags.json) {
    printJson({
      valid: result.valid,
      status: result.status,
      reason: result.reason,
      mode: result.mode,
      subject: result.subject,
      resource: result.resource,
      operation: result.operation,
      ...timesAndKeyJson(result),
      exit_code: result.valid ? ExitCode.OK : ExitCode.DENIED,
      failed_checks: result.failedChecks,
      rights: result.rights,
      verified_subject: result.verifiedSubject,
      leeway_seconds: result.leewaySeconds,
      revoked: revokedJson(result),
      token_kind: result.tokenKind ?? 'authorization',
    })
  } else {
    for (const line of formatVerify(result, c())) stdout(line)
    kindHint(result, 'authorization')
  }
  return result.valid ? ExitCode.OK : ExitCode.DENIED
}

/** The options both token kinds take alike from the flags: the key choice, the configuration, time and leeway. */
function commonOptions(flags: VerifyFlags, loaded: LoadedConfig) {
  return {
    key: flags.key,
    keyId: flags['key-id'],
    config: loaded,
    at: flags.at === undefined ? undefined : parseAt(flags.at),
    leewaySeconds: flags.leeway ?? null,
  }
}

/** The --json fields both token kinds report alike (in this order): the times and the key. */
function timesAndKeyJson(result: Pick<VerifyResult, 'checkedAt' | 'expiresAt' | 'rootKeyId' | 'key'>) {
  return {
    checked_at: result.checkedAt,
    expires_at: result.expiresAt,
    expires_at_rfc3339: result.expiresAt === null ? null : isoDate(result.expiresAt),
    root_key_id: result.rootKeyId,
    key: result.key,
  }
}

/** The --json `revoked` field: the first revoked block and its id, or null. */
function revokedJson(result: Pick<VerifyResult, 'revoked'>) {
  return result.revoked ? {block: result.revoked.block, revocation_id: result.revoked.revocationId} : null
}

// ---- identity tokens --------------------------------------------------------------------------

/** Verifies an identity token (chosen by requestedKind: --identity, or bearer mode) and prints the result. */
async function runVerifyIdentity(flags: VerifyFlags, input: TokenInput, loaded: LoadedConfig): Promise<ExitCode> {
  const result = verifyIdentityToken(input, {
    ...commonOptions(flags, loaded),
    identity: flags.identity ?? null,
    domain: flags.domain ?? null,
    subjectInDomain: flags['subject-in-domain'],
  })
  if (result.status === 'malformed') throw verdictError(result)
  if (flags.json) {
    printJson({
      valid: result.valid,
      status: result.status,
      reason: result.reason,
      token_kind: result.tokenKind ?? 'identity',
      mode: result.mode,
      identity: result.identity,
      domain: result.domain,
      verified_identity: result.verifiedIdentity,
      ...timesAndKeyJson(result),
      revoked: revokedJson(result),
      exit_code: result.valid ? ExitCode.OK : ExitCode.DENIED,
      failed_checks: result.failedChecks,
      leeway_seconds: result.leewaySeconds,
    })
  } else {
    for (const line of formatIdentityVerify(result, c())) stdout(line)
    kindHint(result, 'identity')
  }
  return result.valid ? ExitCode.OK : ExitCode.DENIED
}

/** The flags for each kind of token, for a token verified as the other kind (the engine said which it is). */
const KIND_FLAGS: Record<string, string> = {
  identity: 'verify it with `--identity ID`, or with none of --identity, --subject and --resource (bearer mode)',
  authorization: 'verify it with `--subject S --resource R [--operation O]` (or --resource alone: capability mode)',
}

/** A hint on stderr when a refused token is of another kind than it was verified as. */
function kindHint(result: Pick<VerifyResult, 'valid' | 'tokenKind'>, verifiedAs: 'identity' | 'authorization'): void {
  if (result.valid || !result.tokenKind || result.tokenKind === verifiedAs || !(result.tokenKind in KIND_FLAGS)) return
  stderr(`${ce().dim('hint')}: this is an ${result.tokenKind} token: ${KIND_FLAGS[result.tokenKind]}`)
}
