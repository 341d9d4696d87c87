/** Shared piece of the Puppet `file` and `concat_file` translations: their SELinux attributes. */
import type { Rule } from '../rules.js';

const MSG_SELINUX = 'SELinux contexts are not managed';

/** SELinux attributes: the resource is translated (degraded), and the report notes that contexts are not managed. */
export const seLinuxNotes: Readonly<Record<string, Extract<Rule, { do: 'note' }>>> = Object.fromEntries(
  ['selinux_ignore_defaults', 'selrange', 'selrole', 'seltype', 'seluser'].map((a) => [a, { do: 'note', message: MSG_SELINUX } as const]),
);
