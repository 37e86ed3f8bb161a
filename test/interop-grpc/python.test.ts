// Python interop: grpcio from PyPI (in .venv-interop/, made by scripts/install-deps.sh), stubs
// generated from proto/ with `python -m grpc_tools.protoc` into a temp dir during the test,
// then python/client.py drives the full lifecycle and the error cases over the daemon's unix
// socket (suite.ts has the checks).
import fs from 'node:fs';
import path from 'node:path';
import { protoDir, repoRoot } from '../support/repo.js';
import { interopSuite, run } from './suite.js';

export const VENV_PYTHON = path.join(repoRoot, '.venv-interop', 'bin', 'python');
const CLIENT = path.join(repoRoot, 'test', 'interop-grpc', 'python', 'client.py');

interopSuite('python', async (tmpDir) => {
  if (!fs.existsSync(VENV_PYTHON)) throw new Error(`${VENV_PYTHON} is missing: run scripts/install-deps.sh`);
  const stubs = path.join(tmpDir, 'stubs');
  fs.mkdirSync(stubs);
  await run(VENV_PYTHON, [
    '-m',
    'grpc_tools.protoc',
    `-I${protoDir}`,
    `--python_out=${stubs}`,
    `--grpc_python_out=${stubs}`,
    path.join(protoDir, 'vessel', 'vm', 'v1', 'vm.proto'),
  ]);
  if (!fs.existsSync(path.join(stubs, 'vessel', 'vm', 'v1', 'vm_pb2_grpc.py'))) throw new Error('grpc_tools.protoc wrote no vm_pb2_grpc.py');
  return (a) => ({
    file: VENV_PYTHON,
    args: [
      CLIENT,
      '--stubs',
      stubs,
      '--socket',
      a.socket,
      '--share',
      a.share,
      '--tag',
      a.tag,
      '--file',
      a.file,
      '--instance',
      a.instance,
      '--bytes',
      String(a.bytes),
    ],
  });
});
