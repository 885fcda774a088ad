/** pgpass 1.x has no type declarations. */
declare module 'pgpass' {
  function pgpass(connInfo: {host?: string; port?: number; database?: string; user?: string}, cb: (password: string | undefined) => void): void
  export default pgpass
}
