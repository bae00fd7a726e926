// npm run man: writes man/ from the tables the pages describe (cli/docs/).
// A unit test fails when man/ differs from what this writes.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS } from '../cli/commands';
import { manPages } from '../cli/docs/pages';
import { PROJECT_DIR } from './vm/project';

mkdirSync(join(PROJECT_DIR, 'man'), { recursive: true });
for (const [file, text] of Object.entries(manPages(COMMANDS))) {
  writeFileSync(join(PROJECT_DIR, 'man', file), text);
  console.log(`wrote man/${file}`);
}
