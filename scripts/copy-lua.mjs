// The Lua scripts are read at run time beside the modules that use them, and the storefront widget
// (src/widget, plain JavaScript served as it is) is read by its route, the console's stylesheet by the console: copy
// them into dist/.
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
cpSync(join(root, 'src', 'widget'), join(root, 'dist', 'widget'), { recursive: true });
cpSync(join(root, 'src', 'sandbox', 'demo', 'public'), join(root, 'dist', 'sandbox', 'demo', 'public'), {
  recursive: true,
});
cpSync(join(root, 'src', 'api', 'console', 'console.css'), join(root, 'dist', 'api', 'console', 'console.css'));
