// The containerd protos load and carry the field numbers of ../shared/docs/containerd-shim.md.
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../../../src/ttrpc/index.js';
import { shimProtos, timestamp } from '../../../src/shim/protos.js';

function fieldNumbers(typeName: string): Record<string, number> {
  const t = shimProtos().type(typeName);
  return Object.fromEntries(t.fieldsArray.map((f) => [f.name, f.id]));
}

describe('containerd protos', () => {
  it('serve every Task method of containerd 1.6', () => {
    expect(
      shimProtos()
        .task.methodsArray.map((m) => m.name)
        .sort(),
    ).toEqual([
      'Checkpoint',
      'CloseIO',
      'Connect',
      'Create',
      'Delete',
      'Exec',
      'Kill',
      'Pause',
      'Pids',
      'ResizePty',
      'Resume',
      'Shutdown',
      'Start',
      'State',
      'Stats',
      'Update',
      'Wait',
    ]);
  });

  it('have the documented field numbers (names in the lowerCamel form of protobufjs)', () => {
    expect(fieldNumbers('containerd.task.v2.StateResponse')).toEqual({
      id: 1,
      bundle: 2,
      pid: 3,
      status: 4,
      stdin: 5,
      stdout: 6,
      stderr: 7,
      terminal: 8,
      exitStatus: 9,
      exitedAt: 10,
      execId: 11,
    });
    expect(fieldNumbers('containerd.task.v2.CreateTaskRequest')).toEqual({
      id: 1,
      bundle: 2,
      rootfs: 3,
      terminal: 4,
      stdin: 5,
      stdout: 6,
      stderr: 7,
      checkpoint: 8,
      parentCheckpoint: 9,
      options: 10,
    });
    expect(fieldNumbers('containerd.task.v2.ExecProcessRequest')).toEqual({
      id: 1,
      execId: 2,
      terminal: 3,
      stdin: 4,
      stdout: 5,
      stderr: 6,
      spec: 7,
    });
    expect(fieldNumbers('containerd.task.v2.KillRequest')).toEqual({ id: 1, execId: 2, signal: 3, all: 4 });
    expect(fieldNumbers('containerd.task.v2.ConnectResponse')).toEqual({ shimPid: 1, taskPid: 2, version: 3 });
    expect(fieldNumbers('containerd.types.Mount')).toEqual({ type: 1, source: 2, target: 3, options: 4 });
    expect(fieldNumbers('containerd.services.events.ttrpc.v1.Envelope')).toEqual({ timestamp: 1, namespace: 2, topic: 3, event: 4 });
  });

  it('encode a DeleteResponse as containerd decodes it', () => {
    const t = shimProtos().type('containerd.task.v2.DeleteResponse');
    const bytes = encodeMessage(t, { pid: 7, exitStatus: 3, exitedAt: timestamp(1500) });
    // pid=1 varint 7, exit_status=2 varint 3, exited_at=3 {seconds=1: 1, nanos=2: 5e8}
    expect(Buffer.from(bytes).toString('hex')).toBe('08071003' + '1a08' + '0801' + '1080cab5ee01');
    expect(decodeMessage(t, bytes)).toMatchObject({ pid: 7, exitStatus: 3 });
  });
});
