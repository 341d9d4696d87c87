/**
 * The kinds every mgmt command works with: the core kinds and Puppet's fallback kind (a YAML graph may hold
 * `puppet` resources, and a translated catalog holds one for each resource without a native translation). The
 * docs and schema generators publish this registry.
 */
import { withPuppetKind } from '../puppet/fallback-kind.js';
import { coreRegistry } from '../resources/core-registry.js';

export const registry = withPuppetKind(coreRegistry);
