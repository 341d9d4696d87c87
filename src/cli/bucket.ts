/**
 * `mgmt bucket`: the local backup bucket where the file kind keeps what it replaces or removes (Puppet's
 * `puppet filebucket` for the clientbucket): list the backups, restore one, prune the bucket.
 */
import { isAbsolute, join } from 'node:path';
import { parseArgs } from 'node:util';
import { Bucket, type BucketEntry, DEFAULT_BUCKET_LIMITS } from '../system/fs/bucket.js';
import { defaultPrefix } from './run-flags.js';
import { errorText } from '../observe/errors.js';
import { EXIT_FAILED, EXIT_OK, UsageError } from './usage.js';

export const bucketHelp = `usage: mgmt bucket list [PATH] [--prefix DIR]
       mgmt bucket restore CHECKSUM|PATH [--to FILE] [--prefix DIR]
       mgmt bucket prune [--max-size BYTES] [--max-age DAYS] [--prefix DIR]

The backup bucket keeps the previous content of every file mgmt replaced or removed (file resources with
backup: bucket, the default; Puppet's clientbucket), one copy per distinct content, in DIR/bucket.

  list      every backup, oldest first: time, sha256 checksum, size, path (only those of PATH when given);
            a backup of a resource with Sensitive content shows "(sensitive)" instead of its checksum
  restore   writes the latest backup with that checksum, or the latest backup of that path, back to its path
            with its recorded mode (and owner, as root); --to FILE writes it to FILE instead, mode 0600.
            What it replaces is backed up first. Contents are never printed.
  prune     removes backups older than --max-age days (default ${DEFAULT_BUCKET_LIMITS.maxAgeDays}) and, oldest first, those over
            --max-size bytes in all (default ${DEFAULT_BUCKET_LIMITS.maxTotalBytes}); mgmt also prunes with the defaults as it runs

  --prefix DIR   the state directory (default: /var/lib/mgmt as root, else ~/.local/state/mgmt)`;

export function bucketCommand(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      prefix: { type: 'string' },
      to: { type: 'string' },
      'max-size': { type: 'string' },
      'max-age': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(bucketHelp + '\n');
    return EXIT_OK;
  }
  const [sub, ...args] = positionals;
  const bucket = new Bucket(join(values.prefix ?? defaultPrefix(), 'bucket'));
  try {
    switch (sub) {
      case 'list':
        return list(bucket, args);
      case 'restore':
        return restore(bucket, args, values.to);
      case 'prune':
        return prune(bucket, args, values['max-size'], values['max-age']);
      case undefined:
        throw new UsageError('give a subcommand: mgmt bucket list, restore or prune');
      default:
        throw new UsageError(`unknown bucket subcommand ${JSON.stringify(sub)}: use list, restore or prune`);
    }
  } catch (e) {
    if (e instanceof UsageError) throw e;
    // A bucket refused as unsafe, a damaged object, a missing directory for --to: the message says what to do.
    process.stderr.write(`mgmt bucket: ${errorText(e)}\n`);
    return EXIT_FAILED;
  } finally {
    bucket.close();
  }
}

function line(e: BucketEntry): string {
  return `${e.time}  ${e.sensitive ? '(sensitive)'.padEnd(71) : `sha256:${e.checksum}`}  ${String(e.size).padStart(10)}  ${e.path}`;
}

function list(bucket: Bucket, args: string[]): number {
  if (args.length > 1) throw new UsageError('mgmt bucket list takes at most one PATH');
  const only = args[0];
  for (const e of bucket.list()) if (only === undefined || e.path === only) process.stdout.write(`${line(e)}\n`);
  return EXIT_OK;
}

function restore(bucket: Bucket, args: string[], to: string | undefined): number {
  if (args.length !== 1) throw new UsageError('give one CHECKSUM or PATH: mgmt bucket restore CHECKSUM|PATH [--to FILE]');
  const key = args[0]!;
  if (to !== undefined && !isAbsolute(to)) throw new UsageError(`--to ${JSON.stringify(to)}: give an absolute path`);
  const e = bucket.find(key);
  if (!e) {
    process.stderr.write(`mgmt bucket: no backup of ${key} in ${bucket.dir}; see mgmt bucket list\n`);
    return EXIT_FAILED;
  }
  const target = to ?? e.path;
  const kept = bucket.restore(e, target, to === undefined ? undefined : { mode: 0o600 });
  const what = e.sensitive ? `the backup of ${e.path} from ${e.time}` : `sha256:${e.checksum} (${e.path}, ${e.time})`;
  const before = kept === undefined ? '' : e.sensitive ? '; what it replaced is in the bucket' : `; what it replaced is in the bucket as sha256:${kept}`;
  process.stdout.write(`restored ${what} to ${target}${before}\n`);
  return EXIT_OK;
}

function prune(bucket: Bucket, args: string[], maxSize: string | undefined, maxAge: string | undefined): number {
  if (args.length > 0) throw new UsageError('mgmt bucket prune takes no arguments');
  const count = (flag: string, v: string | undefined, dflt: number) => {
    if (v === undefined) return dflt;
    if (!/^[0-9]+$/.test(v)) throw new UsageError(`${flag} ${JSON.stringify(v)}: give a whole number`);
    return Number(v);
  };
  const limits = {
    ...bucket.limits,
    maxTotalBytes: count('--max-size', maxSize, bucket.limits.maxTotalBytes),
    maxAgeDays: count('--max-age', maxAge, bucket.limits.maxAgeDays),
  };
  const r = bucket.prune(new Date(), limits);
  process.stdout.write(`pruned ${r.removed} backups (${r.bytes} bytes); ${r.kept} kept (${r.keptBytes} bytes)\n`);
  return EXIT_OK;
}
