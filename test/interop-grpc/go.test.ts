// Go interop: the separate module interop/go (google.golang.org/grpc) is copied to a temp
// dir, its stubs generated there with protoc + protoc-gen-go + protoc-gen-go-grpc (plugins
// in .interop-bin/, installed by scripts/install-deps.sh; protoc from Debian's
// protobuf-compiler), built, and run against the daemon's unix socket: the full lifecycle,
// the error cases, reflection (grpc.reflection.v1) and health (suite.ts has the checks).
import fs from 'node:fs';
import path from 'node:path';
import { protoDir, repoRoot } from '../support/repo.js';
import { interopSuite, run } from './suite.js';

export const PLUGIN_BIN = path.join(repoRoot, '.interop-bin');
const MODULE = path.join(repoRoot, 'interop', 'go');

interopSuite('go', async (tmpDir) => {
  for (const p of ['protoc-gen-go', 'protoc-gen-go-grpc']) {
    if (!fs.existsSync(path.join(PLUGIN_BIN, p))) throw new Error(`${path.join(PLUGIN_BIN, p)} is missing: run scripts/install-deps.sh`);
  }
  const mod = path.join(tmpDir, 'go');
  fs.mkdirSync(mod);
  for (const f of fs.readdirSync(MODULE)) if (/\.go$|^go\.(mod|sum)$/.test(f)) fs.copyFileSync(path.join(MODULE, f), path.join(mod, f));
  const env = { ...process.env, PATH: `${PLUGIN_BIN}:${process.env.PATH ?? ''}` };
  await run(
    'protoc',
    [
      `-I${protoDir}`,
      '--go_out=.',
      '--go_opt=module=vessel.dev/interop',
      '--go-grpc_out=.',
      '--go-grpc_opt=module=vessel.dev/interop',
      'vessel/vm/v1/vm.proto',
    ],
    { cwd: mod, env },
  );
  if (!fs.existsSync(path.join(mod, 'vmv1', 'vm_grpc.pb.go'))) throw new Error('protoc wrote no vmv1/vm_grpc.pb.go');
  const bin = path.join(tmpDir, 'vessel-interop-go');
  await run('go', ['build', '-o', bin, '.'], { cwd: mod, env, timeoutMs: 600_000 });
  return (a) => ({
    file: bin,
    args: ['-socket', a.socket, '-share', a.share, '-tag', a.tag, '-file', a.file, '-instance', a.instance, '-bytes', String(a.bytes)],
  });
});
