#!/usr/bin/env node
// Entry point of the `mgmt` command. The TypeScript sources are compiled to dist/ by `npm install`
// (the `prepare` script) or `npm run build`.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('mgmt: not built yet: run `npm install` (or `npm run build`) in the checkout first\n');
  process.exit(2);
}
const { main } = await import(entry.href);
const code = await main(process.argv.slice(2));
// Exit explicitly: the engine has stopped every watch, and nothing else should keep the process alive.
process.exit(code);
