/** Where the system tools we run (useradd, mount, findmnt...) are looked up: they live in sbin, outside the default child PATH. */
export const SYSTEM_TOOL_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
