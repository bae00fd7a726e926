// Where Node's pages came from, read from /proc/self/smaps.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { describeRuntimePages, runtimePages } from '../../src/formats/runtime-pages';

const PATHS = { hotPages: '/lib/cowboot/node.hot', runtimeDir: '/usr/lib/cowboot/runtime' };
const SMAPS = `00400000-00479000 r--p 00000000 00:1f 3  /lib/cowboot/node.hot
Size:                484 kB
Rss:                 484 kB
00479000-004bb000 r--p 00079000 07:00 2  /usr/lib/cowboot/runtime/node
Size:                264 kB
Rss:                 128 kB
0082e000-0090e000 r-xp 0042e000 00:1f 3  /lib/cowboot/node.hot
Rss:                 896 kB
072a7000-072d9000 rw-p 06ea7000 07:00 2  /usr/lib/cowboot/runtime/node
Rss:                 200 kB
7f0000000000-7f0000001000 r-xp 00000000 00:1f 9  /lib/x86_64-linux-gnu/libc.so.6
Rss:                   4 kB
`;

test('the runs from node.hot, and the read-only pages read from the image (the writable data is neither)', () => {
  const pages = runtimePages(SMAPS, PATHS);
  assert.equal(pages, { hotRuns: 2, hotKiB: 1380, imageKiB: 128 });
  assert.is(describeRuntimePages('started', pages, PATHS), 'runtime started: its pages in use: 1.3 MiB from /lib/cowboot/node.hot (2 runs), 0.1 MiB read from its image');
});

test('no hot pages', () => {
  assert.is(describeRuntimePages('at the handoff', runtimePages('', PATHS), PATHS), 'runtime at the handoff: its pages in use: none from /lib/cowboot/node.hot, 0.0 MiB read from its image');
});

test.run();
