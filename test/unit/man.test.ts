import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS } from '../../cli/commands';
import { manPages } from '../../cli/docs/pages';
import { PARAMETER_DOCS } from '../../cli/docs/parameters';
import { KEYS, ROWS } from '../../src/config/settings';

const MAN_PAGES = manPages(COMMANDS);

for (const [file, text] of Object.entries(MAN_PAGES)) {
  test(`man/${file} is what the tables say (npm run man writes it)`, () => {
    assert.fixture(readFileSync(join(__dirname, '..', '..', 'man', file), 'utf8'), text);
  });
}

test('cowboot(7) names every parameter and alias, with its default from the settings rows', () => {
  const page = MAN_PAGES['cowboot.7'];
  for (const name of ['rd.live.overlay', 'iso-scan/filename', 'rd.break', 'systemd.verity_root_hash']) assert.ok(page.includes(`\\fB${name.replaceAll('-', '\\-')}\\fR`), name);
  assert.match(page, 'Default: 30.');
  assert.not.match(page, 'rd.rescue\\-password', 'only in the config file');
});

test('a doc says what an unset setting does only where the setting has no default', () => {
  assert.equal(KEYS.filter((key) => 'unset' in PARAMETER_DOCS[key] !== (ROWS[key].default === null)), []);
});

test.run();
