import {strict as assert} from 'node:assert'

import {UsageError} from '../../src/errors.js'
import {isoDate, parseAt, parseDuration, parseRfc3339, parseTtl, relativeTime} from '../../src/input/time.js'

describe('times and durations', () => {
  it('--at accepts unix seconds and RFC 3339', () => {
    assert.equal(parseAt('1764151200'), 1_764_151_200)
    assert.equal(parseAt('2025-11-26T10:00:00Z'), 1_764_151_200)
    assert.equal(parseAt('2025-11-26T11:00:00+01:00'), 1_764_151_200)
    assert.equal(parseAt('2025-11-26T10:00:00.750Z'), 1_764_151_200)
    assert.throws(() => parseAt('yesterday'), UsageError)
    assert.throws(() => parseAt('2025-13-01T00:00:00Z'), UsageError)
    assert.equal(parseRfc3339('2025-11-26'), undefined)
  })

  it('--at accepts now and times relative to now, like --ttl', () => {
    assert.equal(parseAt('now', 10_000), 10_000)
    assert.equal(parseAt('-30m', 10_000), 8200)
    assert.equal(parseAt('+1h', 10_000), 13_600)
    assert.equal(parseAt('-1h30m', 10_000), 4600)
    assert.throws(() => parseAt('-3h', 10_000), UsageError)
    assert.throws(() => parseAt('+soon', 10_000), UsageError)
    assert.equal(parseTtl('+5m', 1000), 1300)
  })

  it('durations', () => {
    assert.equal(parseDuration('90s'), 90)
    assert.equal(parseDuration('5m'), 300)
    assert.equal(parseDuration('1h30m'), 5400)
    assert.equal(parseDuration('2d'), 172_800)
    assert.equal(parseDuration('300'), 300)
    assert.equal(parseDuration('5 minutes'), undefined)
    assert.equal(parseDuration('m'), undefined)
  })

  it('--ttl: duration from now or an absolute time', () => {
    assert.equal(parseTtl('5m', 1000), 1300)
    assert.equal(parseTtl('2025-11-26T10:00:00Z', 1000), 1_764_151_200)
    assert.throws(() => parseTtl('0s', 1000), UsageError)
    assert.throws(() => parseTtl('soon', 1000), UsageError)
  })

  it('formats dates and relative times', () => {
    assert.equal(isoDate(1_764_151_200), '2025-11-26T10:00:00Z')
    // Time bounds are i64 seconds in a token (2 ** 63 is i64::MAX as a double); most lie beyond what a JS Date holds.
    assert.equal(isoDate(2 ** 63), 'beyond year 275760')
    assert.equal(isoDate(-(2 ** 63)), 'before year -271821')
    assert.match(relativeTime(2 ** 63, 1_764_151_200), /^in \d+ years$/)
    assert.equal(relativeTime(1000 - 3 * 3600, 1000), '3 hours ago')
    assert.equal(relativeTime(1000 + 300, 1000), 'in 5 minutes')
    assert.equal(relativeTime(1000 - 1, 1000), 'just now')
    assert.equal(relativeTime(1000 - 86_400, 1000), '1 day ago')
  })
})
