/** The `mgmt` command: dispatches to one file per subcommand. */
import { readFileSync } from 'node:fs';
import { EXIT_OK, EXIT_USAGE, UsageError } from './usage.js';
import { errnoCode } from '../observe/errors.js';

// Each command's module is loaded only when that command runs: `mgmt run` does not pay for the Puppet bridge.

const help = `usage: mgmt <command> [flags]

commands:
  run       run a graph and keep it converged (mgmt run --yaml FILE)
  validate  check a graph file and apply nothing (mgmt validate FILE)
  puppet    compile, translate and run Puppet code (mgmt puppet --manifest FILE; mgmt puppet translate ...)
  bucket    list and restore the backups of files mgmt replaced or removed (mgmt bucket list)
  help      show this help, or a command's: mgmt help run

Run \`mgmt <command> --help\` for a command's flags.`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'run':
        return await (await import('./run.js')).runCommand(rest);
      case 'validate':
        return await (await import('./validate.js')).validateCommand(rest);
      case 'puppet':
        return await (await import('./puppet.js')).puppetCommand(rest);
      case 'bucket':
        return (await import('./bucket.js')).bucketCommand(rest);
      case 'version':
      case '--version': {
        const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
        process.stdout.write(`mgmt-ts ${pkg.version}\n`);
        return EXIT_OK;
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write((rest[0] === 'run' ? (await import('./run.js')).runHelp : help) + '\n');
        return EXIT_OK;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(cmd)}`);
    }
  } catch (e) {
    if (e instanceof UsageError || errnoCode(e)?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`mgmt: ${(e as Error).message}\nRun 'mgmt --help' for usage.\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
}
