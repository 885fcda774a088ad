// Profiling driver (not part of `npm run bench`): loops one verification path for 6 s so that
// `perf record -g node bench/profile.mjs MODE [ALG] [BLOCKS]` sees where the time goes.
//   MODE: uncached (parse + verify_request + free) | held (hessra_token_verify_with_config on a held
//         handle, cache hits) | string (hessra_config_verify_token_string, cache hits)
//   ALG: ed25519 | secp256r1 (default ed25519); BLOCKS: 1..4 (default 4)
import {loadNative} from './lib/native.mjs'

const {binding, raw} = await loadNative()
const mode = process.argv[2], alg = process.argv[3] ?? 'ed25519', blocks = Number(process.argv[4] ?? 4)
const kp = binding.KeyPair.generate(alg); const pk = kp.publicKey()
const exp = Math.floor(Date.now()/1000)+3600
let text = binding.mintHessraToken(kp, {subject:'alice', resource:'res1', operation:'read', expiresAt: exp})
const att = ['check if operation($o), $o == "read" || $o == "write";','check if resource($r), $r.starts_with("res");',`check if time($t), $t < ${exp};`]
for (const b of att.slice(0, blocks-1)) { const t = binding.Token.parse(text); text = t.attenuate(pk, b); t.dispose() }
const req = {subject:'alice', resource:'res1', operation:'read', domain:null, prefix:null, now:0, leeway_seconds:0, service_chain_json:null, component:null}
const out=[null]
const cfg = binding.Config.fromString(JSON.stringify({version:1, default_key:'k', keys:[{id:'k', public_key: pk.toText()}]}))
const held = binding.Token.parse(text)
const t0 = Date.now(); let n = 0
while (Date.now() - t0 < 6000) {
  for (let i = 0; i < 100; i++) {
    if (mode === 'uncached') { raw.parse(text, out); raw.verifyRequest(out[0], pk.ptr, req, null); raw.free(out[0]) }
    else if (mode === 'held') raw.verifyWithConfig(held.ptr, cfg.ptr, req, null)
    else raw.configVerifyString(cfg.ptr, text, req, null)
  }
  n += 100
}
console.log(mode, alg, blocks, (6000e3/n).toFixed(2), 'us/op (wall)')
