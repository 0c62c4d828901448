// The Lua scripts are read at run time beside the modules that use them: copy them into dist/.
import { cpSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name === 'lua') cpSync(p, join(root, 'dist', relative(join(root, 'src'), p)), { recursive: true });
      else walk(p);
    }
  }
}
walk(join(root, 'src'));
