// examples/documents/server.mjs — a node:http application (no framework) whose rows are protected by
// the database: each request's `Authorization: Bearer <token>` is handed to PostgreSQL with withToken()
// for that request's transaction only, and the table's row-level security policies decide what it sees
// and may write. Nothing is verified in Node. See README.md beside this file.
//
//   DATABASE_URL=postgresql://documents_app@127.0.0.1:54329/postgres node examples/documents/server.mjs
//
//   GET  /documents                       the documents the token may read (none without a token)
//   POST /documents {"id","owner","title"} 201, or 403 when the policies refuse the row
//
// Environment: DATABASE_URL (connect as an ordinary role: superusers bypass row-level security), PORT
// (default 8080; 0 picks a free one), HOST (default 127.0.0.1), POOL_SIZE (default 4).
import http from 'node:http'
import {pathToFileURL} from 'node:url'

import pg from 'pg'
import {withToken} from 'hessra'

const MAX_BODY_BYTES = 16 * 1024

class HttpError extends Error {
  constructor(status, message) {
    super(message)
    this.status = status
  }
}

/**
 * The token of an `Authorization: Bearer <token>` header: null without the header (the database then
 * sees no token), an HttpError 401 for any other scheme or an empty token.
 */
export function bearerToken(header) {
  if (header === undefined) return null
  const m = /^Bearer +(\S+) *$/i.exec(header)
  if (!m) throw new HttpError(401, 'the Authorization header must be "Bearer <token>"')
  return m[1]
}

/**
 * The application: an http.Server over `pool`. `setting` is the one withToken sets per transaction
 * (`hessra.token`; the benchmark runs the same server with an unsigned `app.user` as its baseline).
 */
export function documentsServer({pool, setting = 'hessra.token', log = (line) => console.error(line)}) {
  const asRequest = (token, fn) => withToken(pool, token, fn, {setting})
  return http.createServer((req, res) => {
    handle(req, res, asRequest).catch((error) => {
      if (error instanceof HttpError) return send(res, error.status, {error: error.message}, error.status === 401 ? {'www-authenticate': 'Bearer'} : {})
      // database and programming errors: logged without the request (its token is a credential)
      log(`${req.method} /documents: ${error.code ?? error.name}: ${error.message}`)
      send(res, 500, {error: 'internal error'})
    })
  })
}

async function handle(req, res, asRequest) {
  const {pathname} = new URL(req.url ?? '/', 'http://localhost')
  if (pathname !== '/documents') throw new HttpError(404, 'not found')
  const token = bearerToken(req.headers.authorization)
  if (req.method === 'GET') {
    const documents = await asRequest(token, async (client) => (await client.query('SELECT id, owner, title FROM documents ORDER BY id')).rows)
    return send(res, 200, {documents})
  }
  if (req.method === 'POST') {
    const doc = parseDocument(await readBody(req))
    try {
      const document = await asRequest(token, async (client) => {
        const r = await client.query('INSERT INTO documents (id, owner, title) VALUES ($1, $2, $3) RETURNING id, owner, title', [doc.id, doc.owner, doc.title])
        return r.rows[0]
      })
      return send(res, 201, {document})
    } catch (error) {
      if (error.code === '42501') throw new HttpError(403, 'the token does not allow this document') // row-level security
      if (error.code === '23505') throw new HttpError(409, `document ${doc.id} exists`)
      throw error
    }
  }
  res.setHeader('allow', 'GET, POST')
  throw new HttpError(405, 'method not allowed')
}

function parseDocument(text) {
  let doc
  try {
    doc = JSON.parse(text)
  } catch {
    throw new HttpError(400, 'the body must be JSON: {"id": 1, "owner": "alice", "title": "..."}')
  }
  const ok = doc && Number.isSafeInteger(doc.id) && doc.id > 0 && doc.id < 2 ** 31 && typeof doc.owner === 'string' && typeof doc.title === 'string'
  if (!ok) throw new HttpError(400, 'the body must be {"id": positive integer, "owner": string, "title": string}')
  return doc
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = []
    let size = 0
    req.on('data', (chunk) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, `the body is larger than ${MAX_BODY_BYTES} bytes`))
        req.destroy()
      } else chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

function send(res, status, body, headers = {}) {
  if (res.headersSent) return res.end()
  res.writeHead(status, {'content-type': 'application/json', ...headers})
  res.end(JSON.stringify(body) + '\n')
}

// Run directly: listen until SIGINT/SIGTERM.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (!process.env.DATABASE_URL) {
    console.error('set DATABASE_URL (an ordinary role, e.g. postgresql://documents_app@127.0.0.1:54329/postgres)')
    process.exit(2)
  }
  const pool = new pg.Pool({connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_SIZE ?? 4)})
  pool.on('error', (error) => console.error(`idle connection lost: ${error.message}`)) // the pool replaces it
  const server = documentsServer({pool})
  const host = process.env.HOST ?? '127.0.0.1'
  server.listen(Number(process.env.PORT ?? 8080), host, () => console.log(`listening on http://${host}:${server.address().port}/documents`))
  const stop = () => server.close(() => pool.end())
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}
