/**
 * `mgmt puppet`: runs Puppet code on the engine (puppet-run.ts), translates it (`mgmt puppet translate`,
 * puppet-translate.ts), diffs two versions of it (`mgmt puppet diff`, puppet-diff.ts) or plans a fleet's migration from PuppetDB (`mgmt puppet coverage`, puppet-coverage.ts). Each is loaded only when it runs, so `mgmt puppet --manifest` can start Puppet before it
 * loads the translator and the engine.
 */
import { EXIT_OK, UsageError } from './usage.js';

export async function puppetCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
    const [{ puppetRunHelp }, { puppetTranslateHelp }, { puppetDiffHelp }, { puppetCoverageHelp }, { puppetAgentHelp }] = await Promise.all([
      import('./puppet-run.js'),
      import('./puppet-translate.js'),
      import('./puppet-diff.js'),
      import('./puppet-coverage.js'),
      import('./puppet-agent.js'),
    ]);
    process.stdout.write(`${puppetRunHelp}\n\n${puppetTranslateHelp}\n\n${puppetDiffHelp}\n\n${puppetCoverageHelp}\n\n${puppetAgentHelp}\n`);
    return EXIT_OK;
  }
  if (sub === 'translate') return (await import('./puppet-translate.js')).translateCommand(rest);
  if (sub === 'diff') return (await import('./puppet-diff.js')).diffCommand(rest);
  if (sub === 'coverage') return (await import('./puppet-coverage.js')).coverageCommand(rest);
  if (sub === 'agent') return (await import('./puppet-agent.js')).puppetAgentCommand(rest);
  if (sub === 'deploy') return (await import('./puppet-deploy.js')).puppetDeployCommand(rest);
  if (sub.startsWith('-')) return (await import('./puppet-run.js')).puppetRunCommand(argv);
  throw new UsageError(`unknown puppet subcommand ${JSON.stringify(sub)}; try: mgmt puppet --help`);
}
