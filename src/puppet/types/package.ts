/**
 * Puppet `package` → `pkg`. The vertex is `pkg[<namevar>]`: the package name (`name`) wins over the title, so
 * `package{'cs': name=>'cowsay'}` manages cowsay (the older translator's fallback applied package `cs`, bug 4);
 * the origin keeps `Package[cs]`.
 * - ensure: installed/present (Puppet's default) → installed; absent → uninstalled; purged → uninstalled, degraded
 *   (configuration files are kept); latest → newest; a version → that version; held → fallback.
 * - provider: apt, dpkg, aptitude, or unset → native (we go through PackageKit, whatever the compiling host would
 *   have picked); any other provider (gem, pip, ...) → fallback. The same name under two providers (bug 5)
 *   therefore becomes one pkg vertex and one fallback vertex; two native packages with one name are refused by
 *   the translator's duplicate check, naming both origins.
 * - source, install_options, uninstall_options, responsefile, mark => hold → fallback.
 */
import { type PkgParams, stateProblems } from '../../resources/pkg/kind.js';
import { type Converter, NOT_TRUE, refused, type TypeRules } from '../rules.js';
import { str } from './auto.js';

/** Providers that manage Debian packages the way PackageKit's apt backend does. */
const NATIVE_PROVIDERS = ['apt', 'aptitude', 'dpkg', 'default'];

const ENSURE: Readonly<Record<string, string>> = {
  present: 'installed',
  installed: 'installed',
  absent: 'uninstalled',
  purged: 'uninstalled',
  latest: 'newest',
};

/** Any other ensure value is a version to install. */
const packageVersion: Converter = {
  doc: 'a version → that version',
  refuses: 'this ensure value is not a package version',
  convert: (v) => (typeof v === 'string' && stateProblems(v).length === 0 ? v : refused('this ensure value is not a package version')),
};

export const packageRules: TypeRules<PkgParams> = {
  type: 'Package',
  kind: 'pkg',
  doc: 'A Debian package, installed through PackageKit. The vertex is `pkg[<name>]` (the `name` attribute, else the title).',
  name: (r) => (typeof r.parameters.name === 'string' && r.parameters.name !== '' ? r.parameters.name : r.title),
  attributes: {
    name: { do: 'use', doc: 'the vertex name (the package); default: the title' },
    ensure: {
      do: 'map',
      to: 'state',
      values: ENSURE,
      note: { purged: 'purged removes the package but keeps its configuration files' },
      refuse: { held: 'ensure => held (a dpkg hold) is not supported' },
      otherwise: packageVersion,
      default: 'present',
    },
    provider: {
      do: 'refuse',
      reason: 'only the apt, aptitude and dpkg providers are translated; this provider is applied by Puppet',
      accept: NATIVE_PROVIDERS,
    },
    source: { do: 'refuse', reason: 'installing from a package file (source) is not supported' },
    install_options: { do: 'refuse', reason: 'install_options are not supported' },
    uninstall_options: { do: 'refuse', reason: 'uninstall_options are not supported' },
    responsefile: { do: 'refuse', reason: 'debconf response files are not supported' },
    mark: { do: 'refuse', reason: 'mark => hold is not supported', accept: ['none'] },
    configfiles: { do: 'refuse', reason: 'configfiles => replace is not supported', accept: ['keep'] },
    reinstall_on_refresh: { do: 'refuse', reason: 'reinstall_on_refresh is not supported', accept: NOT_TRUE },
    allow_virtual: { do: 'info', message: 'PackageKit resolves virtual package names as apt does' },
  },
  autorelations: [
    {
      relation: 'require',
      type: 'File',
      doc: 'its `responsefile`, `adminfile`, and `source` when it is an absolute path',
      names: (r) => [...str(r.parameters.responsefile), ...str(r.parameters.adminfile), ...str(r.parameters.source).filter((s) => s.startsWith('/'))],
    },
  ],
};
