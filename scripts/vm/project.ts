import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const VM_CACHE = join(PROJECT_DIR, '.cache', 'vm');
