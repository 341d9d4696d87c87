/**
 * `mgmt puppet`: runs Puppet code on the engine (puppet-run.ts) or translates it (`mgmt puppet translate`,
 * puppet-translate.ts). Each is loaded only when it runs, so `mgmt puppet --manifest` can start Puppet before it
 * loads the translator and the engine.
 */
import { EXIT_OK, UsageError } from './usage.js';

export async function puppetCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
    const [{ puppetRunHelp }, { puppetTranslateHelp }, { puppetAgentHelp }] = await Promise.all([
      import('./puppet-run.js'),
      import('./puppet-translate.js'),
      import('./puppet-agent.js'),
    ]);
    process.stdout.write(`${puppetRunHelp}\n\n${puppetTranslateHelp}\n\n${puppetAgentHelp}\n`);
    return EXIT_OK;
  }
  if (sub === 'translate') return (await import('./puppet-translate.js')).translateCommand(rest);
  if (sub === 'agent') return (await import('./puppet-agent.js')).puppetAgentCommand(rest);
  if (sub === 'deploy') return (await import('./puppet-deploy.js')).puppetDeployCommand(rest);
  if (sub.startsWith('-')) return (await import('./puppet-run.js')).puppetRunCommand(argv);
  throw new UsageError(`unknown puppet subcommand ${JSON.stringify(sub)}; try: mgmt puppet --help`);
}
