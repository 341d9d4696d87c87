/**
 * puppetlabs-concat's `concat_fragment`: no vertex of its own; its content goes into the `concat_file` it targets
 * (src/puppet/concat.ts), and its relationships become the file's. Any refusal here sends that file (with all
 * its fragments) to the fallback.
 */
import type { Rule, TypeRules } from '../rules.js';
import { metaparamRules } from './metaparams.js';

export const concatFragmentRules: TypeRules<Record<string, never>> = {
  type: 'Concat_fragment',
  kind: null,
  doc:
    'Part of a concat_file: no vertex; its content is merged into the file’s, and a relationship to it is a relationship to the file. ' +
    'A fragment that no concat_file takes has no effect (Puppet only warns). Its metaparameters (noop, schedule...) have no effect on the file, as in Puppet.',
  name: (r) => r.title,
  attributes: {
    name: { do: 'use', doc: 'sorts the fragment (default: the title)' },
    target: { do: 'use', doc: 'the path or title of the concat_file' },
    tag: { do: 'use', doc: 'also selects the concat_file with an equal `tag`' },
    content: { do: 'use', doc: 'the text (Sensitive content makes the whole file content sensitive)' },
    order: { do: 'use', doc: 'sort key, default 10 (a string or an integer; no `/`, `:` or newline)' },
    source: {
      do: 'refuse',
      reason: 'a fragment source is read by Puppet when it applies the file (reading it at translation time would read the wrong host)',
    },
  },
  // concat_fragment's autorequire(:file) block only warns when no concat_file takes the fragment: it names nothing.
  autorelations: [],
};

/** A fragment's metaparameters have no effect on the file: all consumed silently. */
export const fragmentMetaparamRules: Readonly<Record<string, Rule>> = Object.fromEntries(Object.keys(metaparamRules).map((k) => [k, { do: 'drop' } as const]));
