import {strict as assert} from 'node:assert'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {HessraError, InputError, UsageError} from '../../src/errors.js'
import {classifyTokenBytes, normalizeTokenText, resolveTokenInput} from '../../src/input/token.js'
import {tempDir} from '../helpers.js'

const TOKEN = 'En0KEwoEMTIzNBgDIgkKBwgKEgMYgAgSJAgAEiBw-OKb0w_sCKGYXFsLOiYwxNpXBVL9ZtPrS9DKwXFvKhpA'
const noStdin = {readStdin: async () => new Uint8Array(), stdinIsPiped: () => false, env: {}}

describe('token input', () => {
  it('strips whitespace, newlines and a Bearer prefix', () => {
    assert.equal(normalizeTokenText(`  Bearer ${TOKEN}\n`), TOKEN)
    assert.equal(normalizeTokenText(`bearer\t${TOKEN.slice(0, 10)}\n  ${TOKEN.slice(10)}\r\n`), TOKEN)
    assert.equal(normalizeTokenText(TOKEN), TOKEN)
  })

  it('takes the argument first', async () => {
    const r = await resolveTokenInput({...noStdin, arg: ` ${TOKEN} `, env: {HESSRA_TOKEN: 'other'}})
    assert.deepEqual(r, {kind: 'text', text: TOKEN, source: 'argument'})
  })

  it('reads stdin to the end for `-`', async () => {
    const r = await resolveTokenInput({arg: '-', env: {}, readStdin: async () => Buffer.from(`Bearer ${TOKEN}\n`), stdinIsPiped: () => false})
    assert.deepEqual(r, {kind: 'text', text: TOKEN, source: 'stdin'})
  })

  it('reads --token-file, detecting raw binary', async () => {
    const dir = tempDir()
    const text = join(dir, 't.txt')
    const bin = join(dir, 't.bc')
    writeFileSync(text, `${TOKEN}\n`)
    const bytes = Buffer.from(TOKEN, 'base64url')
    writeFileSync(bin, bytes)
    assert.deepEqual(await resolveTokenInput({...noStdin, tokenFile: text}), {kind: 'text', text: TOKEN, source: 'file'})
    const r = await resolveTokenInput({...noStdin, tokenFile: bin})
    assert.equal(r.kind, 'bytes')
    assert.deepEqual(Buffer.from((r as {bytes: Uint8Array}).bytes), bytes)
  })

  it('falls back to HESSRA_TOKEN, then piped stdin', async () => {
    assert.deepEqual(await resolveTokenInput({...noStdin, env: {HESSRA_TOKEN: ` ${TOKEN}\n`}}), {kind: 'text', text: TOKEN, source: 'env'})
    const piped = await resolveTokenInput({env: {}, stdinIsPiped: () => true, readStdin: async () => Buffer.from(TOKEN)})
    assert.deepEqual(piped, {kind: 'text', text: TOKEN, source: 'stdin'})
  })

  it('is a usage error (exit 2) when no source gives a token', async () => {
    await assert.rejects(resolveTokenInput(noStdin), (e: unknown) => e instanceof UsageError && e.exitCode === 2)
    await assert.rejects(resolveTokenInput({env: {}, stdinIsPiped: () => true, readStdin: async () => Buffer.from('  \n')}), UsageError)
  })

  it('rejects an argument and --token-file together, and empty input', async () => {
    await assert.rejects(resolveTokenInput({...noStdin, arg: TOKEN, tokenFile: 'x'}), UsageError)
    await assert.rejects(resolveTokenInput({...noStdin, arg: '  '}), InputError)
  })

  it('a missing token file is a usage error (exit 2) and the message has no token', async () => {
    await assert.rejects(resolveTokenInput({...noStdin, tokenFile: '/nonexistent/token'}), (e: unknown) => e instanceof HessraError && e.exitCode === 2 && /token file/.test(e.message))
  })

  it('classifies bytes', () => {
    assert.equal(classifyTokenBytes(Buffer.from(TOKEN)).kind, 'text')
    assert.equal(classifyTokenBytes(Buffer.from([0x12, 0x80, 0x01, 0x0a])).kind, 'bytes')
    // printable but not base64, starting with a protobuf tag byte: binary
    assert.equal(classifyTokenBytes(Buffer.from('\u0012 not base64 !!')).kind, 'bytes')
    // printable garbage stays text: the engine reports it as an invalid token
    assert.equal(classifyTokenBytes(Buffer.from('hello world!')).kind, 'text')
  })
})
