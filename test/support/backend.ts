// The VM backend the tests hand to the faces, as cmd/*.ts do in production: QEMU.
import { QemuManager, type ManagerOptions, type NewManager } from '../../src/vm/index.js';

export const newTestManager: NewManager = (o: ManagerOptions) => new QemuManager(o);
