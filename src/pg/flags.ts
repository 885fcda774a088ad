/** Flags shared by the `hessra pg` commands. */
import {Flags} from '@oclif/core'

export const databaseFlag = Flags.string({
  char: 'd',
  description: 'PostgreSQL connection URL (default: DATABASE_URL, then the PG* variables PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD)',
  helpValue: 'URL',
})

export const pgConfigFlag = Flags.string({
  description: 'pg_config of the PostgreSQL to use (default: $PG_CONFIG, PATH, then /usr/lib/postgresql/<newest>/bin)',
  helpValue: 'PATH',
})

export const dryRunFlag = Flags.boolean({description: 'print every step (commands, SQL, files) without doing anything', default: false})

/** True when a database was named at all (flag, DATABASE_URL or a PG* variable). */
export function databaseGiven(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(flag || env.DATABASE_URL || env.PGHOST || env.PGDATABASE || env.PGPORT || env.PGSERVICE)
}
