#!/usr/bin/env node
// Development entry point: runs the compiled commands like bin/run.js, with oclif's debug output.
// Rebuild first (`npm run build`), or use `npx tsc -w` in another terminal.
import {execute} from '@oclif/core'

await execute({development: true, dir: import.meta.url})
