import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeField, formatFstabLine, formatOptions, parseFstabLine, parseOptions, planFstab, unescapeField } from '../../src/system/formats/fstab-text.js';
import { joinLines, splitLines } from '../../src/system/formats/line-table.js';

const want = { device: 'tmpfs', type: 'tmpfs', options: 'noatime,size=10m', freq: 0, passno: 0 };

describe('text lines', () => {
  it('splits and joins byte for byte, with or without a final newline', () => {
    for (const t of ['', 'a', 'a\n', 'a\nb', 'a\n\nb\n', '\n', '\n\n', 'a\r\nb\r\n']) assert.equal(joinLines(splitLines(t)), t, JSON.stringify(t));
    assert.deepEqual(splitLines('a\nb'), { lines: ['a', 'b'], eol: false });
  });
});

describe('fstab lines', () => {
  it('parses spaces and tabs alike, and skips comments, blank and one-field lines', () => {
    assert.deepEqual(parseFstabLine('/dev/sda1\t/boot  ext4 \t defaults,noatime 1 2'), {
      device: '/dev/sda1',
      mountPoint: '/boot',
      type: 'ext4',
      options: 'defaults,noatime',
      freq: 1,
      passno: 2,
    });
    for (const l of ['', '   ', '\t', '# comment', '   # indented comment', 'lonely']) assert.equal(parseFstabLine(l), undefined, JSON.stringify(l));
  });

  it('leaves missing fields unset and marks non-numbers', () => {
    assert.deepEqual(parseFstabLine('/dev/sda1 /boot'), {
      device: '/dev/sda1',
      mountPoint: '/boot',
      type: '',
      options: '',
      freq: undefined,
      passno: undefined,
    });
    assert.ok(Number.isNaN(parseFstabLine('a /b c d x y')!.freq));
  });

  it('decodes octal escapes and strips trailing slashes of the mount point', () => {
    const e = parseFstabLine('/dev/my\\040disk /mnt/with\\040space/ ext4 defaults 0 0')!;
    assert.equal(e.device, '/dev/my disk');
    assert.equal(e.mountPoint, '/mnt/with space');
    assert.equal(parseFstabLine('proc / proc')!.mountPoint, '/');
    assert.equal(parseFstabLine('x /mnt// y')!.mountPoint, '/mnt');
    assert.equal(parseFstabLine('a\\011b /m t')!.device, 'a\tb');
  });

  it('escapes and unescapes blanks and backslashes as inverses', () => {
    for (const s of ['plain', 'a b', 'tab\there', 'back\\slash', 'new\nline', '\\040 literal']) assert.equal(unescapeField(escapeField(s)), s);
    assert.equal(escapeField('/mnt/with space'), '/mnt/with\\040space');
  });

  it('formats with tabs like Puppet, filling a missing type and options', () => {
    assert.equal(
      formatFstabLine({ device: '/dev/my disk', mountPoint: '/mnt/x', type: 'ext4', options: '', freq: 1, passno: 2 }),
      '/dev/my\\040disk\t/mnt/x\text4\tdefaults\t1\t2',
    );
    assert.equal(formatFstabLine({ device: 'd', mountPoint: '/m', type: '', options: 'ro', freq: 0, passno: 0 }), 'd\t/m\tauto\tro\t0\t0');
  });
});

describe('fstab options', () => {
  it('maps to and from the options field in order', () => {
    assert.equal(formatOptions({ noatime: '', errors: 'panic' }), 'noatime,errors=panic');
    assert.deepEqual(parseOptions('noatime,errors=panic'), { noatime: '', errors: 'panic' });
    assert.deepEqual(Object.keys(parseOptions('z,a,m') as object), ['z', 'a', 'm']);
    assert.deepEqual(parseOptions('uid=1000,mode=0755,a=b=c'), { uid: '1000', mode: '0755', a: 'b=c' });
    assert.deepEqual(parseOptions('context="system_u:object_r:tmp_t:s0:c127,c456",ro'), { context: '"system_u:object_r:tmp_t:s0:c127,c456"', ro: '' });
  });

  it('refuses what a map cannot hold', () => {
    assert.match(parseOptions('ro,ro') as string, /"ro" is given twice/);
    assert.match(parseOptions('a,,b') as string, /empty option/);
    assert.match(parseOptions('=x') as string, /has no name/);
  });
});

describe('planning an fstab edit', () => {
  const table = '# static file system information\nproc /proc proc defaults 0 0\n\n/dev/sda1\t/boot\text4\tdefaults\t0\t2\n';

  it('appends a new entry and keeps everything else byte for byte', () => {
    const p = planFstab(table, '/mnt/x', want);
    assert.equal(p.text, `${table}tmpfs\t/mnt/x\ttmpfs\tnoatime,size=10m\t0\t0\n`);
    assert.equal(p.changes.length, 1);
    assert.match(p.changes[0]!, /^add "tmpfs \/mnt\/x tmpfs noatime,size=10m 0 0" to the fstab$/);
  });

  it('adds a newline before appending to a table without one, and creates an empty table', () => {
    assert.equal(planFstab('proc /proc proc defaults 0 0', '/m', want).text, 'proc /proc proc defaults 0 0\ntmpfs\t/m\ttmpfs\tnoatime,size=10m\t0\t0\n');
    assert.equal(planFstab('', '/m', { device: 'd', type: 't', freq: 0, passno: 0 }).text, 'd\t/m\tt\tdefaults\t0\t0\n');
  });

  it('accepts a matching entry whatever its spacing, trailing slash or missing zero fields', () => {
    for (const line of [
      'tmpfs   /mnt/x  tmpfs  noatime,size=10m  0  0',
      '  tmpfs\t/mnt/x/\ttmpfs\tnoatime,size=10m',
      'tmpfs /mnt/x tmpfs noatime,size=10m 0',
    ]) {
      const text = `# c\n${line}\n# after`;
      const p = planFstab(text, '/mnt/x', want);
      assert.deepEqual(p.changes, [], line);
      assert.equal(p.text, text);
    }
  });

  it('rewrites only the fields that differ, naming them, and leaves unset fields alone', () => {
    const text = 'a b c\n/dev/old /mnt/x ext4 ro,noexec 1 2\nz y x\n';
    const p = planFstab(text, '/mnt/x', { device: '/dev/new', freq: 0, passno: 2 });
    assert.equal(p.text, 'a b c\n/dev/new\t/mnt/x\text4\tro,noexec\t0\t2\nz y x\n');
    assert.deepEqual(p.changes, ['update the entry for /mnt/x in the fstab (line 2): device "/dev/old" → "/dev/new", freq 1 → 0']);
  });

  it('compares options as written (order matters, as for mount(8))', () => {
    const p = planFstab('t /m tmpfs size=1m,noatime 0 0\n', '/m', { ...want, options: 'noatime,size=1m' });
    assert.equal(p.changes.length, 1);
    assert.match(p.changes[0]!, /options "size=1m,noatime" → "noatime,size=1m"/);
  });

  it('keeps the last of duplicate entries (the one Puppet edits) and removes the others', () => {
    const text = 'tmpfs /mnt/x tmpfs ro 0 0\nother /o ext4 defaults 0 0\ntmpfs /mnt/x tmpfs noatime,size=10m 0 0\n';
    const p = planFstab(text, '/mnt/x', want, '/etc/fstab');
    assert.equal(p.text, 'other /o ext4 defaults 0 0\ntmpfs /mnt/x tmpfs noatime,size=10m 0 0\n');
    assert.deepEqual(p.changes, ['remove the duplicate entry for /mnt/x from /etc/fstab (line 1; line 3 is kept)']);
  });

  it('removes every entry of an absent mount point, keeping a missing final newline', () => {
    const text = 'tmpfs /mnt/x tmpfs ro 0 0\n# keep\ntmpfs /mnt/x/ tmpfs rw 0 0\nlast /l ext4';
    const p = planFstab(text, '/mnt/x', null);
    assert.equal(p.text, '# keep\nlast /l ext4');
    assert.equal(p.changes.length, 2);
    assert.deepEqual(planFstab('# nothing\n', '/mnt/x', null), { text: '# nothing\n', changes: [] });
  });

  it('matches mount points with blanks through their escapes', () => {
    const p = planFstab('/dev/d /mnt/with\\040space ext4 defaults 0 0\n', '/mnt/with space', { type: 'ext4', freq: 1, passno: 0 });
    assert.equal(p.text, '/dev/d\t/mnt/with\\040space\text4\tdefaults\t1\t0\n');
  });

  it('says what is missing to create an entry', () => {
    assert.throws(
      () => planFstab('', '/m', { freq: 0, passno: 0 }, '/etc/fstab'),
      /\/etc\/fstab has no entry for \/m, and `device` and `type` must be set to create one/,
    );
    assert.throws(() => planFstab('', '/m', { device: 'x', freq: 0, passno: 0 }), /`type` must be set/);
  });
});
