// The `containerd-shim-vessel-v2` executable containerd looks up on its PATH: a shell
// launcher that runs the compiled entry point with this Node. Written by `vessel containerd
// install`, it also records the guest image the install verified (VESSEL_IMAGE_DIR) and
// vessel's home (VESSEL_HOME), so the shim boots that image after checking its sha256s and
// needs no toolchain at run time. Without an image (tests, benches) the shim builds or
// reuses the default image itself, which needs Go.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/cmd/containerd-shim-vessel-v2.js, found from this module (src/ or dist/src/). */
export function shimEntryPoint(): string {
  const here = path.dirname(fileURLToPath(import.meta.url)); // <repo>/dist/src/shim or <repo>/src/shim
  const repo = here.includes(`${path.sep}dist${path.sep}`) ? path.resolve(here, '..', '..', '..') : path.resolve(here, '..', '..');
  return path.join(repo, 'dist', 'cmd', 'containerd-shim-vessel-v2.js');
}

/** The environment variable naming the recorded guest image directory (read by the shim's entry point). */
export const IMAGE_DIR_ENV = 'VESSEL_IMAGE_DIR';

export interface LauncherOptions {
  /** The compiled entry point (default: this checkout's). */
  entry?: string;
  /** The Node binary (default: the one running now). */
  node?: string;
  /** A verified guest image directory for the shim to boot (exported as VESSEL_IMAGE_DIR). */
  imageDir?: string;
  /** vessel's home for the shim (exported as VESSEL_HOME). */
  home?: string;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function shimLauncher(opts: LauncherOptions = {}): string {
  const entry = opts.entry ?? shimEntryPoint();
  const node = opts.node ?? process.execPath;
  const exports = [
    ...(opts.home !== undefined ? [`export VESSEL_HOME=${quote(opts.home)}`] : []),
    ...(opts.imageDir !== undefined ? [`export ${IMAGE_DIR_ENV}=${quote(opts.imageDir)}`] : []),
  ];
  return ['#!/bin/sh', '# containerd-shim-vessel-v2: written by `vessel containerd install`', ...exports, `exec ${quote(node)} ${quote(entry)} "$@"`, ''].join(
    '\n',
  );
}
