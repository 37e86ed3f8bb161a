// One `exec true` round trip on the TypeScript API (Exec, then Wait), in ms; shared by the
// exec-latency figures.
import type { AgentClient } from '../src/agent/index.js';

export async function execTrueMs(agent: AgentClient, execId: string): Promise<number> {
  const t0 = performance.now();
  await agent.exec({ execId, args: ['true'] });
  const st = await agent.wait(execId);
  const ms = performance.now() - t0;
  if (st.exitCode !== 0) throw new Error(`true exited ${st.exitCode}`);
  return ms;
}
