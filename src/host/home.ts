// vessel's home on this host: `$VESSEL_HOME`, else `~/.cache/vessel`. Images, downloads,
// the CLI's instance dirs, the daemon's socket and state all live below it.
import os from 'node:os';
import path from 'node:path';

export function vesselHome(): string {
  const env = process.env.VESSEL_HOME;
  if (env !== undefined && env !== '') return path.resolve(env);
  return path.join(os.homedir(), '.cache', 'vessel');
}
