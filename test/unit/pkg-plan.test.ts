// The pkg planner (src/resources/pkg/plan.ts): pure, so every decision is tested here with made-up facts, without
// PackageKit or dpkg. What the planner is given is what the kind gathers: dpkg's word, PackageKit's Resolve
// entries, and dpkg's order of the versions in play.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  describeStep,
  entriesFor,
  type Flags,
  type Installed,
  type Member,
  type PackageFacts,
  pastTense,
  type Plan,
  planChanges,
  satisfied,
  unknownMessage,
  unsettled,
  versionsInPlay,
} from '../../src/resources/pkg/plan.js';
import { Info, type PackageInfo } from '../../src/system/dbus/packagekit.js';

const FLAGS: Flags = { allowuntrusted: false, allowdowngrade: false, allownonfree: true, allowunsupported: true };

/** The versions these tests use, in dpkg's order (lowest first). */
const VERSIONS = ['1.0-1', '1.1-1', '2.0-1', '2.0-2', '3.0-1'];

function entry(name: string, version: string, info: number = Info.AVAILABLE, arch = 'amd64'): PackageInfo {
  const data = info === Info.INSTALLED ? 'installed' : 'debian-main';
  return { info, id: `${name};${version};${arch};${data}`, summary: '', name, version, arch, data };
}

const installed = (version: string, arch = 'amd64'): Installed => ({ installed: true, version, arch });
const notInstalled: Installed = { installed: false, version: '', arch: '' };
const member = (pkg: string, state = 'installed', vertex = pkg): Member => ({ vertex, pkg, state });

interface Case {
  readonly entries: readonly PackageInfo[];
  /** dpkg's word; undefined: no dpkg on the host. */
  readonly dpkg: Installed | undefined;
}

/**
 * The planner's input for these packages. The version order only answers for the versions that versionsInPlay
 * named (what the kind asks dpkg to order), so a test also fails when the planner compares anything else.
 */
function factsOf(members: readonly Member[], cases: Readonly<Record<string, Case>>): Map<string, PackageFacts> {
  const out = new Map<string, PackageFacts>();
  for (const [pkg, c] of Object.entries(cases)) {
    const inPlay = new Set(members.filter((m) => m.pkg === pkg).flatMap((m) => versionsInPlay(m, c)));
    const order = (a: string, b: string): number => {
      if (a === b) return 0;
      for (const v of [a, b]) if (!inPlay.has(v)) throw new Error(`${pkg}: ${v} was not in play (${[...inPlay].join(', ')})`);
      return VERSIONS.indexOf(a) - VERSIONS.indexOf(b);
    };
    out.set(pkg, { entries: c.entries, dpkg: c.dpkg, order });
  }
  return out;
}

function plan(members: readonly Member[], cases: Readonly<Record<string, Case>>, flags: Flags = FLAGS): Plan {
  return planChanges(members, factsOf(members, cases), flags);
}

/** The plan in words: steps as the log says them, the fine and unknown packages, the problems. */
function summary(p: Plan): { steps: string[]; fine: string[]; unknown: string[]; problems: string[] } {
  return {
    steps: p.steps.map(describeStep),
    fine: p.fine.map((m) => m.pkg),
    unknown: p.unknown.map((m) => m.pkg),
    problems: p.problems.map((x) => `${x.pkg}: ${x.message}`),
  };
}

const nothing = { steps: [], fine: [], unknown: [], problems: [] };

describe('pkg planner: which packages need PackageKit at all', () => {
  it('asks nothing of PackageKit when dpkg shows every package in its state, except for newest', () => {
    const dpkg = new Map<string, Installed>([
      ['sl', installed('1.0-1')],
      ['cowsay', notInstalled],
      ['figlet', installed('2.0-1')],
    ]);
    const members = [member('sl'), member('cowsay', 'uninstalled'), member('figlet', '2.0-1')];
    assert.deepEqual(unsettled(members, dpkg), []);
    const newest = member('sl', 'newest');
    assert.deepEqual(unsettled([...members, newest], dpkg), [newest]);
  });

  it('opens the packages dpkg does not show in their state', () => {
    const dpkg = new Map<string, Installed>([
      ['sl', notInstalled],
      ['cowsay', installed('1.0-1')],
      ['figlet', installed('1.0-1')],
    ]);
    const members = [member('sl'), member('cowsay', 'uninstalled'), member('figlet', '2.0-1')];
    assert.deepEqual(unsettled(members, dpkg), members);
  });

  it('opens everything without dpkg (PackageKit decides then)', () => {
    const members = [member('sl'), member('cowsay', 'uninstalled')];
    assert.deepEqual(unsettled(members, undefined), members);
  });

  it('reads the states: installed and newest need the package, uninstalled its absence, a version that version', () => {
    assert.equal(satisfied(member('sl'), installed('1.0-1')), true);
    assert.equal(satisfied(member('sl', 'newest'), installed('1.0-1')), true);
    assert.equal(satisfied(member('sl'), notInstalled), false);
    assert.equal(satisfied(member('sl', 'uninstalled'), notInstalled), true);
    assert.equal(satisfied(member('sl', 'uninstalled'), installed('1.0-1')), false);
    assert.equal(satisfied(member('sl', '1.0-1'), installed('1.0-1')), true);
    assert.equal(satisfied(member('sl', '1.0-1'), installed('1.1-1')), false);
    assert.equal(satisfied(member('sl', '1.0-1'), notInstalled), false);
  });
});

describe('pkg planner: installed and newest', () => {
  it('installs the newest offered version of a package that is not installed', () => {
    const p = plan([member('sl')], { sl: { dpkg: notInstalled, entries: [entry('sl', '1.1-1'), entry('sl', '2.0-1'), entry('sl', '1.0-1')] } });
    assert.deepEqual(summary(p), { ...nothing, steps: ['install sl 2.0-1'] });
    assert.equal(p.steps[0]!.id, 'sl;2.0-1;amd64;debian-main');
    assert.equal(p.steps[0]!.from, undefined);
  });

  it('newest updates an installed package when a newer version is offered', () => {
    const p = plan([member('sl', 'newest')], {
      sl: { dpkg: installed('1.0-1'), entries: [entry('sl', '1.0-1', Info.INSTALLED), entry('sl', '2.0-1')] },
    });
    assert.deepEqual(summary(p), { ...nothing, steps: ['update sl 1.0-1 -> 2.0-1'] });
    assert.equal(pastTense(p.steps[0]!), 'updated sl 1.0-1 -> 2.0-1');
  });

  it('newest leaves the package alone when nothing newer is offered (same version, older, or nothing available)', () => {
    for (const entries of [
      [entry('sl', '2.0-1', Info.INSTALLED), entry('sl', '2.0-1')],
      [entry('sl', '2.0-1', Info.INSTALLED), entry('sl', '1.0-1')],
      [entry('sl', '2.0-1', Info.INSTALLED)],
    ]) {
      assert.deepEqual(summary(plan([member('sl', 'newest')], { sl: { dpkg: installed('2.0-1'), entries } })), { ...nothing, fine: ['sl'] });
    }
  });

  it('of entries with the same version, installs the first offered', () => {
    const members = [member('sl')];
    const entries = [entry('sl', '2.0-1', Info.AVAILABLE, 'amd64'), entry('sl', '2.0-1', Info.AVAILABLE, 'all')];
    const p = plan(members, { sl: { dpkg: notInstalled, entries } });
    assert.equal(p.steps[0]!.id, 'sl;2.0-1;amd64;debian-main');
  });

  it('without dpkg, trusts PackageKit’s installed entry', () => {
    const entries = [entry('sl', '1.0-1', Info.INSTALLED), entry('sl', '2.0-1')];
    assert.deepEqual(summary(plan([member('sl')], { sl: { dpkg: undefined, entries } })), { ...nothing, fine: ['sl'] });
    assert.deepEqual(summary(plan([member('sl', 'newest')], { sl: { dpkg: undefined, entries } })), { ...nothing, steps: ['update sl 1.0-1 -> 2.0-1'] });
    assert.deepEqual(summary(plan([member('sl')], { sl: { dpkg: undefined, entries: [entry('sl', '2.0-1')] } })), {
      ...nothing,
      steps: ['install sl 2.0-1'],
    });
  });

  it('believes dpkg over PackageKit’s installed entry (mgmt #988)', () => {
    // PackageKit says installed, dpkg says not: installed from what is offered.
    const p = plan([member('sl')], { sl: { dpkg: notInstalled, entries: [entry('sl', '1.0-1', Info.INSTALLED), entry('sl', '2.0-1')] } });
    assert.deepEqual(summary(p), { ...nothing, steps: ['install sl 2.0-1'] });
  });
});

describe('pkg planner: uninstalled', () => {
  it('removes the installed package by PackageKit’s id for it', () => {
    const p = plan([member('sl', 'uninstalled')], { sl: { dpkg: installed('1.0-1'), entries: [entry('sl', '1.0-1', Info.INSTALLED)] } });
    assert.deepEqual(summary(p), { ...nothing, steps: ['remove sl 1.0-1'] });
    assert.equal(p.steps[0]!.id, 'sl;1.0-1;amd64;installed');
    assert.equal(pastTense(p.steps[0]!), 'removed sl 1.0-1');
  });

  it('names the package by dpkg’s facts when PackageKit does not list it as installed (mgmt #988)', () => {
    const p = plan([member('libc6:i386', 'uninstalled')], { 'libc6:i386': { dpkg: installed('2.0-1', 'i386'), entries: [] } });
    assert.deepEqual(summary(p), { ...nothing, steps: ['remove libc6:i386 2.0-1'] });
    assert.equal(p.steps[0]!.id, 'libc6;2.0-1;i386;installed');
  });

  it('compares no versions to remove', () => {
    assert.deepEqual(versionsInPlay(member('sl', 'uninstalled'), { dpkg: installed('1.0-1'), entries: [entry('sl', '2.0-1')] }), []);
  });
});

describe('pkg planner: an explicit version', () => {
  const entries = [entry('sl', '1.0-1'), entry('sl', '2.0-1'), entry('sl', '3.0-1')];

  it('installs that version, not the newest', () => {
    const p = plan([member('sl', '2.0-1')], { sl: { dpkg: notInstalled, entries } });
    assert.deepEqual(summary(p), { ...nothing, steps: ['install sl 2.0-1'] });
    assert.equal(p.steps[0]!.id, 'sl;2.0-1;amd64;debian-main');
  });

  it('updates to a newer one', () => {
    const p = plan([member('sl', '3.0-1')], { sl: { dpkg: installed('2.0-1'), entries } });
    assert.deepEqual(summary(p), { ...nothing, steps: ['update sl 2.0-1 -> 3.0-1'] });
    assert.equal(p.steps[0]!.from, '2.0-1');
  });

  it('refuses an older one without allowdowngrade, and downgrades with it', () => {
    const members = [member('sl', '1.0-1')];
    const cases = { sl: { dpkg: installed('2.0-1'), entries } };
    assert.deepEqual(summary(plan(members, cases)), {
      ...nothing,
      problems: ['sl: version 1.0-1 is older than the installed 2.0-1; set allowdowngrade: true to downgrade'],
    });
    const p = plan(members, cases, { ...FLAGS, allowdowngrade: true });
    assert.deepEqual(summary(p), { ...nothing, steps: ['downgrade sl 2.0-1 -> 1.0-1'] });
    assert.equal(pastTense(p.steps[0]!), 'downgraded sl 2.0-1 -> 1.0-1');
  });

  it('says which versions are offered when the wanted one is not', () => {
    assert.deepEqual(summary(plan([member('sl', '9.9-1')], { sl: { dpkg: notInstalled, entries } })), {
      ...nothing,
      problems: ['sl: version 9.9-1 is not available (the repositories offer 1.0-1, 2.0-1, 3.0-1)'],
    });
  });

  it('orders only the wanted and the installed version', () => {
    assert.deepEqual(versionsInPlay(member('sl', '1.0-1'), { dpkg: installed('2.0-1'), entries }), ['1.0-1', '2.0-1']);
    assert.deepEqual(versionsInPlay(member('sl', '1.0-1'), { dpkg: notInstalled, entries }), []);
    assert.deepEqual(versionsInPlay(member('sl', '9.9-1'), { dpkg: installed('2.0-1'), entries }), []);
    assert.deepEqual(versionsInPlay(member('sl', 'newest'), { dpkg: installed('2.0-1'), entries }), ['1.0-1', '2.0-1', '3.0-1']);
    assert.deepEqual(versionsInPlay(member('sl'), { dpkg: installed('2.0-1'), entries }), [], 'installed and in its state: nothing to order');
  });
});

describe('pkg planner: packages PackageKit does not find', () => {
  it('reports a name PackageKit does not know as unknown, for the kind to explain', () => {
    const p = plan([member('no-such-pkg')], { 'no-such-pkg': { dpkg: notInstalled, entries: [] } });
    assert.deepEqual(summary(p), { ...nothing, unknown: ['no-such-pkg'] });
  });

  it('explains an unknown name: not in the lists, or refused by the flags', () => {
    assert.equal(unknownMessage(false, FLAGS), 'no such package in the package lists (check the name, or refresh the lists with apt-get update)');
    assert.equal(
      unknownMessage(true, { ...FLAGS, allownonfree: false }),
      'the package exists, but allownonfree: false refuses it (it is non-free or from outside the supported archive)',
    );
    assert.equal(
      unknownMessage(true, { ...FLAGS, allownonfree: false, allowunsupported: false }),
      'the package exists, but allownonfree: false and allowunsupported: false refuses it (it is non-free or from outside the supported archive)',
    );
  });

  it('a virtual package (only an installed entry, which dpkg does not have) is a disagreement, not an install', () => {
    const p = plan([member('mail-transport-agent')], {
      'mail-transport-agent': { dpkg: notInstalled, entries: [entry('mail-transport-agent', '1.0-1', Info.INSTALLED)] },
    });
    assert.deepEqual(summary(p), {
      ...nothing,
      problems: [
        'mail-transport-agent: PackageKit lists only an installed 1.0-1, but dpkg says the package is not installed (PackageKit and dpkg disagree; see mgmt #988)',
      ],
    });
  });
});

describe('pkg planner: grouped members', () => {
  it('plans each member in order: steps, fine packages, unknown names and problems side by side', () => {
    const members = [member('sl', 'newest'), member('cowsay'), member('nope'), member('figlet', '9.9-1'), member('hello', '2.0-1')];
    const p = plan(members, {
      sl: { dpkg: installed('1.0-1'), entries: [entry('sl', '1.0-1', Info.INSTALLED), entry('sl', '1.1-1')] },
      cowsay: { dpkg: notInstalled, entries: [entry('cowsay', '3.0-1')] },
      nope: { dpkg: notInstalled, entries: [] },
      figlet: { dpkg: notInstalled, entries: [entry('figlet', '2.0-2')] },
      hello: { dpkg: installed('2.0-2'), entries: [entry('hello', '2.0-1'), entry('hello', '2.0-2', Info.INSTALLED)] },
    });
    assert.deepEqual(summary(p), {
      steps: ['update sl 1.0-1 -> 1.1-1', 'install cowsay 3.0-1'],
      fine: [],
      unknown: ['nope'],
      problems: [
        'figlet: version 9.9-1 is not available (the repositories offer 2.0-2)',
        'hello: version 2.0-1 is older than the installed 2.0-2; set allowdowngrade: true to downgrade',
      ],
    });
    assert.deepEqual(
      p.steps.map((s) => s.member),
      [members[0], members[1]],
    );
  });

  it('plans one package wanted by two vertices once per vertex', () => {
    const members = [member('sl', 'installed', 'a'), member('sl', 'newest', 'b')];
    const p = plan(members, { sl: { dpkg: notInstalled, entries: [entry('sl', '1.0-1'), entry('sl', '2.0-1')] } });
    assert.deepEqual(
      p.steps.map((s) => `${s.member.vertex}: ${describeStep(s)}`),
      ['a: install sl 2.0-1', 'b: install sl 2.0-1'],
    );
  });

  it('has nothing to do when every package is already right (a plan without steps or problems)', () => {
    const members = [member('sl', 'newest'), member('cowsay', 'uninstalled')];
    const p = plan(members, {
      sl: { dpkg: installed('2.0-1'), entries: [entry('sl', '2.0-1', Info.INSTALLED), entry('sl', '2.0-1')] },
      cowsay: { dpkg: undefined, entries: [] },
    });
    assert.deepEqual(summary(p), { ...nothing, fine: ['sl', 'cowsay'] });
  });

  it('fails loudly when the kind gathered no facts for a package', () => {
    assert.throws(() => planChanges([member('sl')], new Map(), FLAGS), /no facts gathered for sl/);
  });
});

describe('pkg planner: PackageKit entries for a name', () => {
  const found = [
    entry('libc6', '2.0-1', Info.AVAILABLE, 'amd64'),
    entry('libc6', '2.0-1', Info.AVAILABLE, 'i386'),
    entry('libc6', '2.0-1', Info.INSTALLED, 'amd64'),
    entry('tzdata', '1.0-1', Info.AVAILABLE, 'all'),
    entry('foreign', '1.0-1', Info.AVAILABLE, 'arm64'),
    entry('sl', '1.0-1'),
    entry('sl', '1.0-1'),
  ];
  const ids = (name: string, native: string | undefined) => entriesFor(found, name, native).map((e) => `${e.id}/${e.info}`);

  it('keeps the native architecture and `all`', () => {
    assert.deepEqual(ids('libc6', 'amd64'), ['libc6;2.0-1;amd64;debian-main/2', 'libc6;2.0-1;amd64;installed/1']);
    assert.deepEqual(ids('tzdata', 'amd64'), ['tzdata;1.0-1;all;debian-main/2']);
  });

  it('keeps the asked architecture of `name:arch`, even when there is none', () => {
    assert.deepEqual(ids('libc6:i386', 'amd64'), ['libc6;2.0-1;i386;debian-main/2']);
    assert.deepEqual(ids('foreign:i386', 'amd64'), []);
  });

  it('falls back to every architecture when none fits the native one, or without a native one', () => {
    assert.deepEqual(ids('foreign', 'amd64'), ['foreign;1.0-1;arm64;debian-main/2']);
    assert.equal(ids('libc6', undefined).length, 3);
  });

  it('drops duplicates and other names', () => {
    assert.deepEqual(ids('sl', 'amd64'), ['sl;1.0-1;amd64;debian-main/2']);
    assert.deepEqual(ids('s', 'amd64'), []);
  });
});
