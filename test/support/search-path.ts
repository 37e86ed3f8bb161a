// PATH lookups for tests that run tools with a reduced PATH (e.g. containerd without Go).
import fs from 'node:fs';
import path from 'node:path';

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Where `name` resolves on `searchPath` (a PATH value), or undefined. */
export function whichIn(searchPath: string, name: string): string | undefined {
  for (const dir of searchPath.split(':')) {
    if (dir === '') continue;
    const f = path.join(dir, name);
    if (isExecutable(f)) return f;
  }
  return undefined;
}

/** `searchPath` without every directory that holds an executable `name`. */
export function pathWithout(searchPath: string, name: string): string {
  return searchPath
    .split(':')
    .filter((dir) => dir !== '' && !isExecutable(path.join(dir, name)))
    .join(':');
}
