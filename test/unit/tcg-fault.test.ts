// The one boot failure the VM tests boot again for: QEMU's TCG running a
// stale int3 where the kernel patched its sched_clock static key. Any other
// oops or panic is a failure.

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

test('an int3 oops in a sched_clock function is the emulator fault, whenever it comes', () => {
  assert.ok(tcgTextPokeFault(`SeaBIOS\n[    3.307912] sched_clock: Marking stable\r\n${OOPS}`));
  assert.ok(tcgTextPokeFault(`[    2.1] Run /init as init process\r\n${OOPS.replace('sched_clock_cpu+0x9/0x1d0', 'sched_clock_idle_wakeup_event+0x5/0x40').replace('swapper/0', 'swapper/1')}`));
});

test('another oops, or a panic of init, is not', () => {
  assert.not.ok(tcgTextPokeFault(OOPS.replace('sched_clock_cpu', 'ext4_journal_start')));
  assert.not.ok(tcgTextPokeFault(OOPS.replace('int3', 'general protection fault')));
  assert.not.ok(tcgTextPokeFault('[    4.2] Kernel panic - not syncing: Attempted to kill init!'));
});

test.run();
