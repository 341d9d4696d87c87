/**
 * puppet-e2e: `mgmt puppet` against `puppet apply`, end to end, on the largest example there is: the largest corpus
 * example (fixtures/corpus/largest-example.json) when the corpus cache is present ($MGMT_CORPUS_CACHE, default
 * /work/cache/corpus), else the largest example of the fixtures of our own (fixtures/puppet/equivalence, chosen by
 * compiling each), so the row runs on a clean clone too; the row names its input. Same facts (the corpus's Debian
 * 12 facts), same node, both under --noop, cold starts, median of three after a warm-up (scripts/corpus-bench.ts).
 */
import { benchLargest } from '../../scripts/corpus-bench.js';
import { CORPUS_FACTS, CORPUS_NODE, corpusInput, ownInput } from '../../scripts/corpus-largest.js';
import { type BenchContext, type BenchResult, fmtMs, row } from './common.js';

export async function puppetE2e(ctx: BenchContext): Promise<BenchResult> {
  const cache = process.env.MGMT_CORPUS_CACHE ?? '/work/cache/corpus';
  const fromCorpus = corpusInput(cache);
  const input = typeof fromCorpus === 'string' ? await ownInput(ctx.dir) : fromCorpus;
  const r = await benchLargest(input.manifest, input.modulepath, CORPUS_FACTS, CORPUS_NODE, () => {}, 3);
  const ratio = r.puppetMs / r.mgmtMs;
  return {
    name: 'puppet-e2e',
    title: '`mgmt puppet` against `puppet apply`, end to end, on the largest example',
    rows: [
      row('input', input.label),
      row(`mgmt puppet --noop: wall (median of ${r.runs})`, fmtMs(r.mgmtMs)),
      row('mgmt puppet --noop: the walls', r.mgmtRuns.map(fmtMs).join(', ')),
      row(`puppet apply --noop: wall (median of ${r.runs})`, fmtMs(r.puppetMs)),
      row('puppet apply --noop: the walls', r.puppetRuns.map(fmtMs).join(', ')),
      row('puppet apply / mgmt puppet', `${ratio.toFixed(2)}x`),
    ],
    notes: [
      `Input: ${typeof fromCorpus === 'string' ? `the largest example of our own fixtures, because ${fromCorpus}` : 'the largest corpus example whose graph validates, as `npm run corpus` recorded it in fixtures/corpus/largest-example.json'}; resources counted as Puppet's catalog counts them (resources of Ruby types).`,
      '`mgmt puppet --manifest M --modulepath P --facts F --node N --noop --converged-timeout 0 --tmp-prefix` against `puppet apply --noop --detailed-exitcodes` in a home of its own, with the same facts as its cached facts (`--facts_terminus yaml`) and the same node; both under --noop, since the corpus examples manage the machine’s packages and services. Wall time from spawn to exit, cold starts, one warm-up run each, then three runs alternating the two tools.',
      'Both tools exit non-zero where a resource cannot run on this machine (no PackageKit, systemd not the init system): the run still counts, as the same work was done.',
    ],
  };
}
