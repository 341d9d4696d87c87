// The layering check (npm run lint): the import directions of docs/architecture.md (Rooms and import directions).
//   cli → web / puppet / world → report → engine → graph → resources → system
// A room imports its own files and the rooms below it, never a room above or beside it; every room may use
// observe/, which imports nothing of ours. No cycles. Within system/, formats/ is pure: it imports nothing but
// formats/ (no node: modules, no packages). Type-only imports count: they couple rooms just the same.
'use strict';

/** Top to bottom; rooms on one line are peers and do not import one another. */
const levels = [['cli'], ['web', 'puppet', 'world'], ['report'], ['engine'], ['graph'], ['resources'], ['system']];

const downward = levels.flatMap((rooms, i) =>
  rooms.map((room) => {
    const allowed = [room, ...levels.slice(i + 1).flat(), 'observe'];
    return {
      name: `layer-${room}`,
      comment: `src/${room}/ may import only ${allowed.map((r) => `${r}/`).join(', ')} (docs/architecture.md, Directions)`,
      severity: 'error',
      from: { path: `^src/${room}/` },
      to: { path: '^src/', pathNot: `^src/(${allowed.join('|')})/` },
    };
  }),
);

module.exports = {
  forbidden: [
    ...downward,
    {
      name: 'observe-imports-nothing-of-ours',
      comment: 'observe/ (logging, metrics) is the ground floor every room may use, so it imports no other room',
      severity: 'error',
      from: { path: '^src/observe/' },
      to: { path: '^src/', pathNot: '^src/observe/' },
    },
    {
      name: 'kinds-through-a-registry-value',
      comment:
        'the rooms below cli/ are handed the Registry they work against; only front doors (cli/, the docs generator) pick the concrete core registry',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(cli/|puppet/docs[.]ts$|resources/core-registry[.]ts$)' },
      to: { path: '^src/resources/core-(registry|kinds)[.]ts$' },
    },
    {
      name: 'formats-are-pure',
      comment: 'system/formats/ holds pure text formats with no I/O: it imports nothing but system/formats/',
      severity: 'error',
      from: { path: '^src/system/formats/' },
      to: { pathNot: '^src/system/formats/' },
    },
    {
      name: 'src-not-from-tests',
      comment: 'the product does not import test code or build scripts',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|scripts)/' },
    },
    {
      name: 'no-circular',
      comment:
        'no import cycles, within a room or across rooms; a cycle closed by a dynamic import() is allowed (a kind loads its resource code on first use, and that code reads the kind)',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['dynamic-import'] } },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'an import that resolves to nothing is a typo or a missing dependency',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
