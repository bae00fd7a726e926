// The one boot failure the VM tests boot again for: QEMU's TCG running a
// stale int3 in the kernel's own start. Anything else, or the same oops once
// an init has run, is a failure.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tcgTextPokeFault } from '../../scripts/vm/qemu';

const OOPS = [
  '[    4.294875] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI\r',
  '[    4.295550] CPU: 0 UID: 0 PID: 0 Comm: swapper/0 Not tainted 6.12.117+deb13-amd64 #1  Debian 6.12.117-1\r',
  '[    4.295769] Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014\r',
  '[    4.295927] RIP: 0010:sched_clock_cpu+0x9/0x1d0\r',
  '[    4.243341] Kernel panic - not syncing: Fatal exception in interrupt\r',
].join('\n');

test('an int3 oops in sched_clock_cpu before anything ran is the emulator fault', () => {
  assert.ok(tcgTextPokeFault(`SeaBIOS\n[    3.307912] sched_clock: Marking stable\r\n${OOPS}`));
});

test('the same oops after /init ran, or another oops, is not', () => {
  assert.not.ok(tcgTextPokeFault(`[    5.641794] Run /init as init process\r\n${OOPS}`));
  assert.not.ok(tcgTextPokeFault(`GUEST uptime=40.74\r\n${OOPS}`));
  assert.not.ok(tcgTextPokeFault(OOPS.replace('sched_clock_cpu', 'ext4_journal_start')));
  assert.not.ok(tcgTextPokeFault('[    4.2] Kernel panic - not syncing: Attempted to kill init!'));
});

test.run();
