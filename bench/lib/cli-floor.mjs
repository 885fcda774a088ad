// Diagnostic for the CLI figures: the least a `hessra verify` process has to do — start node, load
// the koffi binding and the native library, verify, print one line — without oclif, cosmiconfig or
// chalk. Usage: node bench/lib/cli-floor.mjs TOKEN KEY SUBJECT RESOURCE OPERATION
const {PublicKey, Token} = await import(new URL('../../dist/native/binding.js', import.meta.url).href)
const [token, key, subject, resource, operation] = process.argv.slice(2)
const t = Token.parse(token)
const r = t.verifyRequest(PublicKey.fromString(key), {subject, resource, operation})
process.stdout.write(r.code === 0 ? `valid ${subject} ${operation} ${resource}\n` : `invalid: ${r.message}\n`)
process.exitCode = r.code === 0 ? 0 : 1
