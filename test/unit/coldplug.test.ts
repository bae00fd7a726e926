// Coldplug as a service: passes that find nothing must not block later ones.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadDrivers } from '../../src/stages/drivers';
import { createContext } from '../../src/boot';
import { fakeSystem, insmod } from './fake-system';

test('a device that appears after passes that found nothing still gets its driver', async () => {
  const sys = fakeSystem({ '/sys/bus/virtio/devices/virtio0/modalias': 'virtio:d00000001v00001AF4\n' });
  const ctx = createContext(sys, [], {});
  const services = await loadDrivers.run(ctx, { config: { initArgs: [], devkmsgBefore: null }, 'early-mounts': undefined });
  await Promise.all(services.background);
  await services.coldplug();
  await services.coldplug();
  assert.not.ok(sys.calls.includes(insmod('drivers/virtio/virtio_blk.ko')));
  // The disk shows up later, behind a bus whose driver is in.
  sys.files.set('/sys/bus/virtio/devices/virtio1/modalias', { kind: 'file', mode: 0o444, text: 'virtio:d00000002v00001AF4\n' });
  await services.coldplug();
  assert.ok(sys.calls.includes(insmod('drivers/virtio/virtio_blk.ko')));
});

test.run();
