/** The start of every etcd command line we run: the member's name, its data, warnings and errors only, its URLs. */
export interface EtcdIdentity {
  readonly bin?: string;
  readonly name: string;
  readonly dataDir: string;
  readonly listenClient: readonly string[];
  readonly advertiseClient: readonly string[];
  readonly listenPeer: readonly string[];
  readonly advertisePeer: readonly string[];
}

export function etcdIdentityArgv(o: EtcdIdentity): string[] {
  return [
    o.bin ?? 'etcd',
    '--name',
    o.name,
    '--data-dir',
    o.dataDir,
    '--logger',
    'zap',
    '--log-level',
    'warn',
    '--listen-client-urls',
    o.listenClient.join(','),
    '--advertise-client-urls',
    o.advertiseClient.join(','),
    '--listen-peer-urls',
    o.listenPeer.join(','),
    '--initial-advertise-peer-urls',
    o.advertisePeer.join(','),
  ];
}
