// The one boot failure the VM tests boot again for: QEMU's TCG running a
// stale int3 where the kernel patched a static key (its sched_clock one, or
// any whose int3 is gone from memory). Any other oops or panic is a failure.

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

// A full run's here: an int3 that memory no longer holds (the byte before the faulting one is eb, a jump patched in).
const STALE = [
  '[    1.243710] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI\r',
  '[    1.243962] CPU: 1 UID: 0 PID: 18 Comm: rcu_preempt Not tainted 6.12.117+deb13-amd64 #1  Debian 6.12.117-1\r',
  '[    1.244049] Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014\r',
  '[    1.244110] RIP: 0010:enqueue_timer+0xa5/0x100\r',
  '[    1.244301] Code: 78 08 4c 89 e2 48 89 de e8 08 da ff ff 65 ff 0d e9 40 29 49 75 b5 0f 1f 44 00 00 eb ae 4c 89 65 18 c6 45 26 01 c6 45 24 00 eb <09> 5b 5d 41 5c c3 cc cc cc cc 8b 43\r',
].join('\n');

test('an int3 oops anywhere whose int3 is gone from memory is the emulator fault too; one whose int3 is there is not', () => {
  assert.ok(tcgTextPokeFault(STALE));
  assert.not.ok(tcgTextPokeFault(STALE.replace('00 eb <09>', '00 cc <09>')));
});

test('another oops, or a panic of init, is not', () => {
  assert.not.ok(tcgTextPokeFault(OOPS.replace('sched_clock_cpu', 'ext4_journal_start')));
  assert.not.ok(tcgTextPokeFault(OOPS.replace('int3', 'general protection fault')));
  assert.not.ok(tcgTextPokeFault('[    4.2] Kernel panic - not syncing: Attempted to kill init!'));
});

test.run();
