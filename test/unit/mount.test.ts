// The mount kind's validation and automatic edges. Mounting a real tmpfs needs root: test/integration/mount-tmpfs.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { autoEdges } from '../../src/engine/autoedges.js';
import { mountKind } from '../../src/resources/mount.js';
import { specOf } from '../harness/engine-run.js';
import { registry } from '../../src/cli/registry.js';

describe('mount validation', () => {
  const v = (name: string, p: Record<string, unknown>) => mountKind.validate!(name, p).map((x) => x.message);
  it('wants an absolute, normalized mount point and a state', () => {
    assert.match(v('mnt/x', { state: 'exists' })[0]!, /absolute mount point/);
    assert.match(v('/mnt/x/', { state: 'exists' })[0]!, /not normalized.*write "\/mnt\/x"/);
    assert.deepEqual(v('/mnt/x', {}), ['parameter `state` is required: set it to exists, unmounted, defined or absent']);
    assert.deepEqual(v('/', { state: 'defined' }), []);
  });
  it('checks options, type, fstab and swap', () => {
    assert.match(v('/m', { state: 'exists', options: { 'a b': '' } })[0]!, /option name "a b"/);
    assert.match(v('/m', { state: 'exists', options: { context: 'a,b' } })[0]!, /unquoted comma/);
    assert.deepEqual(v('/m', { state: 'exists', options: { context: '"a,b"' } }), []);
    assert.match(v('/m', { state: 'exists', type: 'ext 4' })[0]!, /blanks/);
    assert.match(v('/m', { state: 'exists', fstab: 'etc/fstab' })[0]!, /absolute path/);
    assert.match(v('none', { state: 'exists', type: 'swap' }).join(' '), /swap is not mounted/);
    assert.deepEqual(v('/swap', { state: 'defined', type: 'swap', device: '/swapfile' }), []);
  });
  it('comes after the mount point directory, the fstab and parent mounts, and before what lies below it', () => {
    assert.deepEqual(mountKind.autoEdges!('/mnt/x', { state: 'exists' }), {
      afterPath: ['/mnt/x/', '/etc/fstab'],
      afterNearestAncestor: ['/mnt/x'],
      beforeBelow: ['/mnt/x/'],
    });
    const spec = specOf(
      [
        'graph: g',
        'resources:',
        '  file:',
        '  - {name: /mnt/x/, state: exists}',
        '  - {name: /mnt/x/data/hello, state: exists, content: hi}',
        '  - {name: /mnt/other, state: exists, content: hi}',
        '  exec:',
        '  - {name: ls, cwd: /mnt/x/data}',
        '  mount:',
        '  - {name: /mnt/x, state: exists, device: tmpfs, type: tmpfs}',
        '  - {name: /mnt/x/inner, state: exists, device: tmpfs, type: tmpfs}',
        '  - {name: /, state: defined}',
        '',
      ].join('\n'),
    );
    const edges = autoEdges(registry, spec.resources)
      .map((e) => e.name)
      .sort();
    assert.deepEqual(edges, [
      'file[/mnt/x/] -> file[/mnt/x/data/hello]',
      'file[/mnt/x/] -> mount[/mnt/x/inner]',
      'file[/mnt/x/] -> mount[/mnt/x]',
      'mount[/] -> exec[ls]',
      'mount[/] -> file[/mnt/other]',
      'mount[/] -> file[/mnt/x/]',
      'mount[/] -> file[/mnt/x/data/hello]',
      'mount[/] -> mount[/mnt/x/inner]',
      'mount[/] -> mount[/mnt/x]',
      'mount[/mnt/x] -> exec[ls]',
      'mount[/mnt/x] -> file[/mnt/x/data/hello]',
      'mount[/mnt/x] -> mount[/mnt/x/inner]',
    ]);
  });
});
