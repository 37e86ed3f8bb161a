// The shapes of the image cache: options callers pass, the inputs an image id is derived
// from, the manifest written next to the artifacts, and what lookups return.
import type { Logger } from 'pino';
import type { KernelSource } from './kernel.js';
import type { RuncRef, RuncSource } from './runc.js';

export type Compression = 'none' | 'gzip';

export interface BuildProgress {
  phase: string;
  done?: number;
  total?: number;
  message?: string;
}

export interface ImageOptions {
  home?: string;
  agentDir?: string;
  compression?: Compression;
  onProgress?: (p: BuildProgress) => void;
  logger?: Logger;
  force?: boolean;
}

/** Test seams (not part of the public contract): where the kernel, busybox, runc and modules come from. */
export interface ImageSourceOverrides {
  kernelSource?: KernelSource;
  runcSource?: RuncSource;
  busyboxCandidates?: readonly string[];
  modules?: readonly string[];
}

export interface ImageInputs {
  builder: string;
  kernel: { package: string; version: string; debSha256: string };
  agent: { treeSha256: string; goVersion: string };
  busybox: { sha256: string };
  runc: RuncRef;
  modules: string[];
  compression: Compression;
}

export interface ArtifactRecord {
  path: string;
  size: number;
  sha256: string;
}

export interface ImageManifest {
  schemaVersion: 1;
  id: string;
  createdAt: string;
  kernelRelease: string;
  inputs: ImageInputs;
  /** `tools`: the read-only ext4 disk with runc (tools-disk.ts); images of this builder always have one. */
  artifacts: { kernel: ArtifactRecord; initrd: ArtifactRecord; tools?: ArtifactRecord };
  contents: {
    agent: { version: string; size: number; sha256: string };
    busybox: { source: string; applets: number };
    /** runc on the tools disk: its path there, version and binary. */
    runc?: { path: string; version: string; size: number; sha256: string };
    /** Modules in load order (guest paths), as written to /etc/vessel/modules.list. */
    modules: Array<{ name: string; path: string; sha256: string }>;
    /** Wanted modules the kernel has built in (not shipped). */
    builtinModules: string[];
    initramfsEntries: number;
    initramfsUncompressedSize: number;
  };
}

export interface GuestImage {
  id: string;
  dir: string;
  kernelPath: string;
  initrdPath: string;
  /** The tools disk (raw ext4, attached read-only), when the image has one. */
  toolsDiskPath?: string;
  kernelRelease: string;
  manifest: ImageManifest;
}

export interface ImageListEntry {
  id: string;
  dir: string;
  createdAt: string;
  sizeBytes: number;
  kernelRelease: string;
  isDefault: boolean;
}
