/**
 * The playground's HTTP server (node:http). Security model (docs/DESIGN.md, "Playground"):
 *   - it listens on 127.0.0.1 only;
 *   - every URL starts with /SECRET/, a random per-run secret compared in constant time, so another
 *     local user or a page in the browser cannot reach it without being given the URL;
 *   - the Host header must name the loopback address and port (a DNS-rebinding page sends its own
 *     name), and an Origin header, when sent, must be this server's; a request sending either header
 *     twice is refused (node keeps one of the two, which another hop may read differently);
 *   - at most LIMITS.connections connections at a time, and bounded wall time for a slow client: the
 *     headers within LIMITS.headersMs, the whole request within LIMITS.requestMs (checked every
 *     LIMITS.checkMs), idle sockets closed, so that another local user cannot hold the server;
 *   - the endpoints take POSTed JSON only (bounded size): a token or key never appears in a URL, and a
 *     cross-site form cannot post JSON without a CORS preflight, which is never granted;
 *   - a strict Content-Security-Policy: the page loads its one script and one style sheet from here
 *     and nothing else, runs no inline script, and may talk only to this server.
 * It logs nothing: a request may carry a token or a key.
 */
import {createHash, randomBytes, timingSafeEqual} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {type AddressInfo} from 'node:net'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {EnvironmentError, errorKindFor, errorMessage} from '../errors.js'
import {isRequestError, keysEndpoint, POST_ENDPOINTS, type PlaygroundContext} from './api.js'

/** The only address the server listens on. */
export const LOOPBACK = '127.0.0.1'

/** Largest request body accepted: a token at the engine's size ceiling (1 MiB) as base64, with room for a policy. */
export const MAX_BODY_BYTES = 2 * 1024 * 1024

/**
 * Bounds for slow or many clients. A browser opens a handful of connections to a page's server; a
 * request over loopback (2 MiB at most) takes milliseconds. Node's own defaults (headers 60 s, checked
 * every 30 s; no connection cap) let 500 connections sending partial headers stay open for ~32 s.
 */
export const LIMITS = {
  /** Concurrent connections; more are closed as they arrive. */
  connections: 32,
  /** Time to receive a request's headers. */
  headersMs: 5_000,
  /** Time to receive a whole request. */
  requestMs: 10_000,
  /** How often those two are checked (so a late client is closed within this much of its limit). */
  checkMs: 500,
  /** A socket with no traffic at all. */
  idleMs: 15_000,
}

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

/** Headers on every response, refusals included. */
const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
}

/** The page's files, served from memory under fixed names (no path from a request reaches the file system). */
const ASSETS: Record<string, {file: string; type: string}> = {
  '': {file: 'index.html', type: 'text/html; charset=utf-8'},
  'playground.js': {file: 'playground.js', type: 'text/javascript; charset=utf-8'},
  'playground.css': {file: 'playground.css', type: 'text/css; charset=utf-8'},
}

/** assets/playground/ in the package (this file is dist/playground/server.js, or dist/.test/src/... in tests). */
export function defaultAssetsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (dir !== dirname(dir)) {
    const candidate = join(dir, 'assets', 'playground')
    try {
      readFileSync(join(candidate, 'index.html'))
      return candidate
    } catch {
      dir = dirname(dir)
    }
  }
  throw new Error('the playground page (assets/playground/index.html) is missing from the package')
}

export interface PlaygroundOptions {
  context: PlaygroundContext
  /** 0 (default): a free port chosen by the system. */
  port?: number
  assetsDir?: string
}

export interface Playground {
  /** The URL to open, secret included. */
  url: string
  port: number
  /** The per-run secret (the first path segment). */
  secret: string
  close(): Promise<void>
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest()
}

/** Constant-time: both sides are hashed first, so neither their contents nor their lengths leak through timing. */
function sameSecret(given: string, secret: string): boolean {
  return timingSafeEqual(sha256(given), sha256(secret))
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  res.writeHead(status, {...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': String(Buffer.byteLength(body)), ...extra})
  res.end(body)
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value))
}

async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase()
  if (type !== 'application/json') throw new Refusal(415, 'send application/json')
  const declared = Number(req.headers['content-length'] ?? '0')
  if (declared > MAX_BODY_BYTES) throw new Refusal(413, `request body over ${MAX_BODY_BYTES} bytes`)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) throw new Refusal(413, `request body over ${MAX_BODY_BYTES} bytes`)
    chunks.push(chunk as Buffer)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new Refusal(400, 'the body is not JSON')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Refusal(400, 'the body must be a JSON object')
  return parsed as Record<string, unknown>
}

/** How many times a header was sent (req.headers joins or drops repeats: rawHeaders has them all). */
function headerCount(req: IncomingMessage, name: string): number {
  let n = 0
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i].toLowerCase() === name) n++
  return n
}

/** Starts the server; resolves once it listens. */
export async function startPlayground(opts: PlaygroundOptions): Promise<Playground> {
  const dir = opts.assetsDir ?? defaultAssetsDir()
  const assets = new Map(Object.entries(ASSETS).map(([name, a]) => [name, {body: readFileSync(join(dir, a.file)), type: a.type}]))
  const secret = randomBytes(24).toString('base64url')
  // Computed once listening: the port is part of every name the browser may use for this server.
  let hosts = new Set<string>()
  let origins = new Set<string>()

  function guard(req: IncomingMessage): string {
    if (headerCount(req, 'host') > 1 || headerCount(req, 'origin') > 1) throw new Refusal(400, 'duplicated Host or Origin header')
    if (!hosts.has(req.headers.host ?? '')) throw new Refusal(403, 'forbidden host')
    const origin = req.headers.origin
    if (origin !== undefined && !origins.has(origin)) throw new Refusal(403, 'forbidden origin')
    const path = (req.url ?? '').split('?')[0]
    const m = /^\/([^/]*)(\/.*)?$/.exec(path)
    if (!m || !sameSecret(m[1], secret)) throw new Refusal(403, 'forbidden')
    return m[2] ?? ''
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rest = guard(req)
    if (rest === '') {
      send(res, 308, 'text/plain; charset=utf-8', '', {Location: `/${secret}/`})
      return
    }
    const name = rest.slice(1)
    if (name.startsWith('api/')) {
      // the page's own fetches are same-origin; anything else (another site, a navigation) is refused
      const site = req.headers['sec-fetch-site']
      if (site !== undefined && site !== 'same-origin') throw new Refusal(403, 'forbidden site')
      const endpoint = name.slice(4)
      if (endpoint === 'keys' && req.method === 'GET') return sendJson(res, 200, keysEndpoint(opts.context))
      const handler = Object.hasOwn(POST_ENDPOINTS, endpoint) ? POST_ENDPOINTS[endpoint] : undefined
      if (!handler) throw new Refusal(404, 'no such endpoint')
      if (req.method !== 'POST') throw new Refusal(405, 'use POST')
      const body = await readJsonBody(req)
      try {
        sendJson(res, 200, handler(body, opts.context))
      } catch (error) {
        // The library's messages never quote a token or a key.
        if (!isRequestError(error)) throw error
        const hint = error.hint
        sendJson(res, 422, {error: {code: errorKindFor(error), message: errorMessage(error), ...(hint ? {hint} : {})}})
      }
      return
    }
    const asset = assets.get(name === 'index.html' ? '' : name)
    if (!asset) throw new Refusal(404, 'not found')
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new Refusal(405, 'use GET')
    send(res, 200, asset.type, req.method === 'HEAD' ? '' : asset.body)
  }

  const server: Server = createServer({connectionsCheckingInterval: LIMITS.checkMs}, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) return void res.destroy()
      if (error instanceof Refusal) {
        // drain nothing more: a refused request's body is not read
        res.setHeader('Connection', 'close')
        return sendJson(res, error.status, {error: {code: 'refused', message: error.message}})
      }
      sendJson(res, 500, {error: {code: 'internal', message: errorMessage(error)}})
    })
  })
  // Bounded wall time for a slow or stalled client, and a bounded number of them.
  server.headersTimeout = LIMITS.headersMs
  server.requestTimeout = LIMITS.requestMs
  server.maxConnections = LIMITS.connections
  server.setTimeout(LIMITS.idleMs, (socket) => socket.destroy())

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const why = error.code === 'EADDRINUSE' ? 'the port is in use' : error.code === 'EACCES' ? 'permission denied' : (error.code ?? error.message)
      reject(new EnvironmentError(`cannot listen on ${LOOPBACK}:${opts.port ?? 0}: ${why}`, {hint: 'choose another --port, or leave it out for a free one'}))
    })
    server.listen(opts.port ?? 0, LOOPBACK, () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  hosts = new Set([`${LOOPBACK}:${port}`, `localhost:${port}`])
  origins = new Set([...hosts].map((h) => `http://${h}`))

  return {
    url: `http://${LOOPBACK}:${port}/${secret}/`,
    port,
    secret,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
