// Contract: facts about this host process and its home, for every layer above (image, vm,
// api, shim, cli) so that none of them reaches into another for a path or a pid check.
// `vesselHome()` is `$VESSEL_HOME` (resolved), else `~/.cache/vessel`; it is read on every
// call, never cached. A process is identified by pid plus start time from /proc/<pid>/stat
// (`ProcessIdentity`), so a recorded pid is never mistaken for a later process that reused
// it; `isAlive` is true only for that same, non-zombie process; `pidExists` is the weaker
// check for records that kept only a pid; `processRunning` is false from the moment a process
// begins to exit (before it closes its files). Groups resolve by name as the system does
// (getent). State files are written privately and atomically (private-file.ts). Linux only
// (/proc). Imports nothing from src/ except src/errors.
export { vesselHome } from './home.js';
export { isAlive, pidExists, processRunning, processStartTime, selfIdentity, type ProcessIdentity } from './process-identity.js';
export { groupId, unreachableBy } from './group.js';
export { readJson, writePrivateJson } from './private-file.js';
