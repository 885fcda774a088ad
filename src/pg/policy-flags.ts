/** The flags of `pg policy generate` and `pg policy apply` (the same SQL either way). */
import {Flags} from '@oclif/core'

import {repeatable} from '../flags.js'
import {COMMANDS, DEFAULT_EXTENSION_SCHEMA, DEFAULT_OPERATION_MAP, DEFAULT_TOKEN_SETTING, generatePolicies, parseOperationMap, parseOperations, parseRoles, type GeneratedPolicies, type PolicyOptions} from './policy.js'

export const policyFlags = {
  table: Flags.string({char: 't', description: 'the table (schema.table accepted when --schema is not given)', required: true, helpValue: 'TABLE'}),
  schema: Flags.string({description: 'schema of the table (default public)', helpValue: 'SCHEMA'}),
  operations: Flags.string({description: `SQL commands to write policies for, comma separated (default all: ${COMMANDS.join(',')})`, helpValue: 'LIST'}),
  'operation-map': Flags.string({
    description: `hessra operation checked per SQL command (default ${Object.entries(DEFAULT_OPERATION_MAP).map(([k, v]) => `${k}=${v}`).join(',')})`,
    helpValue: 'CMD=OP,...',
  }),
  resource: Flags.string({description: 'resource the token must grant: a template with {table}, {schema}, {command}, {operation} (default {table})', helpValue: 'TEMPLATE'}),
  'resource-column': Flags.string({
    description: "per-row resources: the resource is this column's value, which must be one of hessra_granted_resources(OPERATION) (once per statement; an index on the column serves it)",
    helpValue: 'COLUMN',
  }),
  'per-row': Flags.boolean({description: 'with --resource-column: check every row with hessra_row_security(COLUMN, OPERATION) instead (the 0.4 form; no index can serve it)', default: false}),
  'owner-column': Flags.string({description: "only rows whose column equals the token's subject (hessra_current_subject())", helpValue: 'COLUMN'}),
  'identity-column': Flags.string({description: 'identity tokens: only rows whose column equals the identity the token proves (hessra_current_identity()); no resource check', helpValue: 'COLUMN'}),
  role: Flags.string({description: 'roles the policies apply to (repeatable or comma separated; default PUBLIC): one policy per command and role', helpValue: 'ROLE', ...repeatable}),
  'token-setting': Flags.string({description: 'setting the token is read from with current_setting(name, true)', default: DEFAULT_TOKEN_SETTING, helpValue: 'NAME'}),
  as: Flags.string({description: 'policy kind: permissive (OR-ed with other permissive policies) or restrictive (AND-ed)', options: ['permissive', 'restrictive'], default: 'permissive'}),
  'extension-schema': Flags.string({
    description: `schema the hessra extension is installed in; the calls are qualified with it (generate: default ${DEFAULT_EXTENSION_SCHEMA}; apply: looked up in the database)`,
    helpValue: 'SCHEMA',
  }),
}

export interface PolicyFlagValues {
  table: string
  schema?: string
  operations?: string
  'operation-map'?: string
  resource?: string
  'resource-column'?: string
  'per-row'?: boolean
  'owner-column'?: string
  'identity-column'?: string
  role?: string[]
  'token-setting': string
  as: string
  'extension-schema'?: string
}

export function policyOptionsFromFlags(flags: PolicyFlagValues): PolicyOptions {
  return {
    table: flags.table,
    schema: flags.schema,
    operations: parseOperations(flags.operations),
    operationMap: parseOperationMap(flags['operation-map']),
    resource: flags.resource,
    resourceColumn: flags['resource-column'],
    perRow: flags['per-row'],
    ownerColumn: flags['owner-column'],
    identityColumn: flags['identity-column'],
    roles: parseRoles(flags.role),
    tokenSetting: flags['token-setting'],
    as: flags.as as 'permissive' | 'restrictive',
    extensionSchema: flags['extension-schema'],
  }
}

export function generateFromFlags(flags: PolicyFlagValues): GeneratedPolicies {
  return generatePolicies(policyOptionsFromFlags(flags))
}
