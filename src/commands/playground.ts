import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {openInBrowser} from '../playground/open.js'
import {startPlayground} from '../playground/server.js'
import {ce, printJson, stderr, stdout} from '../output.js'

export default class Playground extends BaseCommand<typeof Playground> {
  static override summary = 'A local web page to paste, see, verify and attenuate tokens; the token never leaves this machine'
  static override description = `Serves one page on 127.0.0.1 under a URL holding a random secret made for this run: paste a token to see its blocks, verify it with a key and a request (as of any time), authorize it with your own Datalog, and attenuate it. The page loads nothing from the network and the server answers only requests that carry the secret and name this address (see docs/DESIGN.md, "Playground"). Ctrl-C stops it.

Opens the page with xdg-open when it is installed (--no-open: only print the URL).`

  static override examples = [
    {description: 'Start it and open the browser', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'On a fixed port, printing the URL only', command: '<%= config.bin %> <%= command.id %> --port 8411 --no-open'},
  ]

  static override flags = {
    port: Flags.integer({description: 'port on 127.0.0.1 (default: a free one)', min: 0, max: 65_535, default: 0, helpValue: 'N'}),
    'no-open': Flags.boolean({description: 'do not open a browser; only print the URL', default: false}),
  }

  async run(): Promise<void> {
    const {flags} = this
    const config = await this.loadConfig()
    const playground = await startPlayground({context: {config}, port: flags.port})
    const browser = flags['no-open'] ? {opened: false, cleanup: () => {}} : openInBrowser(playground.url)
    if (flags.json) {
      printJson({url: playground.url, port: playground.port, opened: browser.opened})
    } else {
      stdout(playground.url)
      stderr(ce().dim(`hessra playground on 127.0.0.1:${playground.port}${browser.opened ? ' (opening your browser)' : ''}: the URL holds this run's secret; Ctrl-C stops it`))
    }
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop)
        process.off('SIGTERM', stop)
        browser.cleanup()
        void playground.close().then(resolve)
      }
      process.on('SIGINT', stop)
      process.on('SIGTERM', stop)
    })
  }
}
