/**
 * A user or group given by name or by numeric id (a file's `owner` and `group`, the account an exec runs as): the
 * checks validation makes, so that `mgmt validate` refuses what a run would refuse when it resolves the account.
 * Whether a name exists is a question for the run (a user resource earlier in the graph may create it).
 */
import { MAX_ID } from '../system/tools/account-names.js';

/** What is wrong with `value` as a `what` name or id, completing "<param> ..."; undefined when it can be one. */
export function accountRefProblem(what: 'user' | 'group', value: string): string | undefined {
  if (value === '') return `is empty; give a ${what} name or a numeric id`;
  if (/^[0-9]+$/.test(value)) {
    return Number(value) > MAX_ID ? `${JSON.stringify(value)}: ${what} id out of range (ids are 0..${MAX_ID})` : undefined;
  }
  if (/^-[0-9]+$/.test(value)) return `${JSON.stringify(value)}: ${what} ids are not negative (ids are 0..${MAX_ID})`;
  // What no account name may hold (passwd/group field separators, white space) or start with (useradd's rules).
  if (/[:,\s/\0]/.test(value) || /^[-+#]/.test(value) || value === '.' || value === '..') {
    return `${JSON.stringify(value)} is not a ${what} name or a numeric id`;
  }
  return undefined;
}
