import {strict as assert} from 'node:assert'

import {
  ConfigError,
  DeniedError,
  errorFromNative,
  exitCodeFor,
  ExpiredError,
  InputError,
  InternalError,
  InvalidKeyError,
  InvalidTokenError,
  IoError,
  LimitExceededError,
  NativeCode,
  NativeLibraryMissingError,
  RevokedError,
  UsageError,
} from '../../src/errors.js'

describe('error mapping', () => {
  it('maps native codes to typed errors and exit codes', () => {
    const cases: [number, abstract new (...args: never[]) => Error, number][] = [
      [NativeCode.INVALID_TOKEN, InvalidTokenError, 3],
      [NativeCode.INVALID_KEY, InvalidKeyError, 3],
      [NativeCode.VERIFICATION_FAILED, DeniedError, 1],
      [NativeCode.CONFIG_INVALID, ConfigError, 4],
      [NativeCode.IO, IoError, 3],
      [NativeCode.INVALID_PARAMETER, InputError, 3],
      [NativeCode.EXPIRED, ExpiredError, 1],
      [NativeCode.LIMIT_EXCEEDED, LimitExceededError, 1],
      [NativeCode.REVOKED, RevokedError, 1],
      [NativeCode.INTERNAL, InternalError, 5],
      [12_345, InternalError, 5],
    ]
    for (const [code, cls, exit] of cases) {
      const e = errorFromNative(code, 'msg')
      assert.ok(e instanceof cls, `${code} -> ${e.constructor.name}`)
      assert.equal(exitCodeFor(e), exit, `exit code for native ${code}`)
    }
  })

  it('maps CLI errors to exit codes', () => {
    assert.equal(exitCodeFor(new UsageError('x')), 2)
    assert.equal(exitCodeFor(new ConfigError('x')), 4)
    assert.equal(exitCodeFor(new NativeLibraryMissingError('/x.so', 'file not found')), 5)
    // oclif parse errors, by name
    class RequiredArgsError extends Error {}
    class NonExistentFlagsError extends Error {}
    assert.equal(exitCodeFor(new RequiredArgsError('x')), 2)
    assert.equal(exitCodeFor(new NonExistentFlagsError('x')), 2)
    assert.equal(exitCodeFor(Object.assign(new Error('exit'), {code: 'EEXIT', oclif: {exit: 0}})), 0)
    assert.equal(exitCodeFor(new Error('surprise')), 5)
  })

  it('missing library message says what to run', () => {
    const e = new NativeLibraryMissingError('/x/libhessra_ffi.so', 'file not found')
    assert.match(e.message, /libhessra_ffi\.so/)
    assert.match(e.hint ?? '', /npm run build:native/)
    assert.match(e.hint ?? '', /HESSRA_FFI_LIB/)
    assert.equal(new NativeLibraryMissingError('/x.so', 'file not found', 'do this').hint, 'do this')
  })
})
