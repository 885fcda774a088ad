// The example application (examples/documents/server.mjs) as the bench's child process:
//   node bench/lib/app-server.mjs DATABASE_URL SETTING
// SETTING is the one withToken sets per request: hessra.token (Hessra policy) or app.user (the unsigned
// twin). Listens on a free loopback port and prints it; stops on SIGTERM.
import pg from 'pg'

import {documentsServer} from '../../examples/documents/server.mjs'

const [url, setting] = process.argv.slice(2)
const pool = new pg.Pool({connectionString: url, max: 4, idleTimeoutMillis: 0}) // keep the connections: the bench reads their CPU time
pool.on('error', () => {})
const server = documentsServer({pool, setting})
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => console.log(String(server.address().port)))
process.on('SIGTERM', () => server.close(() => pool.end().then(() => process.exit(0))))
