/**
 * Puppet `cron` (cron_core) has no native translation, on purpose: it edits a user's crontab, run by cron(8),
 * while mgmt's `cron` kind is a systemd timer (a `.timer` unit), a different mechanism with other semantics
 * (environment, mail on output, missed runs). Translating one into the other would change what runs and how, so
 * Cron resources go to the fallback, where Puppet applies them, with this reason in the report.
 */
export const CRON_FALLBACK_REASON =
  "no native translation: Puppet's cron edits the crontab run by cron(8), while mgmt's cron kind is a systemd timer, a different mechanism; Puppet applies it";
