/**
 * What a svc resource does on the system (the kind, its parameters and checks: svc.ts): starts, stops, enables and
 * restarts the unit through systemd over D-Bus, watching the unit's state.
 */
import { type SvcParams } from './svc.js';
import { untilAborted } from '../system/proc/abort.js';
import { Systemd, type JobMethod, type UnitState } from '../system/dbus/systemd.js';
import { managerName, unitFileDir, unitName } from '../system/dbus/unit-names.js';
import { type Resource, type ResourceContext } from './resource.js';

/** UnitFileStates that `systemctl is-enabled` counts as enabled (exit 0): nothing to do for `startup: enabled`. */
const ENABLED_STATES = new Set(['enabled', 'enabled-runtime', 'alias', 'static', 'indirect', 'generated', 'transient']);
/** UnitFileStates that `startup: disabled` must undo (static, generated... units have no links to remove). */
const LINKED_STATES = new Set(['enabled', 'enabled-runtime']);

const isActive = (s: UnitState) => s.activeState === 'active' || s.activeState === 'reloading';

/** Throws when the unit cannot be managed as asked: no unit file, a masked unit to start or enable, a broken unit file. */
function loadProblem(st: UnitState, p: SvcParams, session: boolean): void {
  const mgr = managerName(session);
  switch (st.loadState) {
    case 'loaded':
      return;
    case 'not-found':
      if (p.state !== 'running' && p.startup !== 'enabled') return;
      throw new Error(
        `unit ${st.unit} not found (LoadState not-found) in ${mgr}: write its unit file to ${unitFileDir(session)}/${st.unit} (a \`file\` resource there is ordered before this one and refreshes it), or install the package that provides it`,
      );
    case 'masked':
      if (p.state === 'running' || p.startup === 'enabled') {
        throw new Error(
          `unit ${st.unit} is masked in ${mgr}, so it cannot be started or enabled: unmask it (\`systemctl${session ? ' --user' : ''} unmask ${st.unit}\`)`,
        );
      }
      return;
    default:
      throw new Error(
        `unit ${st.unit} could not be loaded by ${mgr} (LoadState ${st.loadState}${st.loadError ? `: ${st.loadError}` : ''}); fix its unit file${st.fragmentPath ? ` ${st.fragmentPath}` : ''}`,
      );
  }
}

export function svcResource(name: string, p: SvcParams, ctx: ResourceContext): Resource {
  const unit = unitName(name);
  const session = p.session;
  const log = ctx.log;
  let client: Systemd | undefined;
  let connecting: Promise<Systemd> | undefined;

  /** The client shared by watch and check; reconnects when its bus connection has gone. */
  const systemd = async (): Promise<Systemd> => {
    if (client && !client.conn.error) return client;
    if (!connecting) {
      const old = client;
      client = undefined;
      old?.release();
      connecting = Systemd.connect(session).then(
        (c) => {
          client = c;
          connecting = undefined;
          return c;
        },
        (err: unknown) => {
          connecting = undefined;
          throw err;
        },
      );
    }
    return connecting;
  };

  return {
    async watch(w) {
      const sd = await systemd();
      const stop = await sd.watchUnit(unit, (why) => {
        log.debug(`event: ${why}`);
        w.event();
      });
      try {
        w.event();
        const lost = sd.conn.closed.then((err) => err);
        const r = await Promise.race([untilAborted(w.signal).then(() => undefined), lost]);
        if (r !== undefined && !w.signal.aborted) throw new Error(`lost the connection to ${managerName(session)}: ${r.message}`);
      } finally {
        await stop();
      }
    },

    async checkApply(c) {
      const sd = await systemd();
      const fromDisk = p.startup !== undefined;
      let st = await sd.unitState(unit, fromDisk);
      loadProblem(st, p, session);
      if (st.loadState === 'not-found') {
        // Nothing needs the unit to exist: a missing unit is stopped and has no links (as Puppet sees it).
        log.debug(`${unit} does not exist, so it is neither running nor enabled`);
        return true;
      }

      const wantActive = p.state === undefined ? undefined : p.state === 'running';
      const stateOK = wantActive === undefined || wantActive === isActive(st);
      const startupOK = p.startup === undefined || (p.startup === 'enabled' ? ENABLED_STATES.has(st.unitFileState) : !LINKED_STATES.has(st.unitFileState));
      if (stateOK && startupOK && !c.refresh) return true;
      const now = `${st.activeState}/${st.subState}, ${st.unitFileState || 'no unit file state'}`;
      // The change record: Puppet's `ensure` (running/stopped) and `enable` properties.
      const verb = c.apply ? '' : 'would ';
      if (!stateOK)
        c.change?.({
          property: 'state',
          previous: isActive(st) ? 'running' : 'stopped',
          desired: p.state,
          message: `${verb}${wantActive ? 'start' : 'stop'} ${unit}`,
        });
      if (!startupOK)
        c.change?.({
          property: 'startup',
          previous: st.unitFileState || 'unknown',
          desired: p.startup,
          message: `${verb}${p.startup === 'enabled' ? 'enable' : 'disable'} ${unit}`,
        });
      if (stateOK && c.refresh) c.change?.({ property: 'state', message: `${verb}reload or restart ${unit} (refresh)` });

      if (!c.apply) {
        const would: string[] = [];
        if (!startupOK) would.push(p.startup === 'enabled' ? 'enable' : 'disable');
        if (!stateOK) would.push(wantActive ? 'start' : 'stop');
        else if (c.refresh) would.push('reload or restart (refresh)');
        log.info(`would ${would.join(' and ')} ${unit} (now ${now})`);
        return false;
      }

      let reloaded = false;
      const daemonReload = async (why: string) => {
        log.info(`daemon-reload (${why})`);
        await sd.reload();
        reloaded = true;
      };
      const slow = (verb: string) => (ms: number) => log.info(`still waiting for the ${verb} job of ${unit} (${Math.round(ms / 1000)} s)`);
      const job = (method: JobMethod, verb: string) => sd.job(method, unit, { mode: 'replace', signal: c.signal, onSlow: slow(verb) });

      if (!startupOK) {
        const was = st.unitFileState || 'unknown';
        const enable = p.startup === 'enabled';
        try {
          if (enable) await sd.enableUnitFiles([unit]);
          else await sd.disableUnitFiles([unit], st.unitFileState === 'enabled-runtime');
        } catch (err) {
          throw new Error(`cannot ${p.startup === 'enabled' ? 'enable' : 'disable'} ${unit}: ${(err as Error).message}`);
        }
        await daemonReload(`after ${enable ? 'enabling' : 'disabling'} ${unit}`);
        st = await sd.unitState(unit, fromDisk);
        // Checked here, or the next event would enable again, forever.
        if (enable && !ENABLED_STATES.has(st.unitFileState)) {
          throw new Error(
            `enabling ${unit} made no links (UnitFileState is still ${st.unitFileState || 'unknown'}): its [Install] section needs WantedBy= or RequiredBy=`,
          );
        }
        if (!enable && LINKED_STATES.has(st.unitFileState)) throw new Error(`disabling ${unit} left it ${st.unitFileState}`);
        log.info(`${enable ? 'enabled' : 'disabled'} ${unit} (was ${was})`);
      }

      let acted = false;
      if (!stateOK) {
        if (wantActive) {
          // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by another callback while this one awaited; TypeScript keeps the narrowing from before the await
          if (st.needDaemonReload && !reloaded) await daemonReload(`${unit} changed on disk`);
          await job('StartUnit', 'start');
          log.info(`started ${unit} (was ${st.activeState}/${st.subState})`);
        } else {
          await job('StopUnit', 'stop');
          log.info(`stopped ${unit} (was ${st.activeState}/${st.subState})`);
        }
        if (c.refresh) log.info('refresh: no reload or restart needed after the start/stop');
        acted = true;
      }

      if (c.refresh && !acted) {
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by another callback while this one awaited; TypeScript keeps the narrowing from before the await
        if (st.needDaemonReload && !reloaded) await daemonReload(`${unit} changed on disk`);
        if (!isActive(st) && st.activeState !== 'activating') {
          log.info(`refresh: ${unit} is not running (${st.activeState}/${st.subState}); nothing to reload or restart`);
          return stateOK && startupOK && !reloaded;
        }
        await job('ReloadOrTryRestartUnit', 'reload-or-try-restart');
        log.info(`refresh: reloaded or restarted ${unit}`);
      }
      return false;
    },

    async cleanup() {
      const c = client ?? (await connecting?.catch(() => undefined));
      client = undefined;
      c?.release();
    },
  };
}
