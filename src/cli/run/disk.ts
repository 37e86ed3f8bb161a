// Which filesystem type to ask the agent to mount a --disk with. The guest kernel has ext4
// built in (which also mounts ext2 and ext3), and the image ships no other block
// filesystem, so: a raw image is read at its first superblock (offset 1024, magic 0xEF53 at
// +56) and must be ext2/3/4; a VMDK cannot be read without parsing its grain tables, so it
// is assumed to hold ext4 and the guest's mount reports otherwise.
import fs from 'node:fs/promises';
import { VesselError } from '../../errors/index.js';

const SUPERBLOCK_OFFSET = 1024;
const MAGIC_OFFSET = 56;
const EXT_MAGIC = 0xef53;

export async function diskFsType(hostPath: string, vmdk: boolean): Promise<string> {
  if (vmdk) return 'ext4';
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(hostPath, 'r');
  } catch (err) {
    throw new VesselError('INVALID_ARGUMENT', `--disk ${hostPath}: ${(err as Error).message}`);
  }
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, SUPERBLOCK_OFFSET + MAGIC_OFFSET);
    if (bytesRead === 2 && buf.readUInt16LE(0) === EXT_MAGIC) return 'ext4';
  } finally {
    await fh.close();
  }
  throw new VesselError(
    'INVALID_ARGUMENT',
    `--disk ${hostPath}: no ext2/3/4 filesystem found (the only kind the guest can mount); give no mount point to attach the disk unmounted`,
  );
}
