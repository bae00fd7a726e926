import type { Stage } from '../context';
import { mountOnce } from '../mount';
import { COW_DIR, UPPER_DIR, WORK_DIR } from '../paths';

// A tmpfs of its own (not /run) so that the changes can be sized and counted
// apart from what the booted system keeps in /run. tmpfs's default size is
// half of RAM.
export const makeCowSpace: Stage = {
  name: 'cow',
  async run(ctx) {
    await mountOnce(ctx, { type: 'tmpfs', source: 'cow', target: COW_DIR, options: 'mode=0755' });
    ctx.sys.mkdirp(UPPER_DIR);
    ctx.sys.mkdirp(WORK_DIR);
  },
};
