/**
 * `mgmt puppet deploy --environment E --seeds URL`: tells every `mgmt puppet agent --seeds URL` of environment E to
 * fetch its catalog now (run by CI after r10k deployed the code), with bounded concurrency and jitter
 * (src/world/deploy-signal.ts).
 */
import { parseArgs } from 'node:util';
import { errorText } from '../observe/errors.js';
import { logger } from '../observe/log.js';
import { EXIT_FAILED, EXIT_OK, UsageError } from './usage.js';

export const puppetDeployHelp = `usage: mgmt puppet deploy --environment ENV --seeds URL[,URL...] [flags]

Makes every mgmt puppet agent of ENV that watches these etcd seeds fetch its catalog now.

flags:
  --environment ENV        the Puppet environment deployed (default: production)
  --seeds URL[,URL...]     the etcd cluster the agents watch
  --concurrency N          at most N agents fetch at a time (default: 10)
  --jitter SECS            each agent waits a random delay below SECS first (default: 2)`;

export async function puppetDeployCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      help: { type: 'boolean', short: 'h' },
      environment: { type: 'string' },
      seeds: { type: 'string' },
      concurrency: { type: 'string' },
      jitter: { type: 'string' },
    },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(puppetDeployHelp + '\n');
    return EXIT_OK;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const seeds = (values.seeds ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  if (seeds.length === 0) throw new UsageError('which etcd? give --seeds URL (the agents run with the same --seeds)');
  const environment = values.environment ?? 'production';
  if (!/^[a-z0-9_]+$/.test(environment)) throw new UsageError(`--environment ${JSON.stringify(environment)}: Puppet environment names are [a-z0-9_]+`);
  const concurrency = Number(values.concurrency ?? 10);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1000) throw new UsageError('--concurrency takes a whole number from 1 to 1000');
  const jitter = Number(values.jitter ?? 2);
  if (!Number.isFinite(jitter) || jitter < 0 || jitter > 600) throw new UsageError('--jitter takes seconds from 0 to 600');
  const log = logger('deploy');
  const { deployClient, publishDeploy } = await import('../world/deploy-signal.js');
  const client = deployClient(seeds);
  try {
    const d = await publishDeploy(client, environment, { concurrency, jitterMs: jitter * 1000 });
    log.info(`deploy ${d.id} of ${environment} published: its agents fetch their catalogs now (${concurrency} at a time, jitter up to ${jitter} s)`);
    return EXIT_OK;
  } catch (e) {
    log.error(`could not publish the deploy to ${seeds.join(',')}: ${errorText(e)}`);
    return EXIT_FAILED;
  } finally {
    client.close();
  }
}
